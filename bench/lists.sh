#!/usr/bin/env bash
# Long lists stay linear: the cost of N values of one list flag, at N and 10 N, for every list
# flag that makes one rule per value (-k, -c, -x, -i, -b, -o, -q). A linear tool takes about 10x
# as long for 10x the values (plus its fixed start-up, so a little less); the quadratic -k of an
# earlier snare took 30x. Dry-run (save form, which replays the rules like an apply) without root;
# as root, also the apply into a fresh network namespace.
#
# usage: [sudo] bench/lists.sh [N]      (default 1600; SNARE=/path/to/snare, default build/snare)
set -euo pipefail
N=${1:-1600}
here=$(cd "$(dirname "$0")/.." && pwd)
SNARE=${SNARE:-$here/build/snare}
[ -x "$SNARE" ] || { echo "bench/lists.sh: no snare binary at $SNARE (set SNARE=...)" >&2; exit 1; }
python3 - "$SNARE" "$N" "$(id -u)" <<'PY'
import statistics, subprocess, sys, time
snare, n, uid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def values(flag, k):
    if flag in ("-k", "-c"):
        return ",".join(f"v{i}" for i in range(k))
    if flag in ("-x", "-i"):
        return ",".join("10.0.0.0/8" for i in range(k))
    return ",".join(str(1 + i % 65535) for i in range(k))
# One argument may hold at most 128 KiB (MAX_ARG_STRLEN): CIDR lists are measured at half N.
def size_for(flag):
    return n // 2 if flag in ("-x", "-i") else n
def timed(cmd, runs=5):
    xs = []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        xs.append(time.perf_counter() - t0)
        if r.returncode:
            sys.exit(f"bench: {' '.join(cmd[:3])}... exited {r.returncode}: {r.stderr.decode()[:200]}")
    return statistics.median(xs) * 1000
print(f"{'flag':5} {'mode':8} {'N':>6} {'N ms':>8} {'10 N ms':>9} {'ratio':>7}   (median of 5)")
for flag in ("-k", "-c", "-x", "-i", "-b", "-o", "-q"):
    modes = [("dry-run", ["--dry-run", "--output-format=save"])]
    if uid == 0:
        modes.append(("apply", []))
    for mode, extra in modes:
        t = []
        m = size_for(flag)
        for k in (m, 10 * m):
            # -i and -b take the list under test; the others ride on `-i '*' -b '*'`.
            args = ["--enable-ipv6=false"] + ([] if flag == "-i" else ["-i", "*"]) + \
                   ([] if flag == "-b" else ["-b", "*"])
            cmd = [snare, *extra, *args, flag, values(flag, k)]
            t.append(timed(["unshare", "-n", *cmd] if mode == "apply" else cmd))
        print(f"{flag:5} {mode:8} {m:6} {t[0]:8.1f} {t[1]:9.1f} {t[1] / t[0]:7.1f}")
PY
