#!/bin/bash
# snare-cni as istio-cni's plugin, chained after Debian's bridge plugin, against a stand-in API
# server (HTTPS, test CA, bearer token) on the node's loopback:
#   - istio's 8 plugin cases leave exactly the rules of kernel-form/cni-sidecar/<case>.v4.save
#     (what iptables-save printed for istio's golden), and stdout is the prevResult;
#   - pods without the status annotation, in an excluded namespace, with istio-init, with
#     DISABLE_ENVOY or without istio-proxy get no rule; VERSION, DEL and CHECK;
#   - a refused token and stdin that is not JSON give a CNI error object, exit 1 and no rule;
#   - stderr is JSON log lines, also when the rule code fails and for usage errors;
#   - the API server coming up late is waited for (istio's retry policy);
#   - print-flags feeds `snare verify` from the node.
source "$SNARE_SOURCE_DIR/tests/lib.sh"
source "$SNARE_SOURCE_DIR/tests/root/apply_helpers.bash"
require_root
source "$SNARE_SOURCE_DIR/tests/cni/cni_lib.sh"
SNARE_CNI_LINK=$(dirname "$SNARE_CNI")/istio-cni
dir=$(conformance_dir)
cni_setup

istio_rules() { ip netns exec "$1" iptables-legacy-save | grep -c -- '-j ISTIO_\|^:ISTIO_' || true; }

# 1. istio's plugin cases: the kernel form of istio's golden, prevResult on stdout.
for c in basic include-exclude-ip include-exclude-ports tproxy dns invalid-drop custom-uid custom-uid-zero custom-uid-tproxy; do
  pod_new "$c"
  istio_add "$c" || fail "$c: ADD exited $?: $(cat "$CNI_WORK/$c.out" "$CNI_WORK/$c.err")"
  python3 -c 'import json,sys; a,b=(json.load(open(f)) for f in sys.argv[1:]); sys.exit(a!=b)' \
    "$CNI_WORK/$c.prev" "$CNI_WORK/$c.out" || fail "$c: stdout is not the prevResult: $(cat "$CNI_WORK/$c.out")"
  golden=${c/custom-uid-zero/basic}
  want=$(normalize_save <"$dir/kernel-form/cni-sidecar/$golden.v4.save")
  have=$(tables "$POD" 4)
  [ "$have" = "$want" ] || fail "$c: rules differ from kernel-form/cni-sidecar/$golden.v4.save:
$(diff <(echo "$want") <(echo "$have"))"
  [ -z "$(ip netns exec "$POD" nft list tables)" ] || fail "$c: iptables mode wrote nftables tables"
done

# 2. Pods the plugin leaves alone: exit 0, the prevResult, no rule.
for c in no-status with-istio-init disable-envoy no-proxy excluded; do
  pod_new "$c"
  ns=default
  [ "$c" = excluded ] && ns=kube-system
  istio_add "$c" "" "$ns" || fail "$c: ADD exited $?: $(cat "$CNI_WORK/$c.err")"
  cmp -s <(python3 -m json.tool "$CNI_WORK/$c.prev") <(python3 -m json.tool "$CNI_WORK/$c.out") ||
    fail "$c: stdout is not the prevResult"
  [ "$(istio_rules "$POD")" = 0 ] || fail "$c: rules were written"
done
grep -q 'GET /api/v1/namespaces/kube-system' "$CNI_WORK/pods/requests.log" &&
  fail "the excluded namespace's pod was looked up"

# 3. VERSION, DEL, CHECK.
out=$(CNI_COMMAND=VERSION "$SNARE_CNI_LINK" </dev/null)
python3 -c 'import json,sys; v=json.loads(sys.argv[1]); sys.exit("1.0.0" not in v["supportedVersions"])' "$out" ||
  fail "VERSION does not list 1.0.0: $out"
POD=$(ns_new pbasic2)
for cmd in DEL CHECK; do
  out=$(istio_conf basic | cni_env basic "$cmd" eth0 "$SNARE_CNI_LINK") || fail "$cmd exited $?: $out"
  [ -z "$out" ] || fail "$cmd printed something: $out"
done

# 4. Errors: a CNI error object on stdout, exit 1, nothing written.
pod_new badjson
out=$(echo 'not json' | cni_env basic ADD eth0 "$SNARE_CNI_LINK" 2>/dev/null) && fail "stdin not JSON: exit 0"
python3 -c 'import json,sys; e=json.loads(sys.argv[1]); sys.exit(not (e["code"]==6 and e["msg"] and e["cniVersion"]))' "$out" ||
  fail "stdin not JSON: not an error object: $out"
