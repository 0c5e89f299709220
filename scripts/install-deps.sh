#!/usr/bin/env bash
# Installs what building and testing fhir_search needs on Debian/Ubuntu (as root or via sudo).
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
PG_MAJOR="${PG_MAJOR:-15}"
# pgbouncer, python3-psycopg and Node (with npm, for node-postgres and fhir-kit-client) are
# for the real-client tests (test/scripts/clients.sh, rest_server.sh); libboost-dev (Beast,
# Asio), libpq-dev and zlib1g-dev build fhir-server (server/), curl tests it;
# python3-psycopg also runs the parallel loader loader/fhir-load (test/scripts/parallel_load.sh).
packages=(postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR postgresql-contrib nlohmann-json3-dev libgtest-dev
          cmake g++ clang libclang-rt-dev make python3 ca-certificates pgbouncer python3-psycopg libboost-dev libpq-dev
          zlib1g-dev curl)
# Node: Debian's nodejs and npm, unless a node with npm is installed already (NodeSource's
# nodejs package carries npm and conflicts with Debian's).
if ! { command -v node && command -v npm; } >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's postgresql package starts a system cluster; we never use it.
# pgbouncer's package starts a system pgbouncer on port 6432; the tests start their own.
if systemctl is-active --quiet pgbouncer 2>/dev/null; then
  $SUDO systemctl stop pgbouncer >/dev/null 2>&1 || true
fi
