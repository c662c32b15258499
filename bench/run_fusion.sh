#!/usr/bin/env bash
# Fused vs unfused, side by side in one process per case and thread count:
# each case is compiled with nyxc -O2 (the standard pipeline) and with the
# same pipeline minus `fuse`, and pair_bench times both and checks that
# they agree. The cases: the elementwise chain and the softmax/layer_norm
# pipeline of bench/fusion, then the GPT-2 block and ResNet-18 graphs of
# bench/models with random weights. NumPy runs the elementwise chain as a
# peer (preallocated outputs, one temporary).
# Usage: bench/run_fusion.sh [ITERS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${NYX_BUILD_DIR:-$root/build}
nyxc=$build/tools/nyxc
iters=${1:-15}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cc -O2 -rdynamic -I"$root/runtime/include" "$root/bench/pair_bench.c" \
  -Wl,--whole-archive "$build/runtime/libnyxrt.a" -Wl,--no-whole-archive \
  -o "$work/pair_bench" -ldl -lm -lpthread

fused=$("$nyxc" -O2 --print-pipeline)
unfused=$(echo "$fused" | sed -e 's/,fuse,/,/')
if [ "$fused" = "$unfused" ]; then
  echo "run_fusion.sh: no 'fuse' in the -O2 pipeline ($fused)" >&2
  exit 1
fi

# The byte sizes of a model's inputs and outputs, from its header.
sizes() {
  local kind=$1 header=$2
  grep -E "_${kind}_[A-Z0-9_]+_BYTES " "$header" | awk '{print $3}' |
    sed 's/[^0-9]//g' | paste -sd, -
}

/usr/bin/python3 "$root/bench/models/make_models.py" "$work/models" --weights

printf '%s\n' "case: fused (nyxc -O2) vs unfused (-O2 without fuse); ratio = unfused/fused"
for case in chain softmax_layernorm gpt2_block resnet18; do
  model=$root/bench/fusion/$case.nyx
  weights=()
  if [ ! -f "$model" ]; then
    model=$work/models/$case.nyx
    weights=(--weights "$work/models/$case.safetensors")
  fi
  for variant in fused unfused; do
    pipeline=${!variant}
    "$nyxc" "$model" "${weights[@]}" --passes="$pipeline" --name "$variant" \
      -o "$work/$variant.o" --header "$work/$variant.h"
    cc -shared -o "$work/$variant.so" "$work/$variant.o" -lm
  done
  ins=$(sizes INPUT "$work/fused.h")
  outs=$(sizes OUTPUT "$work/fused.h")
  for threads in 1 2; do
    printf '%-18s ' "$case"
    NYX_NUM_THREADS=$threads "$work/pair_bench" "$work/fused.so" fused \
      "$work/unfused.so" unfused "$iters" "$ins" "$outs"
  done
done

/usr/bin/python3 - "$iters" <<'PY'
import sys, time
import numpy as np
iters = int(sys.argv[1])
x = np.random.default_rng(1).uniform(-1, 1, 16777216).astype(np.float32)
a, b = np.float32(0.5), np.float32(0.25)
y = np.empty_like(x); t = np.empty_like(x)
times = []
for i in range(iters + 2):
    s = time.perf_counter()
    np.multiply(x, a, out=t); np.add(t, b, out=t); np.tanh(t, out=t)
    np.negative(x, out=y); np.exp(y, out=y); np.add(y, 1, out=y)
    np.divide(t, y, out=y)
    if i >= 2:
        times.append((time.perf_counter() - s) * 1e3)
print(f"{'chain (NumPy)':<18} {'numpy':<10} {sorted(times)[len(times)//2]:10.3f} ms  threads 1")
PY
