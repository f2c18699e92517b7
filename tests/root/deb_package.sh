#!/bin/bash
# The .deb builds (CPack, from this build tree), declares the libraries it links as dependencies,
# installs with dpkg into a scratch root, and the installed snare and istio-iptables run.
source "$SNARE_SOURCE_DIR/tests/lib.sh"
require_root
work=$(mktemp -d /tmp/snare-deb.XXXXXX)
trap 'rm -rf "$work"; ns_cleanup' EXIT
(cd "$SNARE_BUILD_DIR" && cpack -G DEB -B "$work/out" > "$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; fail "cpack failed"; }
deb=$(ls "$work"/out/snare_*.deb)
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libip4tc2 libip6tc2 libnl-3-200 libnl-route-3-200 libmnl0 libnftnl11 libc6; do
  grep -q "$lib" <<< "$depends" || fail "Depends lacks $lib: $depends"
done
root="$work/root"
mkdir -p "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/info"
touch "$root/var/lib/dpkg/status"
dpkg --root="$root" --force-depends --force-not-root -i "$deb" > /dev/null 2>&1 || fail "dpkg -i failed"
dpkg --root="$root" -s snare | grep -q "Status: install ok installed" || fail "snare not installed"
[ -L "$root/usr/bin/istio-iptables" ] || fail "no istio-iptables link"
"$root/usr/bin/snare" version | grep -q "^snare " || fail "installed snare does not run"
"$root/usr/bin/istio-iptables" --dry-run -b '*' -i '*' --enable-ipv6=false | grep -q "ISTIO_REDIRECT" || fail "istio-iptables does not run"
dpkg --root="$root" -r snare > /dev/null || fail "dpkg -r failed"
[ ! -e "$root/usr/bin/snare" ] || fail "snare left behind after removal"
echo "1 passed, 0 failed"
