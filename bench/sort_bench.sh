#!/usr/bin/env bash
# _sort pages: the first page and a deep page of searches sorted by string, quantity
# and reference keys (and two keys), on a throwaway cluster with the INSTALLED library
# (no build), so the same script measures an older build too. To measure a library
# that is not installed, give PG_BIN the bin directory of a copy of the PostgreSQL
# tree that holds it (scripts/lib/cluster.sh).
#   sudo bench/sort_bench.sh [--resources N] [--runs N] [--deep N] [--label TEXT]
#     --resources N  gen_sample.py size (default 100000)
#     --runs N       timed runs per page after 3 warmups (default 15)
#     --deep N       the deep page's number, reached through next links (default 50)
#     --label TEXT   names the run in the output (e.g. "before", "after")
# Data: gen_sample.py --resources N --seed 1; VACUUM ANALYZE; then
# fhir.create_index('Observation', 'subject') (the library's own definition: what
# a DBA would run before sorting by subject). Prints a markdown section on standard
# output; bench/results/shaping.md keeps the recorded runs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
N=100000 RUNS=15 DEEP=50 LABEL=""
while [ $# -gt 0 ]; do
  case "$1" in
    --resources) N="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --deep) DEEP="$2"; shift 2 ;;
    --label) LABEL="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
WORK="${WORK:-/tmp/fhir_search_sortbench}"
PORT="${PORT:-5498}"
source scripts/lib/cluster.sh

DATA="$WORK/data-$N.ndjson"
cluster_stop
sample_ndjson "$DATA" "$N" 1
cluster_init <<CONF
shared_buffers = '1GB'
$BENCH_SETTINGS
CONF
trap cluster_stop EXIT
LIB="$BIN/../lib/fhir_search.so"
lib_md5=$(md5sum "$LIB" | cut -c1-12)
cluster_start
[ "$(md5sum "$LIB" | cut -c1-12)" = "$lib_md5" ] || { echo "the library changed while the server started" >&2; exit 1; }

psql_t -c "CREATE EXTENSION fhir_search"
# Wall-clock and backend CPU seconds of the load (the CPU time of the backend, from
# /proc/self/stat, is what other load on the machine disturbs least).
read -r t_load cpu_load <<< "$(psql_t -c "CREATE TEMP TABLE t0 AS SELECT clock_timestamp() AS t, pg_read_file('/proc/self/stat') AS s;
  SELECT fhir.load_file('$DATA');
  SELECT format('%s %s', extract(epoch FROM clock_timestamp() - t),
                ((string_to_array(pg_read_file('/proc/self/stat'), ' '))[14]::bigint
                 + (string_to_array(pg_read_file('/proc/self/stat'), ' '))[15]::bigint
                 - (string_to_array(s, ' '))[14]::bigint - (string_to_array(s, ' '))[15]::bigint) / 100.0)
    FROM t0" 2>/dev/null | tail -1)"
psql_t -c "SELECT fhir.create_index('Observation', 'subject')" >/dev/null
psql_t -c "VACUUM ANALYZE" >/dev/null
psql_t -c "VACUUM" >/dev/null # a second pass marks the pages all-visible that the first one could not
count=$(wc -l < "$DATA")

as_pg psql -X -q -At -h "$WORK" -p "$PORT" -d postgres -v ON_ERROR_STOP=1 -v runs="$RUNS" -v deep="$DEEP" >/dev/null <<SQL
\ir $ROOT/bench/lib/timing.sql
SELECT set_config('bench.runs', :'runs', false), set_config('bench.deep', :'deep', false);
CREATE TABLE picks AS
SELECT (SELECT content->'subject'->>'reference' FROM fhir.resource_observation ORDER BY rid LIMIT 1) AS patient;
CREATE TABLE searches (n serial, rtype text, query text, total bigint,
                       p1_med float8, p1_p95 float8, deep_med float8, deep_p95 float8, deep_query text);
