# The kernel proof of `snare trace` (sourced by tests/root/trace_kernel_*.sh, one per group of
# istio's conformance table; .bash so that CTest does not run it): one pod namespace joined to a
# peer by a veth, in which tests/root/trace_kernel.py applies every configuration of the group in
# turn, checks each packet's trace against where a real connection lands, and cleans.
# run_trace_kernel GROUP: sidecar, nft or ambient.
source "$SNARE_SOURCE_DIR/tests/lib.sh"
require_root
source "$SNARE_SOURCE_DIR/tests/root/apply_helpers.bash"
source "$SNARE_SOURCE_DIR/tests/root/traffic_helpers.bash"

run_trace_kernel() {
  local group=$1
  local dir
  dir=$(conformance_dir)
  POD=$(ns_new "tk${group:0:3}p")
  PEER=$(ns_new "tk${group:0:3}q")
  local dev="tka-$$" peer_dev="tkb-$$"
  join_pod_peer "$dev" "$peer_dev" 10.251.0 fd51
  ip -n "$POD" route add default via 10.251.0.2
  ip -n "$POD" -6 route add default via fd51::2
  # The groups istio's goldens name (java 2020, ftp 2021) in a private /etc/group, for the rule
  # commands, the traces and the driver's sockets alike (a private mount namespace).
  groups=$(mktemp /tmp/snare-group.XXXXXX)
  grep -v -E '^(java|ftp):' /etc/group >"$groups"
  printf 'java:x:2020:\nftp:x:2021:\n' >>"$groups"
  local rc=0
  unshare -m sh -c 'mount --bind "$0" /etc/group && exec "$@"' "$groups" \
    /usr/bin/python3 "$SNARE_SOURCE_DIR/tests/root/trace_kernel.py" "$dir" "$group" "$POD" "$PEER" \
    "${dev:0:15}" "${peer_dev:0:15}" || rc=$?
  rm -f "$groups"
  return "$rc"
}
