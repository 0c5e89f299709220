#!/usr/bin/env bash
# fhir-server, the FHIR REST server (issue 13): a throwaway cluster, the server on
# loopback, and
#   - fhir-kit-client (npm) driving every interaction and Bulk Data $export (test/clients/rest_client.mjs),
#     directly and through pgbouncer in transaction pooling mode;
#   - bad and hostile clients (test/clients/rest_safety.py): malformed URLs and request
#     lines, huge headers and bodies (4xx fast), slowloris, invalid JSON, unsupported
#     media types, idle connections, a client that does not read its response;
#   - an exhausted pool (bounded wait, then 503), a database restart with requests in
#     flight (503) and under load (recovery), graceful shutdown on SIGTERM.
#   sudo test/scripts/rest_server.sh    (env: NO_BUILD=0 KEEP=0 WORK PORT HTTP_PORT BOUNCER_PORT
#                                         PG_BIN FHIR_SERVER: the binary, default $PG_BIN/fhir-server)
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
WORK="${WORK:-/tmp/fhir_search_rest}"
PORT="${PORT:-5496}"
HTTP_PORT="${HTTP_PORT:-8496}"
BOUNCER_PORT="${BOUNCER_PORT:-6496}"
source scripts/lib/cluster.sh
SERVER_BIN="${FHIR_SERVER:-$BIN/fhir-server}"
HOST=127.0.0.1
BASE="http://$HOST:$HTTP_PORT/fhir"

PASS=0
FAIL=0
ok()   { PASS=$((PASS + 1)); echo "ok   - $1"; }
fail() { FAIL=$((FAIL + 1)); echo "FAIL - $1"; }
# Counts the ok/FAIL lines a client printed.
tally() {
  local out=$1
  echo "$out" | grep -E '^(ok  |FAIL)' | sed 's/^/  /'
  PASS=$((PASS + $(echo "$out" | grep -c '^ok  '))); FAIL=$((FAIL + $(echo "$out" | grep -c '^FAIL')))
}

if [ "${NO_BUILD:-0}" != 1 ]; then build_and_install || exit 1; fi
[ -x "$SERVER_BIN" ] || { echo "FAIL - no fhir-server at $SERVER_BIN (make install puts it into pg_config --bindir)"; exit 1; }

pids=()
stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  [ -f "$WORK/pgbouncer.pid" ] && kill "$(cat "$WORK/pgbouncer.pid")" 2>/dev/null
  cluster_stop
}
cluster_stop
rm -rf "$WORK"
cluster_init <<CONF
listen_addresses = '127.0.0.1'
max_connections = 40
CONF
echo "host all all 127.0.0.1/32 trust" | as_pg tee -a "$WORK/data/pg_hba.conf" >/dev/null
[ "${KEEP:-0}" = 1 ] || trap stop_all EXIT
cluster_start || { cat "$WORK/server.log"; exit 1; }
psql_t -c "CREATE EXTENSION fhir_search" || exit 1
psql_t -c "SELECT fhir.update('{\"resourceType\":\"Patient\",\"id\":\"held\",\"name\":[{\"family\":\"Held\"}]}')" >/dev/null

# Starts a server on HTTP port $1 with DSN $2 (more flags after); waits for metadata.
start_server() {
  local port=$1 dsn=$2; shift 2
  "$SERVER_BIN" --db "$dsn" --listen "$HOST:$port" --base-url "http://$HOST:$port/fhir" --export-dir "$WORK/export-$port" "$@" \
    >> "$WORK/access-$port.log" 2>> "$WORK/server-$port.err" &
  SERVER_PID=$!
  pids+=("$SERVER_PID")
  for _ in $(seq 1 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$HOST:$port/fhir/metadata")" = 200 ] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$WORK/server-$port.err"
  return 1
}
DIRECT="host=$HOST port=$PORT dbname=postgres user=postgres application_name=fhir-server"
# Holds an ACCESS EXCLUSIVE lock on fhir.resource for $1 seconds (requests touching it
# wait in the database), returning once the lock is held.
hold_lock() {
  psql_t -c "BEGIN; LOCK TABLE fhir.resource IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep($1); COMMIT;" >/dev/null 2>&1 &
  for _ in $(seq 1 100); do
    [ "$(psql_t -c "SELECT count(*) FROM pg_locks WHERE locktype = 'relation' AND mode = 'AccessExclusiveLock' AND granted
                    AND relation = 'fhir.resource'::regclass")" = 1 ] && return 0
    sleep 0.05
  done
  return 1
}

start_server "$HTTP_PORT" "$DIRECT" --pool 4 --pool-wait 0.5 --read-timeout 2 --idle-timeout 3 --write-timeout 2 \
  --max-header 8k --max-body 1m || { fail "fhir-server did not start"; exit 1; }
