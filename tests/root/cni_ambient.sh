#!/bin/bash
# snare-cni's ambient path as istio-cni's plugin takes it, chained after Debian's bridge plugin,
# against the stand-in API server and a stand-in node agent on <cni_agent_run_dir>/pluginevent.sock
# (tests/cni/agent.py, which records what it is sent):
#   - an ambient pod (its namespace labelled, helm's selectors) is POSTed to /cmdadd with istio's
#     body, compared field by field with one built here from the bridge plugin's result (Go's
#     json.Marshal form, the mask in base64, "" for an absent gateway); stdout is the prevResult;
#     the plugin writes no rule itself;
#   - the agent answering 500, and no agent at all: a CNI error object, exit 1, nothing written;
#   - a sidecar pod in the ambient namespace keeps the sidecar path; an excluded namespace is
#     never looked up nor posted;
#   - print-flags gives the `snare ambient` flags of the pod's annotations, and `snare ambient
#     verify --netns-pid` from the node accepts the pod once they are applied (and not before).
source "$SNARE_SOURCE_DIR/tests/lib.sh"
source "$SNARE_SOURCE_DIR/tests/root/apply_helpers.bash"
require_root
source "$SNARE_SOURCE_DIR/tests/cni/cni_lib.sh"
SNARE_CNI_LINK=$(dirname "$SNARE_CNI")/istio-cni
cni_setup
SOCK=$RUN_DIR/pluginevent.sock
AGENT_PID=""
SLEEP_PID=""
# Every step may fail (a process already gone): the namespaces and servers must still go.
ambient_cleanup() {
  for p in $AGENT_PID $SLEEP_PID; do kill "$p" 2>/dev/null || true; done
  cni_cleanup
}
trap ambient_cleanup EXIT
AMBIENT=',"ambient_enabled":true,"pod_namespace":"istio-system","enablement_selectors":[{"podSelector":{"matchLabels":{"istio.io/dataplane-mode":"ambient"}}},{"podSelector":{"matchExpressions":[{"key":"istio.io/dataplane-mode","operator":"NotIn","values":["none"]}]},"namespaceSelector":{"matchLabels":{"istio.io/dataplane-mode":"ambient"}}}]'

# agent_start STATUS: the stand-in agent answering STATUS, recording into $CNI_WORK/agent.log.
agent_start() {
  agent_stop
  rm -f "$CNI_WORK/agent.log" "$CNI_WORK/agent.ready"
  python3 "$SNARE_SOURCE_DIR/tests/cni/agent.py" "$SOCK" "$CNI_WORK/agent.log" "$1" \
    >"$CNI_WORK/agent.ready" 2>"$CNI_WORK/agent.err" &
  AGENT_PID=$!
  for _ in $(seq 50); do grep -q ready "$CNI_WORK/agent.ready" 2>/dev/null && return; sleep 0.1; done
  fail "the stand-in agent did not start: $(cat "$CNI_WORK/agent.err")"
}
agent_stop() {
  if [ -n "$AGENT_PID" ]; then
    kill "$AGENT_PID" 2>/dev/null || true
    wait "$AGENT_PID" 2>/dev/null || true
  fi
  AGENT_PID=""
  rm -f "$SOCK"
}
no_rules() {
  [ -z "$(ip netns exec "$1" iptables-legacy-save)" ] && [ -z "$(ip netns exec "$1" nft list tables)" ]
}
error_object() {  # FILE WORDS: a CNI error object, code 999, whose msg contains WORDS
  python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); sys.exit(not (e["code"]==999 and sys.argv[2] in e["msg"] and e["cniVersion"]))' "$1" "$2"
}

# 1. An ambient pod: one POST with istio's body; stdout the prevResult; no rule from the plugin.
agent_start 200
pod_new amb-web
istio_add amb-web "$AMBIENT" amb || fail "ambient: ADD exited $?: $(cat "$CNI_WORK/amb-web.out" "$CNI_WORK/amb-web.err")"
python3 -c 'import json,sys; a,b=(json.load(open(f)) for f in sys.argv[1:]); sys.exit(a!=b)' \
  "$CNI_WORK/amb-web.prev" "$CNI_WORK/amb-web.out" || fail "ambient: stdout is not the prevResult: $(cat "$CNI_WORK/amb-web.out")"
[ "$(wc -l <"$CNI_WORK/agent.log")" = 1 ] || fail "ambient: not one request: $(cat "$CNI_WORK/agent.log")"
python3 - "$CNI_WORK/agent.log" "$CNI_WORK/amb-web.prev" "/run/netns/$POD" <<'PY' || fail "ambient: the request differs from istio's"
import base64, collections, ipaddress, json, sys
req = json.loads(open(sys.argv[1]).readline())
prev = json.load(open(sys.argv[2]))
def fail(what):
    print(what, req, file=sys.stderr); sys.exit(1)
if (req["method"], req["path"], req["content_type"]) != ("POST", "/cmdadd", "application/json"):
    fail("method, path or Content-Type")
