# Helpers for the CNI root tests (sourced after tests/lib.sh).
#
# The node is a network namespace ($NODE). Pods are namespaces whose network the Debian CNI plugins
# (loopback; bridge with host-local) build as a container runtime would, run from the node; then
# the plugin under test runs chained after bridge. A stand-in API server (api_server.py) listens
# on the node's loopback with HTTPS, a test CA and a bearer token; the kubeconfig istio-cni would
# install points at it.
CNI_PLUGINS=/usr/lib/cni
: "${SNARE_CNI:?SNARE_CNI must name the snare-cni binary (ctest sets it)}"
[ -x "$CNI_PLUGINS/bridge" ] || fail "Debian's containernetworking-plugins are missing ($CNI_PLUGINS/bridge)"
CNI_WORK=$(mktemp -d /tmp/snare-cni.XXXXXX)
CNI_TOKEN=test-token-$$
API_PID=""
NODE=""

cni_cleanup() {
  [ -n "$API_PID" ] && kill "$API_PID" 2>/dev/null || true
  rm -rf "$CNI_WORK"
  ns_cleanup
}
trap cni_cleanup EXIT

# cni_setup: the node namespace, a CA and server certificate for 127.0.0.1, the test pods, the
# plugin's run dir with its kubeconfig, and the API server started. Sets NODE, API_PORT, RUN_DIR.
cni_setup() {
  NODE=$(ns_new node)
  local w=$CNI_WORK
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=snare-test-ca \
    -keyout "$w/ca.key" -out "$w/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$w/server.key" \
    -out "$w/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\n' >"$w/san.ext"
  openssl x509 -req -in "$w/server.csr" -CA "$w/ca.crt" -CAkey "$w/ca.key" -CAcreateserial \
    -days 2 -extfile "$w/san.ext" -out "$w/server.crt" 2>/dev/null
  mkdir -p "$w/pods" "$w/run"
  python3 "$SNARE_SOURCE_DIR/tests/cni/pods.py" "$w/pods"
  RUN_DIR=$w/run
  api_start
  write_kubeconfig "$CNI_TOKEN"
}

# api_start [PORT]: the API server on the node's loopback; sets API_PORT.
api_start() {
  local fifo=$CNI_WORK/api.fifo
  rm -f "$fifo"
  mkfifo "$fifo"
  ip netns exec "$NODE" python3 "$SNARE_SOURCE_DIR/tests/cni/api_server.py" "$CNI_WORK/pods" \
    "$CNI_WORK/server.crt" "$CNI_WORK/server.key" "$CNI_TOKEN" "${1:-0}" >"$fifo" 2>"$CNI_WORK/api.err" &
  API_PID=$!
  local line
  read -r -t 10 line <"$fifo" || fail "the API server did not start: $(cat "$CNI_WORK/api.err")"
  API_PORT=${line#ready }
}

api_stop() { kill "$API_PID" 2>/dev/null || true; wait "$API_PID" 2>/dev/null || true; API_PID=""; }

# write_kubeconfig TOKEN [SERVER] [CA-LINE]: what istio-cni writes (tests/cni/istio-cni-kubeconfig.yaml,
# its comment left out), with the CA as data (SERVER default https://127.0.0.1:$API_PORT; CA-LINE
# replaces the certificate-authority-data line).
write_kubeconfig() {
  local ca_line=${3:-"certificate-authority-data: $(base64 -w0 <"$CNI_WORK/ca.crt")"}
  awk -v ca="$ca_line" -v server="${2:-https://127.0.0.1:$API_PORT}" -v token="$1" '
    /^#/ { next }
    /^    certificate-authority-data:/ { print "    " ca; next }
    /^    server:/ { print "    server: " server; next }
    /^    token:/ { print "    token: " token; next }
    { print }' "$SNARE_SOURCE_DIR/tests/cni/istio-cni-kubeconfig.yaml" >"$RUN_DIR/istio-cni-kubeconfig"
}

# pod_new NAME: a pod namespace with lo and eth0 from loopback and bridge (host-local IPAM);
# sets POD and writes the bridge result to $CNI_WORK/NAME.prev.
pod_new() {
  local name=$1
  POD=$(ns_new "p$name")
  local conf="{\"cniVersion\":\"1.0.0\",\"name\":\"snaretest\",\"type\":\"bridge\",\"bridge\":\"snbr$$\",
    \"isGateway\":true,\"ipam\":{\"type\":\"host-local\",\"subnet\":\"10.199.0.0/24\",
    \"dataDir\":\"$CNI_WORK/ipam\"}}"
  cni_env "$name" ADD lo "$CNI_PLUGINS/loopback" <<<'{"cniVersion":"1.0.0","name":"lo","type":"loopback"}' >/dev/null ||
    fail "loopback ADD for $name"
  cni_env "$name" ADD eth0 "$CNI_PLUGINS/bridge" <<<"$conf" >"$CNI_WORK/$name.prev" || fail "bridge ADD for $name"
}

# cni_env POD-NAME COMMAND IFNAME PLUGIN [NAMESPACE]: run a plugin from the node as a runtime would.
cni_env() {
  ip netns exec "$NODE" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin CNI_COMMAND="$2" \
    CNI_CONTAINERID="${CNI_CID:-c-$1}" CNI_NETNS="/run/netns/$POD" CNI_IFNAME="$3" CNI_PATH="$CNI_PLUGINS" \
    CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=${5:-default};K8S_POD_NAME=$1;K8S_POD_INFRA_CONTAINER_ID=c-$1;K8S_POD_UID=u-$1" \
    "$4"
}

# istio_conf NAME [EXTRA-JSON-MEMBERS]: the istio-cni network configuration with prevResult.
istio_conf() {
  printf '{"cniVersion":"1.0.0","name":"snaretest","type":"istio-cni","plugin_log_level":"info",'
  printf '"cni_agent_run_dir":"%s","exclude_namespaces":["kube-system"]%s,"prevResult":%s}' \
    "$RUN_DIR" "${2:-}" "$(cat "$CNI_WORK/$1.prev")"
}

# istio_add NAME [EXTRA] [NAMESPACE]: the plugin's ADD; stdout to $CNI_WORK/NAME.out, stderr to
# NAME.err; returns its exit code.
istio_add() {
  istio_conf "$1" "${2:-}" | cni_env "$1" ADD eth0 "$SNARE_CNI_LINK" "${3:-default}" \
    >"$CNI_WORK/$1.out" 2>"$CNI_WORK/$1.err"
}
