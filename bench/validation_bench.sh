#!/usr/bin/env bash
# Validation-on-write benchmark and false-positive check (issue 16, item 1):
#  1. every resource of the shared Synthea samples (../shared/data/synthea/*.tar.gz)
#     goes in through fhir.transaction with fhir_search.validation = strict (the
#     default); one refused resource stops the script;
#  2. fhir.load_file of the same generated NDJSON (tools/gen_sample.py) with
#     validation strict and off, alternately, each into a fresh database of the same
#     cluster, ROUNDS times; the write cost of validation is the difference.
#   sudo bench/validation_bench.sh [RESOURCES]        (default 100000)
# Environment: WORK (/tmp/fhir_search_validation_bench), PORT (5499), PG_BIN, ROUNDS (3),
# BUILD (1: build and install first). Appends a row to bench/results/validation.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
N="${1:-100000}"
ROUNDS="${ROUNDS:-3}"
BUILD="${BUILD:-1}"
WORK="${WORK:-/tmp/fhir_search_validation_bench}"
PORT="${PORT:-5499}"
source scripts/lib/cluster.sh

[ "$BUILD" -eq 0 ] || build_and_install
cluster_stop
rm -rf "$WORK/data" "$WORK/synthea"
sample_ndjson "$WORK/data-$N.ndjson" "$N" 1
COUNT=$(wc -l < "$WORK/data-$N.ndjson")
cluster_init <<CONF
shared_buffers = '1GB'
$BENCH_SETTINGS
CONF
trap cluster_stop EXIT
cluster_start

# 1. Synthea through fhir.transaction, strict
mkdir -p "$WORK/synthea"
for sample in "$ROOT"/../shared/data/synthea/*.tar.gz; do
  dir="$WORK/synthea/$(basename "$sample" .tar.gz)"
  mkdir -p "$dir"
  tar -xzf "$sample" -C "$dir"
  # Bundles as numbered files (Synthea's names hold quotes): providers first, then patients.
  i=0
  for f in "$dir"/*/hospitalInformation*.json "$dir"/*/practitionerInformation*.json; do
    [ -e "$f" ] || continue
    i=$((i + 1)); mv "$f" "$(printf '%s/p%04d.json' "$dir" "$i")"
  done
  i=0
  for f in "$dir"/*/*.json; do
    i=$((i + 1)); mv "$f" "$(printf '%s/b%04d.json' "$dir" "$i")"
  done
done
own_by_postgres -R "$WORK/synthea"
# Each sample in its own database: the samples share provider organizations (the same
# identifiers), which conditional references must find once.
t0=$(date +%s.%N)
bundles=0
synthea_total=0
for dir in "$WORK"/synthea/*/; do
  db="s$(basename "$dir" | tr -c 'a-z0-9\n' '_')"
  {
    echo "SHOW fhir_search.validation;"
    for f in "$dir"p*.json "$dir"b*.json; do
      [ -e "$f" ] && echo "SELECT 'ok' FROM (SELECT fhir.transaction(pg_read_file('$f')::jsonb)) t;"
    done
  } > "$WORK/synthea.sql"
  n=$(grep -c transaction "$WORK/synthea.sql")
  bundles=$((bundles + n))
  log "Synthea $(basename "$dir"): $n transaction Bundles with validation strict"
  psql_t -c "CREATE DATABASE $db"
  as_pg psql -X -q -At -h "$WORK" -p "$PORT" -d "$db" -v ON_ERROR_STOP=1 -c "CREATE EXTENSION fhir_search"
  as_pg psql -X -q -At -h "$WORK" -p "$PORT" -d "$db" -v ON_ERROR_STOP=1 -f "$WORK/synthea.sql" > "$WORK/synthea.out"
  mode=$(head -1 "$WORK/synthea.out")
  [ "$mode" = strict ] || { echo "validation is $mode, not strict"; exit 1; }
  n=$(as_pg psql -X -q -At -h "$WORK" -p "$PORT" -d "$db" -c "SELECT count(*) FROM fhir.resource")
  synthea_total=$((synthea_total + n))
done
t_synthea=$(echo "$(date +%s.%N) - $t0" | bc)
log "Synthea: $bundles Bundles, $synthea_total resources stored, none refused ($(printf '%.0f' "$t_synthea") s)"

# 2. load_file, strict vs off, alternately
declare -A secs=([strict]=0 [off]=0) best=([strict]=0 [off]=0)
run=0
for r in $(seq 1 "$ROUNDS"); do
  for mode in strict off; do
    [ $((r % 2)) -eq 0 ] && mode=$([ "$mode" = strict ] && echo off || echo strict) # alternate the order
    run=$((run + 1))
    psql_t -c "DROP DATABASE IF EXISTS v$run" -c "CREATE DATABASE v$run"
    as_pg psql -X -q -At -h "$WORK" -p "$PORT" -d "v$run" -v ON_ERROR_STOP=1 -c "CREATE EXTENSION fhir_search"
    t=$(as_pg psql -X -q -At -h "$WORK" -p "$PORT" -d "v$run" -v ON_ERROR_STOP=1 -c "SET fhir_search.validation = $mode" \
          -c "CREATE TEMP TABLE t0 AS SELECT clock_timestamp() AS t" \
          -c "SELECT fhir.load_file('$WORK/data-$N.ndjson')" \
          -c "SELECT extract(epoch FROM clock_timestamp() - t) FROM t0" | tail -1)
    log "round $r: load_file with validation $mode: $t s"
    secs[$mode]=$(echo "${secs[$mode]} + $t" | bc)
    if [ "${best[$mode]}" = 0 ] || [ "$(echo "$t < ${best[$mode]}" | bc)" -eq 1 ]; then best[$mode]=$t; fi
    psql_t -c "DROP DATABASE v$run"
  done
done
# The best run of each mode: on a shared machine the other runs measure the neighbours.
rate() { echo "$COUNT / $1" | bc; }
cost=$(echo "scale=1; (${best[strict]} - ${best[off]}) * 100 / ${best[off]}" | bc)
log "best of $ROUNDS: strict $(rate "${best[strict]}") res/s, off $(rate "${best[off]}") res/s: validation costs $cost % of a write"
log "all runs: strict $(echo "scale=1; ${secs[strict]} / $ROUNDS" | bc) s, off $(echo "scale=1; ${secs[off]} / $ROUNDS" | bc) s on average"

RESULTS="$ROOT/bench/results/validation.md"
if [ ! -f "$RESULTS" ]; then
  cat > "$RESULTS" <<'HEAD'
# Validation on write: cost and false positives

`bench/validation_bench.sh`: the shared Synthea samples loaded through `fhir.transaction` with
`fhir_search.validation = strict` (any refused resource stops the run), then `fhir.load_file` of the
same generated NDJSON (`tools/gen_sample.py`) with validation `strict` and `off`, alternately, each
into a fresh database of one cluster. Cost = (best strict time - best off time) / best off time;
goal <= 15 %. The load-average column says how busy the (shared) machine was.

| date | machine | load avg | Synthea resources (strict, refused) | load_file resources x rounds | best strict (res/s) | best off (res/s) | cost |
|---|---|---|---|---|---|---|---|
HEAD
fi
machine="$(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, PG $PG_MAJOR"
echo "| $(date -u +%F) | $machine | $(cut -d' ' -f1 /proc/loadavg) | $synthea_total, 0 | $COUNT x $ROUNDS | $(rate "${best[strict]}") | $(rate "${best[off]}") | $cost % |" >> "$RESULTS"
log "recorded in $RESULTS"
