#!/bin/bash
# Values mean the same wherever they are given, and a bad one is one line on stderr naming the
# flag (or variable) and the value, with exit 2, in every subcommand: the rule flags, their
# environment variables and `snare proxy` share one parser per kind of value (Go's ParseBool
# and ParseDuration). Also the 10-digit prefix lengths that once aborted snare, and the proxy
# settings --check must refuse. No root needed: nothing gets far enough to touch the kernel.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }

# refused WHAT-TO-FIND COMMAND...: exit 2, one line, naming WHAT-TO-FIND.
refused() {
  local want=$1 err rc
  shift
  set +e
  err=$("$@" 2>&1 >/dev/null)
  rc=$?
  set -e
  [ "$rc" = 2 ] || fail "$*: exit $rc, want 2 ($err)"
  [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] || fail "$*: more than one line: $err"
  [[ "$err" == *"$want"* ]] || fail "$*: error does not name $want: $err"
}
accepted() { "$@" >/dev/null 2>&1 || fail "$*: refused"; }

for sub in "" clean verify; do
  for v in 10.0.0.0/2147483648 10.0.0.0/4294967295 10.0.0.0/99999999999; do
    refused "-i (--istio-service-cidr): \"$v\"" "$SNARE" $sub --dry-run -i "$v"
    refused "-x (--istio-service-exclude-cidr): \"$v\"" "$SNARE" $sub -x "$v"
    refused "--host-ipv4-loopback-cidr: \"127.0.0.1/${v#*/}\"" "$SNARE" $sub --host-ipv4-loopback-cidr "127.0.0.1/${v#*/}"
    refused "environment ISTIO_SERVICE_CIDR: \"$v\"" env ISTIO_SERVICE_CIDR="$v" "$SNARE" $sub --dry-run
  done
done

# Booleans: Go's strconv.ParseBool, from a flag or the environment alike.
for t in 1 t T TRUE true True; do
  accepted "$SNARE" --dry-run="$t" --enable-ipv6=false
  accepted env DRY_RUN="$t" "$SNARE" --enable-ipv6=false
  accepted "$SNARE" proxy --check --access-log "$t"
done
for bad in yes on tRUE; do
  refused "--dry-run): \"$bad\"" "$SNARE" --dry-run="$bad"
  refused "environment DRY_RUN: \"$bad\"" env DRY_RUN="$bad" "$SNARE"
  refused "--access-log: \"$bad\"" "$SNARE" proxy --check --access-log "$bad"
done
# Durations: Go's time.ParseDuration; a bare number is an error everywhere.
accepted "$SNARE" --dry-run --enable-ipv6=false --probe-timeout 1.5s
accepted "$SNARE" proxy --check --drain-timeout 1.5s --idle-timeout 1m30s
refused "--probe-timeout: \"5\"" "$SNARE" --dry-run --probe-timeout 5
refused "--drain-timeout: \"5\"" "$SNARE" proxy --check --drain-timeout 5

# snare ambient-host and its probe command: every verb refuses a bad value before anything is
# touched; probe's IP and pod UID each go through their one parser.
for sub in "" clean verify; do
  refused '--probe-snat-ipv4: "10.0.0.300"' "$SNARE" ambient-host $sub --probe-snat-ipv4 10.0.0.300
  refused '--kubelet-uid: "kubelet"' "$SNARE" ambient-host $sub --native-nftables --kubelet-uid kubelet
done
refused '"10.0.0.300" is not an IP address' "$SNARE" ambient-host probe add 10.0.0.300 --pod-uid u1
refused '--pod-uid: "a b" is not a pod UID' "$SNARE" ambient-host probe add 10.0.0.1 --pod-uid "a b"
refused '--pod-uid: "-x" is not a pod UID' "$SNARE" ambient-host probe del 10.0.0.1 --pod-uid=-x
refused '--pod-uid is required' "$SNARE" ambient-host probe del 10.0.0.1
refused 'must be add or del, not "list"' "$SNARE" ambient-host probe list
refused 'environment NATIVE_NFTABLES: "yes"' env NATIVE_NFTABLES=yes \
  "$SNARE" ambient-host probe add 10.0.0.1 --pod-uid u1
refused '--native-nftables: "maybe"' "$SNARE" ambient-host probe add 10.0.0.1 --pod-uid u1 \
  --native-nftables=maybe

# User and group names are resolved once, when the flags are read: an unknown one is refused in
# every subcommand, naming its flag; only the restore-form dry-run (istio's) prints it as given.
# A known one keeps its spelling in that text, and the kernel's form shows its number.
for sub in "" clean verify; do
  refused '--outbound-owner-groups: group "no-such-group-snare"' "$SNARE" $sub \
    --outbound-owner-groups no-such-group-snare
  refused '--proxy-uid: user "no-such-user-snare"' "$SNARE" $sub -u no-such-user-snare
done
refused '--outbound-owner-groups: group "no-such-group-snare"' "$SNARE" --dry-run \
  --output-format=save --outbound-owner-groups no-such-group-snare
out=$("$SNARE" --dry-run --enable-ipv6=false --outbound-owner-groups no-such-group-snare)
[[ "$out" == *"! --gid-owner no-such-group-snare"* ]] || fail "restore dry-run lost the name: $out"
out=$("$SNARE" --dry-run --enable-ipv6=false -u root)
[[ "$out" == *"--uid-owner root"* && "$out" == *"--gid-owner root"* ]] ||
  fail "restore dry-run does not spell root as given: $out"
out=$("$SNARE" --dry-run --enable-ipv6=false --output-format=save -u root)
[[ "$out" == *"--uid-owner 0"* && "$out" == *"--gid-owner 0"* && "$out" != *"-owner root"* ]] ||
  fail "save dry-run does not show root's number: $out"
out=$("$SNARE" --dry-run --native-nftables --enable-ipv6=false -u root)
[[ "$out" == *"skuid root"* ]] || fail "nftables dry-run does not spell root as given: $out"

# What snare proxy would refuse at start, --check refuses too.
refused "--stats-port: \"15001\"" "$SNARE" proxy --check --stats-port 15001
refused "--stats-port: \"15006\"" "$SNARE" proxy --check --stats-port 15006
refused "nothing to listen on" "$SNARE" proxy --check --inbound-port 0 --outbound-port 0
accepted "$SNARE" proxy --check --inbound-port 0
echo ok
