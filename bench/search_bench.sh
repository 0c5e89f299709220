#!/usr/bin/env bash
# Search benchmark: fhir.search() against the same searches hand-written over a
# bare jsonb table (GIN jsonb_path_ops + btree (rtype, id)), and against the floor
# (fetching the same result rows by primary key), on one throwaway cluster.
#   sudo bench/search_bench.sh [--resources N] [--runs N] [--warmup N] [--no-build] [--reuse-db] [--keep]
#     --resources N  data size (default 1000000; 50000 for a quick run)
#     --runs N       timed runs per query and variant (default 30), after --warmup (default 3)
#     --no-build     use the installed extension (default: make && make install, like load_bench.sh)
#     --reuse-db     reuse the loaded cluster of an earlier run with the same size (for debugging)
#     --keep         leave the cluster running at the end (prints the psql line)
# Appends a dated section to bench/results/search.md. The workload (value picks,
# queries, bare equivalents, timing) is bench/search_workload.sql.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
N=1000000 RUNS=30 WARMUP=3 BUILD=1 REUSE=0 KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --resources) N="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --reuse-db) REUSE=1; shift ;;
    --keep) KEEP=1; shift ;;
    [0-9]*) N="$1"; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
WORK="${WORK:-/tmp/fhir_search_searchbench}"
PORT="${PORT:-5496}"
# Passed as fhir.search's cache_control so repeated runs measure the search, not a cache.
CACHE_CONTROL="${CACHE_CONTROL:-no-cache}"
source scripts/lib/cluster.sh

[ "$BUILD" -eq 0 ] || build_and_install

DATA="$WORK/data-$N.ndjson"
LOADED="$WORK/loaded-$N"          # load times of the cluster in $WORK/data (for --reuse-db)
cluster_stop
if [ "$REUSE" -eq 1 ] && [ -f "$LOADED" ] && [ -d "$WORK/data" ]; then
  log "reusing the loaded cluster in $WORK/data"
else
  REUSE=0
  rm -rf "$WORK"/loaded-* "$WORK/explain"
  [ -d "$WORK" ] && find "$WORK" -maxdepth 1 -name 'data-*.ndjson' ! -name "data-$N.ndjson" -delete
  sample_ndjson "$DATA" "$N" 1
  cluster_init <<CONF
shared_buffers = '2GB'
effective_cache_size = '8GB'
$BENCH_SETTINGS
CONF
fi
[ "$KEEP" -eq 1 ] || trap cluster_stop EXIT
cluster_start

