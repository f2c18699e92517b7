# snare's image: a build stage on Debian 12 that builds Release and runs the unit and golden
# tests, and a runtime stage that holds only the binary, the shared libraries it links
# (libip4tc/libip6tc, libnl-3/route-3, libmnl, libnftnl, glibc) and two /etc files. No shell, no
# iptables binaries. The runtime root is produced by scripts/rootfs.sh, which
# tests/root/bare_root.sh also runs, so the test checks exactly what this image holds.
#
#   docker build -t snare .
#   docker run --rm snare istio-iptables --dry-run -p 15001 -z 15006 -u 1337 -m REDIRECT \
#     -i '*' -x '' -b '*' -d 15090,15021,15020
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ cmake make pkg-config git ca-certificates \
      libiptc-dev libnl-3-dev libnl-route-3-dev libmnl-dev libnftnl-dev \
      libcli11-dev libfmt-dev catch2 python3 python3-yaml \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DSNARE_WERROR=ON \
 && cmake --build /build -j"$(nproc)" \
 && cd /build && ctest --output-on-failure -L 'unit|golden' \
 && strip /build/snare \
 && /src/scripts/rootfs.sh /build/snare /rootfs

FROM scratch
COPY --from=build /rootfs/ /
# Root only because iptables needs it (with NET_ADMIN and NET_RAW; see packaging/k8s/).
USER 0:0
ENTRYPOINT ["/usr/local/bin/snare"]
CMD ["--help"]
