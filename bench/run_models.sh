#!/usr/bin/env bash
# Memory planning and compile time on the benchmark graphs (an MLP
# 784-512-512-10 at batch 32, ResNet-18 at 1x3x224x224, a GPT-2-small block
# at T=128): for each, nyxc -O2 with embedded random weights; prints the
# kernel counts before and after fusion, the bytes of all intermediates, the
# arena after planning, the lower bound (the largest set of values live at
# once) and the wall-clock compile time. Usage: bench/run_models.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${NYX_BUILD_DIR:-$root/build}
nyxc=$build/tools/nyxc
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

/usr/bin/python3 "$root/bench/models/make_models.py" "$work" --weights

stat() { awk -v k="$1" '$2 == k {print $1}' "$2"; }

printf '%-11s %8s %8s %14s %14s %14s %10s %8s\n' model kernels fused \
  intermediates arena lower-bound arena/lb compile
for model in mlp resnet18 gpt2_block; do
  start=$(date +%s.%N)
  "$nyxc" -O2 --stats "$work/$model.nyx" --weights "$work/$model.safetensors" \
    -o "$work/$model.o" 2> "$work/$model.stats"
  end=$(date +%s.%N)
  s="$work/$model.stats"
  arena=$(stat memory-plan.arena-bytes "$s")
  lb=$(stat memory-plan.lower-bound-bytes "$s")
  printf '%-11s %8s %8s %14s %14s %14s %10s %7.2fs\n' "$model" \
    "$(stat fuse.kernels-before "$s")" "$(stat fuse.kernels-after "$s")" \
    "$(stat memory-plan.intermediate-bytes "$s")" "$arena" "$lb" \
    "$(awk -v a="$arena" -v b="$lb" 'BEGIN { printf "%.3f", b ? a / b : 0 }')" \
    "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')"
done
