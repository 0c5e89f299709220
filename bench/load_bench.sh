#!/usr/bin/env bash
# Bulk-load benchmark: fhir.load_file() vs plain COPY of the same NDJSON into a
# bare jsonb table, measured in one run on the same throwaway cluster.
#   sudo bench/load_bench.sh [RESOURCES]        (default 100000)
# Appends a row to bench/results/load.md (date, machine, data size, rates, ratios).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
N="${1:-100000}"
WORK="${WORK:-/tmp/fhir_search_bench}"
PORT="${PORT:-5498}"
source scripts/lib/cluster.sh

build_and_install
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
