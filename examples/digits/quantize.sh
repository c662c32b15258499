#!/usr/bin/env bash
# Trains the digits MLP and CNN, saves each one's weights and the training
# rows, compiles two inference objects of each with those weights
# embedded, one f32 and one `--quantize=int8` calibrated on the training
# rows, and compares them on the test split; fails when their top-1
# classes agree on fewer than 99% of the test rows. See README.md,
# "Quantized".
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

# Per-model training settings, as in run.sh.
declare -A train_options=(
  [mlp]="--epochs 50 --lr 2e-2"
  [cnn]="--epochs 30 --lr 2e-2"
)

set -x
for model in mlp cnn; do
  upper="$(echo "$model" | tr '[:lower:]' '[:upper:]')"
  "$nyxc" "$here/$model.nyx" --train --loss=cross-entropy --optimizer=adam \
    --name "$model" -o "$work/$model.o" --header "$work/$model.h"
  cc "${cflags[@]}" -I "$work" -I "$runtime_include" \
    -DMODEL="$model" -DMODEL_UPPER="$upper" -DMODEL_HEADER="\"$model.h\"" \
    "$here/train.c" "$here/model.c" "$here/digits_data.c" "$work/$model.o" \
    "${link[@]}" -o "$work/train_$model"
  # shellcheck disable=SC2086 # the options are words
  "$work/train_$model" ${train_options[$model]} \
    --save-weights "$work/$model.safetensors" \
    --save-calibration "$work/$model-calibration.safetensors"

  "$nyxc" "$here/$model.nyx" --weights "$work/$model.safetensors" \
    --name "${model}_f32" -o "$work/${model}_f32.o"
  "$nyxc" "$here/$model.nyx" --weights "$work/$model.safetensors" \
    --name "${model}_int8" --quantize=int8 \
    --calibrate="$work/$model-calibration.safetensors" "$@" \
    -o "$work/${model}_int8.o"
  ls -l "$work/${model}_f32.o" "$work/${model}_int8.o"
  cc "${cflags[@]}" -I "$work" -I "$runtime_include" \
    -DREF="${model}_f32" -DREF_UPPER="${upper}_F32" \
    -DREF_HEADER="\"${model}_f32.h\"" \
    -DQUANT="${model}_int8" -DQUANT_UPPER="${upper}_INT8" \
    -DQUANT_HEADER="\"${model}_int8.h\"" \
    "$here/compare.c" "$here/digits_data.c" "$work/${model}_f32.o" \
    "$work/${model}_int8.o" "${link[@]}" -o "$work/compare_$model"
  "$work/compare_$model" --min-agreement 0.99
done
