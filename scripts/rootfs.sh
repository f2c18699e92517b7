#!/bin/bash
# Lays out the runtime image's root filesystem: the snare binary, the istio-iptables link, the
# shared libraries `ldd` names (and the loader), libnftables and the libraries it needs (snare
# loads it at run time in nftables mode, so `ldd` cannot name it), a minimal /etc/passwd and /etc/group with root
# and istio-proxy (1337, as in istio's proxyv2 image), and an empty /run for the xtables lock.
# The Dockerfile's runtime stage is exactly this folder; tests/root/bare_root.sh runs snare in it.
# With SNARE_CNI and LAUNCHER it lays out the CNI image instead: snare-cni (and `istio-cni`, a link
# to it), the static launcher `snare-cni install` puts on nodes, and snare-cni's libraries too.
# usage: scripts/rootfs.sh SNARE_BINARY OUTDIR [SNARE_CNI LAUNCHER]
set -euo pipefail
bin=$1
out=$2
cni=${3:-}
launcher=${4:-}
mkdir -p "$out/usr/local/bin" "$out/etc" "$out/run" "$out/tmp" "$out/proc"
chmod 1777 "$out/tmp"
install -m 0755 "$bin" "$out/usr/local/bin/snare"
ln -sf snare "$out/usr/local/bin/istio-iptables"
# libnftables.so.1 where the loader finds it (ldconfig's cache), for dlopen.
nftables=$(ldconfig -p | awk '$1 == "libnftables.so.1" && /x86-64|x86_64|64bit/ && !found {print $NF; found = 1}')
[ -n "$nftables" ] || { echo "rootfs.sh: libnftables.so.1 not found (Debian: libnftables1)" >&2; exit 1; }
if [ -n "$cni" ]; then
  install -m 0755 "$cni" "$out/usr/local/bin/snare-cni"
  install -m 0755 "$launcher" "$out/usr/local/bin/snare-cni-launcher"
  ln -sf snare-cni "$out/usr/local/bin/istio-cni"
fi
{ ldd "$bin"; [ -z "$cni" ] || ldd "$cni"; echo "	libnftables.so.1 => $nftables (0)"; ldd "$nftables"; } |
  awk '/=> \// {print $3} /^[ \t]*\/[^ ]+ \(/ {print $1}' | sort -u | while read -r lib; do
  mkdir -p "$out$(dirname "$lib")"
  cp -L "$lib" "$out$lib"
done
# Debian's loader path is /lib64/ld-linux-x86-64.so.2 → keep the same path in the image.
printf 'root:x:0:0:root:/root:/sbin/nologin\nistio-proxy:x:1337:1337:istio-proxy:/:/sbin/nologin\n' > "$out/etc/passwd"
printf 'root:x:0:\nistio-proxy:x:1337:\n' > "$out/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$out/etc/nsswitch.conf"
