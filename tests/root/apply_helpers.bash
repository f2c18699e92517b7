# Helpers for the apply root tests (sourced after tests/lib.sh; .bash so that CTest does not run it).
#
# The kernel is the oracle: every comparison reads the tables back with iptables-legacy-save.

# The conformance data: the shared folder next to the clone, else the copy under tests/golden.
conformance_dir() {
  local d
  for d in "$SNARE_SOURCE_DIR/../shared/conformance/istio" "$SNARE_SOURCE_DIR/tests/golden/istio"; do
    [ -f "$d/cases.tsv" ] && { echo "$d"; return; }
  done
  fail "no conformance data (cases.tsv) found"
}

# nft_conformance_flags NAME: the flags of NAME in istio's conformance table (cases.tsv,
# ambient-cases.tsv) with --native-nftables, as the array `flags`; an ambient configuration's probe
# SNAT source is the peer's .3 / ::3 (10.251.0.3, fd51::3), so that a probe can come from it.
# Sets v6=1 when the flags turn IPv6 on, else 0.
nft_conformance_flags() {
  local dir args
  dir=$(conformance_dir)
  args=$(awk -F'\t' -v n="$1" '$1 == n { print $3 }' "$dir/cases.tsv" "$dir/ambient-cases.tsv")
  [ -n "$args" ] || fail "$1: not in the conformance table"
  eval "flags=($args)"
  flags+=(--native-nftables)
  [ "${flags[0]}" = ambient ] && flags+=(--probe-snat-ipv4 10.251.0.3 --probe-snat-ipv6 fd51::3)
  v6=0
  [[ " ${flags[*]} " == *" --enable-ipv6=true "* ]] && v6=1
  return 0
}

# normalize_save: iptables-save text on stdin -> comparable text on stdout. Drops comments and
# counters, drops tables that hold nothing (no rule, no user chain), and orders tables by name.
normalize_save() {
  sed -e '/^#/d' -e 's/\[[0-9]*:[0-9]*\]/[0:0]/' | awk '
    /^\*/ { t = substr($0, 2); n = 0; keep = 0; split("", L) }
    { L[n++] = $0 }
    /^-A / { keep = 1 }
    /^:/ && ($2 == "-" || $2 != "ACCEPT") { keep = 1 }
    /^COMMIT/ { if (keep) for (i = 0; i < n; i++) printf "%s\t%06d\t%s\n", t, i, L[i] }
  ' | LC_ALL=C sort -t "$(printf '\t')" -k1,1 -k2,2n | cut -f3-
}

# tables NS FAMILY(4|6): the namespace's normalized tables.
tables() {
  local cmd=iptables-legacy-save
  [ "$2" = 6 ] && cmd=ip6tables-legacy-save
  ip netns exec "$1" "$cmd" 2>/dev/null | normalize_save
}

# snapshot NS: both families, for before/after comparisons.
snapshot() { { echo "== v4"; tables "$1" 4; echo "== v6"; tables "$1" 6; }; }

# new_ns NAME: a fresh namespace (lo up), recorded for cleanup; sets NS.
new_ns() {
  ns_new "$1" >/dev/null
  NS="snare-$1-$$"
}

# del_ns NAME: remove a namespace made by new_ns before the test ends.
del_ns() { ip netns del "$1" 2>/dev/null || true; }

# run_in NS ARGS...: snare inside the namespace, with a private /etc/group that has the groups
# the istio goldens name (java 2020, ftp 2021), via a private mount namespace.
SNARE_GROUP_FILE=""
run_in() {
  local ns=$1
  shift
  if [ -z "$SNARE_GROUP_FILE" ]; then
    SNARE_GROUP_FILE=$(mktemp /tmp/snare-group.XXXXXX)
    grep -v -E '^(java|ftp):' /etc/group >"$SNARE_GROUP_FILE"
    printf 'java:x:2020:\nftp:x:2021:\n' >>"$SNARE_GROUP_FILE"
  fi
  ip netns exec "$ns" unshare -m sh -c 'mount --bind "$0" /etc/group && exec "$@"' \
    "$SNARE_GROUP_FILE" "$SNARE" "$@"
}