body = json.loads(req["body"], object_pairs_hook=collections.OrderedDict)
ips = []
for ip in prev["ips"]:
    net = ipaddress.ip_interface(ip["address"])
    ips.append(collections.OrderedDict([
        ("Interface", ip.get("interface")),
        ("Address", collections.OrderedDict([("IP", str(net.ip)),
                                             ("Mask", base64.b64encode(net.netmask.packed).decode())])),
        ("Gateway", ip.get("gateway", ""))]))
want = collections.OrderedDict([("Netns", sys.argv[3]), ("PodName", "amb-web"),
                                ("PodNamespace", "amb"), ("IPs", ips or None)])
for k in want:
    if body.get(k) != want[k]:
        fail(f"field {k}: {body.get(k)!r}, istio sends {want[k]!r}")
if list(body) != list(want):
    fail(f"fields {list(body)}, istio sends {list(want)}")
if req["body"] != json.dumps(want, separators=(",", ":")):
    fail("not Go's compact json.Marshal form")
PY
no_rules "$POD" || fail "ambient: the plugin wrote rules itself"

# 2. The agent answering 500, and no agent: an error object, exit 1, nothing written.
agent_start 500
pod_new amb-500
istio_add amb-500 "$AMBIENT" amb && fail "agent 500: exit 0"
error_object "$CNI_WORK/amb-500.out" "unable to push CNI event (status code 500): no ztunnel connection" ||
  fail "agent 500: $(cat "$CNI_WORK/amb-500.out")"
no_rules "$POD" || fail "agent 500: rules were written"
agent_stop
pod_new amb-noagent
istio_add amb-noagent "$AMBIENT" amb && fail "no agent: exit 0"
error_object "$CNI_WORK/amb-noagent.out" "failed to send event request" ||
  fail "no agent: $(cat "$CNI_WORK/amb-noagent.out")"
no_rules "$POD" || fail "no agent: rules were written"

# 3. A sidecar pod in the ambient namespace keeps the sidecar path (rules, no POST); an excluded
# namespace is neither looked up nor posted.
agent_start 200
pod_new amb-sidecar
istio_add amb-sidecar "$AMBIENT" amb || fail "sidecar in ambient ns: ADD exited $?: $(cat "$CNI_WORK/amb-sidecar.err")"
no_rules "$POD" && fail "sidecar in ambient ns: no rules"
pod_new excluded
istio_add excluded "$AMBIENT" kube-system || fail "excluded: ADD exited $?"
[ ! -s "$CNI_WORK/agent.log" ] || fail "the agent was posted: $(cat "$CNI_WORK/agent.log")"
grep -q 'GET /api/v1/namespaces/kube-system' "$CNI_WORK/pods/requests.log" &&
  fail "the excluded namespace was looked up"

# 4. print-flags for the ambient pod: `snare ambient` flags that verify accepts from the node once
# applied (standing in for the agent), and refuses before.
flags=$(ip netns exec "$NODE" "$SNARE_CNI" print-flags --kubeconfig "$RUN_DIR/istio-cni-kubeconfig" \
  --namespace amb --pod amb-web) || fail "print-flags for the ambient pod"
[ "$flags" = "--bypass-inbound-capture --pod-dns-capture=false" ] || fail "print-flags: '$flags'"
flags_none=$(ip netns exec "$NODE" "$SNARE_CNI" print-flags --kubeconfig "$RUN_DIR/istio-cni-kubeconfig" \
  --namespace amb --pod amb-web --enablement-selectors '[]' 2>/dev/null) || fail "print-flags with no selectors"
[ -z "$flags_none" ] || fail "print-flags with no selectors: not left alone: '$flags_none'"
POD=snare-pamb-web-$$
ip netns exec "$POD" sleep 300 &
SLEEP_PID=$!
# The process enters the namespace a moment after it starts.
for _ in $(seq 50); do
  [ "$(stat -L -c %i "/proc/$SLEEP_PID/ns/net")" = "$(stat -c %i "/run/netns/$POD")" ] && break
  sleep 0.1
done
rc=0
"$SNARE" ambient verify $flags --netns-pid "$SLEEP_PID" >/dev/null 2>"$CNI_WORK/verify.err" || rc=$?
[ $rc = 1 ] || fail "snare ambient verify before the rules: exit $rc, not drift: $(cat "$CNI_WORK/verify.err")"
"$SNARE" ambient $flags --network-namespace "/run/netns/$POD" >/dev/null 2>"$CNI_WORK/apply.err" ||
  fail "snare ambient: $(cat "$CNI_WORK/apply.err")"
"$SNARE" ambient verify $flags --netns-pid "$SLEEP_PID" >/dev/null 2>"$CNI_WORK/verify.err" ||
  fail "snare ambient verify with print-flags' flags: exit $?: $(cat "$CNI_WORK/verify.err")"
rc=0
"$SNARE" ambient verify --netns-pid "$SLEEP_PID" >/dev/null 2>&1 || rc=$?
[ $rc = 1 ] || fail "snare ambient verify without the pod's flags: exit $rc, not drift"
echo "PASS cni_ambient"
