# Shared helpers for the root tests (sourced, not run: it has no test of its own).
# Every test makes uniquely named network namespaces and removes them on exit.
set -euo pipefail
# A command that fails under set -e ends a test without a FAIL line of its own: name it. errtrace
# carries the trap into functions and command substitutions.
set -o errtrace
trap 'snare_rc=$?; echo "FAIL: ${BASH_SOURCE[0]}:${LINENO}: \"${BASH_COMMAND}\" exited ${snare_rc}" >&2' ERR
: "${SNARE:?SNARE must name the snare binary (ctest sets it)}"

require_root() {
  if [ "$(id -u)" != 0 ]; then
    if [ "${CI:-}" = true ]; then
      echo "FAIL: root tests must run as root in CI" >&2
      exit 1
    fi
    echo "SKIP: not root" >&2
    exit 77
  fi
}

# ns_new NAME: create a network namespace named snare-<NAME>-<pid>, echo its name, with lo up.
# Callers use it as `ns=$(ns_new x)`, i.e. in a subshell, so the names to remove are kept in a
# file, not in a variable.
SNARE_NETNS=()
SNARE_NETNS_FILE=$(mktemp /tmp/snare-netns.XXXXXX)
ns_new() {
  local n="snare-$1-$$"
  ip netns add "$n" >&2
  echo "$n" >> "$SNARE_NETNS_FILE"
  ip -n "$n" link set lo up
  echo "$n"
}
ns_cleanup() {
  local n
  for n in "${SNARE_NETNS[@]:-}" $(cat "$SNARE_NETNS_FILE" 2>/dev/null); do
    [ -n "$n" ] || continue
    # A server a test left running inside would hold ctest's output pipe open, and ctest would
    # wait for it until the test's timeout: nothing outlives the namespace.
    ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$n" 2>/dev/null || true
  done
  rm -f "$SNARE_NETNS_FILE"
}
trap ns_cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# Extra flags for every rule command of a test (tests/root/nft_*.sh run the iptables tests again
# with --native-nftables).
read -r -a SNARE_RULE_FLAGS <<< "${SNARE_RULE_FLAGS:-}"

# expect_backend NS: the rules are where the mode puts them, and only there: nftables mode
# writes the istio-proxy-* tables and no legacy x_tables rule; iptables mode no nftables table.
expect_backend() {
  local ns=$1
  if [[ " ${SNARE_RULE_FLAGS[*]:-} " == *" --native-nftables "* ]]; then
    grep -q "inet istio-proxy-nat" <<<"$(ip netns exec "$ns" nft list tables)" || fail "$ns: no nftables table"
    [ -z "$(ip netns exec "$ns" iptables-legacy-save | grep '^-A' || true)" ] ||
      fail "$ns: nftables mode wrote legacy iptables rules"
  else
    [ -z "$(ip netns exec "$ns" nft list tables)" ] || fail "$ns: iptables mode left nftables tables"
  fi
}
