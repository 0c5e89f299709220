# cluster.sh: throwaway PostgreSQL clusters for the demo, the benchmarks and the script
# tests. Source it after setting WORK (the cluster's directory: data in $WORK/data, the
# socket in $WORK, the log in $WORK/server.log) and PORT. initdb refuses root, so every
# server command runs as the postgres user. Callers stop what they start (cluster_stop,
# usually from an EXIT trap).

PG_MAJOR="${PG_MAJOR:-15}"
# PG_BIN: the server binaries to run; a copy of the PostgreSQL tree elsewhere finds its
# libraries and extensions relative to itself (`make install DESTDIR=<copy>` puts a
# build there), which lets a benchmark run a library other than the installed one.
BIN="${PG_BIN:-/usr/lib/postgresql/$PG_MAJOR/bin}"

# Runs a command as the postgres user (from root or through sudo).
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }

# Runs a command as root (directly or through sudo).
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Prints a timestamped progress line.
log() { echo "[$(date -u +%H:%M:%S)] $*"; }

# Gives files or directories to the postgres user (the server reads and writes them).
own_by_postgres() { chown postgres "$@" 2>/dev/null || sudo chown postgres "$@"; }

# Installs the packages, builds (printing a line per compiled file: a full build takes
# about two minutes on two cores) and installs the extension.
build_and_install() {
  bash scripts/install-deps.sh || return 1
  local total
  total=$(ls src/core/*.cpp src/core/generated/*.cpp src/pg/*.cpp server/*.cpp | wc -l)
  log "building fhir_search and fhir-server (up to $total C++ files)"
  make -j"$(nproc)" 2>&1 | awk -v total="$total" '
    / -c .*\.cpp$/ { n++; f = $NF; printf "  [%3d/%d] %s\n", n, total, f; fflush(); next }
    /(error|warning): |\*\*\*/ { print; fflush() }'
  [ "${PIPESTATUS[0]}" -eq 0 ] || { log "build failed"; return 1; }
  as_root make -s install >/dev/null || return 1
  log "installed into $(pg_config --pkglibdir 2>/dev/null || echo the PostgreSQL library directory)"
}

# Stops the cluster in $WORK if it runs; never fails.
cluster_stop() {
  [ -f "$WORK/data/postmaster.pid" ] && as_pg "$BIN/pg_ctl" -D "$WORK/data" stop -m fast >/dev/null 2>&1
  return 0
}

# Creates a fresh cluster in $WORK/data that preloads fhir_search and listens only on
# its socket in $WORK; settings read from standard input are appended to postgresql.conf.
cluster_init() {
  mkdir -p "$WORK"
  own_by_postgres "$WORK"
  rm -rf "$WORK/data"
  as_pg "$BIN/initdb" -D "$WORK/data" -A trust -U postgres >/dev/null
  {
    echo "shared_preload_libraries = 'fhir_search'"
    echo "port = $PORT"
    echo "unix_socket_directories = '$WORK'"
    echo "listen_addresses = ''"
    cat
  } | as_pg tee -a "$WORK/data/postgresql.conf" >/dev/null
}

# Settings the benchmarks share: room for bulk loads, no durability waits, no JIT noise.
BENCH_SETTINGS="work_mem = '32MB'
maintenance_work_mem = '512MB'
max_wal_size = '8GB'
checkpoint_timeout = '30min'
synchronous_commit = off
jit = off"

# Starts the cluster in $WORK and waits until it accepts connections.
cluster_start() { as_pg "$BIN/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w start >/dev/null; }

# psql on the cluster: unaligned, tuples only, stop on the first error.
psql_t() { as_pg psql -X -q -At -h "$WORK" -p "$PORT" -d postgres -v ON_ERROR_STOP=1 "$@"; }

# Seconds one SQL statement takes, by the server's clock.
timed() {
  psql_t -c "CREATE TEMP TABLE t0 AS SELECT clock_timestamp() AS t; $1; SELECT extract(epoch FROM clock_timestamp() - t) FROM t0;" | tail -1
}

# Makes FILE hold about N generated resources from SEED (the generator is
# deterministic, so an existing file of that name is reused) and hands it to postgres.
sample_ndjson() {
  local file=$1 n=$2 seed=$3
  mkdir -p "$(dirname "$file")"
  if [ ! -s "$file" ]; then
    log "generating $n resources"
    python3 tools/gen_sample.py --resources "$n" --seed "$seed" --out "$file.tmp"
    mv "$file.tmp" "$file"
  fi
  own_by_postgres "$file"
}
