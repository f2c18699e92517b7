#!/usr/bin/env bash
# Trace benchmark: how long one `snare trace` query takes on the 2,000-exclusion rule set once the
# rules are loaded (issue: p99 under 5 ms), and what loading them costs once.
#
# The rule set is bench/apply.sh's 2,000-CIDR case: Istio's sidecar default with 2,000 outbound
# CIDR exclusions (-x). bench/tools/trace_bench.cpp loads it twice, from the flags (the plan,
# replayed as the kernel would hold it: `snare trace -- FLAGS`) and from iptables-save text
# (`snare trace --rules FILE`), and times each of 2,400 IPv4 queries alone (six kinds: the app's
# and the proxy's packets to excluded and other addresses, inbound, loopback; the worst is the
# app's packet to an address no CIDR covers, which walks past all 2,000 exclusions). As root, the
# save text is what the kernel holds after snare applied the flags in a fresh `unshare -n`, read
# by iptables-legacy-save; otherwise snare's own save form (--dry-run --output-format save).
#
# No tool answers the same query to give a same-run ratio (`nft monitor trace` and iptables'
# TRACE need a live packet, the offline iptables simulators are not packaged), so the times are
# absolute. As context, root only: the time `iptables-legacy-save` takes just to list the same
# tables in that namespace, which any simulator reading the kernel's iptables rules must spend
# before its first query.
#
# usage: bench/trace.sh [QUERIES]   (default 2400; SNARE=/path/to/snare, BENCH=/path/to/
#                                    snare_bench_trace, defaults in build/)
set -euo pipefail
QUERIES=${1:-2400}
here=$(cd "$(dirname "$0")/.." && pwd)
SNARE=${SNARE:-$here/build/snare}
BENCH=${BENCH:-$here/build/snare_bench_trace}
for b in "$SNARE" "$BENCH"; do
  [ -x "$b" ] || { echo "bench/trace.sh: no binary at $b (build it, or set SNARE=/BENCH=)" >&2; exit 1; }
done
command -v python3 >/dev/null || { echo "bench/trace.sh: python3 is missing" >&2; exit 1; }

tmp=$(mktemp -d /tmp/snare-tracebench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
source "$here/bench/rule_sets.bash"
FLAGS=("${SIDECAR_FLAGS[@]}")
# 2,000 distinct IPv4 CIDRs: 10.0.0.0/24, 10.0.1.0/24, ... (as bench/apply.sh)
cidrs=$CIDRS_2000
FLAGS+=(-x "$cidrs")

if [ "$(id -u)" = 0 ] && command -v iptables-legacy-save >/dev/null && command -v unshare >/dev/null; then
  # Apply in a fresh namespace (gone when the shell exits), save what the kernel holds, and time
  # iptables-legacy-save listing it: 3 untimed runs, then 30.
  printf '%s\0' "$SNARE" "${FLAGS[@]}" >"$tmp/argv"
  cat >"$tmp/save_time.py" <<'PY'
import statistics, subprocess, time
def run():
    t0 = time.perf_counter_ns()
    subprocess.run(["iptables-legacy-save"], stdout=subprocess.DEVNULL, check=True)
    return (time.perf_counter_ns() - t0) / 1e6
for _ in range(3):
    run()
s = sorted(run() for _ in range(30))
print(f"reference: iptables-legacy-save listing the same tables from the kernel (30 runs):"
      f" median {statistics.median(s):.2f} ms, max {s[-1]:.2f} ms")
PY
  unshare -n sh -c "xargs -0 -a '$tmp/argv' sh -c '\"\$0\" \"\$@\" 2>/dev/null' &&
    iptables-legacy-save >'$tmp/rules.v4' && python3 '$tmp/save_time.py'" >"$tmp/reference"
  echo "rules file: iptables-legacy-save of the kernel's tables after snare applied the flags"
else
  "$SNARE" "${FLAGS[@]}" --dry-run --output-format save |
    awk '/^# ipv6/ { exit } /^# ipv4/ { next } { print }' >"$tmp/rules.v4"
  echo "rules file: snare's --dry-run --output-format save (not root: no kernel to read)" >&2
  : >"$tmp/reference"
fi
[ -s "$tmp/rules.v4" ] || { echo "bench/trace.sh: no rules file" >&2; exit 1; }
echo "$(grep -c '^-A' "$tmp/rules.v4") rules in the file; load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$BENCH" --queries "$QUERIES" --rules "$tmp/rules.v4" -- "${FLAGS[@]}"
cat "$tmp/reference"
