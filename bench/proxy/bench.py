#!/usr/bin/env python3
"""snare proxy benchmark: direct vs HAProxy vs snare proxy, outbound capture (REDIRECT to :15001).

Run through run.sh, which builds the tools, makes the namespaces and starts the servers.
Each repetition visits every peer in turn (round-robin, so drift on this noisy VM hits all
alike): start the peer in the client namespace as uid 1337, install snare's istio rules, run
the tests, remove the rules, stop the peer. Then prints medians and ratios.

Tests (client namespace -> server namespace over a veth):
Peers: direct, haproxy-splice, haproxy-2t, snare, and the variants snare-2w, snare-log; the
experiment sockmap-exp (tools/sockmap_relay.c: kernel sockmap redirect instead of splice) runs
the iperf3 tests only.
  idle      2,000 connections held open through the relay: relay RSS delta per connection
  iperf1/8  iperf3 -t DUR with 1 and 8 streams: Gbit/s received
  wrk       wrk -t1 -c50 -dDUR --latency against a keep-alive HTTP server: req/s, p50, p99
  connrate  tcpbench: 10,000 x (connect, 64 B echo, close), 32 in flight: conn/s
Adapted from the team's earlier relay harness.
"""
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NSC = os.environ["BENCH_NSC"]
IPS = os.environ.get("BENCH_IPS", "10.252.0.2")
RUN = os.environ["BENCH_RUN"]
SNARE = os.environ["SNARE"]
DUR = int(os.environ.get("DUR", "5"))
IDLE_N = int(os.environ.get("IDLE_N", "2000"))
SNARE_ARGS = os.environ.get("SNARE_PROXY_ARGS", "--access-log=false")
TICK = os.sysconf("SC_CLK_TCK")
IPERF_SERVER_PID = int(os.environ.get("BENCH_IPERF_SERVER_PID", "0"))


def sh(cmd, timeout=120):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=timeout)


def inc(cmd):
    return f"ip netns exec {NSC} {cmd}"


def rss_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def listening(port):
    return f":{port} " in sh(inc("ss -ltn")).stdout


def rules(on):
    if on:
        text = sh(f"{SNARE} --dry-run -p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -x '' "
                  f"--enable-ipv6=false").stdout
        v4 = text.split("# ipv6")[0]
        subprocess.run(inc("iptables-legacy-restore --noflush"), shell=True, input=v4, text=True,
                       check=True)
    else:
        sh(inc("iptables-legacy -t nat -F"))
        sh(inc("iptables-legacy -t nat -X"))


class Peer:
    def __init__(self, name):
        self.name, self.proc = name, None

    def start(self):
        if self.name == "direct":
            return
        log = open(f"{RUN}/{self.name}.log", "w")
        if self.name == "sockmap-exp":
            cmd = inc(f"{RUN}/bin/sockmap_relay")
        elif self.name.startswith("haproxy"):
            nbthread = "2" if self.name == "haproxy-2t" else "1"
            splice = ("    option splice-request\n    option splice-response"
                      if self.name == "haproxy-splice" else "")
            cfg = open(f"{HERE}/haproxy.cfg.in").read()
            cfg = cfg.replace("@NBTHREAD@", nbthread).replace("@SPLICE@", splice)
            open(f"{RUN}/haproxy.cfg", "w").write(cfg)
            cmd = inc(f"haproxy -db -f {RUN}/haproxy.cfg")
        else:
            # snare: the default peer; snare-2w: --workers 2 (as haproxy-2t has two threads);
            # snare-log: with the per-connection log line on (written to the log file).
            extra = {"snare-2w": " --workers 2", "snare-log": " --access-log=true"}.get(self.name, "")
            cmd = inc(f"{SNARE} proxy {SNARE_ARGS}{extra}")
        # exec: the Popen pid is the relay itself (ip netns exec execs too).
        self.proc = subprocess.Popen("exec " + cmd, shell=True, stdout=log, stderr=log)
        for _ in range(50):
            if listening(15001):
                break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"{self.name} did not listen; see {RUN}/{self.name}.log")
        rules(True)

    def stop(self):
        rules(False)
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    @property
    def pid(self):
        return self.proc.pid if self.proc else None


def t_idle(peer):
    if not peer.pid:
        return dict(rss_per_conn_b=0.0)
    ready = f"{RUN}/idle.ready"
    if os.path.exists(ready):
        os.unlink(ready)
    time.sleep(0.3)
    rss0 = rss_kb(peer.pid)
    p = subprocess.Popen(inc(f"{RUN}/bin/tcpbench idle {IPS} 7000 {IDLE_N} 60 {ready}"),
                         shell=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    t0 = time.time()
    while not os.path.exists(ready) and time.time() - t0 < 60 and p.poll() is None:
        time.sleep(0.05)
    time.sleep(1.0)
    rss1 = rss_kb(peer.pid)
    if os.path.exists(ready):
        os.unlink(ready)
    out = p.communicate(timeout=90)[0]
    if f"idle n={IDLE_N}" not in out:
        raise RuntimeError(out[-300:])
    return dict(rss_per_conn_b=(rss1 - rss0) * 1024 / IDLE_N)


def proc_ticks(pid):
    if not pid:
        return 0
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])


