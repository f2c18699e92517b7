#!/bin/bash
# snare trace's command line, no root: a bad argument or a hostile --rules file is one line on
# stderr naming the flag or the line, exit 2, never a crash; a good one answers in text and JSON,
# the same from the rule flags and from their iptables-save form; with --native-nftables, in
# nftables' names and forms; --live's arguments (its kernel answers: tests/root/trace_live.sh).
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# refused WHAT-TO-FIND ARGS...: exit 2, one line, naming WHAT-TO-FIND.
refused() {
  local want=$1 err rc
  shift
  set +e
  err=$("$SNARE" trace "$@" 2>&1 >/dev/null)
  rc=$?
  set -e
  [ "$rc" = 2 ] || fail "trace $*: exit $rc, want 2 ($err)"
  [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] || fail "trace $*: more than one line: $err"
  [[ "$err" == *"$want"* ]] || fail "trace $*: error does not name $want: $err"
}

P=(out tcp 10.0.0.5:43210 10.96.0.10:80)
RULES=(-p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -b '*' --enable-ipv6=false)
refused 'argument 1 "sideways"' sideways tcp 10.0.0.5:1 10.0.0.6:2 -- "${RULES[@]}"
refused 'argument 2 "icmp"' out icmp 10.0.0.5:1 10.0.0.6:2 -- "${RULES[@]}"
refused 'argument 3 "10.0.0.5"' out tcp 10.0.0.5 10.0.0.6:2 -- "${RULES[@]}"
refused 'argument 4 "::1:80"' out tcp 10.0.0.5:1 ::1:80 -- "${RULES[@]}"
refused 'argument 4 "10.0.0.6:70000"' out tcp 10.0.0.5:1 10.0.0.6:70000 -- "${RULES[@]}"
refused 'different address families' out tcp 10.0.0.5:1 [::1]:80 -- "${RULES[@]}"
refused '--uid "x"' "${P[@]}" --uid x -- "${RULES[@]}"
refused '--mark "0x1/"' "${P[@]}" --mark 0x1/ -- "${RULES[@]}"
refused '--iif "a b"' "${P[@]}" --iif "a b" -- "${RULES[@]}"
refused '--output "yaml"' "${P[@]}" --output yaml -- "${RULES[@]}"
refused '--bogus' "${P[@]}" --bogus -- "${RULES[@]}"
refused 'needs DIRECTION PROTO SRC DST' out tcp -- "${RULES[@]}"
refused 'give the rule set once' "${P[@]}"
refused '-z' "${P[@]}" -- -z notaport
refused '--rules /nonexistent' "${P[@]}" --rules /nonexistent
refused 'give the rule set once' "${P[@]}" --rules /nonexistent --netns-pid 1
refused '--netns-pid "0"' "${P[@]}" --netns-pid 0
# --live: the rule flags (nftables') after --, a first packet, a bounded wait.
refused '--live: give the rule flags after --' "${P[@]}" --live --rules /nonexistent
refused "--live traces a connection's first packet" "${P[@]}" --live --established -- "${RULES[@]}"
refused '--live-timeout "0"' "${P[@]}" --live --live-timeout 0 -- "${RULES[@]}"
refused '--live-timeout "3601"' "${P[@]}" --live --live-timeout=3601 -- "${RULES[@]}"
refused "--live: the kernel's trace events are nftables'" "${P[@]}" --live -- "${RULES[@]}"

