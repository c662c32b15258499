#!/usr/bin/env bash
# Exports one PyTorch model to ONNX (export_models.py), compiles it with
# nyxc, links tests/onnx_models/run_model.c against it and libnyxrt, runs
# it on PyTorch's input and checks the output against PyTorch's:
#   max |nyx - torch| / max |torch| <= 1e-4   (over the whole output).
# Exits 77 (skipped) when torch or torchvision is missing.
# Usage: run_model.sh BUILD_DIR WORK_DIR MODEL   (writes WORK_DIR/MODEL/)
# NYX_PYTHON names the interpreter with torch (default /usr/bin/python3).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "$1" && pwd)"
work="$2"
model="$3"
python="${NYX_PYTHON:-/usr/bin/python3}"

if ! "$python" -c 'import numpy, torch, torchvision' 2>/dev/null; then
  echo "skipping: $python cannot import numpy, torch and torchvision"
  exit 77
fi

dir="$work/$model"
rm -rf "$dir" && mkdir -p "$work"
"$python" "$here/export_models.py" "$work" "$model"

"$build/tools/nyxc" "$dir/model.onnx" -o "$dir/model.o" \
    --header "$dir/model.h" --name model
cc -O1 -I "$dir" -I "$here/../../runtime/include" "$here/run_model.c" \
    "$dir/model.o" -L "$build/runtime" -lnyxrt -lm -lpthread \
    ${NYX_E2E_CFLAGS:-} -o "$dir/run_model"
"$dir/run_model" "$dir/input.npy" "$dir/output.npy"

"$python" - "$dir/output.npy" "$dir/expected.npy" <<'PY'
import sys
import numpy as np
got, want = np.load(sys.argv[1]), np.load(sys.argv[2])
if got.shape != want.shape or got.dtype != want.dtype:
    sys.exit(f"output is {got.dtype}{list(got.shape)}; expected "
             f"{want.dtype}{list(want.shape)}")
scale = float(np.max(np.abs(want)))
err = float(np.max(np.abs(got.astype(np.float64) - want)))
rel = err / scale if scale > 0 else err
print(f"max |nyx - torch| = {err:.3g}, max |torch| = {scale:.3g}, "
      f"relative {rel:.3g} (limit 1e-4)")
if not np.isfinite(got).all() or rel > 1e-4:
    sys.exit("output differs from PyTorch's")
PY
