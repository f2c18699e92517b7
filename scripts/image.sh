#!/bin/bash
# Builds the image from the Dockerfile with a real engine (podman, from Debian) and checks it:
# the image's dry-run equals the local build's, `snare version` carries the git revision, an apply
# and a `verify` in a fresh network namespace with NET_ADMIN+NET_RAW succeed and leave the rules
# the local build's save-form dry-run names (in iptables and in nftables mode), the CNI image
# (`--target cni`) installs a plugin that answers VERSION, the image has no shell, and its size (reported) is
# under 10 MiB. CI runs it (scripts/test-all.sh); by hand, as root:
#
#   sudo scripts/image.sh [LOCAL_SNARE]        (default build/snare: the dry-run reference)
#
# SNARE_IMAGE_UNIT_TESTS=OFF builds the image without compiling its unit tests (the build stage's
# golden tests still run).
#
# SNARE_IMAGE_PREBUILT=DIR (scripts/test-all.sh sets it to build) builds the images from the
# snare, snare-cni and snare-cni-launcher in DIR, already built from this checkout and tested,
# instead of compiling them a second time in the Dockerfile's build stage (that compile, with its
# package installation, was the whole cost of this stage in CI: about 290 s of 300). The build
# stage is replaced by one that holds what it would have made: the binaries stripped and laid out
# by scripts/rootfs.sh, as the build stage does. The Dockerfile's runtime stages are used as they
# are, and every check below runs on the result.
#
# Where no image registry is reachable (this project's machines reach only Debian's package
# mirror), the base image debian:bookworm-slim is made locally: `debootstrap --variant=minbase
# bookworm`, imported with `podman import` and tagged with the name the Dockerfile uses.
#
# This kind of host needs two workarounds, kept here and not in the Dockerfile:
#   * its cgroups are hybrid (v1 controllers plus a v2 tree on /sys/fs/cgroup/unified), which crun
#     refuses ("cgroups in hybrid mode not supported"): podman runs in a private mount namespace
#     with the v2 tree unmounted, with the cgroupfs manager, and `run` with cgroups disabled;
#   * podman's default rlimits exceed what this host allows: nofile and nproc are passed lower.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "scripts/image.sh: run as root (podman, network namespaces)" >&2; exit 1; }
LOCAL=${1:-build/snare}
[ -x "$LOCAL" ] || { echo "scripts/image.sh: no local snare at $LOCAL (build first)" >&2; exit 1; }
command -v podman >/dev/null || { echo "scripts/image.sh: podman is missing (scripts/deps.sh installs it)" >&2; exit 1; }

IMAGE=localhost/snare:ci
BASE=docker.io/library/debian:bookworm-slim
LIMITS=(--ulimit nofile=20000:20000 --ulimit nproc=32768:32768)
work=$(mktemp -d /var/tmp/snare-image.XXXXXX)
ns="snare-image-$$"
trap 'ip netns del "$ns" 2>/dev/null || true; rm -rf "$work"' EXIT

# podman in a private mount namespace without the cgroup v2 tree (see above).
pod() {
  unshare -m sh -c 'if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified; fi
    exec podman --cgroup-manager=cgroupfs "$@"' podman "$@"
}
run() { pod run --rm --cgroups=disabled "${LIMITS[@]}" "$@"; }
fail() { echo "FAIL: image: $*" >&2; exit 1; }

# 1. The base image: pulled when a registry answers, else made with debootstrap.
if ! pod image exists "$BASE"; then
  if ! timeout 60 podman pull -q "$BASE" >/dev/null 2>&1; then
    echo "image: no registry reachable; making $BASE with debootstrap (minbase)" >&2
    debootstrap --variant=minbase bookworm "$work/base" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 ||
      { tail -20 "$work/debootstrap.log" >&2; fail "debootstrap failed"; }
    tar -C "$work/base" -c . | pod import -q - "$BASE" >/dev/null
    rm -rf "$work/base"
  fi
fi

