#!/usr/bin/env python3
"""The kernel proof of `snare trace` for tests/root/trace_kernel_*.sh: every configuration of one
group of istio's conformance table, one after the other in one pod namespace joined to a peer.

  trace_kernel.py CONFORMANCE_DIR GROUP POD PEER POD_DEV PEER_DEV
      GROUP: sidecar (cases.tsv's iptables cases), nft (its nft- cases), ambient
      (ambient-cases.tsv). POD_DEV/PEER_DEV: the veth between them (10.251.0.1-3, fd51::1-3).

For each configuration: its rules applied in POD; its packets made from its flags (both
directions; the app's, the proxy's and the flags' other owners; marks; included and excluded ports
and CIDRs, with peer addresses in and out of each; DNS; loopback, the pod's own address,
127.0.0.6; the interfaces the flags name, made here). Each packet's trace from every source in
TRACE_SOURCES (the kernel's own listing as --rules, and the namespace) must equal the flags' trace (verdict and path), and a real connection made by this
process (in its namespace, with its owner and mark) must land where that trace says: which
listener, which original destination (SO_ORIGINAL_DST, or the local address under TPROXY): the
kernel is the oracle. Then the clean, which must leave no rule, table or ip rule behind.
IPT_SAMPLE / NFT_SAMPLE=N: every Nth packet of iptables / nftables configurations (default all);
unsampled, fewer than MIN_SENT packets sent fails the configuration. Exit 1 on any disagreement.
"""
import concurrent.futures as cf
import ctypes
import grp
import ipaddress
import itertools
import json
import os
import select
import shlex
import socket
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from probe import original_dst  # noqa: E402  (the same answer the probe servers give)

SNARE = os.environ["SNARE"]
MIN_SENT = 20
TIMEOUT = 2.0
CLONE_NEWNET = 0x40000000
IP_TRANSPARENT, IPV6_TRANSPARENT = 19, 75
# Where each configuration's traces come from, besides its flags (`-- FLAGS`, the reference):
# each is compared to the flags' answer, verdict and path. One line per source.
TRACE_SOURCES = {
    "ipt": [
        lambda c, fam: ["--rules", os.path.join(c["saves"], f"v{fam}.save")],
        lambda c, fam: ["--network-namespace", f"/var/run/netns/{c['pod']}"],
    ],
    "nft": [
        lambda c, fam: ["--rules", os.path.join(c["saves"], "ruleset.json")],
        lambda c, fam: ["--network-namespace", f"/var/run/netns/{c['pod']}"],
    ],
}
BASE = {
    4: dict(pod="10.251.0.1", peer="10.251.0.2", other="10.251.0.3", far=["9.9.0.2", "1.1.0.2"],
            loop="127.0.0.1", six="127.0.0.6", net="10.252.{}"),
    6: dict(pod="fd51::1", peer="fd51::2", other="fd51::3",
            far=["2001:db8::2", "2001:db8:1::2"], loop="::1", six=None, net="fd52:{}:"),
}
OUT_PORTS, IN_PORTS = [8080, 15008, 15020], [8080, 15001, 15006, 15008, 15020, 15021, 15090]
ALWAYS_LISTEN = [15001, 15006, 15053, 53]
_libc = ctypes.CDLL(None, use_errno=True)
PORTS = itertools.count()
# nftables: the kernel's own trace (`--live`) of this many sent outbound packets per configuration
# (1 under a sparse sample), each from a source port of its own.
LIVE_PER_CONFIG = int(os.environ.get("LIVE_PER_CONFIG", "3"))
LIVE_PORTS = itertools.count(50000)


def setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns")


def ep(addr, port):
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def configs(conformance, group):
    """(name, flags) of the group, in the table's order."""
    files = ["ambient-cases.tsv"] if group == "ambient" else ["cases.tsv"]
    out = []
    for f in files:
        for line in open(os.path.join(conformance, f)):
            fields = line.rstrip("\n").split("\t")  # name, istio's golden, snare's arguments
            name = fields[0]
            if not name or name.startswith("#") or len(fields) < 3:
                continue
            args = fields[2]
            if group != "ambient" and name.startswith("nft-") != (group == "nft"):
                continue
            out.append((name, shlex.split(args)))
    return out


