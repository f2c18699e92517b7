#!/bin/bash
# Builds the .deb from a Release build: scripts/package-deb.sh [BUILD_DIR] → BUILD_DIR/snare_*.deb
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-release}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF > /dev/null
cmake --build "$build" -j"$(nproc)" --target snare
(cd "$build" && cpack -G DEB > /dev/null)
ls "$build"/snare_*.deb