# 2. Build with the engine's default capabilities (no --cap-add): the tests in the build stage
#    must pass or skip on their own. --network=host only lets apt reach Debian's mirror.
rev=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
ARGS=(--build-arg SNARE_GIT_REV="$rev" --build-arg SNARE_UNIT_TESTS="${SNARE_IMAGE_UNIT_TESTS:-ON}")
CONTEXT=(.)
if [ -n "${SNARE_IMAGE_PREBUILT:-}" ]; then
  pre=$SNARE_IMAGE_PREBUILT
  ctx="$work/context"
  mkdir -p "$ctx" "$work/bin"
  # What the build stage does after compiling: strip, then scripts/rootfs.sh for both roots.
  for b in snare snare-cni snare-cni-launcher; do
    [ -x "$pre/$b" ] || fail "SNARE_IMAGE_PREBUILT: no $pre/$b (build first)"
    strip -o "$work/bin/$b" "$pre/$b"
  done
  scripts/rootfs.sh "$work/bin/snare" "$ctx/rootfs"
  scripts/rootfs.sh "$work/bin/snare" "$ctx/rootfs-cni" "$work/bin/snare-cni" "$work/bin/snare-cni-launcher"
  # The Dockerfile from its first stage after the build stage to its end, behind a build stage
  # that holds the two roots: the runtime stages take only /rootfs and /rootfs-cni from it (a COPY
  # of anything else fails the build here).
  {
    printf 'FROM scratch AS build\nCOPY rootfs/ /rootfs/\nCOPY rootfs-cni/ /rootfs-cni/\n'
    awk '/^FROM / && seen { keep = 1 } /^FROM .* AS build$/ { seen = 1 } keep' Dockerfile
  } >"$work/Dockerfile.prebuilt"
  grep -q '^FROM scratch$' "$work/Dockerfile.prebuilt" || fail "no runtime stage after the build stage in the Dockerfile"
  ARGS=()
  CONTEXT=(-f "$work/Dockerfile.prebuilt" "$ctx")
  echo "image: from the binaries in $pre (the Dockerfile's runtime stages, no compile)"
fi
start=$(date +%s)
pod build -q --network=host "${LIMITS[@]}" "${ARGS[@]}" -t "$IMAGE" "${CONTEXT[@]}" >"$work/build.log" 2>&1 ||
  { tail -40 "$work/build.log" >&2; fail "podman build failed"; }
echo "image: built in $(($(date +%s) - start)) s"

# 3. What it prints: the version with the revision, and the same dry-run as the local build.
grep -q "git $rev" <<<"$(run --network=none "$IMAGE" version)" || fail "snare version in the image lacks git $rev"
FLAGS=(-p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -x '' -b '*' -d 15090,15021,15020 --enable-ipv6=true)
run --network=none "$IMAGE" istio-iptables --dry-run "${FLAGS[@]}" >"$work/image.dry" 2>/dev/null
"$LOCAL" --dry-run "${FLAGS[@]}" >"$work/local.dry" 2>/dev/null
cmp -s "$work/image.dry" "$work/local.dry" || { diff "$work/local.dry" "$work/image.dry" >&2; fail "dry-run differs"; }

# 4. An apply and a verify in a fresh namespace, with the two capabilities snare needs; the kernel
#    must then hold what the local build's save form names.
ip netns add "$ns"
ip -n "$ns" link set lo up
run --network "ns:/var/run/netns/$ns" --cap-add NET_ADMIN,NET_RAW "$IMAGE" "${FLAGS[@]}" 2>"$work/apply.log" ||
  { cat "$work/apply.log" >&2; fail "apply in the image failed"; }
run --network "ns:/var/run/netns/$ns" --cap-add NET_ADMIN,NET_RAW "$IMAGE" verify "${FLAGS[@]}" >"$work/verify.out" 2>&1 ||
  { cat "$work/verify.out" >&2; fail "verify in the image: exit $?"; }