def values(flags, *names):
    """The comma-separated values of every flag in names (`-x A,B`, `--x=A,B`)."""
    out = []
    for i, f in enumerate(flags):
        for n in names:
            v = None
            if f == n and i + 1 < len(flags):
                v = flags[i + 1]
            elif f.startswith(n + "="):
                v = f.split("=", 1)[1]
            if v is not None:
                out += [x for x in v.split(",") if x]
    return out


def ports_of(flags, *names):
    return [int(p) for p in values(flags, *names) if p.isdigit()][:2]


def interfaces_of(flags):
    return values(flags, "-c", "-k", "--reroute-virtual-interfaces")


def cidr_addrs(flags, fam):
    """An address inside each -x/-i CIDR of the family: (remote ones, loopback ones)."""
    remote, local = [], []
    for c in values(flags, "-x", "-i"):
        if c == "*":
            continue
        net = ipaddress.ip_network(c, strict=False)
        if net.version != fam:
            continue
        a = net.network_address + (2 if net.num_addresses > 4 else 0)
        (local if a.is_loopback else remote).append(str(a))
    return remote, local


def owners(flags):
    """(uid, gid, mark) of the packets' sockets; the first is the app, sent the full matrix."""
    if flags[0].startswith("ambient"):
        # ztunnel marks its own sockets (0x539); kubelet's probes are uid 1000 here.
        return [(0, 0, 0), (0, 0, 0x539), (1000, 1000, 0)]
    out = [(1000, 1000, 0)]
    out += [(int(u), 1000, 0) for u in values(flags, "-u", "--proxy-uid")[:2]] or [(1337, 1000, 0)]
    out += [(1000, int(g), 0) for g in values(flags, "-g", "--proxy-gid")[:2]] or [(1000, 1337, 0)]
    groups = values(flags, "--outbound-owner-groups", "--outbound-owner-groups-exclude")
    # Group names (istio's goldens name java and ftp) as this namespace's /etc/group has them.
    out += [(1000, int(g) if g.isdigit() else grp.getgrnam(g).gr_gid, 0) for g in groups]
    if "TPROXY" not in flags:  # under TPROXY, mark 1337 routes to lo (istio's table 133)
        out.append((1000, 1000, 0x539))
    return out


def packets(cfg, fam, ifaces):
    """Every packet of one configuration and family, as dicts."""
    flags, a = cfg["flags"], BASE[fam]
    remote, loopback = cidr_addrs(flags, fam)
    dests = list(dict.fromkeys([a["peer"], a["other"]] + a["far"] + remote))
    locals_ = list(dict.fromkeys([a["pod"], a["loop"]] + loopback))
    out_ports = list(dict.fromkeys(OUT_PORTS + ports_of(flags, "-o") + ports_of(flags, "-q")))
    dns = [s for s in values(flags, "--dns-servers") if fam == 4 and s.startswith("127.")]
    out = []

    def add(desc, **p):
        p.setdefault("proto", "tcp")
        p.setdefault("bind", None)
        out.append(dict(desc=desc, fam=fam, **p))

    for n, (uid, gid, mark) in enumerate(owners(flags)):
        who = dict(dir="out", uid=uid, gid=gid, mark=mark, ns="pod")
        tag = f"uid={uid} gid={gid} mark={hex(mark)}"
        app = n == 0
        for dst in dests if app else [a["peer"]]:
            for port in out_ports:
                add(f"out {tag} -> {ep(dst, port)}", src=a["pod"], dst=dst, port=port,
                    dev=cfg["dev"], local=False, **who)
        for dst in locals_ if app else [a["pod"]]:
            for port in OUT_PORTS if app else [8080]:
                src = a["pod"] if dst == a["pod"] else a["loop"]
                add(f"out {tag} -> {ep(dst, port)} (local)", src=src, dst=dst, port=port, dev="lo",
                    local=True, **who)
        for proto in ["udp", "tcp"]:  # DNS: to the peer (UDP: every address), the flags' servers
            for dst in dests if app and proto == "udp" else [a["peer"]]:
                add(f"out {tag} {proto} -> {ep(dst, 53)}", proto=proto, src=a["pod"], dst=dst,
                    port=53, dev=cfg["dev"], local=False, **who)
            for s in dns if app else []:
                add(f"out {tag} {proto} -> {ep(s, 53)}", proto=proto, src="127.0.0.1", dst=s,
                    port=53, dev="lo", local=True, **who)
        if app and a["six"]:  # the proxy's inbound passthrough: from 127.0.0.6 to the pod
            add(f"out {tag} {a['six']} -> {ep(a['pod'], 8080)}", src=a["six"], bind=a["six"],
                dst=a["pod"], port=8080, dev="lo", local=True, **who)
        for name in interfaces_of(flags) if app else []:  # leaving by a named interface
            i = ifaces[name]
            add(f"out {tag} -> {name}", src=addr_on(a, i, 1), dst=addr_on(a, i, 2), port=8080,
                dev=name, local=False, **who)
    in_ports = list(dict.fromkeys(IN_PORTS + ports_of(flags, "-b") + ports_of(flags, "-d")))
    sources = ["peer", "other"] if flags[0].startswith("ambient") else ["peer"]
    for src in sources:
        for port in in_ports:
            add(f"in {a[src]} -> {ep(a['pod'], port)}", dir="in", src=a[src], bind=a[src],
                dst=a["pod"], port=port, dev=cfg["dev"], ns="peer", local=True)
        add(f"in {a[src]} udp -> {ep(a['pod'], 53)}", dir="in", proto="udp", src=a[src],
            bind=a[src], dst=a["pod"], port=53, dev=cfg["dev"], ns="peer", local=True)
    for name in interfaces_of(flags):  # arriving on a named interface
        i = ifaces[name]
        for port in [8080, 15020]:
            add(f"in {name} -> :{port}", dir="in", src=addr_on(a, i, 2), bind=addr_on(a, i, 2),
                dst=addr_on(a, i, 1), port=port, dev=name, ns="peer", local=True)
    return out


