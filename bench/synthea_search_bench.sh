#!/usr/bin/env bash
# Search benchmark on Synthea-shaped data (issue 14): fhir.search() against the same
# searches hand-written over a bare jsonb table (GIN jsonb_path_ops, expression btrees a
# competent developer would add) and against the primary-key floor, all producing a
# searchset Bundle's text, timed server-side; then the same searches under a concurrent
# writer and once cold (first execution in a new backend).
#   sudo bench/synthea_search_bench.sh [--replicas N] [--data synthea|generator] [--resources N]
#                                      [--runs N] [--warmup N] [--writer-rate N] [--no-build] [--reuse-db] [--keep]
#     --data synthea    the shared SMART Synthea sample (100 patients, 31.6k resources), its
#                       patient Bundles loaded --replicas times (default 10: ~316k resources)
#                       through fhir.transaction, one Bundle per statement, as users load it:
#                       every POST gets a new server id, so each replica is a new set of ids
#     --data generator  tools/gen_sample.py --resources N (default 1000000) through fhir.load_file
#     --runs N          timed runs per search and variant (default 50), after --warmup (5)
#     --writer-rate N   fhir.update calls per second on Observations in the writer phase (200; 0: skip)
# Environment: WORK (/tmp/fhir_search_synthea_bench), PORT (5497), PG_BIN (the server to
# run; default the installed one), SAMPLE (the Synthea archive). Appends a dated section to
# bench/results/synthea_search.md; plans go to WORK/explain/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DATA_KIND=synthea REPLICAS=10 N=1000000 RUNS=50 WARMUP=5 RATE=200 BUILD=1 REUSE=0 KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --data) DATA_KIND="$2"; shift 2 ;;
    --replicas) REPLICAS="$2"; shift 2 ;;
    --resources) N="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --writer-rate) RATE="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --reuse-db) REUSE=1; shift ;;
    --keep) KEEP=1; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
case "$DATA_KIND" in synthea|generator) ;; *) echo "--data synthea|generator" >&2; exit 2 ;; esac
WORK="${WORK:-/tmp/fhir_search_synthea_bench}"
PORT="${PORT:-5497}"
SAMPLE="${SAMPLE:-$ROOT/../shared/data/synthea/smart-r4-synthea-2019.tar.gz}"
source scripts/lib/cluster.sh

[ "$BUILD" -eq 0 ] || build_and_install

TAG="$DATA_KIND-$([ "$DATA_KIND" = synthea ] && echo "x$REPLICAS" || echo "$N")"
LOADED="$WORK/loaded-$TAG"
cluster_stop
if [ "$REUSE" -eq 1 ] && [ -f "$LOADED" ] && [ -d "$WORK/data" ]; then
  log "reusing the loaded cluster in $WORK/data ($TAG)"
else
  REUSE=0
  rm -f "$WORK"/loaded-*
  cluster_init <<CONF
shared_buffers = '2GB'
effective_cache_size = '8GB'
$BENCH_SETTINGS
CONF
fi
[ "$KEEP" -eq 1 ] || trap cluster_stop EXIT
cluster_start