# Hostile --rules files: each one line naming the file and the line.
printf '*nat\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -j RETURN\n' >"$tmp/cut"
refused "--rules $tmp/cut: line 3: *nat has no COMMIT" "${P[@]}" --rules "$tmp/cut"
head -c 100000 /dev/urandom >"$tmp/garbage"
refused "--rules $tmp/garbage: line" "${P[@]}" --rules "$tmp/garbage"
{ printf '*nat\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT'; head -c 70000 /dev/zero | tr '\0' 'x'; printf '\nCOMMIT\n'; } >"$tmp/long"
refused "--rules $tmp/long: line 3: longer than" "${P[@]}" --rules "$tmp/long"
printf '*nat\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -j MISSING -m\nCOMMIT\n' >"$tmp/trunc"
refused "line 3: -m has no value" "${P[@]}" --rules "$tmp/trunc"
# Hostile nft JSON listings (told from save text by their content): one line naming the file and
# the item, table, chain or rule.
printf '{"nftables": [' >"$tmp/cut.json"
refused "--rules $tmp/cut.json: not JSON: " "${P[@]}" --rules "$tmp/cut.json"
printf '{"nftables": [{"table": {"family": "inet", "name": "t"}}, {"rule": {"family": "inet", "table": "t", "chain": "c", "expr": []}}]}' >"$tmp/orphan.json"
refused "--rules $tmp/orphan.json: item 2 (rule): table inet t chain c: the chain was not listed" "${P[@]}" --rules "$tmp/orphan.json"
refused "an nft JSON listing holds both families" "${P[@]}" --rules "$tmp/orphan.json" --rules "$tmp/cut"
{ printf '{"nftables": '; head -c 5000 /dev/zero | tr '\0' '['; } >"$tmp/deep.json"
refused "--rules $tmp/deep.json: nested deeper than 32 levels" "${P[@]}" --rules "$tmp/deep.json"
# A listing's walk: an unmodelled statement is named, the answer uncertain, never a guess.
printf '%s' '{"nftables": [{"table": {"family": "ip", "name": "x"}}, {"chain": {"family": "ip", "table": "x", "name": "o", "type": "nat", "hook": "output", "prio": -100, "policy": "accept"}}, {"rule": {"family": "ip", "table": "x", "chain": "o", "expr": [{"limit": {"rate": 1}}, {"redirect": {"port": 15001}}]}}]}' >"$tmp/limit.json"
out=$("$SNARE" trace "${P[@]}" --rules "$tmp/limit.json")
[[ "$out" == "uncertain (1 rule could not be evaluated): "* && "$out" == *"ip x o rule 1: not modelled: statement 1 {\"limit\""* ]] ||
  fail "unmodelled nft statement: $out"

# Bytes that are not UTF-8 (a module's name) still make a JSON answer.
printf '*nat\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -m fo\xffo -j RETURN\nCOMMIT\n' >"$tmp/bytes"
"$SNARE" trace "${P[@]}" --output json --rules "$tmp/bytes" | python3 -c 'import json,sys; assert json.load(sys.stdin)["uncertain"]' ||
  fail "a save text with bytes that are not UTF-8: no JSON answer"

# A loop parses (iptables-save can print no such thing, but a file can hold it): the trace
# reports it and stops.
printf '*nat\n:OUTPUT ACCEPT [0:0]\n:A - [0:0]\n:B - [0:0]\n-A OUTPUT -j A\n-A A -j B\n-A B -j A\nCOMMIT\n' >"$tmp/loop"
out=$("$SNARE" trace "${P[@]}" --rules "$tmp/loop")
[[ "$out" == "stopped: loop between chains: nat OUTPUT rule 1 -> A rule 1 -> B rule 1 jumps back to A"* ]] ||
  fail "loop: $out"

