#!/usr/bin/env bash
# Bulk-load benchmark: fhir.load_file() vs plain COPY of the same NDJSON into a
# bare jsonb table, measured in one run on the same throwaway cluster.
#   sudo bench/load_bench.sh [RESOURCES]        (default 100000)
# Appends a row to bench/results/load.md (date, machine, data size, rates, ratios).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
N="${1:-100000}"
PG_MAJOR="${PG_MAJOR:-15}"
BIN="/usr/lib/postgresql/$PG_MAJOR/bin"
WORK="${WORK:-/tmp/fhir_search_bench}"
PORT="${PORT:-5498}"
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }

bash scripts/install-deps.sh
make -s -j"$(nproc)" >/dev/null
if [ "$(id -u)" -eq 0 ]; then make -s install >/dev/null; else sudo make -s install >/dev/null; fi

[ -f "$WORK/data/postmaster.pid" ] && as_pg "$BIN/pg_ctl" -D "$WORK/data" stop -m fast >/dev/null 2>&1 || true
rm -rf "$WORK"; mkdir -p "$WORK"; chown postgres "$WORK" 2>/dev/null || sudo chown postgres "$WORK"
python3 tools/gen_sample.py --resources "$N" --seed 1 --out "$WORK/data.ndjson"
chown postgres "$WORK/data.ndjson" 2>/dev/null || sudo chown postgres "$WORK/data.ndjson"
COUNT=$(wc -l < "$WORK/data.ndjson")
BYTES=$(stat -c %s "$WORK/data.ndjson")

as_pg "$BIN/initdb" -D "$WORK/data" -A trust -U postgres >/dev/null
cat >> "$WORK/data/postgresql.conf" <<CONF
shared_preload_libraries = 'fhir_search'
port = $PORT
unix_socket_directories = '$WORK'
listen_addresses = ''
shared_buffers = '2GB'
maintenance_work_mem = '512MB'
max_wal_size = '8GB'
checkpoint_timeout = '30min'
synchronous_commit = off
CONF
trap 'as_pg "$BIN/pg_ctl" -D "$WORK/data" stop -m fast >/dev/null 2>&1 || true' EXIT
as_pg "$BIN/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w start >/dev/null
psql_t() { as_pg psql -X -q -At -h "$WORK" -p "$PORT" -d postgres -v ON_ERROR_STOP=1 "$@"; }

# Seconds taken by one SQL statement, measured by the server's clock.
timed() {
  psql_t -c "CREATE TEMP TABLE t0 AS SELECT clock_timestamp() AS t; $1; SELECT extract(epoch FROM clock_timestamp() - t) FROM t0;" | tail -1
}

psql_t -c "CREATE EXTENSION fhir_search; CREATE TABLE bare (content jsonb); CREATE TABLE bare_gin (content jsonb);
           CREATE INDEX ON bare_gin USING gin (content jsonb_path_ops);"
# COPY as csv with quote/delimiter bytes that never occur, so JSON passes untouched.
copy_opts="(FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')"
t_copy=$(timed "COPY bare FROM '$WORK/data.ndjson' WITH $copy_opts")
t_copy_gin=$(timed "COPY bare_gin FROM '$WORK/data.ndjson' WITH $copy_opts")
t_load=$(timed "SELECT fhir.load_file('$WORK/data.ndjson')")
loaded=$(psql_t -c "SELECT count(*) FROM fhir.resource")
[ "$loaded" -eq "$COUNT" ] || { echo "loaded $loaded of $COUNT resources"; exit 1; }

rate() { python3 -c "print(f'{$COUNT/$1:,.0f}')"; }
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
sizes=$(psql_t -c "SELECT pg_size_pretty(pg_total_relation_size('bare')) || ' / ' ||
  pg_size_pretty((SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c WHERE c.relnamespace = 'fhir'::regnamespace AND c.relkind = 'r')::bigint)")

mkdir -p bench/results
RESULTS=bench/results/load.md
if [ ! -f "$RESULTS" ]; then
  cat > "$RESULTS" <<'HDR'
# Bulk load benchmark (bench/load_bench.sh)

fhir.load_file() (parse, validate, extract search values in C++, batched writes into the
partition, GIN token index, side tables and their indexes) against plain COPY of the same
NDJSON file into a bare jsonb table (and one with a jsonb_path_ops GIN index), on the same
throwaway cluster in the same run. Ratio = our rate / COPY's rate (target >= 0.5).

| date | machine | resources | MB | COPY bare (res/s) | COPY + GIN (res/s) | fhir.load_file (res/s) | ratio vs bare | ratio vs GIN | size bare / fhir |
|---|---|---|---|---|---|---|---|---|---|
HDR
fi
machine="$(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, PG $PG_MAJOR"
echo "| $(date -u +%Y-%m-%d) | $machine | $COUNT | $((BYTES / 1000000)) | $(rate "$t_copy") | $(rate "$t_copy_gin") | $(rate "$t_load") | $(ratio "$t_copy" "$t_load") | $(ratio "$t_copy_gin" "$t_load") | $sizes |" >> "$RESULTS"
tail -1 "$RESULTS"