def addr_on(a, i, host):
    return f"{a['net'].format(i)}:{host}" if ":" in a["net"] else f"{a['net'].format(i)}.{host}"


def trace_args(p):
    args = [p["dir"], p["proto"], ep(p["src"], 43210), ep(p["dst"], p["port"])]
    if p["dir"] == "in":
        return args + ["--iif", p["dev"]]
    return args + ["--oif", p["dev"], "--uid", str(p["uid"]), "--gid", str(p["gid"]),
                   "--mark", hex(p["mark"])]


def same_answer(a, b):
    """None when two answers agree on the verdict and on the path; else what differs."""
    for k in ("summary", "captured", "action", "to_port", "original_destination", "mark"):
        if a[k] != b[k]:
            return f"{k}: {a[k]!r} vs {b[k]!r}"
    if path_key(a) != path_key(b):
        return f"the paths differ: {path_key(a)} vs {path_key(b)}"
    return None


def path_key(answer):
    """The path's steps, without the tables the packet only passed by policy: one namespace runs
    every configuration, and a table an earlier one used stays in the kernel, empty (x_tables has
    no table removal), where a fresh namespace with these rules would have none."""
    steps = [(s["table"], s["chain"], s["position"], s["matched"]) for s in answer["path"]]
    ruled = {t for t, _, pos, _ in steps if pos is not None}
    return [s for s in steps if s[0] in ruled]


def run_trace(args):
    if "--" not in args:
        args = args + ["--output", "json"]
    r = subprocess.run([SNARE, "trace"] + args, capture_output=True, text=True)
    if r.returncode:
        return None, f"exit {r.returncode}: {r.stderr.strip()}"
    return json.loads(r.stdout), None


def trace(cfg, p):
    """The flags' answer, or (None, why) when a source disagrees or the trace fails."""
    answer, err = run_trace(trace_args(p) + ["--output", "json", "--"] + cfg["flags"])
    if err:
        return None, f"snare trace {err}"
    for source in TRACE_SOURCES[cfg["mode"]]:
        args = source(cfg, p["fam"])
        other, err = run_trace(trace_args(p) + args)
        why = err or same_answer(answer, other)
        if why:
            return None, f"{args[0]} answers otherwise: {why}"
    return answer, None


def expected(answer, p):
    """Where the connection must land if the trace is right."""
    captured = answer["captured"]
    port = answer["to_port"] if captured else p["port"]
    where = "pod" if captured or p["local"] else "peer"
    if answer["action"] == "drop":
        return "error"
    if p["proto"] == "udp":  # the UDP server names no original destination
        return f"{where} udp listener={port}"
    orig = answer["original_destination"] if captured else ep(p["dst"], p["port"])
    return f"{where} listener={port} orig={orig}"


