#!/usr/bin/env bash
# Result-shaping benchmark: payload size with and without _summary/_elements,
# projection speed against the same projection in plain SQL, deep paging cost
# (following `next` links to page 10, 100, 1000) and _summary=count throughput,
# on one throwaway cluster.
#   sudo bench/shaping_bench.sh [--resources N] [--runs N] [--warmup N] [--depth N] [--no-build] [--reuse-db] [--keep]
#     --resources N  data size (default 1000000; 50000 for a quick run)
#     --runs N       timed runs per statement (default 20), after --warmup (default 2)
#     --depth N      deepest page followed by the paging test (default 1000)
#     --no-build     use the installed extension (default: make && make install, like load_bench.sh)
#     --reuse-db     reuse the loaded cluster of an earlier run with the same size (for debugging)
#     --keep         leave the cluster running at the end (prints the psql line)
# Appends a dated section to bench/results/shaping.md. The workload (searches,
# variants, plain-SQL equivalents, timing) is bench/shaping_workload.sql.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
N=1000000 RUNS=20 WARMUP=2 DEPTH=1000 BUILD=1 REUSE=0 KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --resources) N="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --depth) DEPTH="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --reuse-db) REUSE=1; shift ;;
    --keep) KEEP=1; shift ;;
    [0-9]*) N="$1"; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
WORK="${WORK:-/tmp/fhir_search_shaping}"
PORT="${PORT:-5493}"
SEED="${SEED:-2}"
# Passed as fhir.search's cache_control so repeated runs measure the search, not a cache.
CACHE_CONTROL="${CACHE_CONTROL:-no-cache}"
source scripts/lib/cluster.sh

[ "$BUILD" -eq 0 ] || build_and_install

DATA="$WORK/data-$N.ndjson"
LOADED="$WORK/loaded-$N"          # load time of the cluster in $WORK/data (for --reuse-db)
cluster_stop
if [ "$REUSE" -eq 1 ] && [ -f "$LOADED" ] && [ -d "$WORK/data" ]; then
  log "reusing the loaded cluster in $WORK/data"
else
  REUSE=0
  rm -rf "$WORK"/loaded-* "$WORK/explain"
  sample_ndjson "$DATA" "$N" "$SEED"
  cluster_init <<CONF
shared_buffers = '2GB'
effective_cache_size = '8GB'
$BENCH_SETTINGS
CONF
fi
LIB_TIME=$(date -u -r "$BIN/../lib/fhir_search.so" '+%Y-%m-%d %H:%M UTC')   # the library the cluster loads at start
[ "$KEEP" -eq 1 ] || trap cluster_stop EXIT
cluster_start

if [ "$REUSE" -eq 0 ]; then
  COUNT=$(wc -l < "$DATA")
  psql_t -c "CREATE EXTENSION fhir_search"
  log "fhir.load_file of $COUNT resources"
  t_load=$(timed "SELECT fhir.load_file('$DATA')")
  log "CHECKPOINT, VACUUM ANALYZE"
  psql_t -c "CHECKPOINT"
  psql_t -c "VACUUM ANALYZE"
  loaded=$(psql_t -c "SELECT count(*) FROM fhir.resource")
  [ "$loaded" -eq "$COUNT" ] || { echo "loaded $loaded of $COUNT resources"; exit 1; }
  echo "$t_load" > "$LOADED"
fi
read -r t_load < "$LOADED"

log "workload: $RUNS runs after $WARMUP warmups per statement; paging to page $DEPTH"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
t_work0=$(date +%s)
as_pg psql -X -q -h "$WORK" -p "$PORT" -d postgres -v ON_ERROR_STOP=1 \
  -v runs="$RUNS" -v warmup="$WARMUP" -v depth="$DEPTH" -v cache_control="$CACHE_CONTROL" \
  -f "$ROOT/bench/shaping_workload.sql"
t_work=$(( $(date +%s) - t_work0 ))
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# Plans of the deepest pages and of the largest code count, for the observations.
rm -rf "$WORK/explain"; mkdir -p "$WORK/explain"
psql_t -c "SELECT label || ' ' || depth || ' ' || page_query FROM shape_paging WHERE depth IN (1, (SELECT max(depth) FROM shape_paging))" |
while read -r label depth qs; do
  psql_t -c "SELECT jsonb_pretty(fhir.explain('Observation', \$q\$$qs\$q\$))" > "$WORK/explain/page-$label-$depth.txt" 2>&1 || true
done
psql_t -c "SELECT rtype || ' ' || query FROM shape_count ORDER BY total DESC LIMIT 1" | while read -r rtype qs; do
  psql_t -c "SELECT jsonb_pretty(fhir.explain('$rtype', \$q\$$qs\$q\$))" > "$WORK/explain/count-largest.txt" 2>&1 || true
