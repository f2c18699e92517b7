#!/usr/bin/env bash
# CNI plugin benchmark: snare-cni's ADD for a sidecar pod (istio's "basic" case), chained after
# Debian's bridge plugin, against the stand-in HTTPS API server of the CNI tests on the node's
# loopback. Every sample is a fresh pod namespace (loopback untimed), then the bridge plugin's ADD
# (a Go CNI plugin, on the same path of every pod start: the reference) and snare-cni's ADD, each
# timed the same way (the runtime's `ip netns exec` + `env -i` + the plugin, its configuration
# read from a file), in iptables mode and with native_nftables, the modes alternating; medians,
# 90th percentiles and the ratio to bridge. Then where snare-cni's time goes:
#   - process start: `CNI_COMMAND=VERSION` of each plugin, and /bin/true on the same path (what
#     the runtime's path costs by itself);
#   - inside the ADD (iptables mode, under strace -f -ttt, which inflates what makes system calls:
#     read it as proportions): start (exec to reading stdin), the configuration and kubeconfig
#     (to the connect), the API request (connect, TLS handshake, GET; to the pod's netns being
#     opened), the apply (to exit);
#   - under perf stat, each plugin's process alone (exec to exit, without the runtime's path) and
#     its CPU time (task-clock): on a loaded machine, where waiting for a CPU swamps the wall
#     times above, these keep their proportions.
#
# usage: sudo bench/cni.sh [RUNS]        (default 30; SNARE_CNI=/path/to/snare-cni, default
#                                          build/snare-cni; SNARE_CNI_OLD=/path/to/another
#                                          snare-cni also runs that one's iptables ADD in every
#                                          sample: a before/after in the same run)
set -euo pipefail
RUNS=${1:-30}
here=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "bench/cni.sh: run as root (it creates network namespaces)" >&2; exit 1; }
export SNARE=${SNARE:-$here/build/snare} SNARE_CNI=${SNARE_CNI:-$here/build/snare-cni} SNARE_SOURCE_DIR=$here
[ -x "$SNARE_CNI" ] || { echo "bench/cni.sh: no snare-cni at $SNARE_CNI" >&2; exit 1; }
OLD=${SNARE_CNI_OLD:-}
source "$here/tests/lib.sh"
source "$here/tests/cni/cni_lib.sh"
cni_setup
# The plugin runs as istio-cni (the name a runtime runs it by): a link beside each binary's copy.
mkdir -p "$CNI_WORK/new" "$CNI_WORK/old"
ln -s "$(readlink -f "$SNARE_CNI")" "$CNI_WORK/new/istio-cni"
[ -z "$OLD" ] || ln -s "$(readlink -f "$OLD")" "$CNI_WORK/old/istio-cni"
command -v strace >/dev/null || echo "bench/cni.sh: no strace: the in-ADD breakdown is left out" >&2

ns_now() { date +%s%N; }
declare -A samples
# timed KEY PLUGIN CONF-FILE [POD-NAME]: one plugin run from the node, its wall time into KEY.
timed() {
  local t0 t1 rc=0
  t0=$(ns_now)
  cni_env "${4:-basic}" "${CNI_COMMAND_OVERRIDE:-ADD}" eth0 "$2" <"$3" >"$CNI_WORK/$1.out" 2>"$CNI_WORK/$1.err" || rc=$?
  t1=$(ns_now)
  [ $rc = 0 ] || fail "$1 failed: $(cat "$CNI_WORK/$1.out" "$CNI_WORK/$1.err")"
  samples[$1]+="$((t1 - t0)) "
}
bridge_conf=$CNI_WORK/bridge.conf
printf '{"cniVersion":"1.0.0","name":"snaretest","type":"bridge","bridge":"snbr%s","isGateway":true,"ipam":{"type":"host-local","subnet":"10.199.0.0/16","dataDir":"%s/ipam"}}' \
  $$ "$CNI_WORK" >"$bridge_conf"