class Net:
    """The two namespaces: their probe servers (this process's threads), sockets made in them."""

    def __init__(self, pod, peer):
        self.home = os.open("/proc/self/ns/net", os.O_RDONLY)
        self.fds = {n: os.open(f"/var/run/netns/{v}", os.O_RDONLY)
                    for n, v in (("pod", pod), ("peer", peer))}

    def socket(self, ns, fam, udp, uid=0, gid=0):
        """A socket in namespace ns, owned by uid/gid (the owner match reads the socket's file's
        credentials, fixed when it is made)."""
        setns(self.fds[ns])
        os.setegid(gid)
        os.seteuid(uid)
        try:
            return socket.socket(socket.AF_INET6 if fam == 6 else socket.AF_INET,
                                 socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
        finally:
            os.seteuid(0)
            os.setegid(0)
            setns(self.home)

    def serve(self, tcp_ports, udp_ports):
        """Listeners on every port in both namespaces, both families; the pod's are transparent
        so that TPROXY can deliver to any of them."""
        for ns in ("pod", "peer"):
            socks = []
            for fam, host in ((4, "0.0.0.0"), (6, "::")):
                for port, udp in [(p, False) for p in tcp_ports] + [(p, True) for p in udp_ports]:
                    s = self.socket(ns, fam, udp)
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    if fam == 6:
                        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                    if ns == "pod" and not udp:
                        s.setsockopt(*((socket.SOL_IP, IP_TRANSPARENT) if fam == 4 else
                                       (socket.IPPROTO_IPV6, IPV6_TRANSPARENT)), 1)
                    s.bind((host, port))
                    if not udp:
                        s.listen(256)
                    socks.append((s, fam, port, udp))
            threading.Thread(target=serve_loop, args=(ns, socks), daemon=True).start()


def serve_loop(name, socks):
    by = {s: (fam, port, udp) for s, fam, port, udp in socks}
    while True:
        for s in select.select(list(by), [], [])[0]:
            fam, port, udp = by[s]
            if udp:
                _, src = s.recvfrom(2048)
                s.sendto(f"{name} udp listener={port}\n".encode(), src)
                continue
            conn, _ = s.accept()
            family = socket.AF_INET6 if fam == 6 else socket.AF_INET
            try:
                conn.sendall(f"{name} listener={port} orig={original_dst(conn, family)}\n".encode())
            except OSError:
                pass
            conn.close()


def exchange(s, p):
    try:
        dst = (p["dst"], p["port"])
        if p["proto"] == "udp":
            s.sendto(b"q", dst)
        else:
            s.connect(dst)
        return s.recv(2048).decode().strip() or "error: nothing came back"
    except OSError as e:
        return f"error: {e}"
    finally:
        s.close()


def send_all(net, plist):
    """Connect every packet at once; what came back, in order. Sockets are made one by one first
    (owners switch this process's effective IDs), connected concurrently after."""
    socks = []
    for p in plist:
        s = net.socket(p["ns"], p["fam"], p["proto"] == "udp", p.get("uid", 0), p.get("gid", 0))
        s.settimeout(TIMEOUT)
        if p.get("mark"):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, p["mark"])
        # Why a port of its own: the configurations share one namespace, and a UDP socket that
        # drew a port an earlier configuration's packet used would find its conntrack entry, NAT
        # and all. Ports from 20000 on, below the ephemeral range, one per packet of the run.
        port = 20000 + next(PORTS) % 10000
        s.bind((p["bind"] or ("::" if p["fam"] == 6 else "0.0.0.0"), port))
        socks.append(s)
    with cf.ThreadPoolExecutor(max_workers=64) as pool:
        return list(pool.map(exchange, socks, plist))


