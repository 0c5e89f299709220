#!/usr/bin/env bash
# Debian package: debian/ builds postgresql-15-fhir-search with pg_buildext, and the
# installed package works.
#   sudo test/scripts/deb_package.sh        (env: NO_BUILD=0)
#
# Installs the build dependencies (debhelper, postgresql-server-dev-all, ...) if missing,
# builds the .deb with dpkg-buildpackage from a copy of the tree (the files git tracks
# plus new ones it does not ignore, as they are in the working tree) in
# /tmp/fhir_search_deb/build, and checks its contents against `make install
# DESTDIR=...` of the checkout, that the build leaves nothing in the tree that git would
# see, and (if lintian is installed) reports lintian's warnings without failing on them.
# Then it installs the package, runs a throwaway cluster (port 5494) on it:
# CREATE EXTENSION, a write and a search, the shipped 0.1.0 -> 0.2.0 upgrade path; and
# removes the package again. The package and `make install` install the same files, so
# removing it deletes what `make install` had put there: at the end (also when a check
# failed) it runs `make -s install` from the checkout, and checks that the installed files
# are the ones that were installed before.
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
WORK=/tmp/fhir_search_deb
PORT=5494
source scripts/lib/cluster.sh
START=$(date +%s)

PASS=0
FAIL=0
ok()   { PASS=$((PASS + 1)); echo "ok   - $1"; }
fail() { FAIL=$((FAIL + 1)); echo "FAIL - $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: got '$2', expected '$3'"; fi; }
finish() { echo "deb_package: $PASS passed, $FAIL failed ($(( $(date +%s) - START )) s)"; [ "$FAIL" -eq 0 ]; exit; }

VERSION=$(sed -n "s/^default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" fhir_search.control)
PKG=postgresql-$PG_MAJOR-fhir-search
LIBDIR=/usr/lib/postgresql/$PG_MAJOR/lib
EXTDIR=/usr/share/postgresql/$PG_MAJOR/extension

# Checksums of the fhir_search files installed in the server's directories (under ROOTDIR).
installed_files() {
  local r=${1:-}
  (cd "$r/" && sha256sum ."$LIBDIR"/fhir_search.so ."$EXTDIR"/fhir_search.control ."$EXTDIR"/fhir_search--* 2>/dev/null | sort -k2)
}

if [ "${NO_BUILD:-0}" != 1 ]; then build_and_install || exit 1; fi

# Build dependencies (debian/control) and what dpkg-buildpackage itself needs.
packages=(build-essential dpkg-dev debhelper postgresql-server-dev-all nlohmann-json3-dev g++ make libboost-dev libpq-dev zlib1g-dev)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || { fail "installing the build dependencies"; finish; }
fi

cluster_stop
rm -rf "$WORK"
mkdir -p "$WORK/build"

# What `make install` installs, for comparison, and what is installed now, for the restore.
installed_files > "$WORK/before.sha256"
make -s -j"$(nproc)" >/dev/null && make -s install DESTDIR="$WORK/ref" >/dev/null \
  || { fail "make install DESTDIR=$WORK/ref in the checkout"; finish; }
installed_files "$WORK/ref" > "$WORK/ref.sha256"

# Versions: the package's upstream version, PGXN's and the extension's must agree.
check "debian/changelog's version is $VERSION-<revision>" "$(dpkg-parsechangelog -S Version | sed 's/-[^-]*$//')" "$VERSION"
check "META.json's version is $VERSION" "$(python3 -c 'import json; print(json.load(open("META.json"))["version"])')" "$VERSION"

