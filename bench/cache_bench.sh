#!/usr/bin/env bash
# Result cache benchmark: hit vs miss latency of typical searches, page 2 from the
# cache, and throughput of a repeated-query workload with the cache on and off, on a
# throwaway loaded cluster (port 5494).
#   sudo bench/cache_bench.sh [--resources N] [--runs N] [--hit-runs N] [--seconds S] [--no-build] [--reuse-db] [--keep]
#     --resources N  data size (default 100000)
#     --runs N       timed misses per search (default 30); --hit-runs N timed hits (default 300)
#     --seconds S    pgbench duration per client count and setting (default 20)
#     --no-build     use the installed extension
#     --reuse-db     reuse the loaded cluster of an earlier run with the same size
#     --keep         leave the cluster running at the end
# Appends a dated section to bench/results/cache.md.
#
# Latency (server clock, a plpgsql loop per search and variant, one transaction each):
#   miss  fhir.search(type, query, 'no-cache'): no reuse, computed from the tables (and
#         stored, as a real miss is)
#   hit   fhir.search(type, query) repeated: every run must report HIT
#   page 2: the query string of the first page's next link, as a miss and as a hit
#   pages from the result set, with fhir_search.cache_reuse_ms = 0 (nothing reused): the
#         first page (untimed) starts the search's result set; page 2 (timed as page2_set)
#         prefetches ids up to the first threshold into it and is cut from it; page 3
#         (timed as page3_set) is cut from the set: rows by rid, no search. Both must HIT.
# Throughput: pgbench -c 1, 4, 16 for S seconds over the same searches and their second
# pages (random choice per transaction, the Bundle sent to the client), with the cache
# (fhir_search.cache_reuse_ms default) and without (PGOPTIONS -c fhir_search.cache_reuse_ms=0:
# nothing is reused, every search computed). Hit rate from fhir.cache_statistics.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
N=100000 RUNS=30 HIT_RUNS=300 SECONDS_PER=20 BUILD=1 REUSE=0 KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --resources) N="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --hit-runs) HIT_RUNS="$2"; shift 2 ;;
    --seconds) SECONDS_PER="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --reuse-db) REUSE=1; shift ;;
    --keep) KEEP=1; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
WORK="${WORK:-/tmp/fhir_search_cachebench}"
PORT="${PORT:-5494}"
source scripts/lib/cluster.sh

[ "$BUILD" -eq 0 ] || build_and_install

DATA="$WORK/data-$N.ndjson"
LOADED="$WORK/loaded-$N"
cluster_stop
if [ "$REUSE" -eq 1 ] && [ -f "$LOADED" ] && [ -d "$WORK/data" ]; then
  log "reusing the loaded cluster in $WORK/data"
else
  REUSE=0
  rm -rf "$WORK"/loaded-*
  [ -d "$WORK" ] && find "$WORK" -maxdepth 1 -name 'data-*.ndjson' ! -name "data-$N.ndjson" -delete
  sample_ndjson "$DATA" "$N" 1
  cluster_init <<CONF
shared_buffers = '1GB'
$BENCH_SETTINGS
fhir_search.cache_size = '64MB'
CONF
fi
[ "$KEEP" -eq 1 ] || trap cluster_stop EXIT
cluster_start

if [ "$REUSE" -eq 0 ]; then
  log "fhir.load_file of $(wc -l < "$DATA") resources"
  psql_t -c "CREATE EXTENSION fhir_search" -c "SET client_min_messages = warning; SELECT fhir.load_file('$DATA')" >/dev/null
  psql_t -c "VACUUM ANALYZE" -c "CHECKPOINT"
  touch "$LOADED"
fi

# ------------------------------------------------------------------ searches and timing
log "searches: $RUNS misses and $HIT_RUNS hits per search, first page and page 2"
psql_t >/dev/null <<'SQL'
SET client_min_messages = warning;
DROP TABLE IF EXISTS cb_picks, cb_queries, cb_results;
DROP FUNCTION IF EXISTS cb_time(int, text, int), cb_search(int);
RESET client_min_messages;
CREATE TABLE cb_picks (k text PRIMARY KEY, v text NOT NULL);
-- the patient with the most Observations, the most common family name and SNOMED condition code
INSERT INTO cb_picks
SELECT 'patient', split_part(content->'subject'->>'reference', '/', 2) FROM fhir.resource_observation
 GROUP BY 2 ORDER BY count(*) DESC, 2 LIMIT 1;
INSERT INTO cb_picks
SELECT 'family', content->'name'->0->>'family' FROM fhir.resource_patient
 WHERE content->'name'->0->>'family' ~ '^[A-Za-z]+$' GROUP BY 2 ORDER BY count(*) DESC, 2 LIMIT 1;
