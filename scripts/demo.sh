#!/usr/bin/env bash
# One command from a fresh Debian/Ubuntu machine to a running demo:
# installs packages, builds and installs fhir_search, starts a throwaway
# PostgreSQL cluster with the library preloaded, loads generated sample data and
# runs example calls with their timings. Run it as root or as a user with sudo (it
# calls sudo itself where it needs root or the postgres user).
#   scripts/demo.sh            run the demo, then stop the cluster
#   scripts/demo.sh --keep     leave the cluster running to explore it
#   scripts/demo.sh --stop     stop a cluster left running by --keep
# Then it starts fhir-server (the FHIR REST server) on loopback and shows two curl calls
# with their headers.
# Options (environment): PATIENTS=200 (sample size), PORT=5499, HTTP_PORT=8499, DEMO_DIR, YES=1
# (replace a kept cluster without asking).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WORK="${DEMO_DIR:-/tmp/fhir_search_demo}"
PORT="${PORT:-5499}"
PATIENTS="${PATIENTS:-200}"
HTTP_PORT="${HTTP_PORT:-8499}"
source scripts/lib/cluster.sh
stop_server() { [ -f "$WORK/fhir-server.pid" ] && kill "$(cat "$WORK/fhir-server.pid")" 2>/dev/null; rm -f "$WORK/fhir-server.pid"; return 0; }

if [ "${1:-}" = "--stop" ]; then
  stop_server
  cluster_stop && echo "demo cluster stopped"
  exit 0
fi
KEEP=0; [ "${1:-}" = "--keep" ] && KEEP=1
# Trust authentication on the cluster's own socket: any local user with psql connects.
CONNECT="psql -h $WORK -p $PORT -U postgres -d postgres"

echo "== 1. packages, build, install"
build_and_install

echo "== 2. throwaway cluster in $WORK (port $PORT)"
if [ -f "$WORK/data/postmaster.pid" ]; then
  echo "   A demo cluster kept with --keep is running in $WORK; the demo replaces it and its data is lost."
  if [ -t 0 ] && [ "${YES:-0}" != 1 ]; then
    read -r -p "   Replace it? [y/N] " answer
    case "$answer" in [yY]*) ;; *) echo "   Left it running. Connect with: $CONNECT"; exit 0 ;; esac
  fi
  echo "   stopping and removing the kept cluster"
elif [ -d "$WORK" ]; then
  echo "   removing the previous demo directory $WORK"
fi
stop_server
cluster_stop
rm -rf "$WORK"
cluster_init <<CONF
fhir_search.base_url = 'http://localhost/fhir'
CONF
[ "$KEEP" = 1 ] || trap 'stop_server; cluster_stop' EXIT
cluster_start
PSQL=(as_pg psql -X -q -h "$WORK" -p "$PORT" -d postgres -v ON_ERROR_STOP=1)

echo "== 3. sample data: $PATIENTS patients (tools/gen_sample.py)"
python3 tools/gen_sample.py --patients "$PATIENTS" --seed 42 --out "$WORK/sample.ndjson"
python3 tools/gen_sample.py --patients 3 --seed 7 --format bundles --out "$WORK/bundles"
own_by_postgres -R "$WORK"
echo "   $(wc -l < "$WORK/sample.ndjson") resources"

echo "== 4. examples"
"${PSQL[@]}" <<SQL
\timing on
CREATE EXTENSION fhir_search;
\echo '-- bulk load of the NDJSON file'
SELECT fhir.load_file('$WORK/sample.ndjson') AS loaded;
\echo '-- a Synthea-style transaction Bundle (urn:uuid and conditional references)'
SELECT fhir.transaction(pg_read_file('$WORK/bundles/00-practitioners.json')::jsonb)->>'type' AS practitioners;
SELECT jsonb_array_length(fhir.transaction(pg_read_file('$WORK/bundles/patient-00001.json')::jsonb)->'entry') AS entries_written;
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
echo "== 5. the FHIR REST server: fhir-server on http://127.0.0.1:$HTTP_PORT/fhir"
BASE="http://127.0.0.1:$HTTP_PORT/fhir"
"$BIN/fhir-server" --db "host=$WORK port=$PORT dbname=postgres user=postgres" --listen "127.0.0.1:$HTTP_PORT" \
  --base-url "$BASE" --pool 1 --access-log "$WORK/access.log" 2> "$WORK/fhir-server.log" &
echo $! > "$WORK/fhir-server.pid"
for _ in $(seq 1 50); do curl -sf -o /dev/null "$BASE/metadata" && break; sleep 0.1; done
echo "\$ curl -si '$BASE/Patient/demo'"
curl -si "$BASE/Patient/demo"
echo
echo
echo "\$ curl -s -D - -o /dev/null --compressed '$BASE/Observation?code=http://loinc.org|8867-4&_count=50'   (twice: the second is a cache HIT)"
curl -s -o /dev/null --compressed "$BASE/Observation?code=http://loinc.org%7C8867-4&_count=50"
curl -s -D - -o /dev/null --compressed "$BASE/Observation?code=http://loinc.org%7C8867-4&_count=50"
echo "   access log ($WORK/access.log): $(tail -1 "$WORK/access.log")"
echo
if [ "$KEEP" = 1 ]; then
  echo "The demo cluster and fhir-server ($BASE) are running. Connect with:"
  echo "  $CONNECT"
  echo "  curl -s '$BASE/Patient?name=mul&_count=3'"
  echo "Stop them with: scripts/demo.sh --stop"
else
  echo "Done; the demo cluster is stopped. Run 'scripts/demo.sh --keep' to keep it running and connect with"
  echo "  $CONNECT"
fi
