#!/usr/bin/env bash
# pg_regress under AddressSanitizer and UndefinedBehaviorSanitizer (issue 16): builds
# the extension with -fsanitize=address,undefined from a copy of this checkout into a
# copy of the PostgreSQL tree, then runs the whole schedule (pg_regress and isolation)
# with the sanitizer runtimes preloaded into the server. Any ASan or UBSan report in
# the server log fails the run. Not part of the README's test command (it takes
# about three times as long as the plain run); run it by hand, results go to
# docs/fuzzing.md.
#   sudo test/scripts/regress_asan.sh        (WORK=/tmp/fhir_regress_asan)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
WORK="${WORK:-/tmp/fhir_regress_asan}"
PG_MAJOR="${PG_MAJOR:-15}"
rm -rf "$WORK"; mkdir -p "$WORK/src" "$WORK/pg/usr/lib/postgresql" "$WORK/pg/usr/share/postgresql"
cp -a "/usr/lib/postgresql/$PG_MAJOR" "$WORK/pg/usr/lib/postgresql/"
cp -a "/usr/share/postgresql/$PG_MAJOR" "$WORK/pg/usr/share/postgresql/"
git ls-files -z | xargs -0 cp --parents -t "$WORK/src"
cd "$WORK/src"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
nice make -s -j"$(nproc)" SANITIZE_FLAGS="$SAN" >/dev/null
make -s install DESTDIR="$WORK/pg" >/dev/null
chown -R postgres "$WORK"
preload="$(g++ -print-file-name=libasan.so) $(g++ -print-file-name=libubsan.so)"
log="$WORK/asan"
mkdir -p "$log"; chown postgres "$log"
# PostgreSQL's own allocator and its deliberate exits make leak reports noise: leaks off.
env_vars=(LD_PRELOAD="$preload"
          ASAN_OPTIONS="detect_leaks=0:log_path=$log/asan:abort_on_error=0:halt_on_error=1"
          UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$log/ubsan")
status=0
runuser -u postgres -- env "${env_vars[@]}" make -s installcheck bindir="$WORK/pg/usr/lib/postgresql/$PG_MAJOR/bin" \
  REGRESS_OUTDIR="$WORK/out" > "$WORK/regress.log" 2>&1 || status=$?
grep -E "tests (passed|failed)" "$WORK/regress.log" || true
if ls "$log"/* >/dev/null 2>&1; then
  echo "sanitizer reports:"; head -40 "$log"/*; status=1
else
  echo "no sanitizer reports"
fi
[ "$status" -eq 0 ] || { cat "$WORK/out/regression.diffs" 2>/dev/null | head -100; }
exit "$status"