INSERT INTO cb_picks
SELECT 'condition_code', c->>'code' FROM fhir.resource_condition r, jsonb_array_elements(r.content->'code'->'coding') c
 WHERE c->>'system' = 'http://snomed.info/sct' GROUP BY 2 ORDER BY count(*) DESC, 2 LIMIT 1;

CREATE TABLE cb_queries (n int PRIMARY KEY, rtype text, query text, page2 text, total bigint);
INSERT INTO cb_queries (n, rtype, query)
SELECT n, rtype, replace(replace(replace(q, '{patient}', (SELECT v FROM cb_picks WHERE k = 'patient')),
                                 '{family}', (SELECT v FROM cb_picks WHERE k = 'family')),
                         '{condition_code}', (SELECT v FROM cb_picks WHERE k = 'condition_code'))
  FROM (VALUES
    (1, 'Patient', 'name={family}&_count=20'),
    (2, 'Patient', 'gender=female&birthdate=ge1970-01-01&_sort=birthdate&_count=20'),
    (3, 'Observation', 'patient={patient}&code=http://loinc.org|8867-4&_sort=-date&_count=20'),
    (4, 'Observation', 'code=http://loinc.org|8867-4&date=ge2018-01-01&_count=20'),
    (5, 'Condition', 'code=http://snomed.info/sct|{condition_code}&_include=Condition:subject&_count=20'),
    (6, 'Patient', '_has:Observation:patient:code=http://loinc.org|4548-4&_count=20'),
    (7, 'Observation', 'subject:Patient.name={family}&code=http://loinc.org|8867-4&_count=20')) v(n, rtype, q);
UPDATE cb_queries SET total = (fhir.search(rtype, query || '&_total=accurate', 'no-cache')->>'total')::bigint;
UPDATE cb_queries SET page2 = (SELECT substring(l->>'url' FROM '[?](.*)$')
                                 FROM jsonb_array_elements(fhir.search(rtype, query, 'no-cache')->'link') l
                                WHERE l->>'relation' = 'next');

CREATE TABLE cb_results (n int, variant text, runs int, hits int, med float8, p95 float8, PRIMARY KEY (n, variant));