if [ "$REUSE" -eq 0 ]; then
  COUNT=$(wc -l < "$DATA")
  psql_t -c "CREATE EXTENSION fhir_search;
             CREATE TABLE bare_staging (content jsonb);
             CREATE TABLE bare (id text COLLATE \"C\", rtype text COLLATE \"C\", content jsonb);"
  log "fhir.load_file of $COUNT resources"
  t_load=$(timed "SELECT fhir.load_file('$DATA')")
  psql_t -c "CHECKPOINT"
  log "bare: COPY, INSERT, GIN and btree"
  # COPY as csv with quote/delimiter bytes that never occur, so JSON passes untouched.
  copy_opts="(FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')"
  t_bare=$(timed "COPY bare_staging FROM '$DATA' WITH $copy_opts;
                  INSERT INTO bare SELECT content->>'id', content->>'resourceType', content FROM bare_staging;
                  CREATE INDEX bare_gin ON bare USING gin (content jsonb_path_ops);
                  CREATE INDEX bare_rtype_id ON bare (rtype, id)")
  psql_t -c "DROP TABLE bare_staging; CHECKPOINT"
  log "VACUUM ANALYZE"
  psql_t -c "VACUUM ANALYZE"
  loaded=$(psql_t -c "SELECT count(*) FROM fhir.resource")
  [ "$loaded" -eq "$COUNT" ] || { echo "loaded $loaded of $COUNT resources"; exit 1; }
  echo "$t_load $t_bare" > "$LOADED"
fi
read -r t_load t_bare < "$LOADED"

log "workload: $RUNS runs after $WARMUP warmups per query and variant"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
as_pg psql -X -q -h "$WORK" -p "$PORT" -d postgres -v ON_ERROR_STOP=1 \
  -v runs="$RUNS" -v warmup="$WARMUP" -v cache_control="$CACHE_CONTROL" \
  -f "$ROOT/bench/search_workload.sql"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
rm -rf "$WORK/explain"; mkdir -p "$WORK/explain"
for q in $(psql_t -c "SELECT n FROM bench_queries ORDER BY n"); do
  psql_t -c "SELECT bench_explain($q)" > "$WORK/explain/q$q.txt" 2>&1 || echo "explain of search $q failed (see $WORK/explain/q$q.txt)"
done

# ---------------------------------------------------------------------------- report
counts=$(psql_t -c "SELECT string_agg(format('%s %s', rtype, to_char(n, 'FM999,999,999')), ', ' ORDER BY n DESC)
                    FROM (SELECT rtype, count(*) n FROM fhir.resource GROUP BY rtype) c")
total=$(psql_t -c "SELECT to_char(count(*), 'FM999,999,999') FROM fhir.resource")
sizes=$(psql_t -c "SELECT pg_size_pretty(pg_total_relation_size('bare')) || ' / ' ||
  pg_size_pretty((SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c WHERE c.relnamespace = 'fhir'::regnamespace AND c.relkind = 'r')::bigint)")
pgver=$(psql_t -c "SHOW server_version")
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo " + uncommitted changes" || true)
machine="$(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"

mkdir -p bench/results
RESULTS=bench/results/search.md
if [ ! -f "$RESULTS" ]; then
  cat > "$RESULTS" <<'HDR'
# Search benchmark (bench/search_bench.sh)

Typical FHIR searches through `fhir.search()` (first page, default `_count` 20, a
searchset Bundle) against (1) the same search hand-written over a bare table
`bare(id, rtype, content jsonb)` holding the same NDJSON, with a GIN
`jsonb_path_ops` index and a btree on `(rtype, id)` (jsonb containment, `->>`
comparisons, `lower(...) LIKE`, joins on `subject.reference`), returning the same
first page as a json array, and (2) the floor: fetching the same result rows by
primary key from the resource partition. All three are prepared statements run by
a plpgsql loop in one session and timed with the server's `clock_timestamp()`
(`bench/search_workload.sql`). Latencies in ms. Goals: bare/ours >= 1 on every
query and >= 5 as a geometric mean; ours/floor <= 1.5.
HDR
fi
{
  echo
  echo "## $(date -u +%Y-%m-%d) — $total resources"
  echo
  echo "* machine: $machine; PostgreSQL $pgver (shared_buffers 2GB, work_mem 32MB, jit off)"
  echo "* code: HEAD $commit$dirty; library $BIN/../lib/fhir_search.so of $(date -u -r "$BIN/../lib/fhir_search.so" '+%Y-%m-%d %H:%M UTC') (built $([ "$BUILD" -eq 1 ] && echo 'by this run' || echo 'before, --no-build')); \`fhir.search(type, query, '$CACHE_CONTROL')\`"
  echo "* data: \`gen_sample.py --resources $N --seed 1\`: $counts"
  echo "* load: \`fhir.load_file\` $(printf '%.0f' "$t_load") s; bare COPY + INSERT + GIN + btree $(printf '%.0f' "$t_bare") s; size bare / fhir: $sizes"
  echo "* $RUNS timed runs after $WARMUP warmups per query and variant; ratios from medians; load average before / after the workload: $load_before / $load_after"
  echo
  echo "| # | search | matches | ours median | ours p95 | bare median | bare p95 | floor median | floor p95 | bare/ours | ours/floor | same page |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  psql_t -c "SELECT format('| %s | %s \`%s\` | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |', n, rtype, replace(query, '|', '\\|'),
                           to_char(total, 'FM999,999,990'), round(ours_med::numeric, 2), round(ours_p95::numeric, 2),
                           round(bare_med::numeric, 2), round(bare_p95::numeric, 2),
                           coalesce(round(floor_med::numeric, 2)::text, 'n/a'), coalesce(round(floor_p95::numeric, 2)::text, 'n/a'),
                           CASE WHEN bare_med / ours_med < 1 THEN '**' || round((bare_med / ours_med)::numeric, 2) || '**'
                                ELSE round((bare_med / ours_med)::numeric, 2)::text END,
                           CASE WHEN floor_med IS NULL THEN 'n/a'
                                WHEN ours_med / floor_med > 1.5 THEN '**' || round((ours_med / floor_med)::numeric, 2) || '**'
                                ELSE round((ours_med / floor_med)::numeric, 2)::text END,
                           check_result)
             FROM bench_results ORDER BY n"
  echo
  psql_t -c "SELECT format('Geometric mean bare/ours: **%s** (goal >= 5); queries below 1: %s. Geometric mean ours/floor: **%s** (goal <= 1.5); queries above 1.5: %s.',
                           round(exp(avg(ln(bare_med / ours_med)))::numeric, 2),
                           coalesce(string_agg(n::text, ', ' ORDER BY n) FILTER (WHERE bare_med < ours_med), 'none'),
                           round(exp(avg(ln(ours_med / floor_med)) FILTER (WHERE floor_med IS NOT NULL))::numeric, 2),
                           coalesce(string_agg(n::text, ', ' ORDER BY n) FILTER (WHERE ours_med > 1.5 * floor_med), 'none'))
             FROM bench_results"
  echo
  echo "Values picked from the data: $(psql_t -c "SELECT string_agg(format('%s=%s', k, v), ', ' ORDER BY k) FROM bench_picks")."
} >> "$RESULTS"
log "appended to $RESULTS (explain output of every search in $WORK/explain)"
sed -n "/^## $(date -u +%Y-%m-%d) — $total resources/,\$p" "$RESULTS" | tail -n +1
if [ "$KEEP" -eq 1 ]; then
  echo "cluster left running: psql -h $WORK -p $PORT -U postgres postgres   (stop: $BIN/pg_ctl -D $WORK/data stop)"
fi
