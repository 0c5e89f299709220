#!/usr/bin/env bash
# Write benchmark (issue 15): the same resources written four ways in one run on one
# throwaway cluster, each into its own database:
#   COPY          NDJSON, one jsonb per row, into a bare table (the baseline)
#   fhir.load     fhir.load_file() of that NDJSON
#   transaction   fhir.transaction() of the Bundles, one Bundle per statement in
#                 autocommit, as users load Synthea (psql -f, over the socket)
# Rates are resources/s of wall time; ratios are to COPY's rate measured in the same run.
#   sudo bench/write_bench.sh [--data synthea|generator] [--replicas N] [--resources N] [--no-build] [--keep]
#     --data synthea    the shared SMART Synthea sample (31.6k resources; patient Bundles
#                       --replicas times, default 2, provider Bundles once; the NDJSON for
#                       COPY and fhir.load holds the same resources with remapped ids:
#                       bench/lib/synthea_ndjson.py)
#     --data synthea-hiv  the shared Synthea HIV sample (12 Bundles, 11.5k resources; newer
#                       Synthea: providers POSTed with ifNoneExist in every Bundle, conditional
#                       references Practitioner?identifier=...), patient Bundles --replicas times
#     --match-url-cache N  fhir_search.match_url_cache_size for the transactions (default 0: off)
#     --data generator  tools/gen_sample.py --resources N (default 100000), as NDJSON and as
#                       one transaction Bundle per patient (--format bundles, same seed)
# Environment: WORK (/tmp/fhir_search_write_bench), PORT (5496), PG_BIN, SAMPLE.
# Appends a row to bench/results/write.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DATA_KIND=synthea REPLICAS=2 N=100000 BUILD=1 KEEP=0 MATCH_CACHE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --data) DATA_KIND="$2"; shift 2 ;;
    --replicas) REPLICAS="$2"; shift 2 ;;
    --resources) N="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --keep) KEEP=1; shift ;;
    --match-url-cache) MATCH_CACHE="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
WORK="${WORK:-/tmp/fhir_search_write_bench}"
PORT="${PORT:-5496}"
case "$DATA_KIND" in
  synthea) SAMPLE="${SAMPLE:-$ROOT/../shared/data/synthea/smart-r4-synthea-2019.tar.gz}" ;;
  synthea-hiv) SAMPLE="${SAMPLE:-$ROOT/../shared/data/synthea/synthea-hiv-r4-2021.tar.gz}" ;;
  generator) ;;
  *) echo "--data synthea|synthea-hiv|generator" >&2; exit 2 ;;
esac
source scripts/lib/cluster.sh