# A copy of the tree as git sees it (HEAD on a fresh clone; uncommitted changes included).
SRC="$WORK/build/fhir-search-$VERSION"
mkdir -p "$SRC"
git -C "$ROOT" ls-files -z -co --exclude-standard > "$WORK/files.lst" || { fail "git ls-files (needs a git checkout)"; finish; }
while IFS= read -r -d '' f; do [ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"; done < "$WORK/files.lst" \
  | xargs -0 cp -a --parents -t "$SRC" || { fail "copying the tree"; finish; }
(cd "$SRC" && find . -path ./.git -prune -o \( -type f -o -type l \) -print | sed 's|^\./||' | sort) > "$WORK/copied.lst"

(cd "$SRC" && dpkg-checkbuilddeps) && ok "build dependencies installed (dpkg-checkbuilddeps)" || fail "dpkg-checkbuilddeps"
log "building the package"
t0=$(date +%s)
# noddebs: the -dbgsym package is not needed here (it is built by default).
if (cd "$SRC" && DEB_BUILD_OPTIONS="noddebs ${DEB_BUILD_OPTIONS:-}" dpkg-buildpackage -us -uc -b) > "$WORK/build.log" 2>&1; then
  ok "dpkg-buildpackage -b ($(( $(date +%s) - t0 )) s)"
else
  fail "dpkg-buildpackage -b:"; tail -40 "$WORK/build.log"; finish
fi
DEB=$(ls "$WORK/build/${PKG}_${VERSION}"-*_*.deb 2>/dev/null | head -1)
[ -n "$DEB" ] && ok "built $(basename "$DEB")" || { fail "no ${PKG}_${VERSION}-*.deb in $WORK/build"; finish; }

# The tree after the build: every file is a source file or ignored by .gitignore.
(cd "$SRC" && git init -q . && git ls-files -o --exclude-standard | sort && rm -rf .git) > "$WORK/after.lst"
if diff "$WORK/copied.lst" "$WORK/after.lst" > "$WORK/tree.diff"; then
  ok "the build leaves no files in the tree that git would see"
else
  fail "the build leaves files git would see:"; head -20 "$WORK/tree.diff"
fi

# Contents: the library, and the same extension files, byte for byte, as `make install`.
dpkg-deb -x "$DEB" "$WORK/pkgroot" || fail "dpkg-deb -x"
check "the package holds $LIBDIR/fhir_search.so" "$([ -f "$WORK/pkgroot$LIBDIR/fhir_search.so" ] && echo yes)" yes
check "the package holds /usr/lib/postgresql/$PG_MAJOR/bin/fhir-server" "$([ -x "$WORK/pkgroot/usr/lib/postgresql/$PG_MAJOR/bin/fhir-server" ] && echo yes)" yes
check "the package holds /usr/lib/postgresql/$PG_MAJOR/bin/fhir-load" "$([ -x "$WORK/pkgroot/usr/lib/postgresql/$PG_MAJOR/bin/fhir-load" ] && echo yes)" yes
check "the package holds $EXTDIR/fhir_search.control" "$([ -f "$WORK/pkgroot$EXTDIR/fhir_search.control" ] && echo yes)" yes
if diff <(grep -v fhir_search.so "$WORK/ref.sha256") <(installed_files "$WORK/pkgroot" | grep -v fhir_search.so) > "$WORK/contents.diff"; then
  ok "the package's extension files are those make install installs ($(grep -c -v fhir_search.so "$WORK/ref.sha256") files, identical)"
else
  fail "the package's extension files differ from make install's:"; cat "$WORK/contents.diff"
fi
others=$(dpkg-deb -c "$DEB" | awk '{print $6}' | grep -v -e '/$' -e "^\.$LIBDIR/fhir_search.so$" -e "^\.$EXTDIR/fhir_search" \
         -e "^\./usr/share/doc/$PKG/" -e "^\./usr/lib/postgresql/$PG_MAJOR/bin/fhir-\(server\|load\)$")
check "nothing else in the package but its docs" "$others" ""
depends=$(dpkg-deb -f "$DEB" Depends)
case "$depends" in *"postgresql-$PG_MAJOR"*) ok "Depends: $depends";; *) fail "Depends lacks postgresql-$PG_MAJOR: $depends";; esac
if command -v lintian >/dev/null; then
  (cd "$WORK/build" && lintian --no-tag-display-limit ./*.changes) > "$WORK/lintian.txt" 2>&1
  grep -E '^[EW]: ' "$WORK/lintian.txt" | sed 's/^/  lintian: /'
  ok "lintian: $(grep -c '^E: ' "$WORK/lintian.txt") errors, $(grep -c '^W: ' "$WORK/lintian.txt") warnings (reported, not checked)"
fi

# Install the package; from here on, restore the make install files on every exit.
restore() {
  cluster_stop
  if dpkg -s "$PKG" >/dev/null 2>&1; then as_root dpkg --purge "$PKG" >/dev/null 2>&1; fi
  (cd "$ROOT" && as_root make -s install >/dev/null)
}
trap restore EXIT
if as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$DEB" > "$WORK/install.log" 2>&1; then
  ok "apt-get install $(basename "$DEB")"
else
  fail "apt-get install:"; tail -20 "$WORK/install.log"; finish
fi
check "dpkg owns the installed library" "$(dpkg -S "$LIBDIR/fhir_search.so" 2>/dev/null | cut -d: -f1)" "$PKG"
check "the installed library is the package's" "$(sha256sum < "$LIBDIR/fhir_search.so")" "$(sha256sum < "$WORK/pkgroot$LIBDIR/fhir_search.so")"

cluster_init </dev/null
cluster_start || { fail "starting a cluster that preloads the packaged library"; cat "$WORK/server.log"; finish; }
ok "a cluster with shared_preload_libraries = fhir_search starts"
psql_t -c "CREATE EXTENSION fhir_search" && ok "CREATE EXTENSION fhir_search" || fail "CREATE EXTENSION fhir_search"
check "extversion" "$(psql_t -c "SELECT extversion FROM pg_extension WHERE extname = 'fhir_search'")" "$VERSION"
psql_t -c "SELECT fhir.update('{\"resourceType\":\"Patient\",\"id\":\"deb1\",\"name\":[{\"family\":\"Paketmann\",\"given\":[\"Debian\"]}]}')" >/dev/null \
  && ok "fhir.update stores a Patient" || fail "fhir.update"
check "fhir.search finds it" \
      "$(psql_t -c "SELECT b->>'total', b->'entry'->0->'resource'->>'id' FROM fhir.search('Patient', 'family=paketmann') b")" "1|deb1"
check "a search for another name finds nothing" "$(psql_t -c "SELECT fhir.search('Patient', 'family=other')->>'total'")" 0
# the package ships the frozen 0.1.0 install script and the upgrade scripts from it
psql_t -c "CREATE DATABASE upgraded" >/dev/null
on_up() { as_pg psql -X -q -At -h "$WORK" -p "$PORT" -d upgraded -v ON_ERROR_STOP=1 "$@"; }
on_up -c "CREATE EXTENSION fhir_search VERSION '0.1.0'" -c "ALTER EXTENSION fhir_search UPDATE" >/dev/null 2>"$WORK/upgrade.err" \
  && check "CREATE EXTENSION VERSION '0.1.0' and ALTER EXTENSION UPDATE reach $VERSION" \
           "$(on_up -c "SELECT extversion FROM pg_extension WHERE extname = 'fhir_search'")" "$VERSION" \
  || fail "upgrade from 0.1.0: $(head -3 "$WORK/upgrade.err")"
cluster_stop

# Remove the package and put back what make install had installed.
as_root dpkg --purge "$PKG" >/dev/null 2>&1 && ok "dpkg --purge $PKG" || fail "dpkg --purge $PKG"
check "removing the package removes the library" "$([ -e "$LIBDIR/fhir_search.so" ] && echo present || echo gone)" gone
trap - EXIT
restore
installed_files > "$WORK/after.sha256"
expected="$WORK/before.sha256"
[ -s "$expected" ] || expected="$WORK/ref.sha256"   # nothing was installed before: make install's files
names() { awk '{print $2}' "$1"; }
if diff "$expected" "$WORK/after.sha256" > "$WORK/restore.diff"; then
  ok "make -s install put back the files installed before ($(wc -l < "$expected") files)"
elif diff <(names "$expected") <(names "$WORK/after.sha256") >/dev/null &&
     make -s install DESTDIR="$WORK/ref2" >/dev/null && diff <(installed_files "$WORK/ref2") "$WORK/after.sha256" >/dev/null; then
  # someone changed the checkout while the test ran: make install built and installed that
  ok "make -s install put back the same files, as the checkout builds them now ($(grep -c '^<' "$WORK/restore.diff") changed since the start: the checkout changed during the test)"
else
  fail "the installed files differ from those before the test:"; cat "$WORK/restore.diff"
fi
finish
