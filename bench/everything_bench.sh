#!/usr/bin/env bash
# $everything and compartment search on a patient with 5,000 resources among a
# generated population, on a throwaway cluster with the INSTALLED library (or the
# copy of the PostgreSQL tree in PG_BIN, scripts/lib/cluster.sh).
#   sudo bench/everything_bench.sh [--patients N] [--runs N]
#     --patients N  gen_sample.py --patients (default 1000: ~36k resources)
#     --runs N      timed runs per call after 1 warmup (default 11)
# Data: gen_sample.py --patients N --seed 42, then bench/lib/big_patient.py (big-p);
# ANALYZE. Prints a markdown table of medians; docs/sql-api.md keeps the recorded run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PATIENTS=1000 RUNS=11
while [ $# -gt 0 ]; do
  case "$1" in
    --patients) PATIENTS="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
WORK="${WORK:-/tmp/fhir_search_everythingbench}"
PORT="${PORT:-5499}"
source scripts/lib/cluster.sh

cluster_stop
mkdir -p "$WORK"
own_by_postgres "$WORK"
python3 tools/gen_sample.py --patients "$PATIENTS" --out "$WORK/sample.ndjson"
python3 bench/lib/big_patient.py > "$WORK/big.ndjson"
chmod 644 "$WORK/sample.ndjson" "$WORK/big.ndjson"
cluster_init </dev/null
trap cluster_stop EXIT
cluster_start
psql_t -c "CREATE EXTENSION fhir_search"
psql_t -c "SELECT fhir.load_file('$WORK/sample.ndjson')" >/dev/null
psql_t -c "SELECT fhir.load_file('$WORK/big.ndjson')" >/dev/null
psql_t -c "ANALYZE" >/dev/null
count=$(psql_t -c "SELECT count(*) FROM fhir.resource")

echo "### everything_bench — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "* $count resources; medians of $RUNS calls after a warm-up, one backend; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| call | median ms | p95 ms |"
echo "|---|---|---|"
as_pg psql -X -q -At -F ' | ' -h "$WORK" -p "$PORT" -d postgres -v ON_ERROR_STOP=1 -v runs="$RUNS" <<SQL | sed 's/^/| /; s/$/ |/'
\ir $ROOT/bench/lib/timing.sql
SELECT set_config('bench.runs', :'runs', false) \g /dev/null
CREATE TEMP TABLE calls (n serial, label text, stmt text);
INSERT INTO calls (label, stmt) VALUES
  ('Patient \$everything, first page (_count=20)', \$\$SELECT fhir.everything('Patient', 'big-p')\$\$),
  ('Patient \$everything, _count=1000', \$\$SELECT fhir.everything('Patient', 'big-p', '_count=1000')\$\$),
  ('Patient \$everything, start=2015-01-01&end=2016-12-31', \$\$SELECT fhir.everything('Patient', 'big-p', 'start=2015-01-01&end=2016-12-31')\$\$),
  ('Patient \$everything, _since=2020-01-01', \$\$SELECT fhir.everything('Patient', 'big-p', '_since=2020-01-01')\$\$),
  ('Patient \$everything, _type=Condition', \$\$SELECT fhir.everything('Patient', 'big-p', '_type=Condition')\$\$),
  ('Patient \$everything, last page (referenced resources)', format('SELECT fhir.everything(%L, %L, %L)', 'Patient', 'big-p',
     (SELECT l->>'url' FROM jsonb_array_elements(fhir.everything('Patient', 'big-p', '_count=4990')->'link') l WHERE l->>'relation' = 'next'))),
  ('Patient \$everything, a patient with ~20 resources', \$\$SELECT fhir.everything('Patient', 'pat-000001')\$\$),
  ('Encounter \$everything', \$\$SELECT fhir.everything('Encounter', 'big-e0001')\$\$),
  ('compartment search, type NULL (no-store)', \$\$SELECT fhir.search(NULL, '_count=20', 'no-store', 'Patient/big-p')\$\$),
  ('compartment search, type NULL, ~20 resources (no-store)', \$\$SELECT fhir.search(NULL, '_count=20', 'no-store', 'Patient/pat-000001')\$\$),
  ('compartment search, Observation (no-store)', \$\$SELECT fhir.search('Observation', '_count=20', 'no-store', 'Patient/big-p')\$\$),
  ('the same as subject=Patient/big-p (no-store)', \$\$SELECT fhir.search('Observation', 'subject=Patient/big-p&_count=20', 'no-store')\$\$);
SELECT c.label, round(t.med::numeric, 2), round(t.p95::numeric, 2)
  FROM calls c CROSS JOIN LATERAL bench_time(c.stmt, current_setting('bench.runs')::int, 1) t ORDER BY c.n;
SQL