if [ "$REUSE" -eq 0 ]; then
  psql_t -c "CREATE EXTENSION fhir_search"
  t0=$(date +%s.%N)
  if [ "$DATA_KIND" = synthea ]; then
    [ -f "$SAMPLE" ] || { echo "no Synthea sample at $SAMPLE (set SAMPLE)"; exit 1; }
    rm -rf "$WORK/synthea"; mkdir -p "$WORK/synthea"
    tar -xzf "$SAMPLE" -C "$WORK/synthea"
    # Bundles as numbered files (Synthea's names hold quotes): providers first, then patients.
    i=0
    for f in "$WORK"/synthea/*/hospitalInformation*.json "$WORK"/synthea/*/practitionerInformation*.json; do
      i=$((i + 1)); mv "$f" "$(printf '%s/synthea/p%04d.json' "$WORK" "$i")"
    done
    i=0
    for f in "$WORK"/synthea/*/*.json; do
      i=$((i + 1)); mv "$f" "$(printf '%s/synthea/b%04d.json' "$WORK" "$i")"
    done
    own_by_postgres -R "$WORK/synthea"
    # Provider Bundles once (shared organizations and practitioners), patient Bundles
    # REPLICAS times, one fhir.transaction per Bundle in autocommit.
    {
      for f in "$WORK"/synthea/p*.json; do
        echo "SELECT length(fhir.transaction(pg_read_file('$f')::jsonb)::text);"
      done
      for r in $(seq 1 "$REPLICAS"); do
        for f in "$WORK"/synthea/b*.json; do
          echo "SELECT length(fhir.transaction(pg_read_file('$f')::jsonb)::text);"
        done
      done
    } > "$WORK/load.sql"
    log "loading $(grep -c . "$WORK/load.sql") transaction Bundles"
    psql_t -f "$WORK/load.sql" > /dev/null
  else
    DATA="$WORK/data-$N.ndjson"
    sample_ndjson "$DATA" "$N" 1
    log "fhir.load_file of $(wc -l < "$DATA") resources"
    psql_t -c "SELECT fhir.load_file('$DATA')" > /dev/null
  fi
  t_load=$(echo "$(date +%s.%N) - $t0" | bc)
  log "bare: copy of the stored resources, GIN and btrees"
  # The same resources as the extension stores them (ids, meta), in insertion order
  # (seq: what a serial key gives an application; fhir.search's default order is
  # insertion order), with the indexes a competent developer adds for these searches.
  t_bare=$(timed "CREATE TABLE bare AS SELECT rid AS seq, rtype, id, last_updated, content FROM fhir.resource ORDER BY rid;
                  ALTER TABLE bare ADD PRIMARY KEY (seq);
                  CREATE INDEX bare_gin ON bare USING gin (content jsonb_path_ops);
                  CREATE UNIQUE INDEX bare_rtype_id ON bare (rtype, id);
                  CREATE INDEX bare_rtype_seq ON bare (rtype, seq);
                  CREATE INDEX bare_last_updated ON bare (rtype, last_updated);
                  CREATE INDEX bare_subject ON bare ((content->'subject'->>'reference'));
                  CREATE INDEX bare_obs_value ON bare (((content->'valueQuantity'->>'value')::numeric)) WHERE rtype = 'Observation'")
  log "VACUUM ANALYZE"
  psql_t -c "VACUUM ANALYZE"
  echo "$t_load $t_bare" > "$LOADED"
fi
read -r t_load t_bare < "$LOADED"
total=$(psql_t -c "SELECT count(*) FROM fhir.resource")
log "$total resources (load $(printf '%.0f' "$t_load") s)"

run_workload() {  # phase
  as_pg psql -X -q -h "$WORK" -p "$PORT" -d postgres -v ON_ERROR_STOP=1 \
    -v runs="$RUNS" -v warmup="$WARMUP" -v phase="$1" -f "$ROOT/bench/synthea_workload.sql"
}
log "quiet phase: $RUNS runs after $WARMUP warmups per search and variant"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
run_workload quiet
log "cold phase: each search once in a new backend"
for q in $(psql_t -c "SELECT n FROM bench_queries ORDER BY n"); do
  psql_t -c "SELECT bench_cold($q)" > /dev/null
done
if [ "$RATE" -gt 0 ]; then
  # The writer: RATE fhir.update/s on random Observations (a changed status), as pgbench
  # paces it, for as long as the writer phase runs.
  cat > "$WORK/writer.sql" <<'SQL'
\set k random(1, 1000000000)
SELECT fhir.update(jsonb_set(content, '{status}', to_jsonb(CASE WHEN content->>'status' = 'final' THEN 'amended' ELSE 'final' END)))
  FROM fhir.resource_observation WHERE rid >= (SELECT min(rid) + (:k % (max(rid) - min(rid) + 1)) FROM fhir.resource_observation)
 ORDER BY rid LIMIT 1;
SQL
  own_by_postgres "$WORK/writer.sql"
  log "writer phase: $RATE fhir.update/s on Observations during the searches"
  as_pg "$BIN/pgbench" -n -h "$WORK" -p "$PORT" -R "$RATE" -T 3600 -c 2 -j 1 -f "$WORK/writer.sql" postgres > "$WORK/writer.log" 2>&1 &
  writer=$!
  sleep 5
  run_workload writer
  kill "$writer" 2>/dev/null || true; wait "$writer" 2>/dev/null || true
  writes=$(psql_t -c "SELECT count(*) FROM fhir.resource_history WHERE rtype = 'Observation'")
  log "writer stopped ($writes Observation versions in history)"
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
rm -rf "$WORK/explain"; mkdir -p "$WORK/explain"
for q in $(psql_t -c "SELECT n FROM bench_queries ORDER BY n"); do
  psql_t -c "SELECT bench_explain($q)" > "$WORK/explain/q$q.txt" 2>&1 || echo "explain of search $q failed (see $WORK/explain/q$q.txt)"
done

# ---------------------------------------------------------------------------- report
counts=$(psql_t -c "SELECT string_agg(format('%s %s', rtype, to_char(n, 'FM999,999,999')), ', ' ORDER BY n DESC)
                    FROM (SELECT rtype, count(*) n FROM fhir.resource GROUP BY rtype ORDER BY 2 DESC LIMIT 8) c")
pgver=$(psql_t -c "SHOW server_version")
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo " + uncommitted changes" || true)
machine="$(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
RESULTS=bench/results/synthea_search.md
if [ ! -f "$RESULTS" ]; then
  cat > "$RESULTS" <<'HDR'
# Search benchmark on Synthea-shaped data (bench/synthea_search_bench.sh)

Each search three ways, each producing the text of a searchset Bundle (its length is what
the timed statement returns, so the same output is built on both sides): `fhir.search()`
(first page); the same search hand-written over `bare(seq, rtype, id, last_updated,
content jsonb)` holding the same stored resources, with GIN `jsonb_path_ops`, btrees on
`(rtype, id)`, `(rtype, seq)`, `(rtype, last_updated)`, `subject.reference` and the
Observation value, the Bundle built with `jsonb_agg`; and the floor: the same page's
resources fetched by primary key and built into the same Bundle. Prepared statements run
by one plpgsql loop, timed with the server's `clock_timestamp()`
(`bench/synthea_workload.sql`). Latencies in ms. Goals (issue 14): bare/ours >= 1 on every
search and >= 5 as a geometric mean; single-type searches within 1.5x of the floor
(chains and `_has` 3x); under the writer each p99 <= 1.5x the quiet median; cold
<= 3x the warm median.
HDR
fi
{
  echo
  echo "## $(date -u +%Y-%m-%d) — $DATA_KIND, $(printf "%'d" "$total") resources"
  echo
  echo "* machine: $machine; PostgreSQL $pgver (shared_buffers 2GB, work_mem 32MB, jit off)"
  echo "* code: HEAD $commit$dirty; library $BIN/../lib/fhir_search.so"
  if [ "$DATA_KIND" = synthea ]; then
    echo "* data: $(basename "$SAMPLE"), patient Bundles x$REPLICAS through \`fhir.transaction\` (provider Bundles once), $(printf '%.0f' "$t_load") s; largest types: $counts"
  else
    echo "* data: \`gen_sample.py --resources $N --seed 1\` through \`fhir.load_file\`, $(printf '%.0f' "$t_load") s; largest types: $counts"
  fi
  echo "* $RUNS timed runs after $WARMUP warmups per search and variant; writer: $RATE fhir.update/s (pgbench -R); load average before / after: $load_before / $load_after"
  echo "* command: \`bench/synthea_search_bench.sh --data $DATA_KIND $([ "$DATA_KIND" = synthea ] && echo "--replicas $REPLICAS" || echo "--resources $N") --runs $RUNS\`"
  echo
  psql_t -c "SELECT bench_report()"
} >> "$RESULTS"
log "results appended to $RESULTS"
tail -n 40 "$RESULTS"