# fresh_pod: a pod namespace with lo (untimed); sets POD.
fresh_pod() {
  POD=$(ns_new "b$1")
  export CNI_CID="c-$1"
  cni_env basic ADD lo "$CNI_PLUGINS/loopback" <<<'{"cniVersion":"1.0.0","name":"lo","type":"loopback"}' >/dev/null
}
# add_pair KEY PLUGIN EXTRA [BRIDGE-WRAPPER]: bridge then the plugin on a fresh pod, both timed.
add_pair() {
  fresh_pod "$1$i"
  if [ -n "${4:-}" ]; then
    timed "bridge_$1" "$CNI_WORK/$4" "$bridge_conf"
    cp "$CNI_WORK/bridge_$1.out" "$CNI_WORK/bridge.out"
  else
    timed bridge "$CNI_PLUGINS/bridge" "$bridge_conf"
  fi
  cp "$CNI_WORK/bridge.out" "$CNI_WORK/basic.prev"
  istio_conf basic "$3" >"$CNI_WORK/istio.conf"
  timed "$1" "$2" "$CNI_WORK/istio.conf"
  ip netns del "$POD"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for ((i = 0; i < RUNS; i++)); do
  # With SNARE_CNI_OLD, the two builds take turns going first: neither always follows bridge.
  ((i % 2)) && [ -n "$OLD" ] && add_pair old_iptables "$CNI_WORK/old/istio-cni" ""
  add_pair iptables "$CNI_WORK/new/istio-cni" ""
  ((i % 2)) || [ -z "$OLD" ] || add_pair old_iptables "$CNI_WORK/old/istio-cni" ""
  add_pair nftables "$CNI_WORK/new/istio-cni" ',"native_nftables":true'
  # Process start alone, on the same path.
  CNI_COMMAND_OVERRIDE=VERSION timed start_snare "$CNI_WORK/new/istio-cni" /dev/null
  [ -z "$OLD" ] || CNI_COMMAND_OVERRIDE=VERSION timed start_old "$CNI_WORK/old/istio-cni" /dev/null
  CNI_COMMAND_OVERRIDE=VERSION timed start_bridge "$CNI_PLUGINS/bridge" /dev/null
  CNI_COMMAND_OVERRIDE=VERSION timed start_true /bin/true /dev/null
done

# CPU time of each plugin's ADD (perf stat's task-clock: what a loaded node's wall time is
# made of, without the waits for the API server or the scheduler), then the in-ADD phases
# (strace), on a few more fresh pods.
phases="" cpu=""
# wrapper NAME COMMAND...: $CNI_WORK/NAME runs COMMAND... then the plugin's arguments.
wrapper() {
  local name=$1
  shift
  printf '#!/bin/sh\nexec %s "$@"\n' "$*" >"$CNI_WORK/$name"
  chmod +x "$CNI_WORK/$name"
}
if command -v perf >/dev/null; then
  wrapper cpu_bridge perf stat -x, -e task-clock,duration_time -o "$CNI_WORK/cpu_bridge.\$\$" "$CNI_PLUGINS/bridge"
  wrapper cpu_snare perf stat -x, -e task-clock,duration_time -o "$CNI_WORK/cpu_snare.\$\$" "$CNI_WORK/new/istio-cni"
  [ -z "$OLD" ] || wrapper cpu_old perf stat -x, -e task-clock,duration_time -o "$CNI_WORK/cpu_old.\$\$" "$CNI_WORK/old/istio-cni"
fi
command -v strace >/dev/null && wrapper traced strace -f -ttt -e trace=execve,read,connect,openat,exit_group \
  -o "$CNI_WORK/trace.\$\$" "$CNI_WORK/new/istio-cni"
for ((i = 0; i < RUNS; i++)); do
  [ -x "$CNI_WORK/cpu_snare" ] && add_pair cpu "$CNI_WORK/cpu_snare" "" cpu_bridge
  [ ! -x "$CNI_WORK/cpu_old" ] || add_pair cpuold "$CNI_WORK/cpu_old" ""
  ((i >= 11)) || [ ! -x "$CNI_WORK/traced" ] || add_pair traced "$CNI_WORK/traced" ""
done
# perf's task-clock is in ms, its duration_time (the plugin process alone, exec to exit) in ns.
perf_ns() { cat "$CNI_WORK"/cpu_"$1".* 2>/dev/null | awk -F, -v e="$2" -v f="$3" '$3 == e { printf "%d ", $1 * f }'; }
[ -x "$CNI_WORK/cpu_snare" ] && cpu="process alone: bridge ADD=$(perf_ns bridge duration_time 1);process alone: snare-cni ADD, iptables=$(perf_ns snare duration_time 1);CPU: bridge ADD=$(perf_ns bridge task-clock 1e6);CPU: snare-cni ADD, iptables=$(perf_ns snare task-clock 1e6)"
[ ! -x "$CNI_WORK/cpu_old" ] || cpu+=";process alone: snare-cni ADD, iptables, SNARE_CNI_OLD=$(perf_ns old duration_time 1);CPU: snare-cni ADD, iptables, SNARE_CNI_OLD=$(perf_ns old task-clock 1e6)"
[ -x "$CNI_WORK/traced" ] && phases=$(cat "$CNI_WORK"/trace.* | base64 -w0)

# The context a ratio needs: when, how loaded (a loaded machine stretches the wall times of
# whatever waits for a CPU: both plugins, and the API server snare-cni waits for), how nice.
context="$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load average before ${load_before// /\/}, after $(cut -d' ' -f1-3 /proc/loadavg | tr ' ' /), nice $(nice)"
python3 - "$RUNS" "$phases" "$cpu" "$context" \
  "bridge ADD (Go, reference)=${samples[bridge]}" \
  "snare-cni ADD, iptables=${samples[iptables]}" \
  "${OLD:+snare-cni ADD, iptables, SNARE_CNI_OLD=${samples[old_iptables]}}" \
  "snare-cni ADD, nftables=${samples[nftables]}" \
  "start: bridge VERSION=${samples[start_bridge]}" \
  "start: snare-cni VERSION=${samples[start_snare]}" \
  "${OLD:+start: SNARE_CNI_OLD VERSION=${samples[start_old]}}" \
  "start: /bin/true (the path alone)=${samples[start_true]}" <<'PY'
import base64, re, statistics, sys
runs, phases, cpu, context = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
rows = [a for a in sys.argv[5:] if a] + [c for c in cpu.split(";") if c]
med = {}
print(f"context: {context}")
print(f"runs: {runs}, a fresh pod per ADD (ms, wall time of ip netns exec + env + the plugin)")
print(f"{'':54} {'median':>8} {'p90':>8}")
for row in rows:
    name, text = row.split("=", 1)
    v = sorted(int(x) / 1e6 for x in text.split())
    med[name] = statistics.median(v)
    print(f"{name:54} {med[name]:8.2f} {v[max(0, int(len(v) * 0.9) - 1)]:8.2f}")
bridge = med["bridge ADD (Go, reference)"]
# The target: snare-cni's ADD (iptables, API over HTTPS) at most 1.0x bridge's on the same path.
# bridge asks no API server; snare-cni's ratio includes its TLS handshake and GET, and the
# stand-in server's time to answer them (about 1.3 ms of its CPU per ADD).
for name in med:
    if name.startswith("snare-cni ADD"):
        print(f"ratio to bridge, {name[15:]:37} {med[name] / bridge:8.2f}x")
if cpu:
    for kind in ("process alone", "CPU"):
        for which in ("", ", SNARE_CNI_OLD"):
            if f"{kind}: snare-cni ADD, iptables{which}" in med:
                ratio = med[f"{kind}: snare-cni ADD, iptables{which}"] / med[f"{kind}: bridge ADD"]
                print(f"ratio to bridge, {kind + ', iptables' + which:37} {ratio:8.2f}x")
if not phases:
    sys.exit(0)
# Per traced process: exec, first read of stdin, first connect, the open of /run/netns/..., exit.
text = base64.b64decode(phases).decode()
lines = [l.split(None, 2) for l in text.splitlines() if l.strip()]
names = ["start (exec to main reading stdin)", "configuration + kubeconfig (to connect)",
         "API: connect, TLS, GET (to the netns)", "apply (netns to exit)"]
per = {n: [] for n in names}
starts = [i for i, l in enumerate(lines) if "execve(" in l[2] and "istio-cni" in l[2]]
for k, s in enumerate(starts):
    chunk = lines[s:starts[k + 1] if k + 1 < len(starts) else len(lines)]
    def first(pat):
        return next((float(l[1]) for l in chunk if re.search(pat, l[2])), None)
    t = [first(r"^execve\("), first(r"^read\(0,"), first(r"^connect\("),
         first(r'^openat\(.*"/run/netns/'), first(r"^exit_group\(")]
    if None in t:
        continue
    for n, a, b in zip(names, t, t[1:]):
        per[n].append((b - a) * 1e3)
if per[names[0]]:
    print(f"inside snare-cni's iptables ADD, under strace ({len(per[names[0]])} ADDs, ms median):")
    for n in names:
        print(f"  {n:40} {statistics.median(per[n]):6.2f}")
PY
