#!/usr/bin/env bash
# Configures (once) and builds shardflow into BUILD_DIR (default: build/),
# warnings as errors.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
if [ ! -f "$build_dir/build.ninja" ]; then
  meson setup "$build_dir" -Dwerror=true "$@"
fi
ninja -C "$build_dir"