-- Times one search variant; the timings are kept in a variable and written at the end,
-- because a transaction that wrote never reuses cache entries.
CREATE FUNCTION cb_time(qn int, variant text, runs int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  t text; q text; cc text; i int; t0 timestamptz; hits int := 0; ms float8[] := '{}';
BEGIN
  SELECT rtype, CASE WHEN variant LIKE 'page2%' THEN page2 ELSE query END INTO t, q FROM cb_queries WHERE n = qn;
  IF q IS NULL THEN RETURN; END IF;
  cc := CASE WHEN variant LIKE '%miss' THEN 'no-cache' END;
  IF variant IN ('page2_set', 'page3_set') THEN PERFORM set_config('fhir_search.cache_reuse_ms', '0', true); END IF;
  FOR i IN 1..3 LOOP PERFORM fhir.search(t, q, cc); END LOOP;  -- warm-up (and, for hits, the entry)
  FOR i IN 1..runs LOOP
    IF variant IN ('page2_set', 'page3_set') THEN  -- a new first page (a miss: reuse is off) starts a new set
      q := (SELECT substring(l->>'url' FROM '[?](.*)$')
              FROM jsonb_array_elements(fhir.search(t, (SELECT query FROM cb_queries WHERE n = qn))->'link') l
             WHERE l->>'relation' = 'next');
      IF variant = 'page3_set' THEN                 -- page 2 (untimed) prefetches
        q := (SELECT substring(l->>'url' FROM '[?](.*)$')
                FROM jsonb_array_elements(fhir.search(t, q)->'link') l WHERE l->>'relation' = 'next');
      END IF;
      IF q IS NULL THEN RETURN; END IF;
    END IF;
    t0 := clock_timestamp();
    PERFORM fhir.search(t, q, cc);
    ms := ms || extract(epoch FROM clock_timestamp() - t0)::float8 * 1000;
    IF fhir.last_search()->>'cache' = 'HIT' THEN hits := hits + 1; END IF;
  END LOOP;
  INSERT INTO cb_results
  SELECT qn, variant, runs, hits, percentile_cont(0.5) WITHIN GROUP (ORDER BY x), percentile_cont(0.95) WITHIN GROUP (ORDER BY x)
    FROM unnest(ms) x;
END $$;

-- pgbench: search k of the workload (first pages 1..n, second pages n+1..2n)
CREATE FUNCTION cb_search(k int) RETURNS jsonb LANGUAGE sql AS $$
  SELECT fhir.search(rtype, CASE WHEN k > (SELECT count(*) FROM cb_queries) THEN page2 ELSE query END)
    FROM cb_queries WHERE n = CASE WHEN k > (SELECT count(*) FROM cb_queries) THEN k - (SELECT count(*) FROM cb_queries) ELSE k END $$;
SQL
NQ=$(psql_t -c "SELECT count(*) FROM cb_queries")
for n in $(seq 1 "$NQ"); do
  psql_t -c "SELECT cb_time($n, 'miss', $RUNS)"
  psql_t -c "SELECT cb_time($n, 'hit', $HIT_RUNS)"
  psql_t -c "SELECT cb_time($n, 'page2_miss', $RUNS)"
  psql_t -c "SELECT cb_time($n, 'page2_hit', $HIT_RUNS)"
  psql_t -c "SELECT cb_time($n, 'page2_set', $RUNS)"
  psql_t -c "SELECT cb_time($n, 'page3_set', $RUNS)"
done >/dev/null
BAD_HITS=$(psql_t -c "SELECT count(*) FROM cb_results WHERE (variant LIKE '%hit' OR variant LIKE '%_set') AND hits <> runs")
[ "$BAD_HITS" -eq 0 ] || log "WARNING: $BAD_HITS hit variants were not all HITs"

# ------------------------------------------------------------------ throughput
S="$WORK/pgbench"; mkdir -p "$S"
cat > "$S/search.sql" <<'EOF'
\set k random(1, :nk)
SELECT cb_search(:k);
EOF
chown -R postgres "$S" 2>/dev/null || sudo chown -R postgres "$S"
NK=$(psql_t -c "SELECT count(*) + count(page2) FROM cb_queries")
: > "$WORK/throughput"
for c in 1 4 16; do
  j=$(( c < $(nproc) ? c : $(nproc) ))
  for mode in on off; do
    opts=""; [ "$mode" = off ] && opts="-c fhir_search.cache_reuse_ms=0"
    psql_t -c "SELECT fhir.cache_reset()" >/dev/null
    log "pgbench -c $c -T $SECONDS_PER, cache $mode"
    out=$(as_pg env PGOPTIONS="$opts" "$BIN/pgbench" -n -h "$WORK" -p "$PORT" -c "$c" -j "$j" -T "$SECONDS_PER" \
            -D nk="$NK" -f "$S/search.sql" postgres 2>&1)
    tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
    lat=$(echo "$out" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')
    failed=$(echo "$out" | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p')
    rate=$(psql_t -c "SELECT round(hit_rate::numeric * 100, 1) FROM fhir.cache_statistics")
    echo "$c $mode $tps $lat ${failed:-?} $rate" >> "$WORK/throughput"
  done
done
STATS=$(psql_t -c "SELECT format('entries %s, %s kB of %s kB', entries, bytes / 1024, capacity / 1024) FROM fhir.cache_statistics")

# ------------------------------------------------------------------ report
counts=$(psql_t -c "SELECT string_agg(format('%s %s', rtype, to_char(n, 'FM999,999,999')), ', ' ORDER BY n DESC)
                    FROM (SELECT rtype, count(*) n FROM fhir.resource GROUP BY rtype) c")
total=$(psql_t -c "SELECT to_char(count(*), 'FM999,999,999') FROM fhir.resource")
pgver=$(psql_t -c "SHOW server_version")
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo " + uncommitted changes" || true)
machine="$(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"

RESULTS=bench/results/cache.md
mkdir -p bench/results
if [ ! -f "$RESULTS" ]; then
  cat > "$RESULTS" <<'HDR'
# Result cache benchmark (bench/cache_bench.sh)

Typical searches on a loaded throwaway cluster: latency of a miss (`fhir.search(type,
query, 'no-cache')`: computed from the tables and stored) against a hit (the same search
repeated: answered from shared memory), for the first page and for page 2 (the query
string of the next link), timed with the server's clock in a plpgsql loop (no client
round trip, the Bundle not sent); then throughput of a repeated-query workload (those
searches and their second pages, chosen at random, the Bundle sent to the client) with
pgbench, with the cache and without (`fhir_search.cache_reuse_ms = 0`: nothing reused).
Latencies in ms. Goal: hit >= 20x faster than miss.
HDR
fi
{
  echo
  echo "## $(date -u +%Y-%m-%d) — $total resources"
  echo
  echo "* machine: $machine; PostgreSQL $pgver (shared_buffers 1GB, jit off, fhir_search.cache_size 64MB)"
  echo "* code: HEAD $commit$dirty"
  echo "* data: \`gen_sample.py --resources $N --seed 1\`: $counts"
  echo "* latency: $RUNS timed misses and $HIT_RUNS timed hits per search after 3 warm-ups; medians and p95; every timed hit reported HIT: $([ "$BAD_HITS" -eq 0 ] && echo yes || echo "**no ($BAD_HITS variants)**")"
  echo
  echo "| # | search | matches | miss median | miss p95 | hit median | hit p95 | hit speedup | page 2 miss | page 2 hit | page 2 speedup | reuse 0: page 2 (prefetch) | reuse 0: page 3 (from set) |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  psql_t -c "SELECT format('| %s | %s \`%s\` | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |', q.n, q.rtype, replace(q.query, '|', '\\|'),
                           to_char(q.total, 'FM999,999,990'),
                           round(m.med::numeric, 2), round(m.p95::numeric, 2), round(h.med::numeric, 3), round(h.p95::numeric, 3),
                           CASE WHEN m.med / h.med < 20 THEN '**' || round((m.med / h.med)::numeric, 1) || 'x**'
                                ELSE round((m.med / h.med)::numeric, 1) || 'x' END,
                           coalesce(round(pm.med::numeric, 2)::text, 'n/a'), coalesce(round(ph.med::numeric, 3)::text, 'n/a'),
                           coalesce(round((pm.med / ph.med)::numeric, 1) || 'x', 'n/a'),
                           coalesce(round(ps.med::numeric, 3)::text, 'n/a'), coalesce(round(p3.med::numeric, 3)::text, 'n/a'))
               FROM cb_queries q
               JOIN cb_results m ON m.n = q.n AND m.variant = 'miss'
               JOIN cb_results h ON h.n = q.n AND h.variant = 'hit'
               LEFT JOIN cb_results pm ON pm.n = q.n AND pm.variant = 'page2_miss'
               LEFT JOIN cb_results ph ON ph.n = q.n AND ph.variant = 'page2_hit'
               LEFT JOIN cb_results ps ON ps.n = q.n AND ps.variant = 'page2_set'
               LEFT JOIN cb_results p3 ON p3.n = q.n AND p3.variant = 'page3_set'
              ORDER BY q.n"
  echo
  psql_t -c "SELECT format('Geometric mean speedup, first pages: **%sx** (goal >= 20x; below 20x: %s); page 2: **%sx**.',
                           round(exp(avg(ln(m.med / h.med)))::numeric, 1),
                           coalesce(string_agg(m.n::text, ', ' ORDER BY m.n) FILTER (WHERE m.med < 20 * h.med), 'none'),
                           (SELECT round(exp(avg(ln(pm.med / ph.med)))::numeric, 1) FROM cb_results pm
                              JOIN cb_results ph ON ph.n = pm.n AND ph.variant = 'page2_hit' WHERE pm.variant = 'page2_miss'))
               FROM cb_results m JOIN cb_results h ON h.n = m.n AND h.variant = 'hit' WHERE m.variant = 'miss'"
  echo
  echo "Throughput: pgbench, ${SECONDS_PER} s per row, $NK searches (the first pages above and their second pages) chosen at random:"
  echo
  echo "| clients | cache on: searches/s | latency ms | hit rate | cache off: searches/s | latency ms | on/off | failed |"
  echo "|---|---|---|---|---|---|---|---|"
  for c in 1 4 16; do
    read -r _ _ tps_on lat_on f_on rate_on < <(grep "^$c on " "$WORK/throughput")
    read -r _ _ tps_off lat_off f_off _ < <(grep "^$c off " "$WORK/throughput")
    ratio=$(python3 -c "print(f'{float(\"$tps_on\")/float(\"$tps_off\"):.1f}x')" 2>/dev/null || echo n/a)
    printf '| %s | %.0f | %.2f | %s %% | %.0f | %.2f | %s | %s |\n' "$c" "$tps_on" "$lat_on" "$rate_on" "$tps_off" "$lat_off" "$ratio" "$((f_on + f_off))"
  done
  echo
  echo "Cache at the end: $STATS. Values picked from the data: $(psql_t -c "SELECT string_agg(format('%s=%s', k, v), ', ' ORDER BY k) FROM cb_picks")."
} >> "$RESULTS"
log "appended to $RESULTS"
sed -n "/^## $(date -u +%Y-%m-%d) — $total resources/,\$p" "$RESULTS"
if [ "$KEEP" -eq 1 ]; then
  echo "cluster left running: psql -h $WORK -p $PORT -U postgres postgres   (stop: $BIN/pg_ctl -D $WORK/data stop)"
fi
