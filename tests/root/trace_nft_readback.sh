#!/bin/bash
# snare trace of nftables rule sets read back: for --native-nftables configurations of istio's
# conformance table (sidecar REDIRECT, TPROXY, ambient), applied in a fresh namespace, the trace
# of each packet from the flags, from the kernel's own `nft -j list ruleset` saved to a file
# (--rules), and from the namespace itself (--network-namespace) must give the same answer by the
# same path: hook, table, chain, position and outcome of every rule walked. The listing is the
# kernel's, not snare's: the nft binary prints it (here only, never in the product).
source "$SNARE_SOURCE_DIR/tests/lib.sh"
require_root
source "$SNARE_SOURCE_DIR/tests/root/apply_helpers.bash"
command -v nft >/dev/null || {
  [ "${CI:-}" = true ] && fail "no nft binary"
  echo "SKIP: no nft binary" >&2
  exit 77
}

CONFIGS=(cni-basic tproxy ambient-default ambient-default_ipv6)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; ns_cleanup' EXIT
total=0
i=0
for name in "${CONFIGS[@]}"; do
  i=$((i + 1))
  nft_conformance_flags "$name"
  POD=$(ns_new "tnr$i")
  # A veth pair inside the namespace: an eth0 with the pod's addresses (no dummy module needed).
  ip -n "$POD" link add eth0 type veth peer name eth0p
  ip -n "$POD" link set eth0p up
  ip -n "$POD" link set eth0 up
  ip -n "$POD" addr add 10.251.0.1/24 dev eth0
  ip -n "$POD" addr add fd51::1/64 dev eth0 nodad
  ip netns exec "$POD" "$SNARE" "${flags[@]}" --log_output_level=warn || fail "$name: apply failed"
  ip netns exec "$POD" nft -j list ruleset >"$tmp/$name.json"
  echo "[$name] ${flags[*]}"
  n=$(/usr/bin/python3 - "$SNARE" "/var/run/netns/$POD" "$tmp/$name.json" "$v6" "${flags[@]}" <<'EOF'
import json, os, subprocess, sys

snare, netns, listing, v6 = sys.argv[1:5]
flags = sys.argv[5:]
packets = [
    "out tcp 10.251.0.1:40000 10.96.0.10:80",
    "out tcp 10.251.0.1:40000 10.96.0.10:80 --uid 1337",
    "out tcp 10.251.0.1:40000 10.96.0.10:80 --gid 1337",
    "out tcp 10.251.0.1:40000 10.96.0.10:80 --established",
    "out udp 10.251.0.1:40000 10.96.0.10:53",
    "out tcp 10.251.0.1:40000 127.0.0.1:8080",
    "out tcp 127.0.0.6:40000 127.0.0.1:8080 --uid 1337",
    "out tcp 10.251.0.1:40000 10.251.0.1:8080",
    "out tcp 10.251.0.1:40000 10.96.0.10:80 --mark 0x539",
    "out tcp 10.251.0.1:40000 10.251.0.2:15008 --uid 1337",
    "in tcp 10.251.0.2:40000 10.251.0.1:8080",
    "in tcp 10.251.0.2:40000 10.251.0.1:15008",
    "in tcp 10.251.0.2:40000 10.251.0.1:15020",
    "in tcp 10.251.0.2:40000 10.251.0.1:15021",
    "in tcp 10.251.0.3:40000 10.251.0.1:8080",
    "in udp 10.251.0.2:40000 10.251.0.1:53",
    "in tcp 10.251.0.2:40000 10.251.0.1:8080 --established",
    "in tcp 10.251.0.2:40000 10.251.0.1:8080 --mark 0x539",
    "in tcp 10.251.0.2:40000 10.251.0.1:8080 --ctmark 0x111",
    "in tcp 127.0.0.1:40000 127.0.0.1:8080",
]
if v6 == "1":
    packets += [
        "out tcp [fd51::1]:40000 [fd00::10]:80",
        "out tcp [fd51::1]:40000 [fd00::10]:80 --uid 1337",
        "out udp [fd51::1]:40000 [fd00::10]:53",
        "in tcp [fd51::2]:40000 [fd51::1]:8080",
        "in tcp [fd51::3]:40000 [fd51::1]:8080",
        "in tcp [fd51::2]:40000 [fd51::1]:15008",
    ]


def trace(packet, source):
    cmd = [snare, "trace"] + packet.split() + ["--output", "json"] + source
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"FAIL: {' '.join(cmd)}: exit {run.returncode}: {run.stderr.strip()}")
    return json.loads(run.stdout)


def key(t):
    # Rule text and the failed test's spelling aside: the listing's own text and snare's differ.
    path = [(s["hook"], s["table"], s["chain"], s["position"], s["matched"]) for s in t["path"]]
    return (t["summary"], t["action"], t["to_port"], t["original_destination"], t["mark"],
            t["zone"], t["error"], len(t["uncertain"]), path)


kinds = set()
# NFT_SAMPLE=N (the sanitized run): every Nth packet.
packets = packets[::int(os.environ.get("NFT_SAMPLE", "1"))]
for p in packets:
    want = trace(p, ["--"] + flags)
    kinds.add(want["action"] + ("?" if want["uncertain"] else ""))
    for source in (["--rules", listing], ["--network-namespace", netns]):
        got = trace(p, source)
        if key(got) != key(want):
            sys.exit(f"FAIL: {p} {source[0]}: {json.dumps(got)}\n  the flags give: {json.dumps(want)}")
print(len(packets), "packets", ",".join(sorted(kinds)))
EOF
) || fail "$name: the traces disagree"
  echo "  $n"
  total=$((total + ${n%% *}))
  ip netns del "$POD"
done
min=80
[ "${NFT_SAMPLE:-1}" = 1 ] || min=8
[ "$total" -ge "$min" ] || fail "only $total packets compared"
echo "$total packets, 3 traces each, agree"
