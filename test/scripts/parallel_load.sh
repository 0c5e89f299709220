#!/usr/bin/env bash
# The parallel loader (loader/fhir-load) at 2 connections: generated NDJSON (with bad
# lines that must be reported by file and line while the rest loads), a directory of
# transaction Bundles, and a mass ingestion (--mass) that is killed half-way, detected
# and finished with fhir.end_mass_ingestion(). Counts and searches are compared with a
# single-connection fhir.load_file of the same data in another database.
#   sudo test/scripts/parallel_load.sh        (env: PATIENTS=150 NO_BUILD=0 KEEP=0 PORT=5492)
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
WORK="${WORK:-/tmp/fhir_search_parallel_load}"
PORT="${PORT:-5492}"
PATIENTS="${PATIENTS:-150}"
LOADER="$ROOT/loader/fhir-load"
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
max_connections = 20
CONF
[ "${KEEP:-0}" = 1 ] || trap cluster_stop EXIT
cluster_start || { cat "$WORK/server.log"; exit 1; }
on() { local db=$1; shift; as_pg psql -X -q -At -h "$WORK" -p "$PORT" -d "$db" -v ON_ERROR_STOP=1 "$@"; }
load() { local db=$1; shift; as_pg "$LOADER" -d "host=$WORK port=$PORT dbname=$db" "$@"; }
for db in par single bundles mass; do
  on postgres -c "CREATE DATABASE $db" && on "$db" -c "CREATE EXTENSION fhir_search"
done

python3 tools/gen_sample.py --patients "$PATIENTS" --seed 21 --out "$WORK/sample.ndjson"
python3 tools/gen_sample.py --patients 20 --seed 22 --format bundles --out "$WORK/bundles"
# two files: one clean, one with a bad line and an invalid resource in the middle
lines=$(wc -l < "$WORK/sample.ndjson")
half=$((lines / 2))
mkdir -p "$WORK/ndjson"
head -n "$half" "$WORK/sample.ndjson" > "$WORK/ndjson/a.ndjson"
{ tail -n +"$((half + 1))" "$WORK/sample.ndjson" | head -n 100
  echo 'this is not json'
  echo '{"resourceType":"Patient","id":"bad id with spaces"}'
  tail -n +"$((half + 101))" "$WORK/sample.ndjson"; } > "$WORK/ndjson/b.ndjson"
own_by_postgres -R "$WORK"

# 1. NDJSON over 2 connections, small chunks so both connections work and bad lines
#    fall in the middle of a chunk
out=$(load par -j 2 --chunk-lines 500 "$WORK/ndjson" 2>&1); status=$?
echo "$out" | tail -4
check "fhir-load exits 1 when some lines failed" "$status" 1
echo "$out" | grep -q "b.ndjson:101: .*not valid JSON" && ok "bad JSON reported with file and line" \
  || fail "bad JSON reported with file and line"
echo "$out" | grep -q "b.ndjson:102: " && ok "invalid resource reported with file and line" \
  || fail "invalid resource reported with file and line"
echo "$out" | grep -Eq "resources/s, 2 connections\), 2 errors" && ok "summary with rate and error count" \
  || fail "summary with rate and error count"
check "every good line loaded" "$(on par -c 'SELECT count(*) FROM fhir.resource')" "$lines"