# Bounded: an endless file and a 100 MB one are refused at the reader's bound (64 MiB), not read
# whole; more chains than the bound (20,000) are refused by line.
refused "--rules /dev/zero: larger than 67108864 bytes" "${P[@]}" --rules /dev/zero
truncate -s 100M "$tmp/huge"
refused "--rules $tmp/huge: larger than 67108864 bytes" "${P[@]}" --rules "$tmp/huge"
# chained N [LOOP]: nat OUTPUT jumps to C0, each Ci to C(i+1); with LOOP the last back to C0.
chained() {
  awk -v n="$1" -v loop="${2:-}" 'BEGIN {
    print "*nat"; print ":OUTPUT ACCEPT [0:0]"
    for (i = 0; i < n; i++) print ":C" i " - [0:0]"
    print "-A OUTPUT -j C0"
    for (i = 0; i + 1 < n; i++) print "-A C" i " -j C" i + 1
    if (loop) print "-A C" n - 1 " -j C0"
    print "COMMIT" }'
}
chained 20001 >"$tmp/many"
refused "--rules $tmp/many: line 20002: more than 20000 chains" "${P[@]}" --rules "$tmp/many"
# 10,000 chains deep: walked to the end (the walk keeps its own stack), the text path indented to
# a bounded depth (not 2 spaces a level: that was 100 MB), one line per step.
chained 10000 >"$tmp/deep"
"$SNARE" trace "${P[@]}" --rules "$tmp/deep" >"$tmp/deep.out" || fail "deep chains: exit $?"
[ "$(head -n1 "$tmp/deep.out")" = "not captured: no rule redirects it" ] ||
  fail "deep chains: $(head -n1 "$tmp/deep.out")"
[ "$(wc -l <"$tmp/deep.out")" -gt 10000 ] || fail "deep chains: $(wc -l <"$tmp/deep.out") lines"
[ "$(wc -c <"$tmp/deep.out")" -lt 2000000 ] || fail "deep chains: $(wc -c <"$tmp/deep.out") bytes"
# A loop through 10,000 chains: found and reported, not followed.
chained 10000 loop >"$tmp/bigloop"
"$SNARE" trace "${P[@]}" --rules "$tmp/bigloop" >"$tmp/bigloop.out" || fail "loop: exit $?"
out=$(head -n1 "$tmp/bigloop.out")
[[ "$out" == "stopped: loop between chains: nat OUTPUT rule 1 -> C0 rule 1 -> "*"C9999 rule 1 jumps back to C0" ]] ||
  fail "loop through 10,000 chains: ${out:0:200}"

# The answer, from the flags and from their save form.
out=$("$SNARE" trace "${P[@]}" -- "${RULES[@]}")
[[ "$(head -n1 <<<"$out")" == "captured: REDIRECT to :15001, original destination 10.96.0.10:80, by nat OUTPUT rule 1 -> ISTIO_OUTPUT rule 9 -> ISTIO_REDIRECT rule 1" ]] ||
  fail "summary: $out"
"$SNARE" "${RULES[@]}" --dry-run --output-format=save | sed -n '/^# ipv4/,$p' | tail -n +2 >"$tmp/v4.save"
a=$("$SNARE" trace "${P[@]}" --output json -- "${RULES[@]}")
b=$("$SNARE" trace "${P[@]}" --output json --rules "$tmp/v4.save")
[ "$a" = "$b" ] || fail "flags and their save form answer differently: $a / $b"
python3 -c 'import json,sys; j=json.loads(sys.argv[1]); assert j["captured"] and j["action"]=="redirect" and j["to_port"]==15001 and j["original_destination"]=="10.96.0.10:80", j' "$a" ||
  fail "json: $a"
# The same rules as istio's nftables program: its inet table's base chain, its chain names, nft's
# rule forms (where a real connection goes under them: tests/root/trace_kernel_nft.sh).
out=$("$SNARE" trace "${P[@]}" -- "${RULES[@]}" --native-nftables)
[[ "$(head -n1 <<<"$out")" == "captured: REDIRECT to :15001, original destination 10.96.0.10:80, by istio-proxy-nat output rule 1 -> istio-output rule 9 -> istio-redirect rule 1" ]] ||
  fail "nftables summary: $out"
[[ "$(sed -n 2,3p <<<"$out")" == "inet istio-proxy-nat output (type nat hook output priority -100)
  output 1: counter jump istio-output: matched (-> istio-output)" ]] || fail "nftables path: $out"
echo ok
