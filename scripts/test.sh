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

if [ "${NYX_SKIP_SANITIZE:-0}" != 1 ]; then
  NYX_BUILD_DIR=build-sanitize NYX_CMAKE_ARGS="-DNYX_SANITIZE=ON" scripts/setup.sh
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-sanitize --output-on-failure -j "$(nproc)" -L 'unit|e2e|fuzz'
fi
