#!/usr/bin/env bash
# Runs every test suite of fhir_search: C++ unit tests (GoogleTest via ctest),
# pg_regress against a throwaway instance, and the script tests. Installs the
# packages it needs first. Run as root or as a user with sudo on Debian/Ubuntu (it calls
# sudo itself where it needs root or the postgres user):
#   scripts/test-all.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
PG_MAJOR="${PG_MAJOR:-15}"
export PATH="/usr/lib/postgresql/$PG_MAJOR/bin:$PATH"

bash scripts/install-deps.sh

passed=0; failed=0
suite() { # name, command...
  local name=$1; shift
  echo "=== $name"
  if "$@"; then passed=$((passed + 1)); echo "=== $name: ok"; else failed=$((failed + 1)); echo "=== $name: FAILED"; fi
}

# 1. pure C++ unit tests
unit_tests() {
  cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
  cmake --build "$ROOT/build" -j"$(nproc)" >/dev/null &&
  (cd "$ROOT/build" && ctest --output-on-failure -j"$(nproc)")
}
suite "unit tests (ctest)" unit_tests
# the core under ASan+UBSan: unit tests again, then short libFuzzer runs (test/fuzz)
suite "sanitizers: unit tests and fuzzing (${FUZZ_SECONDS:-20} s per target)" bash test/scripts/sanitizers.sh

# 2. the extension: build, install, pg_regress and isolation tests in temp instances (as postgres:
#    initdb refuses root). Output goes to a directory the postgres user owns.
regress() {
  make -s -j"$(nproc)" >/dev/null && $SUDO make -s install >/dev/null || return 1
  local out; out=$(mktemp -d /tmp/fhir_regress.XXXXXX)
  chown postgres "$out" 2>/dev/null || $SUDO chown postgres "$out"
  local as_pg=(runuser -u postgres --)
  [ "$(id -u)" -eq 0 ] || as_pg=(sudo -u postgres)
  if "${as_pg[@]}" make -s installcheck REGRESS_OUTDIR="$out"; then
    rm -rf "$out"; return 0
  fi
  cat "$out/regression.diffs" "$out/isolation/regression.diffs" 2>/dev/null | head -300
  return 1
}
suite "pg_regress" regress

# 3. script tests
suite "schedule lists every test" bash test/scripts/check_schedule.sh
suite "sample generator" bash test/scripts/test_gen_sample.sh
# backups and upgrades against the build the pg_regress suite installed
suite "backup and restore (pg_dump, pg_restore)" env NO_BUILD=1 bash test/scripts/dump_restore.sh
suite "upgrade from 0.1.0 and uninstall" env NO_BUILD=1 bash test/scripts/upgrade.sh
suite "Debian package (build, install, remove)" env NO_BUILD=1 bash test/scripts/deb_package.sh
# the parallel loader (loader/fhir-load) at 2 connections, with mass ingestion
suite "parallel loader (fhir-load)" env NO_BUILD=1 bash test/scripts/parallel_load.sh
# real clients: psycopg, node-postgres, pgbouncer in transaction pooling mode
suite "clients (psycopg, node-postgres, pgbouncer)" env NO_BUILD=1 bash test/scripts/clients.sh
suite "REST server (fhir-kit-client, bad clients, restarts, pgbouncer)" env NO_BUILD=1 bash test/scripts/rest_server.sh
# result cache under concurrent writes (the isolation specs run inside "pg_regress")
suite "cache stress (60 s)" env DURATION="${CACHE_STRESS_SECONDS:-60}" bash test/scripts/cache_stress.sh

echo "test-all: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
