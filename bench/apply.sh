#!/usr/bin/env bash
# Apply benchmark: snare against iptables-legacy-restore + ip6tables-legacy-restore.
#
# Applies istio's sidecar default (v4+v6) into a fresh network namespace, once with snare and once
# with the restore pair fed the same rules (snare's own --dry-run text, split at "# ipv6"), and the
# same again with 2,000 outbound CIDR exclusions (-x). Each sample is the wall time of one process
# tree started in a fresh `unshare -n`; the variants run in rotating order within every repetition
# so that drift in machine load hits them alike, and each sample has the `unshare -n true` of its
# own repetition (creating and destroying the namespace) subtracted before the median is taken. The restore pair needs a
# shell to run two commands in one namespace, so its side subtracts `unshare -n sh -c true`
# instead: the shell's own start-up is not counted against iptables. Targets: snare at most 0.3
# of the pair for the default, at most 0.5 with 2,000 CIDRs. It also prints what each added rule
# costs each tool: (2,000-CIDR time - default time) / 2,000.
#
# --ambient: the same for `snare ambient` with istio's default ambient flags (helm's: DNS capture
# and IPv6 on), one case. The restore pair's input is istio's golden of that case (default_ipv6,
# with helm's IPv6 probe address for the test's own; snare's dry-run must equal it). A pod's lo is
# up (the CNI loopback plugin) and snare's IPv6 route needs it, so every namespace of this mode,
# the baseline's too, starts with `sh -c 'ip link set lo up && ...'`. The anchor is the restore
# pair alone, as for the sidecar: istio writes the ip rules and routes through netlink in its own
# process, so no command does that work; snare's time includes its 2 ip rules and 2 routes.
#
# usage: sudo bench/apply.sh [--ambient] [RUNS]   (default 30; SNARE=/path/to/snare, default build/snare)
set -euo pipefail
mode=sidecar
if [ "${1:-}" = --ambient ]; then mode=ambient; shift; fi
RUNS=${1:-30}
here=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "bench/apply.sh: run as root (it creates network namespaces)" >&2; exit 1; }
SNARE=${SNARE:-$here/build/snare}
[ -x "$SNARE" ] || { echo "bench/apply.sh: no snare binary at $SNARE (set SNARE=...)" >&2; exit 1; }
for b in iptables-legacy-restore ip6tables-legacy-restore iptables-legacy-save unshare python3 ip; do
  command -v "$b" >/dev/null || { echo "bench/apply.sh: $b is missing" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/snare-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
source "$here/bench/rule_sets.bash"
FLAGS=("${SIDECAR_FLAGS[@]}")
UP=""  # the shell command every namespace runs first (ambient: lo up)

# prepare NAME ARGS...: writes NAME.v4 / NAME.v6 (restore input) and NAME.argv (snare's argv).
prepare() {
  local name=$1
  shift
  "$SNARE" "$@" --dry-run >"$tmp/$name.all"
  awk -v v4="$tmp/$name.v4" -v v6="$tmp/$name.v6" \
    '/^# ipv6/ { out = v6; next } /^# ipv4/ { out = v4; next } { print > out }' "$tmp/$name.all"
  [ -s "$tmp/$name.v4" ] && [ -s "$tmp/$name.v6" ] || { echo "bench: dry-run split failed" >&2; exit 1; }
  printf '%s\0' "$SNARE" "$@" >"$tmp/$name.argv"
}
if [ $mode = ambient ]; then
  UP="ip link set lo up"
  CASES=("ambient=ambient default (v4+v6)")
  prepare ambient ambient
  # The anchor is istio's own text: lines 1-2 of the golden are its test's log, not rules.
  golden=$here/tests/golden/istio/ambient-capture/default_ipv6.golden
  if ! grep -v '^# ipv[46]$' "$tmp/ambient.all" | cmp -s - <(tail -n +3 "$golden" |
    sed 's/e9ac:1e77:90ca:399f:4d6d:ece2:2f9b:3164/fd16:9254:7127:1337:ffff:ffff:ffff:ffff/'; echo); then
    echo "bench/apply.sh: snare ambient --dry-run is not istio's $golden" >&2
    exit 1
  fi
else
  CASES=("default=sidecar default (v4+v6)" "cidrs2000=+ 2,000 -x CIDRs")
  cidrs=$CIDRS_2000
  prepare default "${FLAGS[@]}" -x ""
  prepare cidrs2000 "${FLAGS[@]}" -x "$cidrs"
fi
names=("${CASES[@]%%=*}")

# in_ns CMD: the shell command CMD in a fresh network namespace. snare_of NAME: snare's command.
in_ns() { unshare -n sh -c "${UP:+$UP && }$1"; }
snare_of() { echo "xargs -0 -a '$tmp/$1.argv' sh -c '\"\$0\" \"\$@\"'"; }

# Is the apply built into this snare? (Until it is, only the restore side is measured.)
snare_ok=1
if ! out=$(in_ns "$(snare_of "${names[0]}")" 2>&1); then
  echo "note: snare apply failed in a fresh namespace, measuring the restore side only: $out" >&2
  snare_ok=0
fi

# Both sides must leave the same tables (comments, counters and the order of the tables aside: a
# save lists them in the order they were first loaded).
saved() {
  awk '/^# v6$/ { f = 1 } /^#/ { next } /^\*/ { t = $0 } { sub(/\[[0-9]*:[0-9]*\]/, "")
    print f + 0 "\t" t "\t" NR "\t" $0 }' | sort -t "$(printf '\t')" -k1,1n -k2,2 -k3,3n | cut -f4-
}
dump="iptables-legacy-save && echo '# v6' && ip6tables-legacy-save"
for name in "${names[@]}"; do
  in_ns "iptables-legacy-restore <'$tmp/$name.v4' && ip6tables-legacy-restore <'$tmp/$name.v6' && $dump" |
    saved >"$tmp/$name.restore.save"
  if [ $snare_ok = 1 ]; then
    in_ns "$(snare_of "$name") 2>/dev/null && $dump" | saved >"$tmp/$name.snare.save"
    if ! cmp -s "$tmp/$name.restore.save" "$tmp/$name.snare.save"; then
      echo "warning: $name: snare and the restore pair leave different tables:" >&2
      diff "$tmp/$name.restore.save" "$tmp/$name.snare.save" | head -20 >&2 || true
    fi
  fi