MAIN_PID=$SERVER_PID
ok "fhir-server started ($SERVER_BIN)"

# 1. every interaction through fhir-kit-client
if (cd test/clients && npm install --no-audit --no-fund --silent >/dev/null 2>&1); then
  tally "$(node test/clients/rest_client.mjs "$BASE" direct 2>&1)"
else
  fail "npm install fhir-kit-client (the npm registry must be reachable)"
fi

# 2. curl: gzip and the headers a shell user sees
hdrs=$(curl -s -D - -o "$WORK/meta.gz" -H 'Accept-Encoding: gzip' "$BASE/metadata")
if echo "$hdrs" | grep -qi '^content-encoding: gzip' && gzip -dc "$WORK/meta.gz" | python3 -c 'import json,sys; assert json.load(sys.stdin)["resourceType"] == "CapabilityStatement"'; then
  ok "curl: metadata gzipped when asked ($(stat -c %s "$WORK/meta.gz") bytes), valid after gunzip"
else
  fail "curl: gzip: $hdrs"
fi
plain=$(curl -s -D - -o /dev/null "$BASE/metadata")
echo "$plain" | grep -qi '^content-encoding' && fail "gzip without Accept-Encoding" || ok "no gzip when not asked"

# 3. bad and hostile clients
tally "$(python3 test/clients/rest_safety.py bad $HOST "$HTTP_PORT" /fhir 2>&1)"

# a client that stops reading: an 8 MB Patient (stored through SQL: the server's --max-body is 1 MB)
psql_t -c "SELECT fhir.update(jsonb_build_object('resourceType', 'Patient', 'id', 'big', 'text',
             jsonb_build_object('status', 'generated', 'div', '<div xmlns=\"http://www.w3.org/1999/xhtml\">' || repeat('x', 8000000) || '</div>')))" >/dev/null
tally "$(python3 test/clients/rest_safety.py slowreader $HOST "$HTTP_PORT" /fhir/Patient/big 2>&1)"

# 4. pool exhausted: 4 connections busy (waiting on a lock), more requests get 503 after --pool-wait
if hold_lock 2.5; then
  out=$(python3 test/clients/rest_safety.py concurrent $HOST "$HTTP_PORT" /fhir/Patient/held 6)
  n200=$(echo "$out" | awk '$1 == 200' | wc -l)
  n503=$(echo "$out" | awk '$1 == 503 && $2 >= 0.45 && $2 < 1.5 && $3 == 1' | wc -l)
  if [ "$n200" = 4 ] && [ "$n503" = 2 ]; then ok "pool exhausted: 4 reads wait for the lock (200), 2 get 503 with Retry-After after the 0.5 s bound"
  else fail "pool exhausted: $(echo $out)"; fi
else
  fail "could not take the lock"
fi
wait_lock_free() { for _ in $(seq 1 100); do [ "$(psql_t -c "SELECT count(*) FROM pg_locks WHERE relation = 'fhir.resource'::regclass")" = 0 ] && return; sleep 0.05; done; }
wait_lock_free

# 5. database restart: requests in flight get 503; under load the server recovers
if hold_lock 20; then
  python3 test/clients/rest_safety.py concurrent $HOST "$HTTP_PORT" /fhir/Patient/held 2 > "$WORK/inflight.txt" &
  cpid=$!
  sleep 0.5
  as_pg "$BIN/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w restart -m fast >/dev/null
  wait $cpid
  out=$(cat "$WORK/inflight.txt")
  if [ "$(echo "$out" | awk '$1 == 503' | wc -l)" = 2 ]; then ok "database restart: the 2 requests in flight get 503"
  else fail "database restart, requests in flight: $(echo $out)"; fi
else
  fail "could not take the lock for the restart test"
fi
python3 test/clients/rest_safety.py load $HOST "$HTTP_PORT" /fhir/Patient/held 6 > "$WORK/load.json" &
lpid=$!
sleep 1.5
as_pg "$BIN/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w restart -m fast >/dev/null
wait $lpid
if python3 - "$WORK/load.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
c = {int(k): v for k, v in r["counts"].items()}
ok = set(c) <= {200, 503} and c.get(200, 0) > 50 and r["last_second"] == [200]
print(f"  load across a restart: {c}, last second {r['last_second']}")
sys.exit(0 if ok else 1)
PY
then ok "database restart under load: only 200 and 503, all 200 again in the last second"
else fail "database restart under load: $(cat "$WORK/load.json")"; fi
kill -0 "$MAIN_PID" 2>/dev/null && ok "the server survived both restarts" || fail "the server died"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/Patient/held")" = 200 ] && ok "reads work after the restart" || fail "reads after the restart"

