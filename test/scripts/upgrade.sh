#!/usr/bin/env bash
# Upgrades and uninstall: an install of the oldest kept version (0.1.0) holding data,
# (and of every later kept version: src/sql/versions/fhir_search--<v>.sql),
# served by the current library, updated in place with ALTER EXTENSION ... UPDATE, must
# answer and write exactly like a fresh install of the current version holding the same
# data, with the same schema (compared from the catalog); DROP EXTENSION ... CASCADE
# must leave nothing behind, and the extension must install again afterwards.
#   sudo test/scripts/upgrade.sh        (env: PATIENTS=30 NO_BUILD=0 KEEP=0)
set -u
cd "$(dirname "$0")/../.."
WORK="${WORK:-/tmp/fhir_search_upgrade}"
PORT="${PORT:-5498}"
PATIENTS="${PATIENTS:-30}"
OLDEST=0.1.0
source scripts/lib/cluster.sh

PASS=0
FAIL=0
ok()   { PASS=$((PASS + 1)); echo "ok   - $1"; }
fail() { FAIL=$((FAIL + 1)); echo "FAIL - $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: got '$2', expected '$3'"; fi; }
same() { # label, file a, file b: equal, not empty, no errors
  if [ ! -s "$2" ] || grep -q ERROR "$2" "$3"; then fail "$1: $(grep -h -m3 ERROR "$2" "$3")"; return; fi
  if diff -u "$2" "$3" > "$2.diff"; then ok "$1"; else fail "$1:"; head -40 "$2.diff"; fi
}

if [ "${NO_BUILD:-0}" != 1 ]; then build_and_install || exit 1; fi
CURRENT=$(sed -n "s/^default_version = '\(.*\)'/\1/p" fhir_search.control)
cluster_stop
rm -rf "$WORK"
cluster_init <<CONF
fhir_search.base_url = 'http://localhost/fhir'
CONF
[ "${KEEP:-0}" = 1 ] || trap cluster_stop EXIT
cluster_start || { cat "$WORK/server.log"; exit 1; }
on() { local db=$1; shift; as_pg psql -X -q -At -h "$WORK" -p "$PORT" -d "$db" -v ON_ERROR_STOP=1 "$@"; }

python3 tools/gen_sample.py --patients "$PATIENTS" --seed 21 --out "$WORK/sample.ndjson"
own_by_postgres -R "$WORK"
on postgres -c "CREATE DATABASE updated" -c "CREATE DATABASE fresh"

# 1. the oldest version, with data, served by the current library
on updated -c "CREATE EXTENSION fhir_search VERSION '$OLDEST'" >/dev/null
check "installs version $OLDEST" "$(on updated -c "SELECT extversion FROM pg_extension WHERE extname = 'fhir_search'")" "$OLDEST"
on updated -v work="$WORK" -v bundles=false -f test/scripts/sql/load_sample.sql >/dev/null \
  && ok "$OLDEST: loads, re-indexes and builds indexes with the current library" || fail "$OLDEST: loading"
on updated -f test/scripts/sql/fingerprint.sql > "$WORK/before_update.txt" 2>&1
grep -q ERROR "$WORK/before_update.txt" && fail "$OLDEST: searches: $(grep -m3 ERROR "$WORK/before_update.txt")" \
  || ok "$OLDEST: searches answer with the current library"

# 2. update in place
on updated -c "ALTER EXTENSION fhir_search UPDATE" 2>"$WORK/update.log" && ok "ALTER EXTENSION fhir_search UPDATE" \
  || fail "ALTER EXTENSION UPDATE: $(cat "$WORK/update.log")"
check "updated to $CURRENT" "$(on updated -c "SELECT extversion FROM pg_extension WHERE extname = 'fhir_search'")" "$CURRENT"
on updated -f test/scripts/sql/fingerprint.sql > "$WORK/after_update.txt" 2>&1
# user_ddl is new in 0.2.0, mass_ingestion in 0.3.0: before the update there is nothing to list
grep -v '^user_ddl ' "$WORK/after_update.txt" | grep -v '^rows user_ddl \|^rows mass_ingestion ' > "$WORK/after_update_0.txt"
grep -v '^rows user_ddl \|^rows mass_ingestion ' "$WORK/before_update.txt" > "$WORK/before_update_0.txt"
same "the update changes no search result, row or override" "$WORK/before_update_0.txt" "$WORK/after_update_0.txt"

