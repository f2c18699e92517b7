# Shared helpers for the root tests (sourced, not run: it has no test of its own).
# Every test makes uniquely named network namespaces and removes them on exit.
set -euo pipefail
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
SNARE_NETNS=()
ns_new() {
  local n="snare-$1-$$"
  ip netns add "$n" >&2
  ip -n "$n" link set lo up
  SNARE_NETNS+=("$n")
  echo "$n"
}
ns_cleanup() {
  local n
  for n in "${SNARE_NETNS[@]:-}"; do
    [ -n "$n" ] && ip netns del "$n" 2>/dev/null || true
  done
}
trap ns_cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
