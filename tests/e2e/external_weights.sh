#!/usr/bin/env bash
# Builds examples/mlp with embedded and with external weights into one C
# program and runs tests/e2e/external_weights_main.c.
# Usage: external_weights.sh BUILD_DIR WORK_DIR
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
build="$(cd "$1" && pwd)"
work="$2"
rm -rf "$work" && mkdir -p "$work"
nyxc="$build/tools/nyxc"
model="$src/examples/mlp/mlp.nyx"
weights="$src/examples/mlp/mlp.safetensors"

"$nyxc" "$model" --weights "$weights" --name embedded -o "$work/embedded.o"
"$nyxc" "$model" --weights "$weights" --weights=external --name external \
    -o "$work/external.o" --weights-out "$work/external.safetensors"
test -f "$work/external.safetensors"
# A weights file whose fc1.weight has the wrong shape.
python3 "$src/tests/lit/Inputs/make_safetensors.py" "$work/bad.safetensors" \
    fc1.weight:F32:64x128 fc1.bias:F32:128 fc2.weight:F32:10x128 fc2.bias:F32:10
cc -O1 -I "$work" -I "$src/runtime/include" "$src/tests/e2e/external_weights_main.c" \
    "$work/embedded.o" "$work/external.o" -L "$build/runtime" -lnyxrt -lm \
    ${NYX_E2E_CFLAGS:-} -o "$work/external_weights"
"$work/external_weights" "$work/external.safetensors" "$work/missing.safetensors" \
    "$work/bad.safetensors"