def sh(*cmd, ns=None):
    """Run a command (in a namespace); its stdout, or raise with its stderr."""
    full = (["ip", "netns", "exec", ns] if ns else []) + list(cmd)
    r = subprocess.run(full, capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"{' '.join(full)}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def rule_commands(flags):
    """(apply, clean) argument lists of a configuration's rule command."""
    if flags[0] in ("ambient", "ambient-host"):
        # Ambient's probe SNAT address: the peer's .3 / ::3, so that a probe can come from it.
        rest = flags[1:] + ["--probe-snat-ipv4", "10.251.0.3", "--probe-snat-ipv6", "fd51::3"]
        return [flags[0]] + rest, [flags[0], "clean"] + rest
    return flags, ["clean"] + flags


def live_checks(cfg, sent, n):
    """nftables: `snare trace --live` of up to n sent outbound packets (one of each verdict first)
    in the pod: the kernel's trace of the same packet must agree with the simulation. The
    problems, and how many packets were traced."""
    outs = [(p, a) for p, a in sent if p["dir"] == "out"]
    picked, seen = [], set()
    for p, a in outs:
        if a["action"] not in seen:
            seen.add(a["action"])
            picked.append(p)
    picked += [p for p, _ in outs if p not in picked]
    problems = []
    for p in picked[:n]:
        args = trace_args(p)
        args[2] = ep(p["src"], next(LIVE_PORTS))  # a tuple no connection used
        r = subprocess.run([SNARE, "trace", *args, "--live", "--output", "json",
                            "--network-namespace", f"/var/run/netns/{cfg['pod']}", "--",
                            *cfg["flags"]], capture_output=True, text=True)
        live = json.loads(r.stdout).get("live", {}) if r.stdout.strip() else {}
        if r.returncode not in (0, 3) or not live.get("agrees"):
            problems.append(f"{p['desc']}: --live (exit {r.returncode}): "
                            f"{live.get('disagreements') or live.get('error') or r.stderr.strip()}")
    return problems, min(n, len(picked))


def leftovers(pod):
    """What a clean left in the namespace: rules, nftables tables, ip rules beyond the defaults."""
    left = []
    for save in ("iptables-legacy-save", "ip6tables-legacy-save"):
        left += [l for l in sh(save, ns=pod).splitlines() if l.startswith("-A")]
    left += sh("nft", "list", "tables", ns=pod).split("\n")
    for fam in ("-4", "-6"):
        left += [l for l in sh("ip", fam, "rule", ns=pod).splitlines()
                 if not l.split(":")[0] in ("0", "32766", "32767")]
    return [l for l in left if l.strip()]


def run_config(name, flags, ctx):
    """One configuration: apply, trace, send, clean. Returns (sent, agree, problems, verdicts)."""
    mode = "nft" if "--native-nftables" in flags else "ipt"
    apply_args, clean_args = rule_commands(flags)
    cfg = dict(flags=apply_args, mode=mode, pod=ctx["pod"], dev=ctx["dev"], saves=ctx["saves"])
    sh(SNARE, *apply_args, "--log_output_level=warn", ns=ctx["pod"])
    problems = []
    try:
        if mode == "ipt":
            for fam, save in ((4, "iptables-legacy-save"), (6, "ip6tables-legacy-save")):
                with open(os.path.join(ctx["saves"], f"v{fam}.save"), "w") as f:
                    f.write(sh(save, ns=ctx["pod"]))
        else:  # the kernel's own listing, both families in one
            with open(os.path.join(ctx["saves"], "ruleset.json"), "w") as f:
                f.write(sh("nft", "-j", "list", "ruleset", ns=ctx["pod"]))
        v6 = "--enable-ipv6=true" in flags
        plist = [p for fam in ([4, 6] if v6 else [4]) for p in packets(cfg, fam, ctx["ifaces"])]
        plist = plist[::ctx["sample"][mode]]
        with cf.ThreadPoolExecutor(max_workers=ctx["jobs"]) as pool:
            answers = list(pool.map(lambda p: trace(cfg, p), plist))
        send, wants, skipped = [], [], 0
        for p, (answer, why) in zip(plist, answers):
            if why:
                problems.append(f"{p['desc']}: {why}")
            elif answer["error"]:
                problems.append(f"{p['desc']}: the trace stopped: {answer['error']}")
            elif answer["uncertain"]:
                # An ipset's members (ambient-host's probe set) are the kernel's, not the rules':
                # such a packet has no answer to check, and is not sent.
                if all("members are not known" in u for u in answer["uncertain"]):
                    skipped += 1
                else:
                    problems.append(f"{p['desc']}: uncertain: {answer['uncertain']}")
            else:
                send.append(p)
                wants.append((expected(answer, p), answer))
        got = send_all(ctx["net"], send)
        agree, verdicts = 0, {}
        for p, (want, answer), g in zip(send, wants, got):
            verdicts[answer["action"]] = verdicts.get(answer["action"], 0) + 1
            if g == want or (want == "error" and g.startswith("error")):
                agree += 1
            else:
                problems.append(f"{p['desc']}: trace says '{want}' ({answer['summary']}), "
                                f"the kernel: '{g}'")
        if mode == "nft":
            n = LIVE_PER_CONFIG if ctx["sample"][mode] == 1 else 1
            live_problems, traced = live_checks(cfg, list(zip(send, [a for _, a in wants])), n)
            problems += live_problems
            ctx["live"] += traced
        return len(send), agree, skipped, problems, verdicts
    finally:
        sh(SNARE, *clean_args, "--log_output_level=warn", ns=ctx["pod"])
        left = leftovers(ctx["pod"])
        if left:
            raise RuntimeError(f"{name}: clean left {left[:5]}: the next configuration would "
                               "run over them")


def main():
    conformance, group, pod, peer, dev, peer_dev = sys.argv[1:7]
    os.setgroups([])  # the sockets' owners have no supplementary group of root's
    sample = {"ipt": int(os.environ.get("IPT_SAMPLE", "1")),
              "nft": int(os.environ.get("NFT_SAMPLE", "1"))}
    cases = configs(conformance, group)
    # The interfaces the flags name (excluded, virtual, rerouted), each a veth to the peer with its
    # own subnets: packets can leave and arrive on them.
    names = list(dict.fromkeys(n for _, f in cases for n in interfaces_of(f)))
    ifaces = {n: i + 1 for i, n in enumerate(names)}
    for n, i in ifaces.items():
        sh("ip", "link", "add", n, "netns", pod, "type", "veth", "peer", "name", f"tkv{i}",
           "netns", peer)
        for ns, dv, host in ((pod, n, 1), (peer, f"tkv{i}", 2)):
            sh("ip", "-n", ns, "addr", "add", f"{addr_on(BASE[4], i, host)}/24", "dev", dv)
            sh("ip", "-n", ns, "addr", "add", f"{addr_on(BASE[6], i, host)}/64", "dev", dv, "nodad")
            sh("ip", "-n", ns, "link", "set", dv, "up")
    # Peer addresses inside the flags' CIDRs (outside ones: the peer's own and BASE's far ones).
    extra = {a for _, f in cases for fam in (4, 6) for a in cidr_addrs(f, fam)[0]}
    extra |= {a for fam in (4, 6) for a in BASE[fam]["far"]}
    for a in sorted(extra - {BASE[4]["peer"], BASE[4]["other"]}):
        plen = "/128" if ":" in a else "/32"
        sh("ip", "-n", peer, "addr", "add", a + plen, "dev", peer_dev,
           *(["nodad"] if ":" in a else []))
    net = Net(pod, peer)
    tcp = set(OUT_PORTS + IN_PORTS + ALWAYS_LISTEN)
    for _, f in cases:
        tcp |= set(ports_of(f, "-o") + ports_of(f, "-q") + ports_of(f, "-b") + ports_of(f, "-d"))
    net.serve(sorted(tcp), [53, 15053])
    saves = tempfile.TemporaryDirectory(prefix="snare-trace-")
    ctx = dict(pod=pod, dev=dev, ifaces=ifaces, net=net, sample=sample, jobs=4, saves=saves.name,
               live=0)
    failed, total, kinds = 0, 0, set()
    for name, flags in cases:
        try:
            sent, agree, skipped, problems, verdicts = run_config(name, flags, ctx)
        except RuntimeError as e:  # the apply or the clean failed: the run cannot go on
            print(f"FAIL: [{name}] {e}")
            return 1
        total += sent
        kinds |= set(verdicts)
        mode = "nft" if "--native-nftables" in flags else "ipt"  # as run_config says it
        if sample[mode] == 1 and sent < MIN_SENT:
            problems.append(f"only {sent} packets sent, want {MIN_SENT} or more")
        # Why: a pod configuration whose packets all get one verdict proves little about the walk.
        if sample[mode] <= 3 and len(verdicts) < 2 and flags[0] != "ambient-host":
            problems.append(f"every packet got the same verdict: {verdicts}")
        print(f"[{name}] {sent} sent, {agree} agree, {skipped} not sent (set members unknown); "
              + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items())), flush=True)
        for p in problems:
            print(f"FAIL: [{name}] {p}", flush=True)
        failed += bool(problems)
    print(f"{len(cases)} configurations, {total} packets sent ({ctx['live']} also traced by the "
          f"kernel, --live), {failed} configurations failed")
    # A sparse sample (the sanitized run) checks the verdict kinds over the whole run.
    if len(kinds) < 3:
        print(f"FAIL: the whole run drew {len(kinds)} kinds of verdict ({kinds}), want 3 or more")
        failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
