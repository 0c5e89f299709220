#!/usr/bin/env bash
# Contained resources and token sorts: what indexing them costs at write time, what
# the ordinary searches take next to them, and what the new searches take (also
# chains, which follow "#id" references into contained resources, and _revinclude /
# _has with _contained). Runs on
# a throwaway cluster with the INSTALLED library (no build), so the same script
# measures an older build too (the new searches then show "n/a").
#   sudo bench/contained_bench.sh [--resources N] [--runs N] [--label TEXT]
#     --resources N  gen_sample.py size (default 20000)
#     --runs N       timed runs per search after 3 warmups (default 20)
#     --label TEXT   names the run in the output (e.g. "before", "after")
# Data: gen_sample.py --resources N --seed 1, then every MedicationRequest again
# (id "c-<id>") as a container of a Medication holding its medication code
# (medicationReference "#med"). Prints a markdown section on standard output;
# bench/results/contained.md keeps the recorded runs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
N=20000 RUNS=20 LABEL=""
while [ $# -gt 0 ]; do
  case "$1" in
    --resources) N="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --label) LABEL="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
WORK="${WORK:-/tmp/fhir_search_containedbench}"
PORT="${PORT:-5497}"
source scripts/lib/cluster.sh

DATA="$WORK/data-$N.ndjson"
CONTAINERS="$WORK/containers-$N.ndjson"
cluster_stop
sample_ndjson "$DATA" "$N" 1
if [ ! -s "$CONTAINERS" ]; then
  python3 - "$DATA" "$CONTAINERS.tmp" <<'PY'
import json, sys
with open(sys.argv[1]) as src, open(sys.argv[2], "w") as out:
    for line in src:
        r = json.loads(line)
        if r["resourceType"] != "MedicationRequest" or "medicationCodeableConcept" not in r:
            continue
        r["id"] = "c-" + r["id"]
        r["contained"] = [{"resourceType": "Medication", "id": "med", "status": "active",
                           "code": r.pop("medicationCodeableConcept")}]
        r["medicationReference"] = {"reference": "#med"}
        out.write(json.dumps(r, separators=(",", ":")) + "\n")
PY
  mv "$CONTAINERS.tmp" "$CONTAINERS"
fi
own_by_postgres "$CONTAINERS"
cluster_init <<CONF
shared_buffers = '1GB'
$BENCH_SETTINGS
CONF
trap cluster_stop EXIT
cluster_start

# Wall-clock and CPU seconds of one statement in its own backend (the CPU time of
# the backend, from /proc/self/stat, is what other load on the machine disturbs least).
timed_cpu() {
  psql_t -c "CREATE TEMP TABLE t0 AS SELECT clock_timestamp() AS t, pg_read_file('/proc/self/stat') AS s; $1;
             SELECT format('%s %s', extract(epoch FROM clock_timestamp() - t),
                           ((string_to_array(pg_read_file('/proc/self/stat'), ' '))[14]::bigint
                            + (string_to_array(pg_read_file('/proc/self/stat'), ' '))[15]::bigint
                            - (string_to_array(s, ' '))[14]::bigint - (string_to_array(s, ' '))[15]::bigint) / 100.0)
               FROM t0" | tail -1
}
psql_t -c "CREATE EXTENSION fhir_search"
read -r t_load cpu_load <<< "$(timed_cpu "SELECT fhir.load_file('$DATA')")"
read -r t_containers cpu_containers <<< "$(timed_cpu "SELECT fhir.load_file('$CONTAINERS')")"
psql_t -c "VACUUM ANALYZE" >/dev/null
count=$(wc -l < "$DATA")
containers=$(wc -l < "$CONTAINERS")

# Picks from the data, then each search timed by bench_time (bench/lib/timing.sql);
# a search the library does not support gives NULL.
as_pg psql -X -q -At -h "$WORK" -p "$PORT" -d postgres -v ON_ERROR_STOP=1 -v runs="$RUNS" >/dev/null <<SQL
\ir $ROOT/bench/lib/timing.sql
SELECT set_config('bench.runs', :'runs', false);
CREATE TABLE picks AS
SELECT (SELECT content->'subject'->>'reference' FROM fhir.resource_observation ORDER BY rid LIMIT 1) AS patient,
       (SELECT c->>'code' FROM fhir.resource_medicationrequest, jsonb_array_elements(content->'medicationCodeableConcept'->'coding') c
         GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1) AS rxnorm,
       (SELECT lower(content->'name'->0->>'family') FROM fhir.resource_patient GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1) AS family,
       (SELECT lower(split_part(content->>'name', ' ', 1)) FROM fhir.resource_organization ORDER BY rid LIMIT 1) AS org;