[ "$BUILD" -eq 0 ] || build_and_install
cluster_stop
rm -rf "$WORK/bundles" "$WORK/data.ndjson"
mkdir -p "$WORK/bundles"
if [ "$DATA_KIND" != generator ]; then
  [ -f "$SAMPLE" ] || { echo "no Synthea sample at $SAMPLE (set SAMPLE)"; exit 1; }
  rm -rf "$WORK/synthea"; mkdir -p "$WORK/synthea"
  tar -xzf "$SAMPLE" -C "$WORK/synthea"
  i=0  # numbered names (Synthea's hold quotes): provider Bundles first, then patients
  for f in "$WORK"/synthea/*/hospitalInformation*.json "$WORK"/synthea/*/practitionerInformation*.json; do
    [ -e "$f" ] || continue
    i=$((i + 1)); mv "$f" "$(printf '%s/bundles/p%04d.json' "$WORK" "$i")"
  done
  i=0
  for f in "$WORK"/synthea/*/*.json; do
    i=$((i + 1)); mv "$f" "$(printf '%s/bundles/b%04d.json' "$WORK" "$i")"
  done
  python3 bench/lib/synthea_ndjson.py --replicas "$REPLICAS" --out "$WORK/data.ndjson" "$WORK"/bundles/*.json >/dev/null
  TAG="$([ "$DATA_KIND" = synthea ] && echo "Synthea SMART" || echo "Synthea HIV") x$REPLICAS"
else
  REPLICAS=1
  python3 tools/gen_sample.py --resources "$N" --seed 1 --out "$WORK/data.ndjson"
  python3 tools/gen_sample.py --resources "$N" --seed 1 --format bundles --out "$WORK/gen"
  i=0
  for f in "$WORK"/gen/*.json; do i=$((i + 1)); mv "$f" "$(printf '%s/bundles/b%06d.json' "$WORK" "$i")"; done
  rm -rf "$WORK/gen"
  TAG="generator $N"
fi
own_by_postgres -R "$WORK/bundles" "$WORK/data.ndjson"
COUNT=$(wc -l < "$WORK/data.ndjson")
{
  for f in "$WORK"/bundles/p*.json; do
    [ -e "$f" ] && echo "SELECT length(fhir.transaction(pg_read_file('$f')::jsonb)::text);"
  done
  for r in $(seq 1 "$REPLICAS"); do
    for f in "$WORK"/bundles/b*.json; do
      echo "SELECT length(fhir.transaction(pg_read_file('$f')::jsonb)::text);"
    done
  done
} > "$WORK/tx.sql"
own_by_postgres "$WORK/tx.sql"

cluster_init <<CONF
shared_buffers = '2GB'
$BENCH_SETTINGS
CONF
[ "$KEEP" -eq 1 ] || trap cluster_stop EXIT
cluster_start
psql_db() { local db=$1; shift; as_pg psql -X -q -At -h "$WORK" -p "$PORT" -d "$db" -v ON_ERROR_STOP=1 "$@"; }
for db in copy_db load_db tx_db; do psql_t -c "CREATE DATABASE $db"; done
psql_db load_db -c "CREATE EXTENSION fhir_search"
psql_db tx_db -c "CREATE EXTENSION fhir_search"
psql_db copy_db -c "CREATE TABLE bare (content jsonb)"

# Runs an SQL file in one session; prints its wall seconds and the CPU seconds its
# backend used (user + system, from /proc: on a shared machine the CPU figure is
# the steadier one).
measure() { # db file
  local db=$1 file=$2 t0 t1 c0 c1
  {
    echo "SELECT pg_backend_pid() AS pid \\gset"
    echo "\\setenv BPID :pid"
    echo "\\! awk '{print \$14 + \$15}' /proc/\$BPID/stat > $WORK/cpu0"
    cat "$file"
    echo "\\! awk '{print \$14 + \$15}' /proc/\$BPID/stat > $WORK/cpu1"
  } > "$WORK/measure.sql"
  own_by_postgres "$WORK/measure.sql"
  t0=$(date +%s.%N)
  psql_db "$db" -f "$WORK/measure.sql" > /dev/null
  t1=$(date +%s.%N)
  echo "$(echo "$t1 - $t0" | bc) $(echo "scale=2; ($(cat "$WORK/cpu1") - $(cat "$WORK/cpu0")) / $(getconf CLK_TCK)" | bc)"
}
log "$COUNT resources ($TAG)"
copy_opts="(FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')"
echo "COPY bare FROM '$WORK/data.ndjson' WITH $copy_opts;" > "$WORK/copy.sql"
echo "SELECT fhir.load_file('$WORK/data.ndjson');" > "$WORK/load.sql"
own_by_postgres "$WORK/copy.sql" "$WORK/load.sql"
read -r t_copy c_copy < <(measure copy_db "$WORK/copy.sql")
log "COPY: $t_copy s ($c_copy s CPU)"
read -r t_load c_load < <(measure load_db "$WORK/load.sql")
log "fhir.load_file: $t_load s ($c_load s CPU)"
[ "$MATCH_CACHE" -eq 0 ] || { TAG="$TAG, match-URL cache $MATCH_CACHE"; sed -i "1i SET fhir_search.match_url_cache_size = $MATCH_CACHE;" "$WORK/tx.sql"; }
read -r t_tx c_tx < <(measure tx_db "$WORK/tx.sql")
log "fhir.transaction: $t_tx s ($c_tx s CPU)"
# Every POST gets a new id; the NDJSON may repeat a resource (a second version).
distinct=$(psql_db copy_db -c "SELECT count(DISTINCT (content->>'resourceType', content->>'id')) FROM bare")
n_load=$(psql_db load_db -c "SELECT count(*) FROM fhir.resource")
n_tx=$(psql_db tx_db -c "SELECT count(*) FROM fhir.resource")
[ "$n_load" -eq "$distinct" ] || { echo "load_db holds $n_load resources, expected $distinct"; exit 1; }
[ "$n_tx" -eq "$COUNT" ] || { echo "tx_db holds $n_tx resources, expected $COUNT"; exit 1; }

rate() { python3 -c "print(f'{$COUNT/$1:,.0f}')"; }
ratio() { python3 -c "print(f'{$1/$2:.3f}')"; }
row="| $(date -u +%F) | $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, PG $(psql_t -c 'SHOW server_version' | cut -d' ' -f1), load $(cut -d' ' -f1 /proc/loadavg) | $TAG | $COUNT | $(rate "$t_copy") | $(rate "$t_load") | $(rate "$t_tx") | $(ratio "$t_copy" "$t_load") | $(ratio "$t_copy" "$t_tx") | $(python3 -c "print(f'{$t_tx/$t_load:.2f}')") | $c_copy / $c_load / $c_tx | $(ratio "$c_copy" "$c_load") / $(ratio "$c_copy" "$c_tx") |"
echo "$row"
RESULTS="$ROOT/bench/results/write.md"
if [ ! -f "$RESULTS" ]; then
  cat > "$RESULTS" <<'MD'
# Write benchmark (bench/write_bench.sh)

The same resources written three ways in one run on one throwaway cluster: plain COPY of
NDJSON (one jsonb per row) into a bare table, fhir.load_file() of that NDJSON, and
fhir.transaction() of the Bundles (one per statement, autocommit, psql -f). Rates are
resources per second of wall time; ratios are to COPY in the same run. Goals (issue 15):
transaction >= 0.25 of COPY and within 1.5x of fhir.load's per-resource cost; load >= 0.35.

| date | machine | data | resources | COPY (res/s) | fhir.load_file (res/s) | fhir.transaction (res/s) | load / COPY | transaction / COPY | transaction cost / load cost | backend CPU s: COPY / load / transaction | CPU ratio: load / transaction to COPY |
|---|---|---|---|---|---|---|---|---|---|---|---|
MD
fi
echo "$row" >> "$RESULTS"
