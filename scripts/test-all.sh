#!/bin/bash
# Runs every test: installs the dependencies, builds with warnings as errors, runs the unit,
# golden and root tests (root tests need root: they make their own network namespaces), builds
# the container image with podman and checks it, builds again with ASan+UBSan and runs the tests
# there too, and checks clang-format, the code's shape (scripts/check-shape.py) and the layers
# (scripts/check-layers.py).
# Usage: sudo scripts/test-all.sh        (CI: .ci/run calls exactly this)
set -euo pipefail
cd "$(dirname "$0")/.."
# Each stage's wall time on stderr ("ci: ... s"), so that a CI log shows where the time goes.
last=$SECONDS
stage() {
  echo "ci: $1 took $((SECONDS - last)) s (total $SECONDS s)" >&2
  last=$SECONDS
}
scripts/deps.sh
stage deps
jobs=$(nproc)

cmake -S . -B build -DSNARE_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$jobs"
stage build
# -j: the unit and golden tests run side by side (each makes its own temporary files and binds
# only ephemeral ports); every root test is RUN_SERIAL (tests/CMakeLists.txt), so ctest still runs
# each of them alone.
(cd build && ctest --output-on-failure -j"$jobs")
stage ctest

# The container images, checked by scripts/image.sh: built from the Dockerfile's runtime stages
# with the binaries just built and tested above (stripped and laid out by scripts/rootfs.sh, as the
# Dockerfile's build stage does), not compiled a second time inside the image build: that compile
# and its package installation were about 290 s of this stage.
SNARE_IMAGE_PREBUILT=build scripts/image.sh build/snare
stage image

cmake -S . -B build-asan -DSNARE_WERROR=ON -DCMAKE_BUILD_TYPE=Debug -DSNARE_SANITIZE=address,undefined
cmake --build build-asan -j"$jobs"
stage build-asan
# Every test again on the sanitized binary, root tests included, except root.bare_root: that root
# has no /proc before the test mounts it, which LeakSanitizer needs, and the image it stands for
# is never a sanitized build.
# root.trace_kernel_* and root.trace_nft_readback send every 10th of their packets here
# (IPT_SAMPLE, NFT_SAMPLE): the sanitizers look for memory errors on the same code paths, and the
# first ctest above ran all of them.
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  IPT_SAMPLE=10 NFT_SAMPLE=10 ctest --output-on-failure -j"$jobs" -E '^root\.bare_root$')
stage ctest-asan

files=$(git ls-files 'src/*.cpp' 'src/*.h' 'tests/*.cpp' 'tests/*.h' 'bench/*.cpp' 'bench/*.c' 'bench/*.h')
clang-format --dry-run --Werror $files
echo "clang-format: clean"
# Files at most 500 lines, functions at most 80.
scripts/check-shape.py
echo "code shape: clean"
# Includes between src/'s folders equal docs/DESIGN.md's table, and run in one direction.
scripts/check-layers.py
echo "layers: clean"
stage checks