CREATE TABLE searches (n serial, kind text, rtype text, query text, med float8, p95 float8, total bigint);
INSERT INTO searches (kind, rtype, query)
SELECT k, t, replace(replace(replace(replace(q, '{patient}', p.patient), '{rxnorm}', p.rxnorm), '{family}', p.family), '{org}', p.org)
  FROM picks p, (VALUES
  ('top-level', 'Observation', 'code=http://loinc.org|8867-4'),
  ('top-level', 'Observation', 'subject={patient}&code=http://loinc.org|8867-4'),
  ('top-level', 'Observation', 'date=ge2020-01-01&date=lt2020-02-01'),
  ('top-level', 'Patient', 'name=jess'),
  ('top-level', 'MedicationRequest', 'code={rxnorm}'),
  ('top-level', 'Observation', 'code=http://loinc.org|8867-4&_sort=-date'),
  ('top-level', 'Observation', 'code=http://loinc.org|29463-7&_summary=count'),
  ('token sort', 'Observation', 'subject={patient}&_sort=code'),
  ('token sort', 'Observation', 'subject={patient}&_sort=-code,date'),
  ('token sort', 'Observation', '_sort=code'),
  ('token sort', 'Patient', '_sort=gender,-birthdate'),
  ('contained', 'Medication', 'code={rxnorm}&_contained=true'),
  ('contained', 'Medication', 'code={rxnorm}&_contained=true&_containedType=contained'),
  ('contained', 'Medication', 'code={rxnorm}&_contained=both&_containedType=contained&_total=accurate'),
  ('contained', 'Medication', '_contained=true&_containedType=contained&_sort=code'),
  ('chain', 'Observation', 'subject:Patient.name={family}&code=http://loinc.org|8867-4'),
  ('chain', 'Observation', 'subject:Patient.name={family}'),
  ('chain', 'Observation', 'subject:Patient.organization.name={org}'),
  ('chain', 'MedicationRequest', 'medication.code={rxnorm}'),
  ('contained', 'Medication', 'code={rxnorm}&_contained=true&_containedType=contained&_revinclude=MedicationRequest:medication'),
  ('contained', 'Medication', 'code={rxnorm}&_contained=true&_containedType=contained&_has:MedicationRequest:medication:status=active')) v(k, t, q);
DO \$\$
DECLARE s record; m record; matches bigint;
BEGIN
  FOR s IN SELECT * FROM searches ORDER BY n LOOP
    BEGIN
      SELECT * INTO m FROM bench_time(format('SELECT fhir.search(%L, %L, %L)', s.rtype, s.query, 'no-cache'),
                                   current_setting('bench.runs')::int, 3);
      matches := (fhir.search(s.rtype, s.query || '&_total=accurate&_count=1', 'no-cache')->>'total')::bigint;
      UPDATE searches SET med = m.med, p95 = m.p95, total = matches WHERE n = s.n;
    EXCEPTION WHEN others THEN
      NULL; -- not supported by this build
    END;
  END LOOP;
END \$\$;
SQL

commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "### ${LABEL:-run} — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "* library: $BIN/../lib/fhir_search.so of $(date -u -r "$BIN/../lib/fhir_search.so" '+%Y-%m-%d %H:%M UTC'); script at $commit; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "* load: $count resources in $(printf '%.2f' "$t_load") s ($(python3 -c "print(f'{$count/$t_load:,.0f}')") res/s), backend CPU $(printf '%.2f' "$cpu_load") s; $containers containers with one contained Medication each in $(printf '%.2f' "$t_containers") s, CPU $(printf '%.2f' "$cpu_containers") s"
echo "* sizes: $(psql_t -c "SELECT 'all fhir tables ' || pg_size_pretty(sum(pg_total_relation_size(c.oid))::bigint) || '; ' ||
                                 string_agg(format('%s %s', c.relname, pg_size_pretty(pg_total_relation_size(c.oid))), ', ' ORDER BY c.relname)
                                   FILTER (WHERE c.relname IN ('search_string', 'search_token_sort', 'contained_resource', 'resource_observation'))
                          FROM pg_class c WHERE c.relnamespace = 'fhir'::regnamespace AND c.relkind = 'r'")"
echo
echo "| # | kind | search | matches | median ms | p95 ms |"
echo "|---|---|---|---|---|---|"
psql_t -c "SELECT format('| %s | %s | %s \`%s\` | %s | %s | %s |', n, kind, rtype, replace(query, '|', '\\|'),
                         coalesce(total::text, 'n/a'), coalesce(round(med::numeric, 2)::text, 'n/a'),
                         coalesce(round(p95::numeric, 2)::text, 'n/a'))
             FROM searches ORDER BY n"
