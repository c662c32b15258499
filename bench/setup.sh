#!/usr/bin/env bash
# Installs the peers bench/run measures Nyx against (Debian packages):
# OpenBLAS (cblas_sgemm), oneDNN (its C API, OpenMP threading), PyTorch and
# NumPy for /usr/bin/python3, and a C compiler for the timing harnesses.
# Usage: bench/setup.sh   (as root, or with sudo available)
set -euo pipefail
packages=(gcc libc6-dev libopenblas-dev libdnnl-dev python3-torch python3-numpy)
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || {
    echo "bench/setup.sh: needs root (or sudo) to install: ${packages[*]}" >&2
    exit 1
  }
  as_root=(sudo)
fi
"${as_root[@]}" apt-get update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y \
  --no-install-recommends "${packages[@]}"
