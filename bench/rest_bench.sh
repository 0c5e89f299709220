#!/usr/bin/env bash
# HTTP benchmark of fhir-server (issue 13, item 7): wrk (Debian's package) against the
# server on loopback, on generated data, one throwaway cluster.
#   sudo bench/rest_bench.sh [--resources N] [--duration S] [--no-build] [--keep]
#     --resources N  data size (default 100000)
#     --duration S   seconds per wrk run (default 4; 5 workloads x 3 connection counts)
#     --no-build     use the installed extension and fhir-server (default: make && make install)
#     --keep         leave the cluster running at the end
#     --reuse-db     reuse the loaded cluster of an earlier run with the same size
# Workloads: a read (rotating over the Patients), a first-page Patient search with
# Cache-Control: no-cache (the search runs every time), the same search cached (HIT),
# an Observation _summary=count (no-cache), and a transaction of 100 Patient creates;
# at 1, 16 and 64 connections: requests/s, p50 and p99 from wrk. The server's own overhead
# comes from its access log (per request: time in the server minus the SQL call's round
# trip), and the SQL call alone (the statement the server sends, same connection type) is
# timed with pgbench at 1 connection for the read and the cached search.
# Then a Bulk Data $export of everything (system level) and of every patient's compartment
# (Patient level), in resources/s. Appends a dated section to bench/results/rest.md.
# Budget: about 5 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
N=100000 DURATION=4 BUILD=1 KEEP=0 REUSE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --resources) N="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --keep) KEEP=1; shift ;;
    --reuse-db) REUSE=1; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
WORK="${WORK:-/tmp/fhir_search_restbench}"
PORT="${PORT:-5495}"
HTTP_PORT="${HTTP_PORT:-8495}"
POOL="${POOL:-8}"
THREADS="${THREADS:-2}"
source scripts/lib/cluster.sh
SERVER_BIN="${FHIR_SERVER:-$BIN/fhir-server}"
command -v wrk >/dev/null || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null

[ "$BUILD" -eq 0 ] || build_and_install

DATA="$WORK/data-$N.ndjson"
cluster_stop
[ -f "$WORK/loaded-$N" ] && [ -d "$WORK/data" ] || REUSE=0
SERVER_PID=
stop_all() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; cluster_stop; }
if [ "$REUSE" -eq 0 ]; then
  rm -f "$WORK"/loaded-*
  [ -d "$WORK" ] && find "$WORK" -maxdepth 1 -name 'data-*.ndjson' ! -name "data-$N.ndjson" -delete
  sample_ndjson "$DATA" "$N" 1
  cluster_init <<CONF
listen_addresses = '127.0.0.1'
max_connections = 40
shared_buffers = '1GB'
$BENCH_SETTINGS
CONF
  echo "host all all 127.0.0.1/32 trust" | as_pg tee -a "$WORK/data/pg_hba.conf" >/dev/null
fi
[ "$KEEP" -eq 1 ] || trap stop_all EXIT
cluster_start
if [ "$REUSE" -eq 0 ]; then
  psql_t -c "CREATE EXTENSION fhir_search"
  log "fhir.load_file of $(wc -l < "$DATA") resources"
  psql_t -c "SELECT fhir.load_file('$DATA')" 2>&1 | tail -1
  psql_t -c "VACUUM ANALYZE" >/dev/null
  touch "$WORK/loaded-$N"
fi
COUNT=$(psql_t -c "SELECT count(*) FROM fhir.resource")

BASE="http://127.0.0.1:$HTTP_PORT/fhir"
ACCESS="$WORK/access.log"
rm -f "$ACCESS"
"$SERVER_BIN" --db "host=127.0.0.1 port=$PORT dbname=postgres user=postgres" --listen "127.0.0.1:$HTTP_PORT" \
  --base-url "$BASE" --pool "$POOL" --threads "$THREADS" --access-log "$ACCESS" --export-dir "$WORK/export" 2> "$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 1 100); do curl -sf -o /dev/null "$BASE/metadata" && break; sleep 0.1; done

# wrk scripts: rotating values read from the data
ids=$(psql_t -c "SELECT string_agg(format('%L', id), ',') FROM (SELECT id FROM fhir.resource WHERE rtype = 'Patient' ORDER BY id LIMIT 1000) s" | tr "'" '"')
families=$(psql_t -c "SELECT string_agg('\"' || f || '\"', ',') FROM (SELECT DISTINCT content->'name'->0->>'family' f FROM fhir.resource
                       WHERE rtype = 'Patient' AND content->'name'->0->>'family' ~ '^[A-Za-z]+\$' LIMIT 50) s")
