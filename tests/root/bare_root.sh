#!/bin/bash
# What the runtime image relies on: snare runs from a root that holds only it, the libraries
# `ldd` names and scripts/rootfs.sh's two /etc files — a dry-run, `istio-iptables` by its link
# name, and a real apply into a fresh network namespace (no iptables binary anywhere in that
# root), read back from outside with iptables-legacy-save.
source "$SNARE_SOURCE_DIR/tests/lib.sh"
require_root
root=$(mktemp -d /tmp/snare-bare.XXXXXX)
cleanup() { umount "$root/proc" 2>/dev/null || true; rm -rf "$root"; ns_cleanup; }
trap cleanup EXIT
bash "$SNARE_SOURCE_DIR/scripts/rootfs.sh" "$SNARE" "$root"
[ ! -e "$root/bin/sh" ] && [ ! -e "$root/usr/sbin/iptables" ] || fail "the bare root holds more than it should"
args=(-p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -x '' -b '*' -d 15090,15021,15020 --enable-ipv6=false)

out=$(chroot "$root" /usr/local/bin/snare --dry-run "${args[@]}") || fail "dry-run failed in the bare root"
diff <(echo "$out") "$SNARE_SOURCE_DIR/rules/sidecar-default.restore" || fail "dry-run differs from rules/sidecar-default.restore"
out=$(chroot "$root" /usr/local/bin/istio-iptables --dry-run "${args[@]}") || fail "istio-iptables link failed"
diff <(echo "$out") "$SNARE_SOURCE_DIR/rules/sidecar-default.restore" || fail "istio-iptables dry-run differs"
chroot "$root" /usr/local/bin/snare version | grep -q libiptc || fail "snare version failed in the bare root"
# istio-proxy resolves from the image's /etc/passwd (as in istio's proxyv2 image)
out=$(chroot "$root" /usr/local/bin/snare --dry-run -b '*' -i '*' --enable-ipv6=false)
grep -q -- "--uid-owner 1337" <<< "$out" || fail "default proxy UID did not resolve to 1337"

ns=$(ns_new bare)
mount -t proc proc "$root/proc"
ip netns exec "$ns" chroot "$root" /usr/local/bin/snare "${args[@]}" || fail "apply failed in the bare root"
got=$(ip netns exec "$ns" iptables-legacy-save -t nat | grep -E '^(-A|:)' | sed 's/ \[[0-9]*:[0-9]*\]$//')
want=$(grep -E '^(-A|:)' "$SNARE_SOURCE_DIR/rules/sidecar-default.save" | sed 's/ \[[0-9]*:[0-9]*\]$//')
diff <(echo "$want") <(echo "$got") || fail "applied rules differ from rules/sidecar-default.save"
echo "1 passed, 0 failed"