write_kubeconfig wrong-token
pod_new basic3
cp "$CNI_WORK/basic3.prev" "$CNI_WORK/basic.prev"
istio_add basic && fail "refused token: exit 0"
python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); sys.exit(not (e["code"]==999 and "401" in e["msg"]))' \
  "$CNI_WORK/basic.out" || fail "refused token: $(cat "$CNI_WORK/basic.out")"
[ "$(istio_rules "$POD")" = 0 ] || fail "refused token: rules were written"
write_kubeconfig "$CNI_TOKEN"
# stderr holds JSON log lines only, also when the rule code fails (the namespace does not exist)
# and for snare-cni's own usage errors.
POD=snare-no-such-netns-$$ istio_add basic && fail "missing netns: exit 0"
python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); sys.exit(not (e["code"]==999 and "no-such-netns" in e["msg"]))' \
  "$CNI_WORK/basic.out" || fail "missing netns: $(cat "$CNI_WORK/basic.out")"
env -i "$SNARE_CNI" 2>"$CNI_WORK/usage.err" && fail "snare-cni without CNI_COMMAND: exit 0"
"$SNARE_CNI" install --frob 2>>"$CNI_WORK/usage.err" && fail "install --frob: exit 0"
for f in basic.err usage.err; do
  python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]' "$CNI_WORK/$f" ||
    fail "a stderr line is not JSON: $(cat "$CNI_WORK/$f")"
done
grep -q 'no-such-netns' "$CNI_WORK/basic.err" || fail "stderr does not name the namespace: $(cat "$CNI_WORK/basic.err")"
# Bytes that are not UTF-8 (in CNI_COMMAND; a binary kubeconfig): an error object, exit 1.
rc=0
out=$(istio_conf basic | CNI_CID=c-basic cni_env basic $'ADD\xff' eth0 "$SNARE_CNI_LINK" 2>"$CNI_WORK/badcmd.err") || rc=$?
[ "$rc" = 1 ] || fail "CNI_COMMAND not UTF-8: exit $rc: $out"
python3 -c 'import json,sys; e=json.loads(sys.argv[1]); sys.exit(not (e["code"]==4 and "CNI_COMMAND" in e["msg"]))' "$out" ||
  fail "CNI_COMMAND not UTF-8: not an error object: $out"
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]' "$CNI_WORK/badcmd.err" ||
  fail "CNI_COMMAND not UTF-8: a stderr line is not UTF-8 JSON: $(cat "$CNI_WORK/badcmd.err")"
cp /usr/bin/true "$RUN_DIR/istio-cni-kubeconfig"
istio_add basic && fail "binary kubeconfig: exit 0"
python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); sys.exit(not (e["code"]==999 and "kubeconfig" in e["msg"]))' \
  "$CNI_WORK/basic.out" || fail "binary kubeconfig: $(cat "$CNI_WORK/basic.out" "$CNI_WORK/basic.err")"
write_kubeconfig "$CNI_TOKEN"

# 5. The API server down at first: the plugin retries (istio: 30 times, 1 s apart).
api_stop
port=$API_PORT
pod_new late
(sleep 2.5 && api_start "$port" && echo "$API_PID" >"$CNI_WORK/api.pid") &
starter=$!
start=$(date +%s%N)
istio_add late || fail "late API server: ADD exited $?: $(cat "$CNI_WORK/late.out" "$CNI_WORK/late.err")"
wait "$starter"
API_PID=$(cat "$CNI_WORK/api.pid")
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$elapsed" -ge 2000 ] || fail "late API server: ADD returned after $elapsed ms, before the server was up"
[ "$(istio_rules "$POD")" != 0 ] || fail "late API server: no rules"

# 6. print-flags from the node, fed to snare verify.
flags=$(ip netns exec "$NODE" "$SNARE_CNI" print-flags --kubeconfig "$RUN_DIR/istio-cni-kubeconfig" \
  --namespace default --pod include-exclude-ports) || fail "print-flags"
grep -q -- "-b 1111,2222" <<<"$flags" || fail "print-flags: $flags"
POD=snare-pinclude-exclude-ports-$$
eval "\"\$SNARE\" verify $flags --network-namespace /run/netns/$POD" >/dev/null 2>&1 ||
  fail "snare verify with print-flags' flags: exit $?"
echo "PASS cni_plugin"