def cpu_ticks(pid):
    """(relay, iperf3 server, machine busy, machine total) in clock ticks (guest time is already
    in user time, so /proc/stat's last two fields are left out), the CPU seconds of finished
    children (the iperf3 client: ip netns exec execs it), and the monotonic clock."""
    c = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (proc_ticks(pid), proc_ticks(IPERF_SERVER_PID), sum(c[:8]) - c[3] - c[4], sum(c[:8]),
            ch.ru_utime + ch.ru_stime, time.monotonic())


def t_iperf(peer, streams):
    for _ in range(3):
        t0 = cpu_ticks(peer.pid)
        r = sh(inc(f"iperf3 -c {IPS} -t {DUR} -P {streams} -J"), timeout=DUR + 30)
        t1 = cpu_ticks(peer.pid)
        try:
            end = json.loads(r.stdout)["end"]["sum_received"]
        except (ValueError, KeyError):
            time.sleep(1)
            continue
        gb = end["bytes"] / 1e9
        # Why: on 2 shared CPUs a relay's throughput is set by CPU, so say where it went: the
        # relay process per GB, how many of the machine's CPUs were busy (not idle/iowait), and
        # how much of a CPU each of the three processes on the path used.
        wall = t1[5] - t0[5]
        return dict(gbps=end["bits_per_second"] / 1e9,
                    relay_cpu_s_per_gb=(t1[0] - t0[0]) / TICK / gb,
                    busy_cpus=(t1[2] - t0[2]) / (t1[3] - t0[3]) * os.cpu_count(),
                    client_cpus=(t1[4] - t0[4]) / wall,
                    relay_cpus=(t1[0] - t0[0]) / TICK / wall,
                    server_cpus=(t1[1] - t0[1]) / TICK / wall)
    raise RuntimeError(r.stdout[-300:] + r.stderr[-300:])


def _us(v, unit):
    return float(v) * {"us": 1, "ms": 1e3, "s": 1e6}[unit]


