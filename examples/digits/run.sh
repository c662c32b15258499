#!/usr/bin/env bash
# Compiles mlp.nyx and cnn.nyx with `nyxc --train`, links each with the
# generic training program and libnyxrt, and trains both on the scikit-learn
# digits, failing when a test accuracy is below 97%.
#
# Usage: examples/digits/run.sh BUILD_DIR [WORK_DIR] [-- TRAIN_OPTIONS...]
#        (WORK_DIR defaults to BUILD_DIR/examples/digits, also when empty)
#        examples/digits/run.sh --check-data [WORK_DIR]
# --check-data builds and runs only the data checks (no nyxc, no model).
# TRAIN_OPTIONS go to both trainers (see `train_mlp --help`), after the
# per-model ones below, so they override them.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
runtime_include="$here/../../runtime/include"
# shellcheck disable=SC2206 # NYX_E2E_CFLAGS holds several flags
cflags=(-O2 -std=c11 -Wall -Wextra ${NYX_E2E_CFLAGS:-})

if [[ "${1:-}" == "--check-data" ]]; then
  work="${2:-${TMPDIR:-/tmp}/nyx-digits-check}"
  mkdir -p "$work"
  set -x
  cc "${cflags[@]}" "$here/check_data.c" "$here/digits_data.c" -lz -lm \
    -o "$work/check_data"
  "$work/check_data"
  exit
fi

build="$(cd "${1:?usage: run.sh BUILD_DIR [WORK_DIR] [-- TRAIN_OPTIONS...]}" && pwd)"
shift
work="$build/examples/digits"
if [[ $# -gt 0 && "$1" != "--" ]]; then
  work="${1:-$work}"
  shift
fi
[[ "${1:-}" == "--" ]] && shift
mkdir -p "$work"

# Per-model settings; see README.md for how they were chosen.
declare -A model_options=(
  [mlp]="--epochs 50 --lr 2e-2"
  [cnn]="--epochs 30 --lr 2e-2"
)

# Both models run even when the first falls short; the exit status is that
# of the last trainer that failed, 0 if neither did.
status=0
set -x
for model in mlp cnn; do
  upper="$(echo "$model" | tr '[:lower:]' '[:upper:]')"
  "$build/tools/nyxc" "$here/$model.nyx" --train --loss=cross-entropy \
    --optimizer=adam --name "$model" \
    -o "$work/$model.o" --header "$work/$model.h"
  cc "${cflags[@]}" -I "$work" -I "$runtime_include" \
    -DMODEL="$model" -DMODEL_UPPER="$upper" -DMODEL_HEADER="\"$model.h\"" \
    "$here/train.c" "$here/model.c" "$here/digits_data.c" "$work/$model.o" \
    -L "$build/runtime" -lnyxrt -lz -lm -lpthread -o "$work/train_$model"
  # shellcheck disable=SC2086 # the options are words
  "$work/train_$model" ${model_options[$model]} --min-accuracy 0.97 "$@" ||
    status=$?
done
exit "$status"