# add_foreign NS [legacy|nft]: rules someone else owns, in every table snare writes, both
# families, through iptables-legacy (the default) or iptables-nft.
add_foreign() {
  local ns=$1 c
  for c in "iptables-${2:-legacy}" "ip6tables-${2:-legacy}"; do
    ip netns exec "$ns" $c -t nat -A OUTPUT -p udp --dport 9999 -j RETURN
    ip netns exec "$ns" $c -t nat -N FOREIGN_CHAIN
    ip netns exec "$ns" $c -t nat -A FOREIGN_CHAIN -m comment --comment "not snare" -j RETURN
    ip netns exec "$ns" $c -t nat -I PREROUTING 1 -p tcp --dport 7777 -j FOREIGN_CHAIN
    ip netns exec "$ns" $c -t mangle -A PREROUTING -p tcp --dport 8888 -j LOG --log-prefix foreign
    ip netns exec "$ns" $c -t raw -A OUTPUT -p udp --dport 5353 -j NOTRACK
    ip netns exec "$ns" $c -t mangle -A OUTPUT -o lo -p udp -j RETURN
  done
}

# The conformance loops below keep a tally in the callers' globals: ok (1 while the current case
# holds), pass (a count) and failed (the names of the cases that did not hold).

# expect_save_form NS NAME FILE: NS's tables of both families equal FILE.v4.save / FILE.v6.save
# (a family whose file is missing must hold nothing); else prints the difference, naming the case.
expect_save_form() {
  local fam want have rc=0
  for fam in 4 6; do
    want=""
    [ -f "$3.v$fam.save" ] && want=$(normalize_save <"$3.v$fam.save")
    have=$(tables "$1" $fam)
    if [ "$have" != "$want" ]; then
      echo "[$2] v$fam differs from $3.v$fam.save:" >&2
      diff <(echo "$want") <(echo "$have") >&2 || true
      rc=1
    fi
  done
  return $rc
}

# expect_nft_form NS NAME DIR FILE: `nft -j list ruleset` in NS equals DIR/FILE (handles, counters
# and metainfo aside); else prints how it differs, naming the case.
expect_nft_form() {
  local diff
  diff=$(python3 "$SNARE_SOURCE_DIR/tests/root/nft_same.py" "$3/$4" <(ip netns exec "$1" nft -j list ruleset)) &&
    return 0
  echo "[$2] differs from $4: $diff" >&2
  return 1
}

# case_apply NSNAME NAME ARGV...: a fresh namespace for the case (left in ns), ok=1, and the
# case's apply run in it; a failed apply marks the case failed.
case_apply() {
  new_ns "$1"
  ns=$NS
  ok=1
  local name=$2 out
  shift 2
  out=$(run_in "$ns" "$@" 2>&1) || { echo "[$name] apply failed: $out" >&2; ok=0; }
}

# case_done NS NAME: removes the case's namespace and counts the case by $ok.
case_done() {
  del_ns "$1"
  if [ "$ok" = 1 ]; then pass=$((pass + 1)); else failed+=("$2"); fi
}

# cases_summary WHAT [COUNT]: prints the tally; fails naming the failed cases, or when not exactly
# COUNT cases passed (so that a table that lost rows, or a filter that skips them, shows).
cases_summary() {
  echo "$pass passed, ${#failed[@]} failed ${failed[*]:-}"
  [ ${#failed[@]} = 0 ] || fail "$1 failed: ${failed[*]}"
  [ -z "${2:-}" ] || [ "$pass" = "$2" ] || fail "expected $2 $1 to pass, ran $pass"
}

# add_ambient_routing NS FAMILY...: istio's ambient ip rule and table-100 route, as istio-cni adds
# them, for loading istio's own state next to its rules.
add_ambient_routing() {
  local ns=$1 f
  shift
  for f in "$@"; do
    ip -n "$ns" -"$f" rule add fwmark 0x111/0xfff pref 32764 lookup 100
    ip -n "$ns" -"$f" route add local default dev lo table 100
  done
}

# expect_adopted NS NAME WHAT ARGV...: over istio's own WHAT (rules or tables) in NS, `snare
# ambient verify` with the case's flags says equal and an apply commits nothing.
expect_adopted() {
  local ns=$1 name=$2 what=$3 out
  shift 3
  out=$(run_in "$ns" ambient verify "${@:2}" 2>&1) || fail "[$name] verify of istio's $what: $out"
  out=$(run_in "$ns" "$@" 2>&1) || fail "[$name] apply over istio's $what: $out"
  grep -q "nothing committed" <<<"$out" || fail "[$name] apply over istio's $what committed: $out"
}
