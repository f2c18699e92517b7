# snare's image: a build stage on Debian 12 that builds Release (warnings as errors, as CI does)
# and runs the unit and golden tests (the unit tests unless SNARE_UNIT_TESTS=OFF), and a runtime stage that holds only the stripped binary, the
# shared libraries it links (and libnftables, which it loads in nftables mode) and three /etc files (passwd, group, nsswitch.conf). No shell, no
# iptables or nft binaries. The runtime root is produced by scripts/rootfs.sh, which
# tests/root/bare_root.sh also runs, so that test checks exactly what this image holds.
#
#   docker build --build-arg SNARE_GIT_REV=$(git rev-parse --short=12 HEAD) -t snare .
#   docker run --rm snare istio-iptables --dry-run -p 15001 -z 15006 -u 1337 -m REDIRECT \
#     -i '*' -x '' -b '*' -d 15090,15021,15020
#
# The build needs no capability beyond an engine's defaults: tests that need more skip with the
# reason. scripts/image.sh builds it with podman (and a local base image when no registry is
# reachable) and checks the result; CI runs that script.
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ cmake make pkg-config ca-certificates \
      libiptc-dev libnl-3-dev libnl-route-3-dev libmnl-dev libnftnl-dev \
      libfmt-dev catch2 libnftables-dev nlohmann-json3-dev libboost-dev libssl-dev libyaml-cpp-dev \
      python3 python3-yaml \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# .git stays out of the build context (.dockerignore): the revision comes in as an argument.
ARG SNARE_GIT_REV=unknown
# OFF skips compiling the unit tests (where they already ran on a host build of the same sources
# with the same compiler); the golden tests run here either way. CI (scripts/test-all.sh) does not
# compile here at all: scripts/image.sh with SNARE_IMAGE_PREBUILT puts its host-built, tested
# binaries in place of this stage and builds the runtime stages below as they are.
ARG SNARE_UNIT_TESTS=ON
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DSNARE_WERROR=ON -DSNARE_GIT_REV="$SNARE_GIT_REV" \
      -DSNARE_UNIT_TESTS="$SNARE_UNIT_TESTS" \
 && cmake --build /build -j"$(nproc)" \
 && cd /build && ctest --output-on-failure -L 'unit|golden' \
 && strip /build/snare /build/snare-cni /build/snare-cni-launcher \
 && /src/scripts/rootfs.sh /build/snare /rootfs \
 && /src/scripts/rootfs.sh /build/snare /rootfs-cni /build/snare-cni /build/snare-cni-launcher

# The CNI image (`--target cni`): snare-cni, for a DaemonSet that installs it on every node as
# istio-cni's plugin (packaging/k8s/istio-cni-snare.yaml).
FROM scratch AS cni
COPY --from=build /rootfs-cni/ /
USER 0:0
ENTRYPOINT ["/usr/local/bin/snare-cni"]
CMD ["install", "--cni-bin-dir", "/host/opt/cni/bin", "--watch"]

# The init container's image (the default target).
FROM scratch
COPY --from=build /rootfs/ /
# Root only because iptables needs it (with NET_ADMIN and NET_RAW; see packaging/k8s/).
USER 0:0
ENTRYPOINT ["/usr/local/bin/snare"]
CMD ["--help"]
