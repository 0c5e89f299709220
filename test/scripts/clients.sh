#!/usr/bin/env bash
# Real clients: psycopg (Python) and node-postgres run the README's application
# examples against a throwaway cluster, and eight psycopg clients page through
# searches concurrently behind pgbouncer in transaction pooling mode (Debian's
# pgbouncer, started here on loopback) with every page and cache status checked.
#   sudo test/scripts/clients.sh        (env: NO_BUILD=0 KEEP=0 WORK PORT BOUNCER_PORT)
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
WORK="${WORK:-/tmp/fhir_search_clients}"
PORT="${PORT:-5498}"
BOUNCER_PORT="${BOUNCER_PORT:-6498}"
source scripts/lib/cluster.sh

PASS=0
FAIL=0
ok()   { PASS=$((PASS + 1)); echo "ok   - $1"; }
fail() { FAIL=$((FAIL + 1)); echo "FAIL - $1"; }

if [ "${NO_BUILD:-0}" != 1 ]; then build_and_install || exit 1; fi
cluster_stop
[ -f "$WORK/pgbouncer.pid" ] && kill "$(cat "$WORK/pgbouncer.pid")" 2>/dev/null
rm -rf "$WORK"
cluster_init <<CONF
listen_addresses = '127.0.0.1'
max_connections = 40
CONF
echo "host all all 127.0.0.1/32 trust" | as_pg tee -a "$WORK/data/pg_hba.conf" >/dev/null
stop_all() {
  [ -f "$WORK/pgbouncer.pid" ] && kill "$(cat "$WORK/pgbouncer.pid")" 2>/dev/null
  cluster_stop
}
[ "${KEEP:-0}" = 1 ] || trap stop_all EXIT
cluster_start || { cat "$WORK/server.log"; exit 1; }
psql_t -c "CREATE EXTENSION fhir_search" || exit 1
# Patients F0..F7, 30 each, for the pooled clients' searches
psql_t -c "SELECT fhir.load(string_agg(format('{\"resourceType\":\"Patient\",\"id\":\"cl%s\",\"name\":[{\"family\":\"F%s\"}],\"birthDate\":\"%s-01-01\"}', i, i % 8, 1940 + i % 60), E'\n')) FROM generate_series(1, 240) i" >/dev/null || exit 1

DIRECT="host=127.0.0.1 port=$PORT dbname=postgres user=postgres application_name=direct"

# psycopg: the README's Python example
if out=$(/usr/bin/python3 test/clients/app_example.py "$DIRECT" 2>&1); then ok "$out"; else fail "python example: $out"; fi

# node-postgres: the README's Node example (pg from the npm registry)
if (cd test/clients && npm install --no-audit --no-fund --silent >/dev/null 2>&1); then
  if out=$(node test/clients/app_example.js "postgresql://postgres@127.0.0.1:$PORT/postgres" 2>&1); then ok "$out"
  else fail "node example: $out"; fi
else
  fail "npm install pg (the npm registry must be reachable)"
fi

# pgbouncer, transaction pooling, 3 server connections for 8 clients
cat > "$WORK/pgbouncer.ini" <<INI
[databases]
postgres = host=$WORK port=$PORT dbname=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = trust
auth_file = $WORK/userlist.txt
pool_mode = transaction
default_pool_size = 3
max_client_conn = 50
logfile = $WORK/pgbouncer.log
pidfile = $WORK/pgbouncer.pid
INI
echo '"postgres" ""' > "$WORK/userlist.txt"
own_by_postgres "$WORK/pgbouncer.ini" "$WORK/userlist.txt"
as_pg pgbouncer -d "$WORK/pgbouncer.ini" || { fail "pgbouncer did not start"; cat "$WORK/pgbouncer.log"; }
for _ in $(seq 1 50); do
  /usr/bin/python3 -c "import psycopg; psycopg.connect('host=127.0.0.1 port=$BOUNCER_PORT dbname=postgres user=postgres').close()" 2>/dev/null && break
  sleep 0.1
done
if out=$(/usr/bin/python3 test/clients/pgbouncer_pages.py \
           "host=127.0.0.1 port=$BOUNCER_PORT dbname=postgres user=postgres" "$DIRECT" 2>&1); then
  ok "$out"
else
  fail "pgbouncer paging: $out"
fi

echo "clients: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
