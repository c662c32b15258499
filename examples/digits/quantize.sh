#!/usr/bin/env bash
# Trains the digits MLP, saves its weights and the training rows, compiles
# two inference objects from mlp.nyx with those weights embedded, one f32
# and one `--quantize=int8` calibrated on the training rows, and compares
# them on the test split; fails when their top-1 classes agree on fewer
# than 99% of the test rows. See README.md, "Quantized".
#
# Usage: examples/digits/quantize.sh BUILD_DIR [WORK_DIR] [-- NYXC_OPTIONS...]
#        (WORK_DIR defaults to BUILD_DIR/examples/digits-int8)
# NYXC_OPTIONS go to the int8 compile, e.g. --calibration-observer=entropy.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
runtime_include="$here/../../runtime/include"
# shellcheck disable=SC2206 # NYX_E2E_CFLAGS holds several flags
cflags=(-O2 -std=c11 -Wall -Wextra ${NYX_E2E_CFLAGS:-})

build="$(cd "${1:?usage: quantize.sh BUILD_DIR [WORK_DIR] [-- NYXC_OPTIONS...]}" && pwd)"
shift
work="$build/examples/digits-int8"
if [[ $# -gt 0 && "$1" != "--" ]]; then
  work="$1"
  shift
fi
[[ "${1:-}" == "--" ]] && shift
mkdir -p "$work"
nyxc="$build/tools/nyxc"
link=(-L "$build/runtime" -lnyxrt -lz -lm -lpthread)

set -x
"$nyxc" "$here/mlp.nyx" --train --loss=cross-entropy --optimizer=adam \
  --name mlp -o "$work/mlp.o" --header "$work/mlp.h"
cc "${cflags[@]}" -I "$work" -I "$runtime_include" \
  -DMODEL=mlp -DMODEL_UPPER=MLP -DMODEL_HEADER='"mlp.h"' \
  "$here/train.c" "$here/model.c" "$here/digits_data.c" "$work/mlp.o" \
  "${link[@]}" -o "$work/train_mlp"
"$work/train_mlp" --epochs 50 --lr 2e-2 \
  --save-weights "$work/mlp.safetensors" \
  --save-calibration "$work/calibration.safetensors"

"$nyxc" "$here/mlp.nyx" --weights "$work/mlp.safetensors" --name mlp_f32 \
  -o "$work/mlp_f32.o"
"$nyxc" "$here/mlp.nyx" --weights "$work/mlp.safetensors" --name mlp_int8 \
  --quantize=int8 --calibrate="$work/calibration.safetensors" "$@" \
  -o "$work/mlp_int8.o"
ls -l "$work/mlp_f32.o" "$work/mlp_int8.o"
cc "${cflags[@]}" -I "$work" -I "$runtime_include" \
  -DREF=mlp_f32 -DREF_UPPER=MLP_F32 -DREF_HEADER='"mlp_f32.h"' \
  -DQUANT=mlp_int8 -DQUANT_UPPER=MLP_INT8 -DQUANT_HEADER='"mlp_int8.h"' \
  "$here/compare.c" "$here/digits_data.c" "$work/mlp_f32.o" \
  "$work/mlp_int8.o" "${link[@]}" -o "$work/compare_mlp"
"$work/compare_mlp" --min-agreement 0.99
