#!/bin/bash
# Installs everything snare needs to build and test, from Debian 12's registry only.
# Build: g++ cmake pkg-config and the -dev packages. Tests: iptables (only to read rules back
# with iptables-legacy-save and as the benchmark's anchor), iproute2, ipset (to read ambient-host's
# probe sets back), python3, clang-format.
# Benchmarks: haproxy iperf3 wrk (the relay's anchor and load generators). Image: podman and
# debootstrap (scripts/image.sh builds the Dockerfile with a real engine, from a local base image
# when no registry is reachable).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  g++ cmake make pkg-config git ca-certificates \
  libiptc-dev libnl-3-dev libnl-route-3-dev libmnl-dev libnftnl-dev \
  libfmt-dev catch2 libnftables-dev nlohmann-json3-dev libboost-dev libssl-dev libyaml-cpp-dev \
  iptables iproute2 nftables ipset util-linux procps python3 python3-yaml clang-format \
  haproxy iperf3 wrk dpkg-dev file containernetworking-plugins openssl \
  podman debootstrap fuse-overlayfs slirp4netns uidmap
