#!/bin/bash
# snare-cni's ADD is bounded in time and retries only what can get better (a runtime gives a CNI
# call about 2 minutes; an error object that comes later is never seen):
#   - an API server that accepts and never answers: with snare_add_timeout_seconds 3 the error
#     object comes within 3 s and a little (before: 30 x (5 s + 1 s));
#   - an unknown CA, a name not in the server's certificate, a missing CA file and a URL scheme
#     that is not http(s) fail at once, after one attempt;
#   - an answer over the 4 MiB cap is an error object, not read to the end;
#   - a server name whose DNS server never answers: the error object still comes within the
#     ADD's 2 s (glibc's lookup alone would wait 5 s per try).
source "$SNARE_SOURCE_DIR/tests/lib.sh"
source "$SNARE_SOURCE_DIR/tests/root/apply_helpers.bash"
require_root
source "$SNARE_SOURCE_DIR/tests/cni/cni_lib.sh"
SNARE_CNI_LINK=$(dirname "$SNARE_CNI")/istio-cni
SILENT_PID="" DNS_PID=""
trap '[ -n "$SILENT_PID" ] && kill "$SILENT_PID" 2>/dev/null; [ -n "$DNS_PID" ] && kill "$DNS_PID" 2>/dev/null; [ -n "$NODE" ] && rm -rf "/etc/netns/$NODE"; cni_cleanup' EXIT
cni_setup

# error_within NAME MAX-MS WANT [EXTRA]: the ADD fails with an error object whose msg has WANT,
# within MAX-MS; echoes the milliseconds it took.
error_within() {
  local start elapsed
  start=$(date +%s%N)
  istio_add "$1" "${4:-}" && fail "$1: ADD exited 0: $(cat "$CNI_WORK/$1.out")"
  elapsed=$((($(date +%s%N) - start) / 1000000))
  python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); sys.exit(not (e["code"]==999 and sys.argv[2] in e["msg"]))' \
    "$CNI_WORK/$1.out" "$3" || fail "$1: not the error object wanted ($3): $(cat "$CNI_WORK/$1.out" "$CNI_WORK/$1.err")"
  [ "$elapsed" -le "$2" ] || fail "$1: the error object came after $elapsed ms (bound $2 ms)"
  echo "$elapsed"
}

# 1. A silent server on the node's loopback: accepts (the kernel completes the handshake from
# the backlog), never reads or answers.
exec 3< <(ip netns exec "$NODE" python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
print(s.getsockname()[1], flush=True)
time.sleep(3600)')
read -r -t 10 silent_port <&3 || fail "the silent server did not start"
SILENT_PID=$!
write_kubeconfig "$CNI_TOKEN" "https://127.0.0.1:$silent_port"
pod_new basic
ms=$(error_within basic 4500 "cannot reach the API server" ',"snare_add_timeout_seconds":3')
[ "$ms" -ge 2900 ] || fail "silent server: gave up after $ms ms, before its 3 s"
grep -q 'within the ADD.s 3 s' "$CNI_WORK/basic.out" || fail "silent server: $(cat "$CNI_WORK/basic.out")"

# 2. Permanent errors: one attempt, at once (istio's policy would be 30 attempts, 1 s apart).
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca -keyout "$CNI_WORK/other.key" \
  -out "$CNI_WORK/other.crt" 2>/dev/null
touch "$CNI_WORK/pods/requests.log"
before=$(wc -l <"$CNI_WORK/pods/requests.log")
write_kubeconfig "$CNI_TOKEN" "" "certificate-authority-data: $(base64 -w0 <"$CNI_WORK/other.crt")"
error_within basic 1500 "not retried" >/dev/null
grep -q -i 'certificate' "$CNI_WORK/basic.out" || fail "unknown CA: $(cat "$CNI_WORK/basic.out")"
write_kubeconfig "$CNI_TOKEN" "https://localhost:$API_PORT"  # the certificate names 127.0.0.1 only
error_within basic 1500 "not retried" >/dev/null
write_kubeconfig "$CNI_TOKEN" "" "certificate-authority: $CNI_WORK/no-such-ca.crt"
error_within basic 1500 "not retried" >/dev/null
write_kubeconfig "$CNI_TOKEN" "ftp://127.0.0.1:$API_PORT"
error_within basic 1500 "not retried" >/dev/null
after=$(wc -l <"$CNI_WORK/pods/requests.log")
[ "$before" = "$after" ] || fail "a request got through with a bad CA or name"

# 3. An answer over the cap.
write_kubeconfig "$CNI_TOKEN"
python3 -c 'import json,sys; json.dump({"kind":"Pod","metadata":{"annotations":{"x":"y"*(5<<20)}}}, open(sys.argv[1],"w"))' \
  "$CNI_WORK/pods/default/huge.json"
cp "$CNI_WORK/basic.prev" "$CNI_WORK/huge.prev"
POD_SAVED=$POD
error_within huge 3000 "larger than 4 MiB" >/dev/null
[ "$(ip netns exec "$POD_SAVED" iptables-legacy-save | grep -c ISTIO || true)" = 0 ] || fail "rules were written"

# 4. A DNS server that never answers: `ip netns exec` gives the node namespace its own
# resolv.conf (/etc/netns/NAME/), naming a UDP socket on its loopback that reads and drops.
mkdir -p "/etc/netns/$NODE"
echo "nameserver 127.0.0.1" >"/etc/netns/$NODE/resolv.conf"
exec 4< <(ip netns exec "$NODE" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 53))
print("ready", flush=True)
while True: s.recv(512)')
DNS_PID=$!
read -r -t 10 _ <&4 || fail "the silent DNS server did not start"
write_kubeconfig "$CNI_TOKEN" "https://api.snare.test:$API_PORT"
cp "$CNI_WORK/basic.prev" "$CNI_WORK/dns.prev"
ms=$(error_within dns 3500 "resolve the host: no answer" ',"snare_add_timeout_seconds":2')
[ "$ms" -ge 1900 ] || fail "silent DNS: gave up after $ms ms, before its 2 s"
echo "PASS cni_timeouts"
