#!/usr/bin/env bash
# The reduction and normalization kernels of two Nyx builds side by side:
# every case here is compiled with each build's nyxc at -O2 and pair_bench
# times the two alternately in one process (and checks that they agree).
# Usage: bench/reductions/run.sh BEFORE_BUILD_DIR AFTER_BUILD_DIR [ITERS] [THREADS]
# pair_bench prints ratio = before time / after time (above 1: faster now).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
before=${1:?usage: run.sh BEFORE_BUILD_DIR AFTER_BUILD_DIR [ITERS] [THREADS]}
after=${2:?usage: run.sh BEFORE_BUILD_DIR AFTER_BUILD_DIR [ITERS] [THREADS]}
iters=${3:-51}
threads=${4:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cc -O2 -rdynamic -I"$root/runtime/include" "$root/bench/pair_bench.c" \
  -Wl,--whole-archive "$after/runtime/libnyxrt.a" -Wl,--no-whole-archive \
  -o "$work/pair_bench" -ldl -lm -lpthread

# The byte sizes of a model's inputs and outputs, from its header.
sizes() {
  local kind=$1 header=$2
  grep -E "_${kind}_[A-Z0-9_]+_BYTES " "$header" | awk '{print $3}' |
    sed 's/[^0-9]//g' | paste -sd, -
}

printf '%s\n' "case: after vs before (nyxc -O2); ratio = before/after"
for model in "$root"/bench/reductions/*.nyx; do
  case=$(basename "$model" .nyx)
  for variant in after before; do
    "${!variant}/tools/nyxc" "$model" -O2 --name "$variant" \
      -o "$work/$variant.o" --header "$work/$variant.h"
    cc -shared -o "$work/$variant.so" "$work/$variant.o" -lm
  done
  printf '%-24s ' "$case"
  NYX_NUM_THREADS=$threads "$work/pair_bench" "$work/after.so" after \
    "$work/before.so" before "$iters" "$(sizes INPUT "$work/after.h")" \
    "$(sizes OUTPUT "$work/after.h")"
done
