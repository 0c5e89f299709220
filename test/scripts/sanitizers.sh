#!/usr/bin/env bash
# The pure C++ core under sanitizers (issue 16): one clang build with AddressSanitizer
# and UndefinedBehaviorSanitizer (any report fatal) and libFuzzer instrumentation, then
#   1. every unit test (ctest) in that build;
#   2. each libFuzzer target of test/fuzz for FUZZ_SECONDS (default 20) from its seed
#      corpus in test/fuzz/corpus, two at a time; a crash, leak, sanitizer report,
#      invariant failure or timeout fails the suite and leaves the input in $OUT.
# Long campaigns use the same build (test/fuzz/README.md).
#   test/scripts/sanitizers.sh            (BUILD=build-san, FUZZ_SECONDS=20, OUT=/tmp/fhir_fuzz)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD="${BUILD:-$ROOT/build-san}"
SECONDS_PER_TARGET="${FUZZ_SECONDS:-20}"
OUT="${OUT:-/tmp/fhir_fuzz}"
command -v clang++ >/dev/null || { echo "clang++ is needed (scripts/install-deps.sh installs it)"; exit 1; }

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_CXX_COMPILER=clang++ -DFHIR_BUILD_FUZZERS=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
nice cmake --build "$BUILD" -j"$(nproc)" >/dev/null
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
echo "unit tests under ASan+UBSan"
(cd "$BUILD" && ctest -j"$(nproc)" --output-on-failure | tail -3)

rm -rf "$OUT"; mkdir -p "$OUT"
targets=()
for src in test/fuzz/*_fuzz.cpp; do targets+=("$(basename "$src" .cpp)"); done
run_target() { # name
  local name=$1 seeds="$ROOT/test/fuzz/corpus/${1%_fuzz}"
  mkdir -p "$OUT/$name.corpus"
  if "$BUILD/$name" -max_total_time="$SECONDS_PER_TARGET" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix="$OUT/$name-" "$OUT/$name.corpus" "$seeds" > "$OUT/$name.log" 2>&1; then
    echo "  $name: ok, $(awk '/stat::number_of_executed_units/ {print $2}' "$OUT/$name.log") executions, $(grep -o 'cov: [0-9]*' "$OUT/$name.log" | tail -1)"
  else
    echo "  $name: FAILED (log $OUT/$name.log)"; grep -E "ERROR|invariant|SUMMARY" "$OUT/$name.log" | head -5
    return 1
  fi
}
echo "fuzzing ${#targets[@]} targets, $SECONDS_PER_TARGET s each"
failed=0
for ((i = 0; i < ${#targets[@]}; i += 2)); do
  pids=()
  for name in "${targets[@]:i:2}"; do run_target "$name" & pids+=($!); done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
done
[ "$failed" -eq 0 ]
