#!/usr/bin/env bash
# Write cost of the full-text parameters: fhir.load_file() of the same generated
# NDJSON (tools/gen_sample.py, plus a generated-style XHTML narrative on every
# resource, which the generator does not write) into a fresh database with
# _text/_content disabled (the default), with _text enabled, and with both
# enabled, for every resource type in the data.
#   sudo bench/fulltext_bench.sh [RESOURCES] [RUNS]      (default 5000, 3)
# Appends one row per setting to bench/results/fulltext.md (median of RUNS loads).
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-5000}"
RUNS="${2:-3}"
WORK="${WORK:-/tmp/fhir_search_fulltext_bench}"
PORT="${PORT:-5497}"
source scripts/lib/cluster.sh

build_and_install
cluster_stop
rm -rf "$WORK"
sample_ndjson "$WORK/plain.ndjson" "$N" 7
# A narrative like the ones servers generate: the type and id, then a table of
# the top-level elements rendered as text (codes by display, references as written).
python3 - "$WORK/plain.ndjson" "$WORK/data.ndjson" <<'PY'
import html, json, sys

def render(value):
    if isinstance(value, dict):
        if "coding" in value or "text" in value:
            codings = value.get("coding", [])
            return value.get("text") or ", ".join(c.get("display") or c.get("code", "") for c in codings)
        if "reference" in value:
            return value["reference"]
        if "value" in value:
            return f'{value["value"]} {value.get("unit", "")}'
        return " ".join(render(v) for v in value.values())
    if isinstance(value, list):
        return "; ".join(render(v) for v in value)
    return str(value)

with open(sys.argv[1]) as src, open(sys.argv[2], "w") as dst:
    for line in src:
        r = json.loads(line)
        rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(render(v))}</td></tr>"
                       for k, v in r.items() if k not in ("resourceType", "id", "meta"))
        r["text"] = {"status": "generated",
                     "div": f'<div xmlns="http://www.w3.org/1999/xhtml"><p><b>{r["resourceType"]}</b> {r["id"]}</p>'
                            f"<table>{rows}</table></div>"}
        dst.write(json.dumps(r, ensure_ascii=False) + "\n")
PY
own_by_postgres "$WORK/data.ndjson"
COUNT=$(wc -l < "$WORK/data.ndjson")
BYTES=$(stat -c %s "$WORK/data.ndjson")
TYPES=$(python3 -c "import json,sys; print(','.join(sorted({json.loads(l)['resourceType'] for l in open(sys.argv[1])})))" "$WORK/data.ndjson")

cluster_init <<CONF
shared_buffers = '1GB'
$BENCH_SETTINGS
CONF
trap cluster_stop EXIT
cluster_start

# psql on one database of the cluster.
psql_db() { local db=$1; shift; as_pg psql -X -q -At -h "$WORK" -p "$PORT" -d "$db" -v ON_ERROR_STOP=1 "$@"; }

# Median load time (s) and the size of fhir.search_text after the last run, for
# the parameters named in $1 ("" = none) enabled on every type of the data.
measure() {
  local codes=$1 times=() size=0
  for run in $(seq "$RUNS"); do
    psql_t -c "DROP DATABASE IF EXISTS ftbench" -c "CREATE DATABASE ftbench"
    psql_db ftbench -c "CREATE EXTENSION fhir_search"
    for code in $codes; do
      psql_db ftbench -c "SELECT fhir.set_search_param_enabled(t, '$code', true) FROM unnest(string_to_array('$TYPES', ',')) t" >/dev/null
    done
    times+=("$(psql_db ftbench -c "CREATE TEMP TABLE t0 AS SELECT clock_timestamp() AS t;
      SELECT fhir.load_file('$WORK/data.ndjson');
      SELECT extract(epoch FROM clock_timestamp() - t) FROM t0;" | tail -1)")
    size=$(psql_db ftbench -c "SELECT pg_total_relation_size('fhir.search_text')")
  done
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "$median $size"
}

read -r t_off s_off < <(measure "")
read -r t_text s_text < <(measure "_text")
read -r t_both s_both < <(measure "_text _content")

mkdir -p bench/results
RESULTS=bench/results/fulltext.md
if [ ! -f "$RESULTS" ]; then
  cat > "$RESULTS" <<'HDR'
# Full-text write cost (bench/fulltext_bench.sh)

fhir.load_file() of the same NDJSON (tools/gen_sample.py data with a generated
XHTML narrative added to every resource) into a fresh database, with _text/_content
disabled (the default), _text enabled, and both enabled for every type in the data.
Median of the runs; "cost" is the load time relative to disabled.

| date | machine | resources | MB | setting | load (s) | res/s | cost | fhir.search_text |
|---|---|---|---|---|---|---|---|---|
HDR
fi
machine="$(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, PG $PG_MAJOR"
row() {
  python3 -c "
import sys
t, base, size = float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
print(f'| $(date -u +%Y-%m-%d) | $machine | $COUNT | $((BYTES / 1000000)) | {sys.argv[1]} | {t:.2f} | {$COUNT / t:,.0f} | {t / base:.2f}x | {size / 1e6:.1f} MB |')
" "$@" >> "$RESULTS"
}
row "disabled" "$t_off" "$t_off" "$s_off"
row "_text" "$t_text" "$t_off" "$s_text"
row "_text + _content" "$t_both" "$t_off" "$s_both"
tail -3 "$RESULTS"
