#!/bin/bash
# The .deb builds (CPack, from this build tree), declares the package of every shared library the
# binary needs (its DT_NEEDED entries, each found with dpkg -S at the path the loader resolves it
# to) as a dependency and libnftables1 (loaded at run time in nftables mode) as a recommendation,
# installs with dpkg into a scratch root, and the installed snare and istio-iptables run.
source "$SNARE_SOURCE_DIR/tests/lib.sh"
require_root
work=$(mktemp -d /tmp/snare-deb.XXXXXX)
trap 'rm -rf "$work"; ns_cleanup' EXIT
(cd "$SNARE_BUILD_DIR" && cpack -G DEB -B "$work/out" > "$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; fail "cpack failed"; }
deb=$(ls "$work"/out/snare_*.deb)
depends=$(dpkg-deb -f "$deb" Depends)
dpkg-deb -x "$deb" "$work/x"
needed=$(readelf -d "$work/x/usr/bin/snare" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p')
[ -n "$needed" ] || fail "no DT_NEEDED in the packaged binary"
for so in $needed; do
  # The path the loader uses: a bare name can match another architecture's copy (lib32).
  path=$(ldd "$work/x/usr/bin/snare" | awk -v so="$so" '$1 == so && $3 ~ /^\// {print $3}
    $1 ~ "/" so "$" {print $1}')
  [ -n "$path" ] || fail "the loader does not find $so"
  # With merged /usr a package registers either /lib/... or /usr/lib/...: try both.
  pkg=""
  for p in "$path" "/usr$path" "${path#/usr}"; do
    pkg=$(dpkg -S "$p" 2>/dev/null | head -1 | cut -d: -f1) || true
    [ -z "$pkg" ] || break
  done
  [ -n "$pkg" ] || fail "no installed package holds $so"
  grep -q "$pkg" <<< "$depends" || fail "Depends lacks $pkg (for $so): $depends"
done
grep -q libnftables1 <<<"$(dpkg-deb -f "$deb" Recommends)" || fail "Recommends lacks libnftables1"
root="$work/root"
mkdir -p "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/info"
touch "$root/var/lib/dpkg/status"
dpkg --root="$root" --force-depends --force-not-root -i "$deb" > /dev/null 2>&1 || fail "dpkg -i failed"
grep -q "Status: install ok installed" <<<"$(dpkg --root="$root" -s snare)" || fail "snare not installed"
[ -L "$root/usr/bin/istio-iptables" ] || fail "no istio-iptables link"
grep -q "^snare " <<<"$("$root/usr/bin/snare" version)" || fail "installed snare does not run"
grep -q "ISTIO_REDIRECT" <<<"$("$root/usr/bin/istio-iptables" --dry-run -b '*' -i '*' --enable-ipv6=false)" || fail "istio-iptables does not run"
dpkg --root="$root" -r snare > /dev/null || fail "dpkg -r failed"
[ ! -e "$root/usr/bin/snare" ] || fail "snare left behind after removal"
echo "1 passed, 0 failed"
