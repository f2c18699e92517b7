#!/bin/bash
# `verify` exits 2 (trouble), not 1 (drift), when it cannot read the namespace, in both modes: a
# path that does not exist, a file that is no namespace, a PID that does not exist, no privilege.
# `clean` exits 1 on the same (a failure, nothing touched).
source "$SNARE_SOURCE_DIR/tests/lib.sh"
source "$SNARE_SOURCE_DIR/tests/root/apply_helpers.bash"
require_root

FLAGS=(-m REDIRECT -b '*' --enable-ipv6=false)
new_ns vt
expect_rc() {  # WANT WHAT CMD...: run CMD, check its exit code
  local want=$1 what=$2 rc=0
  shift 2
  "$@" >/dev/null 2>&1 || rc=$?
  [ "$rc" = "$want" ] || fail "$what: exit $rc, want $want"
}
unpriv=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)
for mode in "" --native-nftables; do
  m=(${mode:+$mode})
  for target in "--network-namespace /nonexistent" "--network-namespace /etc/passwd" "--netns-pid 999999"; do
    read -r -a t <<<"$target"
    expect_rc 2 "verify ${m[*]} $target" "$SNARE" verify "${m[@]}" "${FLAGS[@]}" "${t[@]}"
    expect_rc 1 "clean ${m[*]} $target" "$SNARE" clean "${m[@]}" "${FLAGS[@]}" "${t[@]}"
  done
  expect_rc 2 "unprivileged verify ${m[*]} --network-namespace" \
    "${unpriv[@]}" "$SNARE" verify "${m[@]}" "${FLAGS[@]}" --network-namespace "/run/netns/$NS"
  expect_rc 2 "unprivileged verify ${m[*]} in the namespace" \
    ip netns exec "$NS" "${unpriv[@]}" "$SNARE" verify "${m[@]}" "${FLAGS[@]}"
  # The same namespace, readable: the rules are not there, which is drift.
  expect_rc 1 "verify ${m[*]} of an empty namespace" \
    "$SNARE" verify "${m[@]}" "${FLAGS[@]}" --network-namespace "/run/netns/$NS"
done
echo "PASS verify_trouble"