done

python3 - "$tmp" "$RUNS" "$snare_ok" "$UP" "${CASES[@]}" <<'PY'
import os, statistics, subprocess, sys, time
tmp, runs, snare_ok, up = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4]
cases = [c.split("=", 1) for c in sys.argv[5:]]  # NAME=LABEL
devnull = subprocess.DEVNULL

def argv_of(name):
    with open(f"{tmp}/{name}.argv", "rb") as f:
        return [a.decode() for a in f.read().split(b"\0")[:-1]]  # keep empty args (-x "")

def ns(argv):
    """argv in a fresh network namespace, after `up` when there is one (in every variant alike)."""
    if not up:
        return ["unshare", "-n"] + argv
    return ["unshare", "-n", "sh", "-c", f'{up} && exec "$0" "$@"'] + argv

def variants(name):
    v = {
        "base": ns(["true"]),
        "shbase": ns(["sh", "-c", "true"]),
        "restore": ns(["sh", "-c",
                       f"iptables-legacy-restore <{tmp}/{name}.v4 && ip6tables-legacy-restore <{tmp}/{name}.v6"]),
    }
    if snare_ok:
        v["snare"] = ns(argv_of(name))
    return v

def run(cmd):
    t0 = time.perf_counter_ns()
    rc = subprocess.run(cmd, stdout=devnull, stderr=devnull).returncode
    dt = (time.perf_counter_ns() - t0) / 1e6
    if rc != 0:
        sys.exit(f"bench: {' '.join(cmd[:4])}... exited {rc}")
    return dt

rows = []
for name, label in cases:
    v = variants(name)
    keys = list(v)
    for k in keys:  # warm-up: page cache, dynamic loader
        run(v[k])
    samples = {k: [] for k in keys}
    for i in range(runs):
        order = keys[i % len(keys):] + keys[:i % len(keys)]  # rotate who goes first
        for k in order:
            samples[k].append(run(v[k]))
    med = {k: statistics.median(s) for k, s in samples.items()}
    # Median of the per-repetition differences: a sample and its baseline ran moments apart, so a
    # load change on a shared machine cancels out better than with a difference of medians.
    def net(k, b):
        return statistics.median(x - y for x, y in zip(samples[k], samples[b]))
    restore = net("restore", "shbase")
    snare = net("snare", "base") if snare_ok else None
    rows.append((name, label, med, restore, snare))

target = {"default": "0.3", "cidrs2000": "0.5"}
print(f"runs per variant: {runs} (ms; median over repetitions of sample minus its baseline)")
print(f"{'case':26} {'baseline':>10} {'restore pair':>13} {'snare':>8} {'snare/restore':>14} {'target':>7}")
for name, label, med, restore, snare in rows:
    s = f"{snare:8.2f}" if snare is not None else f"{'n/a':>8}"
    r = f"{snare / restore:14.2f}" if snare is not None else f"{'n/a':>14}"
    print(f"{label:26} {med['base']:10.2f} {restore:13.2f} {s} {r} {target.get(name, '-'):>7}")
if snare_ok and len(rows) == 2:
    per_rule = lambda i: (rows[1][i] - rows[0][i]) / 2000 * 1000
    print(f"per added rule: restore pair {per_rule(3):.2f} us, snare {per_rule(4):.2f} us")
if up:
    print(f"(every command runs as `unshare -n sh -c '{up} && exec CMD'`; restore pair: CMD = "
          f"`sh -c 'iptables-legacy-restore <v4 && ip6tables-legacy-restore <v6'` minus CMD = `sh -c true` "
          f"= {rows[0][2]['shbase']:.2f} ms; snare: CMD = `snare ARGS` minus CMD = `true` = {rows[0][2]['base']:.2f} ms;"
          " snare's time includes its ip rules and table-100 routes, v4 and v6, the restore pair's no such work)")
else:
    print(f"(restore pair: `unshare -n sh -c 'iptables-legacy-restore <v4 && ip6tables-legacy-restore <v6'`"
          f" minus `unshare -n sh -c true` = {rows[0][2]['shbase']:.2f} ms; snare: `unshare -n snare FLAGS`"
          f" minus `unshare -n true`)")
PY