done

# ---------------------------------------------------------------------------- report
counts=$(psql_t -c "SELECT string_agg(format('%s %s', rtype, to_char(n, 'FM999,999,999')), ', ' ORDER BY n DESC)
                    FROM (SELECT rtype, count(*) n FROM fhir.resource GROUP BY rtype) c")
total=$(psql_t -c "SELECT to_char(count(*), 'FM999,999,999') FROM fhir.resource")
size=$(psql_t -c "SELECT pg_size_pretty((SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c WHERE c.relnamespace = 'fhir'::regnamespace AND c.relkind = 'r')::bigint)")
pgver=$(psql_t -c "SHOW server_version")
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo " + uncommitted changes" || true)
machine="$(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
pct() { echo "CASE WHEN $2 > 0 THEN to_char(100.0 * (1 - $1::float8 / $2), 'FM990.0') || ' %' ELSE 'n/a' END"; }

mkdir -p bench/results
RESULTS=bench/results/shaping.md
if [ ! -f "$RESULTS" ]; then
  cat > "$RESULTS" <<'HDR'
# Result-shaping benchmark (bench/shaping_bench.sh)

What `_summary`, `_elements`, paging and `_summary=count` cost and save, on
`tools/gen_sample.py` data loaded with `fhir.load_file`
(`bench/shaping_workload.sql`):

1. **Payload**: bytes of the searchset Bundle (`octet_length(fhir.search(...)::text)`)
   and of its match resources alone, plain and with `_summary=true|data|text` and
   `_elements`; reduction against plain.
2. **Projection speed**: `fhir.search(type, q)`, `q&_elements=...` and `q&_summary=true`
   against the same page's rows fetched by id in plain SQL, whole (`content`) and
   projected (`jsonb_strip_nulls(jsonb_build_object(<the same keys>))`; the workload
   checks that it equals the `_elements` resources, `meta` aside).
3. **Deep paging**: `_count=20` pages reached by following `next` links (the link's
   query string passed back to `fhir.search`), default order and `_sort=-date`.
4. **`_summary=count` throughput**: resources counted per second (matches / median time).

