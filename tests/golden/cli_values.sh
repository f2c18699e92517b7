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

# What snare proxy would refuse at start, --check refuses too.
refused "--stats-port: \"15001\"" "$SNARE" proxy --check --stats-port 15001
refused "--stats-port: \"15006\"" "$SNARE" proxy --check --stats-port 15006
refused "nothing to listen on" "$SNARE" proxy --check --inbound-port 0 --outbound-port 0
accepted "$SNARE" proxy --check --inbound-port 0
echo ok
