#!/usr/bin/env bash
# Backup and restore: FHIR data survives pg_dump (plain and custom format) restored
# with psql and with pg_restore (parallel), into fresh databases.
#   sudo test/scripts/dump_restore.sh        (env: PATIENTS=40 NO_BUILD=0 KEEP=0)
#
# A throwaway cluster (port 5497, /tmp/fhir_search_dump) gets generated data through
# fhir.load_file and transaction Bundles, a custom search parameter, a disabled one, an
# override of a built-in one, an index made by fhir.create_index and a DBA's own index,
# updates and deletes (history).
# Each restored database must answer test/scripts/sql/fingerprint.sql (searches with
# ids, totals, includes and second pages; row counts of every table; overrides; recorded
# indexes) exactly as the original, and writes must go on there without id, rid or
# version collisions.
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
WORK="${WORK:-/tmp/fhir_search_dump}"
PORT="${PORT:-5497}"
PATIENTS="${PATIENTS:-40}"
source scripts/lib/cluster.sh

PASS=0
FAIL=0
ok()   { PASS=$((PASS + 1)); echo "ok   - $1"; }
fail() { FAIL=$((FAIL + 1)); echo "FAIL - $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: got '$2', expected '$3'"; fi; }

if [ "${NO_BUILD:-0}" != 1 ]; then build_and_install || exit 1; fi
cluster_stop
rm -rf "$WORK"
cluster_init <<CONF
fhir_search.base_url = 'http://localhost/fhir'
CONF
[ "${KEEP:-0}" = 1 ] || trap cluster_stop EXIT
cluster_start || { cat "$WORK/server.log"; exit 1; }
on() { local db=$1; shift; as_pg psql -X -q -At -h "$WORK" -p "$PORT" -d "$db" -v ON_ERROR_STOP=1 "$@"; }

python3 tools/gen_sample.py --patients "$PATIENTS" --seed 11 --out "$WORK/sample.ndjson"
python3 tools/gen_sample.py --patients 2 --seed 12 --format bundles --out "$WORK/bundles"
own_by_postgres -R "$WORK"

on postgres -c "CREATE EXTENSION fhir_search" >/dev/null &&
on postgres -v work="$WORK" -v bundles=true -f test/scripts/sql/load_sample.sql >/dev/null \
  || { fail "loading the original database"; exit 1; }
ok "original database loaded: $(on postgres -c "SELECT count(*) FROM fhir.resource") resources, $(on postgres -c "SELECT count(*) FROM fhir.resource_history") history rows"
# an override of a built-in parameter (Patient given answers with the family names; not
# in load_sample.sql, which the upgrade test also loads into 0.2.0, where it is refused)
on postgres -c "SET client_min_messages = warning" \
   -c "SELECT fhir.add_search_param('{\"resourceType\":\"SearchParameter\",\"code\":\"given\",\"type\":\"string\",\"base\":[\"Patient\"],\"expression\":\"Patient.name.family\"}')" \
   -c "SELECT fhir.reindex('Patient')" >/dev/null || fail "overriding Patient given"
given_by_family=$(on postgres -c "SELECT count(*) FROM fhir.resource_patient p WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(p.content->'name') n WHERE lower(n->>'family') LIKE 'a%')")
check "the override is in force (given=a finds the families starting with a)" \
      "$(on postgres -c "SELECT fhir.search('Patient', 'given=a&_summary=count', 'no-cache')->>'total'")" "$given_by_family"

# an application role under the sample's row-level security policy
on postgres -c "SET client_min_messages = warning; DROP ROLE IF EXISTS dump_test_app; CREATE ROLE dump_test_app; GRANT fhir_reader TO dump_test_app" >/dev/null
rls_count="SET ROLE dump_test_app; SELECT fhir.search('Condition', '_summary=count', 'no-cache')->>'total'"
rls_original=$(on postgres -c "$rls_count")
all_conditions=$(on postgres -c "SELECT count(*) FROM fhir.resource_condition")
[ "$rls_original" -lt "$all_conditions" ] && ok "row-level security hides conditions ($rls_original of $all_conditions seen)" \
  || fail "row-level security: $rls_original of $all_conditions"

on postgres -f test/scripts/sql/fingerprint.sql > "$WORK/original.txt" 2>&1
grep -q "^rows resource_patient" "$WORK/original.txt" && ! grep -q ERROR "$WORK/original.txt" \
  && ok "fingerprint of the original ($(wc -l < "$WORK/original.txt") lines)" || fail "fingerprint of the original: $(head -5 "$WORK/original.txt")"

as_pg pg_dump -h "$WORK" -p "$PORT" -d postgres -f "$WORK/plain.sql" && ok "pg_dump plain" || fail "pg_dump plain"
as_pg pg_dump -h "$WORK" -p "$PORT" -d postgres -Fc -f "$WORK/custom.dump" && ok "pg_dump custom format" || fail "pg_dump custom format"
grep -q "^COPY fhir.resource_patient " "$WORK/plain.sql" && ok "the plain dump holds resource rows" || fail "no resource rows in the plain dump"