rules() { grep '^-A' | sort; }
"$LOCAL" --dry-run --output-format=save "${FLAGS[@]}" 2>/dev/null | rules >"$work/want"
{ ip netns exec "$ns" iptables-legacy-save; ip netns exec "$ns" ip6tables-legacy-save; } | rules >"$work/have"
cmp -s "$work/want" "$work/have" || { diff "$work/want" "$work/have" >&2; fail "applied rules differ from the dry-run"; }

# 4b. The same in nftables mode (libnftables in the image, no nft binary): in a second namespace,
#     applied, verified, and the kernel's listing equal to the local build's save form.
ns2="${ns}n"
ip netns add "$ns2"
ip -n "$ns2" link set lo up
run --network "ns:/var/run/netns/$ns2" --cap-add NET_ADMIN,NET_RAW "$IMAGE" --native-nftables "${FLAGS[@]}" 2>"$work/apply.log" ||
  { cat "$work/apply.log" >&2; ip netns del "$ns2"; fail "nftables apply in the image failed"; }
run --network "ns:/var/run/netns/$ns2" --cap-add NET_ADMIN,NET_RAW "$IMAGE" verify --native-nftables "${FLAGS[@]}" >"$work/verify.out" 2>&1 ||
  { cat "$work/verify.out" >&2; ip netns del "$ns2"; fail "nftables verify in the image: exit $?"; }
"$LOCAL" --native-nftables --dry-run --output-format=save "${FLAGS[@]}" >"$work/want.json" 2>/dev/null
ip netns exec "$ns2" nft -j list ruleset >"$work/have.json"
ip netns del "$ns2"
python3 tests/root/nft_same.py "$work/want.json" "$work/have.json" >&2 || fail "nftables rules in the image differ from the dry-run"

# 5. No shell and no netfilter binaries; the size.
if run --network=none --entrypoint /bin/sh "$IMAGE" -c true >/dev/null 2>&1; then fail "the image has /bin/sh"; fi
pod create -q --name "snare-image-$$" "$IMAGE" >/dev/null
pod export "snare-image-$$" | tar -t >"$work/files"
pod rm -f "snare-image-$$" >/dev/null
grep -E '(^|/)(sh|bash|dash|busybox|iptables[^/]*|nft)$' "$work/files" | grep -v 'usr/local/bin/istio-iptables$' >&2 &&
  fail "the image holds a shell or a netfilter binary"
size=$(pod image inspect --format '{{.Size}}' "$IMAGE")
echo "image: $IMAGE is $size bytes ($(awk -v s="$size" 'BEGIN { printf "%.2f", s / 1048576 }') MiB), $(wc -l <"$work/files") files; no shell"
[ "$size" -lt $((10 * 1048576)) ] || fail "the image is over 10 MiB"
# 6. The CNI image (`--target cni`, same build stage): it installs the plugin into a bin directory
#    (mounted as the node's would be), and the installed istio-cni answers VERSION on this host.
pod build -q --network=host "${LIMITS[@]}" "${ARGS[@]}" --target cni -t "$IMAGE-cni" "${CONTEXT[@]}" \
  >"$work/build-cni.log" 2>&1 || { tail -40 "$work/build-cni.log" >&2; fail "podman build --target cni failed"; }
mkdir -p "$work/cnibin"
run --network=none -v "$work/cnibin:/host/opt/cni/bin" "$IMAGE-cni" install --cni-bin-dir /host/opt/cni/bin \
  >/dev/null 2>"$work/install.log" || { cat "$work/install.log" >&2; fail "snare-cni install in the CNI image failed"; }
grep -q '"1.0.0"' <<<"$(CNI_COMMAND=VERSION "$work/cnibin/istio-cni")" || fail "the installed istio-cni does not answer VERSION"
size=$(pod image inspect --format '{{.Size}}' "$IMAGE-cni")
echo "image: $IMAGE-cni is $size bytes ($(awk -v s="$size" 'BEGIN { printf "%.2f", s / 1048576 }') MiB); installs $(du -sh "$work/cnibin" | cut -f1) into the bin dir"

# The build stages stay behind as dangling images of several hundred MB each: drop them.
pod image prune -f >/dev/null
echo "image: ok"