FAMILY=$(echo "$families" | cut -d'"' -f2)
cat > "$WORK/read.lua" <<LUA
local ids = {$ids}
local i = 0
request = function() i = i + 1; return wrk.format("GET", "/fhir/Patient/" .. ids[(i % #ids) + 1]) end
LUA
cat > "$WORK/search.lua" <<LUA
local fams = {$families}
local i = 0
wrk.headers["Cache-Control"] = "no-cache"
request = function() i = i + 1; return wrk.format("GET", "/fhir/Patient?family=" .. fams[(i % #fams) + 1] .. "&_count=20") end
LUA
cat > "$WORK/cached.lua" <<LUA
wrk.path = "/fhir/Patient?family=$FAMILY&_count=20"
LUA
cat > "$WORK/count.lua" <<LUA
wrk.path = "/fhir/Observation?code=http://loinc.org%7C8867-4&_summary=count"
wrk.headers["Cache-Control"] = "no-cache"
LUA
python3 - "$WORK/tx.json" <<'PY'
import json, sys
entries = [{"resource": {"resourceType": "Patient", "name": [{"family": f"Bench{i}", "given": ["Tx"]}], "gender": "other"},
            "request": {"method": "POST", "url": "Patient"}} for i in range(100)]
json.dump({"resourceType": "Bundle", "type": "transaction", "entry": entries}, open(sys.argv[1], "w"))
PY
cat > "$WORK/tx.lua" <<LUA
local f = io.open("$WORK/tx.json", "r")
wrk.method = "POST"
wrk.path = "/fhir/"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/fhir+json"
wrk.headers["Prefer"] = "return=minimal"
LUA

# Warm the pool's backends (registry, plans) and the cache entry of the cached search.
wrk -t2 -c"$POOL" -d2s -s "$WORK/read.lua" "$BASE" >/dev/null
wrk -t2 -c"$POOL" -d1s -s "$WORK/search.lua" "$BASE" >/dev/null
wrk -t1 -c1 -d1s -s "$WORK/cached.lua" "$BASE" >/dev/null

# The SQL call alone: the statement fhir-server sends, by pgbench over TCP, 1 connection
# (before the workloads: the transactions write Patients, which invalidates cached searches).
sql_alone() { # name, url (an SQL expression)
  cat > "$WORK/pgb-$1.sql" <<SQL
\\set n random(1, 1000)
SELECT status, body, location, etag, extract(epoch FROM last_modified), cache, db_ms, total_ms, cache_hit_rate
  FROM fhir.request('GET', $2, NULL, CASE WHEN set_config('fhir_search.base_url', '$BASE', true) IS NULL THEN NULL ELSE '{}'::jsonb END);
SQL
  own_by_postgres "$WORK/pgb-$1.sql"
  rm -f "$WORK"/pgb_log*
  (cd "$WORK" && as_pg "$BIN/pgbench" -n -M extended -h 127.0.0.1 -p "$PORT" -U postgres -c 1 -T "$DURATION" -l --log-prefix=pgb_log \
     -f "$WORK/pgb-$1.sql" postgres >/dev/null 2>&1)
  cat "$WORK"/pgb_log* | awk '{print $3 / 1000}' > "$WORK/sql-$1.txt"
}
# the read rotates over the same 1,000 Patients as wrk's (their ids are pat-000001, ...)
first_id=$(echo "$ids" | cut -d'"' -f2)
if [[ "$first_id" =~ ^pat-0+1$ ]]; then
  sql_alone read "'/fhir/Patient/pat-' || lpad(:n::text, 6, '0')"
else
  sql_alone read "'/fhir/Patient/$first_id'"
fi
sql_alone cached "'/fhir/Patient?family=$FAMILY&_count=20'"

RESULTS="$WORK/results.txt"
: > "$RESULTS"
run_workload() { # name
  local w=$1 c t start
  for c in 1 16 64; do
    t=$(( c < THREADS ? c : THREADS ))
    log "$w at $c connections, ${DURATION}s"
    start=$(stat -c %s "$ACCESS")
    wrk -t"$t" -c"$c" -d"${DURATION}s" --latency -s "$WORK/$w.lua" "$BASE" > "$WORK/wrk-$w-$c.txt" 2>&1 \
      || { cat "$WORK/wrk-$w-$c.txt"; exit 1; }
    grep -q "Requests/sec" "$WORK/wrk-$w-$c.txt" || { cat "$WORK/wrk-$w-$c.txt"; exit 1; }
    tail -c +"$((start + 1))" "$ACCESS" > "$WORK/log-$w-$c.jsonl"
    echo "$w $c $WORK/wrk-$w-$c.txt $WORK/log-$w-$c.jsonl" >> "$RESULTS"
  done
}
for w in read search cached count; do run_workload $w; done
# Bulk Data $export: kick-off to the last file written, system level (every type) and
# Patient level (every patient's compartment), in resources/s; before the transactions,
# so the data is the generated set.
export_time() { # name, kick-off path
  local t0 loc code
  t0=$(date +%s.%N)
  loc=$(curl -s -D - -o /dev/null -H 'Prefer: respond-async' "$BASE/$2" | tr -d '\r' | awk 'tolower($1) == "content-location:" {print $2}')
  for _ in $(seq 1 3000); do
    code=$(curl -s -o "$WORK/manifest-$1.json" -w '%{http_code}' "$loc")
    [ "$code" = 200 ] && break
    sleep 0.1
  done
  python3 - "$WORK/manifest-$1.json" "$t0" "$(date +%s.%N)" "$1" >> "$WORK/export.txt" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
n = sum(o["count"] for o in m["output"])
secs = float(sys.argv[3]) - float(sys.argv[2])
print(f"{sys.argv[4]} {n} {secs:.2f} {n / secs:.0f} {len(m['output'])} {len(m['error'])}")
PY
}
: > "$WORK/export.txt"
log "\$export, system level"
export_time system '$export'
log "\$export, Patient level"
export_time patient 'Patient/$export'

# last: the transactions write Patients (more data, and they invalidate cached searches)
run_workload tx

python3 - "$RESULTS" "$WORK" "$N" "$COUNT" "$POOL" "$THREADS" "$DURATION" >> bench/results/rest.md <<'PY'
import json, os, re, statistics, sys, datetime, subprocess
results, work, n, count, pool, threads, duration = sys.argv[1:]

def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s)", v)
    x = float(m.group(1))
    return x / 1000 if m.group(2) == "us" else x * 1000 if m.group(2) == "s" else x

def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]

names = {"read": "read `Patient/[id]`", "search": "first-page search `Patient?family=`, no-cache",
         "cached": "same search, cached (HIT)", "count": "`Observation?code=&_summary=count`, no-cache",
         "tx": "transaction of 100 creates"}
rows = []
for line in open(results):
    w, c, wrk_file, log_file = line.split()
    text = open(wrk_file).read()
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    p50 = re.search(r"\s50%\s+(\S+)", text)
    p99 = re.search(r"\s99%\s+(\S+)", text)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    recs = [json.loads(l) for l in open(log_file) if l.strip()]
    db = [r["db_ms"] for r in recs if "db_ms" in r]
    over = [r["ms"] - r["db_ms"] - r.get("pool_ms", 0) for r in recs if "db_ms" in r]
    wait = [r.get("pool_ms", 0) for r in recs if "db_ms" in r]
    wrk_p50 = ms(p50.group(1)) if p50 else float("nan")
    rows.append((names[w], c, float(rps.group(1)) if rps else 0, wrk_p50, ms(p99.group(1)) if p99 else float("nan"),
                 pct(db, 50), wrk_p50 - pct(db, 50), pct(over, 50), pct(over, 99), int(errors.group(1)) if errors else 0,
                 pct(wait, 50)))

def sql_line(name):
    path = os.path.join(work, f"sql-{name}.txt")
    v = [float(x) for x in open(path)] if os.path.exists(path) else []
    return pct(v, 50), pct(v, 99), len(v)

load = open("/proc/loadavg").read().split()[:3]
print(f"\n## {datetime.date.today()}: {count} resources, --pool {pool} --threads {threads}, wrk {duration} s per row\n")
print(f"2 shared cores (load average {' '.join(load)} at the end: other work ran on the machine), PostgreSQL 15, "
      "wrk and the server and PostgreSQL on the same cores. p50/p99 from wrk (HTTP, loopback). `db` = the SQL "
      "call's round trip measured by the server (X-DB-Time). `HTTP - db` = wrk's p50 minus the p50 of X-DB-Time. "
      "`pool wait` = time waiting for a free database connection (--pool). `in server` = per request, time in the server "
      "(request read to response ready) minus X-DB-Time and the pool wait, from the access log.\n")
print("| workload | conns | req/s | p50 ms | p99 ms | db p50 ms | HTTP - db p50 ms | pool wait p50 ms | in server p50 / p99 ms | non-2xx |")
print("|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r[0]} | {r[1]} | {r[2]:,.0f} | {r[3]:.2f} | {r[4]:.2f} | {r[5]:.2f} | {r[6]:.2f} | {r[10]:.2f} | {r[7]:.3f} / {r[8]:.3f} | {r[9]} |")
rp50, rp99, rn = sql_line("read")
cp50, cp99, cn = sql_line("cached")
print(f"\nThe SQL call alone (pgbench, 1 connection, the server's statement): read p50 {rp50:.2f} ms, p99 {rp99:.2f} ms "
      f"({rn} calls); cached search p50 {cp50:.2f} ms, p99 {cp99:.2f} ms ({cn} calls).")
for line in open(os.path.join(work, "export.txt")):
    name, total, secs, rate, files, errors = line.split()
    print(f"Bulk Data `$export`, {name} level: {int(total):,} resources in {float(secs):.1f} s, {int(rate):,} resources/s "
          f"({files} NDJSON files, {errors} error files; kick-off to manifest, polling every 0.1 s).")
cached1 = [r for r in rows if r[0].startswith("same search") and r[1] == "1"]
read1 = [r for r in rows if r[0].startswith("read") and r[1] == "1"]
if cached1 and read1:
    print(f"HTTP p50 minus the SQL call alone, 1 connection: cached search {cached1[0][3] - cp50:+.2f} ms, "
          f"read {read1[0][3] - rp50:+.2f} ms (goal: within 0.3 ms for a cached search).")
PY
log "results appended to bench/results/rest.md"
tail -25 bench/results/rest.md
