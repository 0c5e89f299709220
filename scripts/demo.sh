#!/usr/bin/env bash
# One command from a fresh Debian/Ubuntu machine to a running demo:
# installs packages, builds and installs fhir_search, starts a throwaway
# PostgreSQL cluster with the library preloaded, loads generated sample data and
# runs example calls with their timings.
#   sudo scripts/demo.sh            run the demo, then stop the cluster
#   sudo scripts/demo.sh --keep     leave the cluster running to explore it
#   sudo scripts/demo.sh --stop     stop a cluster left running by --keep
# Options (environment): PATIENTS=200 (sample size), PORT=5499.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PG_MAJOR="${PG_MAJOR:-15}"
BIN="/usr/lib/postgresql/$PG_MAJOR/bin"
DEMO_DIR="${DEMO_DIR:-/tmp/fhir_search_demo}"
PORT="${PORT:-5499}"
PATIENTS="${PATIENTS:-200}"
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }

if [ "${1:-}" = "--stop" ]; then
  as_pg "$BIN/pg_ctl" -D "$DEMO_DIR/data" stop -m fast && echo "demo cluster stopped"
  exit 0
fi
KEEP=0; [ "${1:-}" = "--keep" ] && KEEP=1

echo "== 1. packages, build, install"
bash scripts/install-deps.sh
make -s -j"$(nproc)" >/dev/null
if [ "$(id -u)" -eq 0 ]; then make -s install >/dev/null; else sudo make -s install >/dev/null; fi

echo "== 2. throwaway cluster in $DEMO_DIR (port $PORT)"
if [ -f "$DEMO_DIR/data/postmaster.pid" ]; then as_pg "$BIN/pg_ctl" -D "$DEMO_DIR/data" stop -m fast >/dev/null || true; fi
rm -rf "$DEMO_DIR"; mkdir -p "$DEMO_DIR"; chown postgres "$DEMO_DIR" 2>/dev/null || sudo chown postgres "$DEMO_DIR"
as_pg "$BIN/initdb" -D "$DEMO_DIR/data" -A trust -U postgres >/dev/null
cat >> "$DEMO_DIR/data/postgresql.conf" <<CONF
shared_preload_libraries = 'fhir_search'
port = $PORT
unix_socket_directories = '$DEMO_DIR'
listen_addresses = ''
fhir_search.base_url = 'http://localhost/fhir'
CONF
cleanup() { [ "$KEEP" = 1 ] || as_pg "$BIN/pg_ctl" -D "$DEMO_DIR/data" stop -m fast >/dev/null 2>&1 || true; }
trap cleanup EXIT
as_pg "$BIN/pg_ctl" -D "$DEMO_DIR/data" -l "$DEMO_DIR/server.log" -w start >/dev/null
PSQL=(as_pg psql -X -q -h "$DEMO_DIR" -p "$PORT" -d postgres -v ON_ERROR_STOP=1)

echo "== 3. sample data: $PATIENTS patients (tools/gen_sample.py)"
python3 tools/gen_sample.py --patients "$PATIENTS" --seed 42 --out "$DEMO_DIR/sample.ndjson"
python3 tools/gen_sample.py --patients 3 --seed 7 --format bundles --out "$DEMO_DIR/bundles"
chown -R postgres "$DEMO_DIR" 2>/dev/null || sudo chown -R postgres "$DEMO_DIR"
echo "   $(wc -l < "$DEMO_DIR/sample.ndjson") resources"

echo "== 4. examples"
"${PSQL[@]}" <<SQL
\timing on
CREATE EXTENSION fhir_search;
\echo '-- bulk load of the NDJSON file'
SELECT fhir.load_file('$DEMO_DIR/sample.ndjson') AS loaded;
\echo '-- a Synthea-style transaction Bundle (urn:uuid and conditional references)'
SELECT fhir.transaction(pg_read_file('$DEMO_DIR/bundles/00-practitioners.json')::jsonb)->>'type' AS practitioners;
SELECT jsonb_array_length(fhir.transaction(pg_read_file('$DEMO_DIR/bundles/patient-00001.json')::jsonb)->'entry') AS entries_written;
\echo '-- resources per type'
SELECT rtype, count(*) FROM fhir.resource GROUP BY rtype ORDER BY count(*) DESC;
\echo '-- create, update, read, history'
SELECT fhir.update('{"resourceType":"Patient","id":"demo","name":[{"family":"Müller","given":["Zoë"]}]}')->'meta';
SELECT fhir.update('{"resourceType":"Patient","id":"demo","name":[{"family":"Müller","given":["Zoë","Anna"]}]}')->'meta'->>'versionId' AS version;
SELECT fhir.read('Patient', 'demo');
SELECT jsonb_path_query_array(fhir.history('Patient', 'demo'), '\$.entry[*].response.etag') AS history_etags;
ANALYZE;
\echo '-- searches (first page of 20 unless _count says otherwise)'
SELECT jsonb_array_length(b->'entry') AS entries, b->'link'->1->>'url' AS next_link
  FROM fhir.search('Observation', 'code=http://loinc.org|8867-4&_count=5') b;
SELECT jsonb_path_query_array(fhir.search('Patient', 'name=mul&_elements=name&_count=3'), '\$.entry[*].resource.name[0].family') AS families;
SELECT (fhir.search('Observation', 'subject:Patient.gender=female&code=http://loinc.org|8867-4&_summary=count'))->>'total' AS female_heart_rates;
SELECT jsonb_array_length(fhir.search('Patient', '_has:Observation:patient:code=http://loinc.org|4548-4&_include=Patient:general-practitioner&_count=10')->'entry') AS with_a1c_and_their_gp;
\echo '-- the same search twice: the second one comes from the shared-memory cache'
SELECT fhir.search('Observation', 'code=http://loinc.org|8867-4&date=ge2020-01-01&_sort=-date') IS NOT NULL AS searched, fhir.last_search()->>'cache' AS cache;
SELECT fhir.search('Observation', 'date=ge2020-01-01&code=http://loinc.org|8867-4&_sort=-date') IS NOT NULL AS searched, fhir.last_search()->>'cache' AS cache;
SELECT entries, hits, misses, round(hit_rate::numeric, 2) AS hit_rate FROM fhir.cache_statistics;
\echo '-- how a search runs'
SELECT e->>'sql' AS sql, e->'indexes' AS indexes FROM fhir.explain('Patient', 'family=mul') e;
\echo '-- a bad resource is refused with a SQLSTATE and a FHIR OperationOutcome'
\set VERBOSITY verbose
\set ON_ERROR_STOP 0
SELECT fhir.update('{"resourceType":"Patient","id":"not valid!"}');
SQL
echo
if [ "$KEEP" = 1 ]; then
  echo "The demo cluster is running. Connect with:"
  echo "  sudo -u postgres psql -h $DEMO_DIR -p $PORT -d postgres"
  echo "Stop it with: sudo scripts/demo.sh --stop"
else
  echo "Done; the demo cluster is stopped. Run 'sudo scripts/demo.sh --keep' to keep it running and connect with"
  echo "  sudo -u postgres psql -h $DEMO_DIR -p $PORT -d postgres"
fi
