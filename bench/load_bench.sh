#!/usr/bin/env bash
# Bulk-load benchmark: fhir.load_file() vs plain COPY of the same NDJSON into a
# bare jsonb table, measured in one run on the same throwaway cluster; then, in the
# same run, each into an empty database of its own: fhir.load_file in mass ingestion
# mode (mode => 'mass': indexes dropped, rebuilt at the end, included in the time) and
# the parallel loader loader/fhir-load at $JOBS connections, plain and with --mass.
#   sudo bench/load_bench.sh [RESOURCES]        (default 100000; env JOBS=2)
# Appends a row to each of the two tables of bench/results/load.md (date, machine,
# data size, rates, ratios).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
N="${1:-100000}"
WORK="${WORK:-/tmp/fhir_search_bench}"
PORT="${PORT:-5498}"
JOBS="${JOBS:-2}"
source scripts/lib/cluster.sh

if [ "${NO_BUILD:-0}" != 1 ]; then build_and_install; fi
cluster_stop
rm -rf "$WORK"
sample_ndjson "$WORK/data.ndjson" "$N" 1
COUNT=$(wc -l < "$WORK/data.ndjson")
BYTES=$(stat -c %s "$WORK/data.ndjson")

cluster_init <<CONF
shared_buffers = '2GB'
$BENCH_SETTINGS
CONF
trap cluster_stop EXIT
cluster_start

psql_t -c "CREATE EXTENSION fhir_search; CREATE TABLE bare (content jsonb); CREATE TABLE bare_gin (content jsonb);
           CREATE INDEX ON bare_gin USING gin (content jsonb_path_ops);"
# COPY as csv with quote/delimiter bytes that never occur, so JSON passes untouched.
copy_opts="(FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')"
t_copy=$(timed "COPY bare FROM '$WORK/data.ndjson' WITH $copy_opts")
t_copy_gin=$(timed "COPY bare_gin FROM '$WORK/data.ndjson' WITH $copy_opts")
# Wall-clock and the backend's CPU seconds (/proc/self/stat, which other jobs on a shared
# machine disturb least) of one statement in database $1: prints "wall cpu".
CPU_SQL="(split_part(pg_read_file('/proc/self/stat'), ' ', 14)::int + split_part(pg_read_file('/proc/self/stat'), ' ', 15)::int) / 100.0"
wall_cpu() {
  as_pg psql -X -q -At -h "$WORK" -p "$PORT" -d "$1" -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
    -c "SET max_parallel_maintenance_workers = 0" \
    -c "CREATE TEMP TABLE t0 AS SELECT clock_timestamp() AS t, $CPU_SQL AS c" -c "$2" \
    -c "SELECT extract(epoch FROM clock_timestamp() - t) || ' ' || ($CPU_SQL - c) FROM t0" | tail -1
}
read -r t_load cpu_load <<< "$(wall_cpu postgres "SELECT fhir.load_file('$WORK/data.ndjson')")"
loaded=$(psql_t -c "SELECT count(*) FROM fhir.resource")
[ "$loaded" -eq "$COUNT" ] || { echo "loaded $loaded of $COUNT resources"; exit 1; }

# Each of the following loads into an empty database of its own.
fresh_db() { psql_t -c "CREATE DATABASE $1" && as_pg psql -X -q -At -h "$WORK" -p "$PORT" -d "$1" -c "CREATE EXTENSION fhir_search"; }
count_in() { as_pg psql -X -q -At -h "$WORK" -p "$PORT" -d "$1" -c "SELECT count(*) FROM fhir.resource"; }
# Wall-clock seconds of a command (the loader's own time, connections included).
wall() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1 || return 1; t1=$(date +%s.%N); python3 -c "print($t1 - $t0)"; }
fresh_db mass
# (index builds in this backend only, so that its CPU seconds hold all of the work)
read -r t_mass cpu_mass <<< "$(wall_cpu mass "SELECT fhir.load_file('$WORK/data.ndjson', 1000, mode => 'mass')")"
[ "$(count_in mass)" -eq "$COUNT" ] || { echo "mass: loaded $(count_in mass) of $COUNT"; exit 1; }
fresh_db par
t_par=$(wall as_pg "$ROOT/loader/fhir-load" -q -j "$JOBS" -d "host=$WORK port=$PORT dbname=par" "$WORK/data.ndjson")
[ "$(count_in par)" -eq "$COUNT" ] || { echo "fhir-load: loaded $(count_in par) of $COUNT"; exit 1; }
fresh_db parmass
t_parmass=$(wall as_pg "$ROOT/loader/fhir-load" -q -j "$JOBS" --mass -d "host=$WORK port=$PORT dbname=parmass" "$WORK/data.ndjson")
[ "$(count_in parmass)" -eq "$COUNT" ] || { echo "fhir-load --mass: loaded $(count_in parmass) of $COUNT"; exit 1; }

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
row="| $(date -u +%Y-%m-%d) | $machine | $COUNT | $((BYTES / 1000000)) | $(rate "$t_copy") | $(rate "$t_copy_gin") | $(rate "$t_load") | $(ratio "$t_copy" "$t_load") | $(ratio "$t_copy_gin" "$t_load") | $sizes |"
# the first table ends where the second section starts (if it exists yet)
python3 - "$RESULTS" "$row" <<'PY'
import sys
path, row = sys.argv[1], sys.argv[2]
text = open(path).read()
at = text.find("\n## Mass ingestion and the parallel loader")
text = text.rstrip("\n") + "\n" + row + "\n" if at < 0 else text[:at].rstrip("\n") + "\n" + row + "\n" + text[at:]
open(path, "w").write(text)
PY
echo "$row"

# The second table: the same run's COPY against mass mode and the parallel loader.
if ! grep -q '^## Mass ingestion and the parallel loader' "$RESULTS"; then
  cat >> "$RESULTS" <<'HDR'

## Mass ingestion and the parallel loader

The same data, same run as the row above in the first table, each load into an empty
database of its own: `fhir.load_file` (default, from the first table),
`fhir.load_file(..., mode => 'mass')` (secondary indexes dropped and rebuilt at the end,
included; no ANALYZE in either, autovacuum does it after both), and `loader/fhir-load` at N connections without and with
`--mass` (wall-clock time of the client, connections and index builds included). Ratio =
rate / COPY bare's rate of the same run. CPU s: the loading backend's CPU seconds
(`/proc/self/stat`; index builds run in that backend, `max_parallel_maintenance_workers =
0`), which other jobs on the shared machine disturb far less than wall-clock time.

| date | machine | load avg | resources | COPY bare (res/s) | load_file (res/s) | load_file mass (res/s) | fhir-load N=2 (res/s) | fhir-load N=2 --mass (res/s) | ratio load_file | ratio mass | ratio fhir-load | ratio fhir-load --mass | CPU s load_file / mass |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
HDR
fi
loadavg=$(cut -d' ' -f1 /proc/loadavg)
echo "| $(date -u +%Y-%m-%d) | $machine | $loadavg | $COUNT | $(rate "$t_copy") | $(rate "$t_load") | $(rate "$t_mass") | $(rate "$t_par") | $(rate "$t_parmass") | $(ratio "$t_copy" "$t_load") | $(ratio "$t_copy" "$t_mass") | $(ratio "$t_copy" "$t_par") | $(ratio "$t_copy" "$t_parmass") | $(printf '%.1f / %.1f' "$cpu_load" "$cpu_mass") |" >> "$RESULTS"
tail -1 "$RESULTS"
