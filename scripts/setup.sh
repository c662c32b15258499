#!/usr/bin/env bash
# Installs what Nyx needs on Debian bookworm (only the missing packages) and
# configures and builds it into build/ (or $NYX_BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake ninja-build g++ llvm-19-dev llvm-19-tools nlohmann-json3-dev
          libabsl-dev libgtest-dev python3 python3-numpy
          libonnx-dev libprotobuf-dev protobuf-compiler libonnx-testdata
          python3-onnx python3-torch python3-torchvision clang-19
          libclang-rt-19-dev python3-sklearn zlib1g-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
fi

build="${NYX_BUILD_DIR:-build}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="${NYX_BUILD_TYPE:-Release}" ${NYX_CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j "$(nproc)"
