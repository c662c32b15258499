#!/usr/bin/env bash
# Every test: set up and build, run ctest (unit, lit, end to end, fuzz), fuzz
# the ONNX importer with libFuzzer for about a minute, then the
# unit, end-to-end and fuzz tests again in a build with AddressSanitizer and
# UndefinedBehaviorSanitizer (skip that with NYX_SKIP_SANITIZE=1).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
ctest --test-dir "${NYX_BUILD_DIR:-build}" --output-on-failure -j "$(nproc)"

# The ONNX importer under libFuzzer, a bounded number of inputs (clang build).
scripts/fuzz-onnx.sh

sanitized_ctest() {
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-sanitize --output-on-failure -j "$(nproc)" "$@"
}

# LeakSanitizer's stop-the-world tracer now and then segfaults at a process's
# exit ("Tracer caught signal 11", google/sanitizers#1353): the test passed
# and no leak was reported, yet it fails. When every failure is that crash
# and nothing else went wrong, the failed tests run once more; any other
# failure, or the crash twice, fails the run.
only_tracer_crashes() {
  local log=$1 failed crashes
  failed=$(wc -l < build-sanitize/Testing/Temporary/LastTestsFailed.log)
  crashes=$(grep -c 'LeakSanitizer has encountered a fatal error' "$log" || true)
  [ "$crashes" -gt 0 ] && [ "$crashes" -eq "$failed" ] &&
    ! grep -qE 'SUMMARY: |\[  FAILED  \]' "$log"
}

if [ "${NYX_SKIP_SANITIZE:-0}" != 1 ]; then
  NYX_BUILD_DIR=build-sanitize NYX_CMAKE_ARGS="-DNYX_SANITIZE=ON" scripts/setup.sh
  log=build-sanitize/Testing/sanitized.log
  mkdir -p build-sanitize/Testing
  if ! sanitized_ctest -L 'unit|e2e|fuzz' 2>&1 | tee "$log"; then
    only_tracer_crashes "$log" || exit 1
    echo "LeakSanitizer's tracer crashed at exit; running the failed tests once more"
    sanitized_ctest --rerun-failed
  fi
fi