INSERT INTO searches (rtype, query)
SELECT t, replace(q, '{patient}', p.patient) FROM picks p, (VALUES
  ('Patient', '_sort=family'),
  ('Patient', '_sort=-family'),
  ('Patient', 'gender=female&_sort=family'),
  ('Patient', '_sort=family,-birthdate'),
  ('Observation', '_sort=value-quantity'),
  ('Observation', '_sort=-value-quantity'),
  ('Observation', 'code=http://loinc.org|8867-4&_sort=-value-quantity'),
  ('Observation', 'code=http://loinc.org|8867-4&_sort=value-quantity'),
  ('Observation', 'subject={patient}&_sort=-value-quantity'),
  ('Observation', '_sort=subject'),
  ('Observation', '_sort=-subject,-date'),
  ('Observation', 'code=http://loinc.org|8867-4&_sort=-date')) v(t, q);
-- The deep page's query: follow next links from the first page.
DO \$\$
DECLARE s record; q text; b jsonb;
BEGIN
  FOR s IN SELECT * FROM searches ORDER BY n LOOP
    q := s.query || '&_count=20';
    FOR i IN 2..current_setting('bench.deep')::int LOOP
      b := fhir.search(s.rtype, q, 'no-cache');
      q := (SELECT substring(l->>'url' FROM '\?(.*)\$') FROM jsonb_array_elements(b->'link') l WHERE l->>'relation' = 'next');
      EXIT WHEN q IS NULL;
    END LOOP;
    UPDATE searches SET deep_query = q,
           total = (fhir.search(s.rtype, s.query || '&_total=accurate&_count=1', 'no-cache')->>'total')::bigint
     WHERE n = s.n;
  END LOOP;
END \$\$;
DO \$\$
DECLARE s record; a record; dm float8; dp float8;
BEGIN
  FOR s IN SELECT * FROM searches ORDER BY n LOOP
    SELECT * INTO a FROM bench_time(format('SELECT fhir.search(%L, %L, %L)', s.rtype, s.query || '&_count=20', 'no-cache'),
                                    current_setting('bench.runs')::int, 3);
    dm := NULL; dp := NULL;
    IF s.deep_query IS NOT NULL THEN
      SELECT med, p95 INTO dm, dp FROM bench_time(format('SELECT fhir.search(%L, %L, %L)', s.rtype, s.deep_query, 'no-cache'),
                                                  current_setting('bench.runs')::int, 3);
    END IF;
    UPDATE searches SET p1_med = a.med, p1_p95 = a.p95, deep_med = dm, deep_p95 = dp WHERE n = s.n;
  END LOOP;
END \$\$;
SQL

commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "### ${LABEL:-run} — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "* library: $(readlink -f "$LIB") (md5 $lib_md5…) of $(date -u -r "$LIB" '+%Y-%m-%d %H:%M UTC'); script at $commit; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "* data: $count resources, \`fhir.load_file\` $(printf '%.1f' "$t_load") s (backend CPU $(printf '%.1f' "$cpu_load") s); _count=20, page 1 and page $DEEP (through next links), $RUNS timed runs after 3 warmups, \`no-cache\`"
echo "* sort indexes: $(psql_t -c "SELECT string_agg(format('%s %s', c.relname, pg_size_pretty(pg_relation_size(c.oid))), ', ' ORDER BY c.relname)
                                   FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                                  WHERE c.relname ~ '^search_(string_p2025|quantity_p1908|reference_p1905)'")"
echo
echo "| # | search | matches | page 1 median ms | p95 | page $DEEP median ms | p95 |"
echo "|---|---|---|---|---|---|---|"
psql_t -c "SELECT format('| %s | %s \`%s\` | %s | %s | %s | %s | %s |', n, rtype, replace(query, '|', '\\|'), total,
                         round(p1_med::numeric, 2), round(p1_p95::numeric, 2),
                         coalesce(round(deep_med::numeric, 2)::text, 'n/a'), coalesce(round(deep_p95::numeric, 2)::text, 'n/a'))
             FROM searches ORDER BY n"
