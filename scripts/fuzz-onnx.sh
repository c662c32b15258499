#!/usr/bin/env bash
# Fuzzes the ONNX importer with libFuzzer: NYX_FUZZ_RUNS inputs (default
# 1000000, under a minute here) from a fixed seed (NYX_FUZZ_SEED, default 1), so
# that a run is repeatable, and at most the first argument or
# NYX_FUZZ_SECONDS seconds (default 120). Builds tests/fuzz/onnx_import_fuzzer
# with clang-19 (scripts/setup.sh installs it) and AddressSanitizer and
# UndefinedBehaviorSanitizer in build-libfuzzer/, seeds it with the lit
# test models and the small ONNX backend test models, and fails on any
# crash.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-${NYX_FUZZ_SECONDS:-120}}"
runs="${NYX_FUZZ_RUNS:-1000000}"
seed="${NYX_FUZZ_SEED:-1}"
build=build-libfuzzer

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
  -DNYX_LIBFUZZER=ON >/dev/null
cmake --build "$build" --target onnx_import_fuzzer -j "$(nproc)"

corpus="$build/onnx-corpus"
rm -rf "$corpus" && mkdir -p "$corpus"
for c in mlp relu unsupported opset18 external uint8; do
  /usr/bin/python3 tests/lit/Inputs/make_onnx.py "$c" "$corpus/$c.onnx"
done
data=/usr/share/libonnx-testdata/data/node
if [ -d "$data" ]; then
  for t in "$data"/test_*; do
    size=$(stat -c %s "$t/model.onnx" 2>/dev/null || echo 99999)
    [ "$size" -lt 2048 ] && cp "$t/model.onnx" "$corpus/$(basename "$t").onnx"
  done
fi

# The working corpus grows in a scratch folder; the seeds stay as they are.
work="$build/onnx-corpus-work"
rm -rf "$work" && mkdir -p "$work"
ASAN_OPTIONS=detect_leaks=1 "$build/tests/fuzz/onnx_import_fuzzer" \
  -seed="$seed" -runs="$runs" -max_total_time="$seconds" \
  -timeout=10 -rss_limit_mb=4096 \
  -artifact_prefix="$build/" \
  -print_final_stats=1 "$work" "$corpus" 2>&1 | tail -n 25