# the same data through one fhir.load_file: same counts per type, same search answers
on single -c "SELECT fhir.load_file('$WORK/sample.ndjson')" >/dev/null
counts() { on "$1" -c "SELECT string_agg(rtype || '=' || n, ',' ORDER BY rtype) FROM (SELECT rtype, count(*) n FROM fhir.resource GROUP BY 1) c"; }
check "counts per type equal a single-connection load" "$(counts par)" "$(counts single)"
search() { on "$1" -c "SELECT string_agg(id, ',' ORDER BY id) FROM fhir.search_rows('$2', '$3')"; }
for q in "Patient|gender=female&birthdate=lt1970" "Observation|code=http://loinc.org|8867-4&_count=5" \
         "Patient|_has:Observation:subject:code=8867-4&gender=male"; do
  t=${q%%|*}; qs=${q#*|}
  a=$(search par "$t" "$qs"); b=$(search single "$t" "$qs")
  [ -n "$b" ] && [ "$a" = "$b" ] && ok "search $t?$qs equal ($(echo "$a" | tr ',' '\n' | wc -l) matches)" \
    || fail "search $t?$qs: '$a' vs '$b'"
done

# 2. a directory of transaction Bundles (one per patient, conditional references to
#    the practitioners' Bundle, which loads first)
out=$(load bundles -j 2 "$WORK/bundles" 2>&1); status=$?
echo "$out" | tail -2
check "Bundles load without errors" "$status" 0
expected=$(python3 -c "
import json, glob
print(sum(len(json.load(open(f))['entry']) for f in glob.glob('$WORK/bundles/*.json')))")
check "every Bundle entry stored" "$(on bundles -c 'SELECT count(*) FROM fhir.resource')" "$expected"
check "a search over the Bundles' data" \
  "$(on bundles -c "SELECT (fhir.search('Encounter', 'subject:Patient.gender=male&_summary=count')->>'total')::int > 0")" t

# 3. --mass, killed during the load: the database says so, searches warn, and
#    fhir.end_mass_ingestion() repairs it; then a complete --mass load
# (run as root, not through as_pg, so that $! is the loader itself)
"$LOADER" -d "host=$WORK port=$PORT dbname=mass user=postgres" -j 2 --chunk-lines 200 --batch-size 100 --mass -q \
  "$WORK/sample.ndjson" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  [ "$(on mass -c 'SELECT count(*) > 0 FROM fhir.resource' 2>/dev/null)" = t ] && break
  sleep 0.1
done
kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
# its backends end when they next talk to the dead client
for _ in $(seq 1 100); do
  [ "$(on mass -c "SELECT count(*) FROM pg_stat_activity WHERE datname = 'mass' AND backend_type = 'client backend'
                    AND pid <> pg_backend_pid()")" = 0 ] && break
  sleep 0.1
done
loaded_before_kill=$(on mass -c 'SELECT count(*) FROM fhir.resource')
[ "$loaded_before_kill" -lt "$lines" ] && ok "killed during the load ($loaded_before_kill of $lines loaded)" \
  || fail "killed during the load ($loaded_before_kill of $lines loaded)"
pending=$(on mass -c 'SELECT count(*) FROM fhir.mass_ingestion')
[ "$pending" -gt 0 ] && ok "a killed mass ingestion is recorded ($pending indexes dropped)" \
  || fail "a killed mass ingestion is recorded"
on mass -c "SELECT fhir.search('Patient', 'gender=female')" 2>&1 | grep -q "WARNING:.*mass ingestion is in progress" \
  && ok "searches warn while indexes are missing" || fail "searches warn while indexes are missing"
on mass -c "SELECT fhir.end_mass_ingestion()" >/dev/null
check "fhir.end_mass_ingestion() finishes it" "$(on mass -c 'SELECT count(*) FROM fhir.mass_ingestion')" 0
on mass -c "TRUNCATE fhir.resource, fhir.resource_history, fhir.search_string, fhir.search_date, fhir.search_number,
            fhir.search_quantity, fhir.search_reference, fhir.search_composite_number, fhir.search_composite_date,
            fhir.search_composite_string, fhir.search_text, fhir.contained_resource"
indexes() { on "$1" -c "SELECT string_agg(indexdef, ';' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'fhir'"; }
out=$(load mass -j 2 --mass "$WORK/sample.ndjson" 2>&1); status=$?
echo "$out" | tail -2
check "a --mass load succeeds" "$status" 0
echo "$out" | grep -q "load .* s + indexes .* s" && ok "summary splits load and index time" || fail "summary splits load and index time"
check "--mass: every resource" "$(on mass -c 'SELECT count(*) FROM fhir.resource')" "$lines"
check "--mass: every index back, as in a fresh install" "$(indexes mass)" "$(indexes single)"
check "--mass: no recorded DDL left behind" "$(on mass -c 'SELECT count(*) FROM fhir.user_ddl')" 0
for q in "Patient|gender=female&birthdate=lt1970" "Observation|code=http://loinc.org|8867-4&_count=5"; do
  t=${q%%|*}; qs=${q#*|}
  check "--mass: search $t?$qs equal" "$(search mass "$t" "$qs")" "$(search single "$t" "$qs")"
done

echo "parallel_load: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
