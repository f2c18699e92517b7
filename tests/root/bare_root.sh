#!/bin/bash
# What the runtime image relies on: snare runs from a root that holds only it, the libraries
# `ldd` names and scripts/rootfs.sh's two /etc files — a dry-run, `istio-iptables` by its link
# name, and a real apply into a fresh network namespace (no iptables or nft binary anywhere in
# that root), read back from outside with iptables-legacy-save; the same in nftables mode, read
# back with nft.
source "$SNARE_SOURCE_DIR/tests/lib.sh"
require_root
root=$(mktemp -d /tmp/snare-bare.XXXXXX)
cleanup() { umount "$root/proc" 2>/dev/null || true; rm -rf "$root"; ns_cleanup; }
trap cleanup EXIT
bash "$SNARE_SOURCE_DIR/scripts/rootfs.sh" "$SNARE" "$root"
[ ! -e "$root/bin/sh" ] && [ ! -e "$root/usr/sbin/iptables" ] && [ ! -e "$root/usr/sbin/nft" ] || fail "the bare root holds more than it should"
args=(-p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -x '' -b '*' -d 15090,15021,15020 --enable-ipv6=false)

out=$(chroot "$root" /usr/local/bin/snare --dry-run "${args[@]}") || fail "dry-run failed in the bare root"
diff <(echo "$out") "$SNARE_SOURCE_DIR/rules/sidecar-default.restore" || fail "dry-run differs from rules/sidecar-default.restore"
out=$(chroot "$root" /usr/local/bin/istio-iptables --dry-run "${args[@]}") || fail "istio-iptables link failed"
diff <(echo "$out") "$SNARE_SOURCE_DIR/rules/sidecar-default.restore" || fail "istio-iptables dry-run differs"
grep -q libiptc <<<"$(chroot "$root" /usr/local/bin/snare version)" || fail "snare version failed in the bare root"
# istio-proxy resolves from the image's /etc/passwd (as in istio's proxyv2 image)
out=$(chroot "$root" /usr/local/bin/snare --dry-run -b '*' -i '*' --enable-ipv6=false)
grep -q -- "--uid-owner 1337" <<< "$out" || fail "default proxy UID did not resolve to 1337"

ns=$(ns_new bare)
mount -t proc proc "$root/proc"
ip netns exec "$ns" chroot "$root" /usr/local/bin/snare "${args[@]}" || fail "apply failed in the bare root"
got=$(ip netns exec "$ns" iptables-legacy-save -t nat | grep -E '^(-A|:)' | sed 's/ \[[0-9]*:[0-9]*\]$//')
want=$(grep -E '^(-A|:)' "$SNARE_SOURCE_DIR/rules/sidecar-default.save" | sed 's/ \[[0-9]*:[0-9]*\]$//')
diff <(echo "$want") <(echo "$got") || fail "applied rules differ from rules/sidecar-default.save"

# nftables mode: libnftables comes along (loaded at run time), and no nft binary is needed.
ns=$(ns_new barenft)
ip netns exec "$ns" chroot "$root" /usr/local/bin/snare --native-nftables "${args[@]}" ||
  fail "nftables apply failed in the bare root"
chroot "$root" /usr/local/bin/snare --native-nftables --dry-run --output-format=save "${args[@]}" >"$root/tmp/want.json" ||
  fail "nftables save-form dry-run failed in the bare root"
ip netns exec "$ns" nft -j list ruleset >"$root/tmp/have.json"
python3 "$SNARE_SOURCE_DIR/tests/root/nft_same.py" "$root/tmp/want.json" "$root/tmp/have.json" ||
  fail "nftables rules applied in the bare root differ from the save-form dry-run"
ip netns exec "$ns" chroot "$root" /usr/local/bin/snare verify --native-nftables "${args[@]}" >/dev/null ||
  fail "nftables verify in the bare root found drift"
echo "1 passed, 0 failed"
