#!/usr/bin/env bash
# nftables apply benchmark: snare --native-nftables against one `nft -f` of the same transaction.
#
# Applies istio's sidecar default (v4+v6) into a fresh network namespace, once with snare and once
# with `nft -f` fed snare's --dry-run text (istio's knftables transaction, byte for byte; istio
# itself runs nft three times: --version, a --check probe, then -f), and the same again with 2,000
# outbound CIDR exclusions. Each sample is the wall time of one process tree started in a fresh
# `unshare -n`, minus that repetition's `unshare -n true`; the variants rotate within every
# repetition; medians. Targets (issue 20): snare at most 0.65 of nft -f, for the default and with
# 2,000 CIDRs.
#
# It also measures what neither side can avoid, to explain the ratio: `floor`, a 30-line C
# program (bench/tools/nft_floor.c) that dlopens libnftables, runs the same file and exits; its
# system CPU time beyond that of an empty file (`kernel`: nf_tables validating and committing the batch, per-CPU counters for
# every rule, hooks and NAT for the new tables), and `floor-nowait`, the same program keeping
# its netlink socket open in a child for 200 ms after it exits (when the last nfnetlink socket of
# a committed transaction closes, nf_tables flushes its destroy work, which can wait for an RCU
# grace period; on this machine it rarely does).
#
# --ambient: the same for `snare ambient --native-nftables` with istio's default ambient flags
# (helm's: DNS capture and IPv6 on), one case; `nft -f` runs istio's golden transaction of that
# case (default_ipv6, with helm's IPv6 probe address for the test's own; snare's dry-run must equal
# it). Every namespace of this mode, the baseline's too, starts with `ip link set lo up` (a pod's lo
# is up, and snare's IPv6 route needs it), as in `bench/apply.sh --ambient`; snare's time includes
# its 2 ip rules and 2 routes, which istio writes through netlink in its own process and `nft -f`
# does not.
#
# usage: sudo bench/nft.sh [--ambient] [RUNS]   (default 30; SNARE=/path/to/snare, default build/snare)
set -euo pipefail
mode=sidecar
if [ "${1:-}" = --ambient ]; then mode=ambient; shift; fi
RUNS=${1:-30}
here=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "bench/nft.sh: run as root (it creates network namespaces)" >&2; exit 1; }
SNARE=${SNARE:-$here/build/snare}
[ -x "$SNARE" ] || { echo "bench/nft.sh: no snare binary at $SNARE (set SNARE=...)" >&2; exit 1; }
for b in nft unshare python3 cc ip; do
  command -v "$b" >/dev/null || { echo "bench/nft.sh: $b is missing" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/snare-nftbench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -o "$tmp/floor" "$here/bench/tools/nft_floor.c" -ldl
: >"$tmp/empty.nft"
source "$here/bench/rule_sets.bash"
FLAGS=(--native-nftables "${SIDECAR_FLAGS[@]}")
UP=""  # the shell command every namespace runs first (ambient: lo up)

# prepare NAME ARGS...: writes NAME.nft (the transaction) and NAME.argv (snare's argv).
prepare() {
  local name=$1
  shift
  "$SNARE" "$@" --dry-run >"$tmp/$name.nft"
  printf '%s\0' "$SNARE" "$@" >"$tmp/$name.argv"
}
if [ $mode = ambient ]; then
  UP="ip link set lo up"
  CASES=("ambient=ambient default (v4+v6)")
  prepare ambient ambient --native-nftables
  golden=$here/tests/golden/istio/ambient-nftables-capture/default_ipv6.golden
  if ! sed 's/e9ac:1e77:90ca:399f:4d6d:ece2:2f9b:3164/fd16:9254:7127:1337:ffff:ffff:ffff:ffff/' "$golden" |
    cmp -s - "$tmp/ambient.nft"; then
    echo "bench/nft.sh: snare ambient --native-nftables --dry-run is not istio's $golden" >&2
    exit 1
  fi
else
  CASES=("default=sidecar default (v4+v6)" "cidrs2000=+ 2,000 -x CIDRs")
  cidrs=$CIDRS_2000
  prepare default "${FLAGS[@]}" -x ""
  prepare cidrs2000 "${FLAGS[@]}" -x "$cidrs"
fi

# in_ns CMD: the shell command CMD in a fresh network namespace (after UP, if any).
in_ns() { unshare -n sh -c "${UP:+$UP && }$1"; }
for name in "${CASES[@]%%=*}"; do
  # Both leave the same ruleset.
  a=$(in_ns "nft -f '$tmp/$name.nft' && nft -j list ruleset")
  b=$(in_ns "xargs -0 -a '$tmp/$name.argv' sh -c '\"\$0\" \"\$@\" 2>/dev/null' && nft -j list ruleset")
  echo "$a" >"$tmp/a.json"
  echo "$b" >"$tmp/b.json"
  python3 "$here/tests/root/nft_same.py" "$tmp/a.json" "$tmp/b.json" >&2 ||
    { echo "bench/nft.sh: $name: snare and nft -f leave different rulesets" >&2; exit 1; }
done

python3 - "$tmp" "$RUNS" "$UP" "${CASES[@]}" <<'PY'
import os, statistics, subprocess, sys, time
tmp, runs, up = sys.argv[1], int(sys.argv[2]), sys.argv[3]
cases = [c.split("=", 1) for c in sys.argv[4:]]  # NAME=LABEL

def argv_of(name):
    with open(f"{tmp}/{name}.argv", "rb") as f:
        return [a.decode() for a in f.read().split(b"\0")[:-1]]

SYS = {}  # variant -> kernel CPU time (ms) of each sample, from the child's rusage

def run(cmd, key=None):
    t0 = time.perf_counter_ns()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    dt = (time.perf_counter_ns() - t0) / 1e6
    if status != 0:
        sys.exit(f"bench: {' '.join(cmd[:4])}... exited {status}")
    if key:
        SYS.setdefault(key, []).append(ru.ru_stime * 1000)
    return dt

def ns(argv):
    """argv in a fresh network namespace, after `up` when there is one (in every variant alike)."""
    if not up:
        return ["unshare", "-n"] + argv
    return ["unshare", "-n", "sh", "-c", f'{up} && exec "$0" "$@"'] + argv

rows = []
for name, label in cases:
    v = {"base": ns(["true"]),
         "nft": ns(["nft", "-f", f"{tmp}/{name}.nft"]),
         "snare": ns(argv_of(name)),
         "floor": ns([f"{tmp}/floor", f"{tmp}/{name}.nft"]),
         "floor-nowait": ns([f"{tmp}/floor", f"{tmp}/{name}.nft", "linger"]),
         "floor-empty": ns([f"{tmp}/floor", f"{tmp}/empty.nft"])}
    keys = list(v)
    for k in keys:
        run(v[k])
    s = {k: [] for k in keys}
    SYS.clear()
    for i in range(runs):
        for k in keys[i % len(keys):] + keys[:i % len(keys)]:
            s[k].append(run(v[k], k))
    net = {k: statistics.median(x - y for x, y in zip(s[k], s["base"])) for k in keys if k != "base"}
    # The kernel's CPU time for the transaction alone: floor's system time minus that of the same
    # program running an empty file (loading libnftables, page faults, exit).
    net["kernel"] = statistics.median(x - y for x, y in zip(SYS["floor"], SYS["floor-empty"]))
    rows.append((name, label, statistics.median(s["base"]), net))

target = {"default": "0.65", "cidrs2000": "0.65"}
base = f"unshare -n sh -c '{up} && exec true'" if up else "unshare -n true"
print(f"runs per variant: {runs} (ms; median over repetitions of sample minus its `{base}`)")
print(f"{'case':26} {'baseline':>10} {'nft -f':>8} {'snare':>8} {'snare/nft':>10} {'target':>7} "
      f"{'floor':>8} {'floor/nft':>10} {'kernel':>8} {'kernel/nft':>11} {'floor-nowait':>13}")
for name, label, b, n in rows:
    print(f"{label:26} {b:10.2f} {n['nft']:8.2f} {n['snare']:8.2f} {n['snare'] / n['nft']:10.2f} "
          f"{target.get(name, '-'):>7} {n['floor']:8.2f} {n['floor'] / n['nft']:10.2f} {n['kernel']:8.2f} "
          f"{n['kernel'] / n['nft']:11.2f} {n['floor-nowait']:13.2f}")
print("floor: dlopen libnftables, run the file, exit (the least an in-process libnftables apply "
      "does); kernel: the floor's system CPU time minus its own with an empty file (the kernel's work on the transaction); "
      "floor-nowait: the floor with its netlink socket kept open past exit")
PY