on postgres -c "CREATE DATABASE restored_plain" -c "CREATE DATABASE restored_custom"
on restored_plain -f "$WORK/plain.sql" >"$WORK/restore_plain.log" 2>&1 && ok "restore of the plain dump with psql" \
  || fail "restore of the plain dump: $(grep -m3 ERROR "$WORK/restore_plain.log")"
as_pg pg_restore -h "$WORK" -p "$PORT" -d restored_custom -j 2 "$WORK/custom.dump" >"$WORK/restore_custom.log" 2>&1 \
  && ok "restore of the custom dump with pg_restore -j 2" || fail "pg_restore: $(grep -m3 -i error "$WORK/restore_custom.log")"

for db in restored_plain restored_custom; do
  on "$db" -c "ANALYZE" >/dev/null
  on "$db" -f test/scripts/sql/fingerprint.sql > "$WORK/$db.txt" 2>&1
  if diff -u "$WORK/original.txt" "$WORK/$db.txt" > "$WORK/$db.diff"; then
    ok "$db answers every search, count and registry query as the original"
  else
    fail "$db differs from the original:"; head -40 "$WORK/$db.diff"
  fi
  check "$db: row-level security still applies to searches" "$(on "$db" -c "$rls_count")" "$rls_original"
  check "$db: the DBA's index is back" "$(on "$db" -c "SELECT to_regclass('fhir.dba_observation_status') IS NOT NULL")" t
  check "$db: fhir.create_index's index is back" \
        "$(on "$db" -c "SELECT bool_and(present) FROM fhir.search_indexes WHERE resource_type = 'Observation' AND code = 'value-quantity'")" t
  # writes go on: new rids above every restored one, versions after the restored history
  max_rid=$(on "$db" -c "SELECT greatest((SELECT max(rid) FROM fhir.resource), (SELECT max(rid) FROM fhir.contained_resource))")
  new_id=$(on "$db" -c "SELECT fhir.create('{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Restored\"}]}')->>'id'")
  check "$db: a created resource gets a rid above the restored ones" \
        "$(on "$db" -c "SELECT rid > $max_rid FROM fhir.resource WHERE rtype = 'Patient' AND id = '$new_id'")" t
  p=$(on "$db" -c "SELECT id FROM fhir.resource WHERE rtype = 'Patient' ORDER BY id LIMIT 1")
  v=$(on "$db" -c "SELECT version_id FROM fhir.resource WHERE rtype = 'Patient' AND id = '$p'")
  check "$db: an update continues the version history" \
        "$(on "$db" -c "SELECT fhir.update(jsonb_set(fhir.read('Patient', '$p'), '{active}', 'true'))->'meta'->>'versionId'")" "$((v + 1))"
  check "$db: the history holds every version" "$(on "$db" -c "SELECT fhir.history('Patient', '$p')->>'total'")" "$((v + 1))"
  d=$(on "$db" -c "SELECT id FROM fhir.resource_history WHERE rtype = 'Observation' AND deleted ORDER BY id LIMIT 1")
  check "$db: re-creating a deleted resource continues its versions" \
        "$(on "$db" -c "SELECT fhir.update('{\"resourceType\":\"Observation\",\"id\":\"$d\",\"status\":\"final\",\"code\":{\"text\":\"x\"}}')->'meta'->>'versionId'")" 3
  check "$db: a search finds the new write" \
        "$(on "$db" -c "SELECT fhir.search('Patient', 'family=restored&_summary=count')->>'total'")" 1
  check "$db: the override of Patient given is restored" \
        "$(on "$db" -c "SELECT overridden || ' ' || expression FROM fhir.search_parameters WHERE resource_type = 'Patient' AND code = 'given'")" "true Patient.name.family"
  check "$db: writes extract with the restored override" \
        "$(on "$db" -c "SELECT fhir.search('Patient', 'given=restored&_summary=count')->>'total'")" 1
  on "$db" -c "SET client_min_messages = warning" -c "SELECT fhir.add_search_param('{\"resourceType\":\"SearchParameter\",\"code\":\"alias\",\"type\":\"string\",\"base\":[\"Patient\"],\"expression\":\"Patient.name.family\"}')" >/dev/null
  check "$db: a new custom parameter gets a fresh id" \
        "$(on "$db" -c "SELECT min(id) >= 100000 AND max(id) = (SELECT id FROM fhir.search_param_override WHERE code = 'alias') FROM fhir.search_param_override WHERE definition IS NOT NULL AND id >= 100000")" t
done

on postgres -c "DROP DATABASE restored_plain" -c "DROP DATABASE restored_custom" -c "DROP ROLE dump_test_app" >/dev/null
echo "dump_restore: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