# 6. access log: one JSON object per request
if python3 - "$WORK/access-$HTTP_PORT.log" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
recs = [json.loads(l) for l in lines]
assert len(recs) > 100 and all({"ts", "status", "ms"} <= r.keys() for r in recs)
assert any(r.get("cache") == "HIT" for r in recs) and any(r["status"] == 503 for r in recs)
print(f"  {len(recs)} access log lines, all JSON")
PY
then ok "access log: one JSON line per request"; else fail "access log"; fi

# 7. the same client through pgbouncer in transaction pooling mode (2 server connections)
cat > "$WORK/pgbouncer.ini" <<INI
[databases]
postgres = host=$HOST port=$PORT dbname=postgres
[pgbouncer]
listen_addr = $HOST
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = trust
auth_file = $WORK/userlist.txt
pool_mode = transaction
default_pool_size = 2
max_client_conn = 50
logfile = $WORK/pgbouncer.log
pidfile = $WORK/pgbouncer.pid
INI
echo '"postgres" ""' > "$WORK/userlist.txt"
own_by_postgres "$WORK/pgbouncer.ini" "$WORK/userlist.txt"
if as_pg pgbouncer -d "$WORK/pgbouncer.ini"; then
  BPORT=$((HTTP_PORT + 1))
  if start_server "$BPORT" "host=$HOST port=$BOUNCER_PORT dbname=postgres user=postgres" --pool 6; then
    tally "$(node test/clients/rest_client.mjs "http://$HOST:$BPORT/fhir" pgbouncer 2>&1)"
  else
    fail "fhir-server on pgbouncer did not start"
  fi
else
  fail "pgbouncer did not start"; cat "$WORK/pgbouncer.log"
fi

# 8. --auth-token: a bearer token for everything but metadata, the export files included
APORT=$((HTTP_PORT + 2))
if start_server "$APORT" "$DIRECT" --pool 2 --auth-token s3cr3t; then
  AB="http://$HOST:$APORT/fhir"
  tok='Authorization: Bearer s3cr3t'
  code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
  c1=$(code "$AB/metadata"); c2=$(code "$AB/Patient/held"); c3=$(code -H 'Authorization: Bearer wrong' "$AB/Patient/held")
  c4=$(code -H "$tok" "$AB/Patient/held")
  www=$(curl -s -D - -o /dev/null "$AB/Patient/held" | grep -ci '^www-authenticate: bearer')
  if [ "$c1$c2$c3$c4" = 200401401200 ] && [ "$www" = 1 ]; then ok "auth token: metadata open, 401 with WWW-Authenticate without or with a wrong token, 200 with it"
  else fail "auth token: $c1 $c2 $c3 $c4 www=$www"; fi
  loc=$(curl -s -D - -o /dev/null -H "$tok" -H 'Prefer: respond-async' "$AB/\$export?_type=Patient" | tr -d '\r' | awk 'tolower($1) == "content-location:" {print $2}')
  for _ in $(seq 1 100); do [ "$(code -H "$tok" "$loc")" = 200 ] && break; sleep 0.1; done
  manifest=$(curl -s -H "$tok" "$loc")
  file=$(echo "$manifest" | python3 -c 'import json,sys; m=json.load(sys.stdin); print(m["output"][0]["url"] if m["requiresAccessToken"] is True else "")')
  if [ -n "$file" ] && [ "$(code "$file")" = 401 ] && [ "$(code -H "$tok" "$file")" = 200 ]; then
    ok "auth token: the export manifest says requiresAccessToken, its files need the token"
  else fail "auth token and \$export: $manifest"; fi
else
  fail "fhir-server with --auth-token did not start"
fi

# 9. graceful shutdown: SIGTERM lets the request in flight finish, then the server exits
if hold_lock 1.5; then
  t0=$(date +%s.%N)
  code_file="$WORK/inflight_shutdown.txt"
  curl -s -o /dev/null -w '%{http_code}' "$BASE/Patient/held" > "$code_file" &
  cpid=$!
  sleep 0.3
  kill -TERM "$MAIN_PID"
  wait $cpid
  wait "$MAIN_PID"; rc=$?
  secs=$(python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$t0" "$(date +%s.%N)")
  if [ "$(cat "$code_file")" = 200 ] && [ "$rc" = 0 ]; then
    ok "SIGTERM: the request in flight finished (200), exit code 0 after $(printf %.1f "$secs") s"
  else
    fail "SIGTERM: request $(cat "$code_file"), exit code $rc"
  fi
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/metadata")" = 000 ] && ok "after shutdown the port is closed" || fail "still answering after shutdown"
else
  fail "could not take the lock for the shutdown test"
fi

echo "rest_server: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
