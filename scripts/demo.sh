#!/usr/bin/env bash
# The main job: set up and build, then compile examples/mlp with nyxc, link it
# into a C program with libnyxrt, run it and print its outputs next to the
# reference interpreter's.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
examples/mlp/run.sh "${NYX_BUILD_DIR:-build}"
