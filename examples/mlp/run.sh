#!/usr/bin/env bash
# Compiles mlp.nyx with nyxc, links it with libnyxrt into a C program, runs
# it and compares its outputs with the reference interpreter's.
# Usage: examples/mlp/run.sh BUILD_DIR [WORK_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "$1" && pwd)"
work="${2:-$build/examples/mlp}"
mkdir -p "$work"

set -x
"$build/tools/nyxc" "$here/mlp.nyx" --weights "$here/mlp.safetensors" \
    -o "$work/mlp.o" --header "$work/mlp.h"
cc -O2 -I "$work" -I "$here/../../runtime/include" "$here/main.c" "$work/mlp.o" \
    -L "$build/runtime" -lnyxrt -lm ${NYX_E2E_CFLAGS:-} -o "$work/mlp"
"$work/mlp" --dump-input "$work/input.npy" > /dev/null
"$build/tools/nyx-run" "$here/mlp.nyx" --weights "$here/mlp.safetensors" \
    "$work/input.npy" -o "$work/reference.npy"
"$work/mlp" --reference "$work/reference.npy"
