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