Timings are prepared statements run by a plpgsql loop and timed with the server's
`clock_timestamp()`; `fhir.search` gets `'no-cache'` as its third argument so the
result cache never answers. Milliseconds.
HDR
fi
{
  echo
  echo "## $(date -u +%Y-%m-%d) — $total resources"
  echo
  echo "* machine: $machine; PostgreSQL $pgver (shared_buffers 2GB, work_mem 32MB, jit off)"
  echo "* code: HEAD $commit$dirty; library $(realpath "$BIN/../lib/fhir_search.so") of $LIB_TIME (built $([ "$BUILD" -eq 1 ] && echo 'by this run' || echo 'before, --no-build')); \`fhir.search(type, query, '$CACHE_CONTROL')\`"
  echo "* data: \`gen_sample.py --resources $N --seed $SEED\`: $counts; \`fhir.load_file\` $(printf '%.0f' "$t_load") s; fhir schema $size"
  echo "* $RUNS timed runs after $WARMUP warmups per statement; workload $t_work s; load average before / after: $load_before / $load_after"
  echo "* picked: $(psql_t -c "SELECT string_agg(format('%s=%s', k, v), ', ' ORDER BY k) FROM shape_picks")"
  echo
  echo "### Payload (bytes of one page)"
  echo
  echo "| search | variant | entries | Bundle bytes | Bundle reduction | resource bytes | resource reduction |"
  echo "|---|---|---|---|---|---|---|"
  psql_t -c "SELECT format('| %s \`%s\` | %s | %s | %s | %s | %s | %s |', s.rtype, replace(s.query, '|', '\\|'),
                           CASE WHEN p.variant = '_elements' THEN '\`_elements=' || s.elements || '\`' ELSE '\`' || p.variant || '\`' END,
                           p.entries, to_char(p.bundle_bytes, 'FM999,999,990'), $(pct p.bundle_bytes b.bundle_bytes),
                           to_char(p.resource_bytes, 'FM999,999,990'), $(pct p.resource_bytes b.resource_bytes))
             FROM shape_payload p JOIN shape_searches s USING (n) JOIN shape_payload b ON b.n = p.n AND b.variant = 'plain'
             ORDER BY p.n, p.ord"
  echo
  echo "### Projection speed (median ms; p95 in parentheses)"
  echo
  echo "| search | rows | ours plain | ours \`_elements\` | ours \`_summary=true\` | SQL rows by id | SQL projection by id | \`_elements\` / plain | \`_elements\` / SQL projection | projection cost: ours (\`_elements\` − plain) / SQL (projection − rows) |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  psql_t -c "WITH m AS (SELECT n, max(med) FILTER (WHERE ord = 1) AS plain, max(med) FILTER (WHERE ord = 2) AS el,
                               max(med) FILTER (WHERE ord = 3) AS su, max(med) FILTER (WHERE ord = 4) AS rows_,
                               max(med) FILTER (WHERE ord = 5) AS proj,
                               string_agg(format('%s (%s)', round(med::numeric, 2), round(p95::numeric, 2)), ' | ' ORDER BY ord) AS cells
                          FROM shape_projection GROUP BY n)
             SELECT format('| %s \`%s\` + \`_elements=%s\` | %s | %s | %s | %s | %s ms / %s ms |', s.rtype, replace(s.query, '|', '\\|'), s.elements,
                           (SELECT entries FROM shape_payload p WHERE p.n = s.n AND p.variant = 'plain'), m.cells,
                           round((m.el / m.plain)::numeric, 2), round((m.el / m.proj)::numeric, 2),
                           round((m.el - m.plain)::numeric, 2), round((m.proj - m.rows_)::numeric, 2))
             FROM m JOIN shape_searches s USING (n) ORDER BY n"
  echo
  echo "Where the time of one \`fhir.search\` call goes (\`fhir.last_search()\` after its last timed run; ms): parse / page SQL + projection + Bundle assembly / storing the Bundle in the result cache (done even with \`no-cache\`, for paging)."
  echo
  echo "| search | plain | \`_elements\` | \`_summary=true\` |"
  echo "|---|---|---|---|"
  psql_t -c "SELECT format('| %s \`%s\` | %s |', s.rtype, replace(s.query, '|', '\\|'),
                           string_agg(format('%s / %s / %s', round((p.last->>'parse_ms')::numeric, 2), round((p.last->>'db_ms')::numeric, 2),
                                             round((p.last->>'cache_ms')::numeric, 2)), ' | ' ORDER BY p.ord))
             FROM shape_projection p JOIN shape_searches s USING (n) WHERE p.ord <= 3 GROUP BY s.n, s.rtype, s.query ORDER BY s.n"
  echo
  echo "### Deep paging (\`_count=20\`, following \`next\` links; ms per page fetch)"
  echo
  echo "| order | search | page | median | p95 | during the walk (one fetch) | median / page 1 |"
  echo "|---|---|---|---|---|---|---|"
  psql_t -c "SELECT format('| %s | Observation \`%s\` | %s | %s | %s | %s | %s |', p.label, replace(p.query, '|', '\\|'), p.depth,
                           round(p.med::numeric, 2), round(p.p95::numeric, 2), round(p.walk_ms::numeric, 2),
                           round((p.med / f.med)::numeric, 2))
             FROM shape_paging p JOIN shape_paging f ON f.label = p.label AND f.depth = 1 ORDER BY p.label, p.depth"
  echo
  psql_t -c "SELECT format('* %s: %s pages walked in %s s (%s ms per page on average); %s rows, %s distinct ids%s; %s matches in all.',
                           label, pages, round((walk_total_ms / 1000)::numeric, 1), round((walk_total_ms / pages)::numeric, 2),
                           to_char(rows, 'FM999,999,990'), to_char(distinct_ids, 'FM999,999,990'),
                           CASE WHEN rows = distinct_ids THEN ' (no repeats)' ELSE ' (**REPEATED IDS**)' END,
                           to_char(total, 'FM999,999,990'))
             FROM shape_paging_walk ORDER BY label"
  echo
  echo "### \`_summary=count\` throughput"
  echo
  echo "| search | matches | median ms | p95 ms | resources counted / s |"
  echo "|---|---|---|---|---|"
  psql_t -c "SELECT format('| %s \`%s\` | %s | %s | %s | %s |', rtype, replace(query, '|', '\\|'), to_char(total, 'FM999,999,990'),
                           round(med::numeric, 2), round(p95::numeric, 2), to_char(total / (med / 1000), 'FM999,999,999,990'))
             FROM shape_count ORDER BY n"
} >> "$RESULTS"
log "appended to $RESULTS (fhir.explain of the deepest pages and the largest count in $WORK/explain)"
sed -n "/^## $(date -u +%Y-%m-%d) — $total resources/,\$p" "$RESULTS"
if [ "$KEEP" -eq 1 ]; then
  echo "cluster left running: psql -h $WORK -p $PORT -U postgres postgres   (stop: $BIN/pg_ctl -D $WORK/data stop)"
fi