# 3. a fresh install of the current version with the same data
on fresh -c "CREATE EXTENSION fhir_search" >/dev/null
on fresh -v work="$WORK" -v bundles=false -f test/scripts/sql/load_sample.sql >/dev/null || fail "fresh: loading"
on fresh -f test/scripts/sql/fingerprint.sql > "$WORK/fresh.txt" 2>&1
same "updated and fresh installs answer alike (searches, rows, overrides, recorded DDL)" "$WORK/fresh.txt" "$WORK/after_update.txt"
on fresh -f test/scripts/sql/schema_snapshot.sql > "$WORK/fresh_schema.txt" 2>&1
on updated -f test/scripts/sql/schema_snapshot.sql > "$WORK/updated_schema.txt" 2>&1
same "updated and fresh installs have the same schema ($(wc -l < "$WORK/fresh_schema.txt") catalog facts)" \
     "$WORK/fresh_schema.txt" "$WORK/updated_schema.txt"

# 3b. every later kept version, holding the same data, updates to the same state
for v in $(ls src/sql/versions/ | sed -n 's/^fhir_search--\([0-9.]*\)\.sql$/\1/p' | sort -V); do
  [ "$v" = "$OLDEST" ] && continue
  db="from_${v//./_}"
  on postgres -c "CREATE DATABASE $db"
  on "$db" -c "CREATE EXTENSION fhir_search VERSION '$v'" >/dev/null
  on "$db" -v work="$WORK" -v bundles=false -f test/scripts/sql/load_sample.sql >/dev/null || fail "$v: loading"
  on "$db" -c "ALTER EXTENSION fhir_search UPDATE" 2>"$WORK/update_$v.log" && ok "$v: ALTER EXTENSION fhir_search UPDATE" \
    || fail "$v: ALTER EXTENSION UPDATE: $(cat "$WORK/update_$v.log")"
  check "$v: updated to $CURRENT" "$(on "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'fhir_search'")" "$CURRENT"
  on "$db" -f test/scripts/sql/fingerprint.sql > "$WORK/from_$v.txt" 2>&1
  same "$v: updated and fresh installs answer alike" "$WORK/fresh.txt" "$WORK/from_$v.txt"
  on "$db" -f test/scripts/sql/schema_snapshot.sql > "$WORK/from_${v}_schema.txt" 2>&1
  same "$v: updated and fresh installs have the same schema" "$WORK/fresh_schema.txt" "$WORK/from_${v}_schema.txt"
  on postgres -c "DROP DATABASE $db"
done

# 4. writes after the update, the same on both
writes="SELECT fhir.update('{\"resourceType\":\"Patient\",\"id\":\"upg-1\",\"name\":[{\"family\":\"Upgrade\"}]}')->'meta'->>'versionId';
SELECT fhir.update(jsonb_set(fhir.read('Patient', 'pat-000001'), '{gender}', '\"other\"'))->'meta'->>'versionId';
SELECT fhir.delete('Patient', 'pat-000002');
SELECT fhir.search('Patient', 'family=upgrade&_summary=count')->>'total';
SELECT fhir.search('Patient', 'gender=other&_summary=count')->>'total';
SELECT fhir.history('Patient', 'pat-000002')->>'total';"
check "writes after the update behave as on a fresh install" "$(on updated -c "$writes" | tr '\n' ' ')" "$(on fresh -c "$writes" | tr '\n' ' ')"
on updated -f test/scripts/sql/fingerprint.sql > "$WORK/updated_written.txt" 2>&1
on fresh -f test/scripts/sql/fingerprint.sql > "$WORK/fresh_written.txt" 2>&1
same "and leave the same data" "$WORK/fresh_written.txt" "$WORK/updated_written.txt"

# 5. uninstall: nothing left, and the extension installs again
leftovers="SELECT (SELECT count(*) FROM pg_namespace WHERE nspname = 'fhir') || ' schemas, ' ||
  (SELECT count(*) FROM pg_event_trigger) || ' event triggers, ' ||
  (SELECT count(*) FROM pg_proc WHERE prosrc LIKE 'fhir\_%' OR probin LIKE '%fhir_search%') || ' functions, ' ||
  (SELECT count(*) FROM pg_class WHERE relname LIKE 'resource\_%' OR relname LIKE 'search\_%') || ' relations'"
for db in updated fresh; do
  on "$db" -c "DROP EXTENSION fhir_search CASCADE" 2>/dev/null && ok "$db: DROP EXTENSION fhir_search CASCADE" || fail "$db: DROP EXTENSION"
  check "$db: nothing of the extension is left" "$(on "$db" -c "$leftovers")" "0 schemas, 0 event triggers, 0 functions, 0 relations"
done
on updated -c "CREATE EXTENSION fhir_search" >/dev/null && ok "installs again after DROP EXTENSION" || fail "re-install"
check "a search on the new install" "$(on updated -c "SELECT fhir.search('Patient', '_summary=count')->>'total'")" 0
check "roles stay for other databases" "$(on postgres -c "SELECT count(*) FROM pg_roles WHERE rolname IN ('fhir_reader', 'fhir_writer', 'fhir_admin')")" 3

echo "upgrade: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