def t_wrk(peer):
    o = sh(inc(f"wrk -t1 -c50 -d{DUR}s --latency http://{IPS}:8080/"), timeout=DUR + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", o).group(1))
    lat = {q: _us(v, u) for q, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", o, re.M)}
    if re.search(r"Socket errors:|Non-2xx", o):
        raise RuntimeError(o[-300:])
    return dict(rps=rps, p50_us=lat["50"], p99_us=lat["99"])


def t_connrate(peer):
    o = sh(inc(f"{RUN}/bin/tcpbench connrate {IPS} 7000 10000 20 32 64"), timeout=60).stdout
    m = re.search(r"ok=(\d+) err=(\d+) secs=([\d.]+) rate=([\d.]+)", o)
    if not m or int(m.group(2)) != 0:
        raise RuntimeError(o[-300:])
    return dict(conn_s=float(m.group(4)))


TESTS = [("idle", t_idle), ("iperf1", lambda p: t_iperf(p, 1)), ("iperf8", lambda p: t_iperf(p, 8)),
         ("wrk", t_wrk), ("connrate", t_connrate)]


def main():
    peers = sys.argv[1].split(",")
    reps = int(sys.argv[2])
    raw = open(f"{RUN}/raw.jsonl", "w")
    results = {}  # (peer, metric) -> [values]
    for rep in range(1, reps + 1):
        for name in peers:
            peer = Peer(name)
            try:
                peer.start()
                time.sleep(0.5)
                for test, fn in TESTS:
                    if name == "sockmap-exp" and not test.startswith("iperf"):
                        continue  # the experiment is not a relay: bulk throughput only
                    try:
                        res = fn(peer)
                    except Exception as e:  # noqa: BLE001 - recorded, run goes on
                        print(f"rep{rep} {name:15s} {test:8s} FAILED: {e!r}", flush=True)
                        continue
                    for k, v in res.items():
                        results.setdefault((name, k), []).append(v)
                    raw.write(json.dumps(dict(rep=rep, peer=name, test=test, **res)) + "\n")
                    raw.flush()
                    shown = " ".join(f"{k}={v:.2f}" for k, v in res.items())
                    print(f"rep{rep} {name:15s} {test:8s} {shown}", flush=True)
                    time.sleep(0.5)
            finally:
                peer.stop()
            time.sleep(1)
    print_table(peers, results, reps)


def med(results, peer, key):
    v = results.get((peer, key))
    return statistics.median(v) if v else None


def print_table(peers, results, reps):
    cols = [("iperf3 1 stream Gbit/s", "gbps_1"), ("iperf3 8 streams Gbit/s", "gbps_8"),
            ("wrk req/s", "rps"), ("wrk p50 us", "p50_us"), ("wrk p99 us", "p99_us"),
            ("new conn/s", "conn_s"), ("idle RSS B/conn", "rss_per_conn_b")]
    # iperf1 and iperf8 both report gbps: split them by test from the raw file.
    for line in open(f"{RUN}/raw.jsonl"):
        r = json.loads(line)
        if r["test"] in ("iperf1", "iperf8"):
            for k in ("gbps", "relay_cpu_s_per_gb", "busy_cpus", "client_cpus", "relay_cpus",
                      "server_cpus"):
                results.setdefault((r["peer"], f"{k}_{r['test'][-1]}"), []).append(r[k])
    hap = [p for p in peers if p.startswith("haproxy")]

    def best_haproxy(key, lower_better):
        vals = [med(results, p, key) for p in hap if med(results, p, key) is not None]
        if not vals:
            return None
        return min(vals) if lower_better else max(vals)

    lower = {"p50_us", "p99_us", "rss_per_conn_b"}
    print(f"\n## Medians of {reps} repetitions (outbound REDIRECT to :15001; 2 vCPUs shared by "
          "clients, servers and relay)\n")
    print("| peer | " + " | ".join(c for c, _ in cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for p in peers + ["HAProxy best"]:
        cells = []
        for _, key in cols:
            v = best_haproxy(key, key in lower) if p == "HAProxy best" else med(results, p, key)
            cells.append("-" if v is None else (f"{v:,.2f}" if key.startswith("gbps") else f"{v:,.0f}"))
        print(f"| {p} | " + " | ".join(cells) + " |")
    print("\n## Where the CPU went during iperf3 (medians; CPUs = CPU seconds per second)\n")
    print(f"| peer | relay CPU s/GB, 1 stream | busy CPUs (of {os.cpu_count()}), 1 stream | "
          "client / relay / server CPUs, 1 stream | relay CPU s/GB, 8 streams | busy CPUs, "
          "8 streams |")
    print("|---|---|---|---|---|---|")
    for p in peers:
        cells = [med(results, p, k) for k in ("relay_cpu_s_per_gb_1", "busy_cpus_1")]
        split = [med(results, p, k) for k in ("client_cpus_1", "relay_cpus_1", "server_cpus_1")]
        cells.append(None if None in split else " / ".join(f"{v:.2f}" for v in split))
        cells += [med(results, p, k) for k in ("relay_cpu_s_per_gb_8", "busy_cpus_8")]
        print(f"| {p} | " + " | ".join("-" if v is None else v if isinstance(v, str) else
                                       f"{v:.2f}" for v in cells) + " |")
    for variant in [p for p in peers if p.startswith("snare") and p != "snare"]:
        print(f"\n{variant}: " + ", ".join(
            f"{label} {med(results, variant, key):,.2f}" for label, key in cols
            if med(results, variant, key) is not None))
    if "snare" in peers and hap:
        print("\n## snare proxy / HAProxy best (best of " + ", ".join(hap) + ")\n")
        print("| metric | snare | HAProxy best | ratio | target |")
        print("|---|---|---|---|---|")
        targets = {"gbps_1": ">= 1.30x", "gbps_8": ">= 1.50x", "rps": ">= 0.90x",
                   "p99_us": "<= 1.10x", "conn_s": ">= 0.90x", "rss_per_conn_b": "< 0.25x",
                   "p50_us": "-"}
        for label, key in cols:
            s, h = med(results, "snare", key), best_haproxy(key, key in lower)
            if s is None or not h:
                continue
            print(f"| {label} | {s:,.2f} | {h:,.2f} | {s / h:.2f}x | {targets.get(key, '-')} |")
        # Why: a relay adds two TCP endpoints to the path, so it cannot move more bytes than the
        # same clients and servers do with no relay at all. This says how far a target sits from
        # that ceiling in this run.
        if "direct" in peers:
            print()
            for label, key, factor in [("iperf3 1 stream", "gbps_1", 1.3),
                                       ("iperf3 8 streams", "gbps_8", 1.5)]:
                d, h = med(results, "direct", key), best_haproxy(key, False)
                s = med(results, "snare", key)
                if d and h and s:
                    print(f"{label}: target {factor:.1f} x HAProxy best = {factor * h:.2f} Gbit/s = "
                          f"{factor * h / d:.2f} x direct ({d:.2f}); snare {s / d:.2f} x direct, "
                          f"HAProxy best {h / d:.2f} x direct")


if __name__ == "__main__":
    main()
