#!/usr/bin/env python3
"""Random flag combinations: restore form loaded by iptables-legacy-restore must read back
(iptables-legacy-save) as snare's save form. usage: kernel_parses_dry_run.py SNARE N"""
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "golden"))
from compare_forms import split_families, tables  # noqa: E402


def random_args(rnd):
    a = []
    ports = lambda k: ",".join(str(rnd.choice([rnd.randint(1, 65535), 80, 443, 8080]))
                               for _ in range(rnd.randint(1, k)))
    cidr4 = lambda: f"{rnd.randint(1, 223)}.{rnd.randint(0, 255)}.0.0/{rnd.randint(8, 32)}"
    cidr6 = lambda: f"fd{rnd.randint(0, 255):02x}::/{rnd.randint(8, 128)}"
    if rnd.random() < 0.5: a += ["-m", rnd.choice(["REDIRECT", "TPROXY", "tproxy"])]
    if rnd.random() < 0.5: a += ["-b", rnd.choice(["*", "", ports(3), "1000:2000"])]
    if rnd.random() < 0.5: a += ["-d", ports(3)]
    if rnd.random() < 0.5: a += ["-i", rnd.choice(["*", "", ",".join([cidr4(), cidr6()]), "127.0.0.1/32"])]
    if rnd.random() < 0.4: a += ["-x", ",".join([cidr4(), cidr6(), cidr4()])]
    if rnd.random() < 0.3: a += ["-q", ports(2)]
    if rnd.random() < 0.3: a += ["-o", ports(2)]
    if rnd.random() < 0.3: a += ["-k", rnd.choice(["eth1", "eth1,eth2", "veth+"])]
    if rnd.random() < 0.3: a += ["-c", rnd.choice(["eth9", "net1,net2"])]
    if rnd.random() < 0.4: a += ["-u", rnd.choice(["1337", "1,2", "1000670000"])]
    if rnd.random() < 0.4: a += ["-g", rnd.choice(["1337", "3,4"])]
    if rnd.random() < 0.3: a += ["-t", rnd.choice(["1337", "0x100", "42"])]
    if rnd.random() < 0.3: a += ["-p", str(rnd.randint(1, 65535)), "-z", str(rnd.randint(1, 65535))]
    if rnd.random() < 0.2: a += ["-e", str(rnd.randint(1, 65535))]
    if rnd.random() < 0.4:
        a += ["--redirect-dns"]
        a += rnd.choice([["--capture-all-dns"], ["--dns-servers=10.96.0.10,fd00::a"], ["--dns-servers=10.0.0.2"]])
    if rnd.random() < 0.3: a += ["--drop-invalid"]
    if rnd.random() < 0.3: a += ["--outbound-owner-groups", rnd.choice(["100,200", "*", "5"])]
    if rnd.random() < 0.3: a += ["--outbound-owner-groups-exclude", "300,400"]
    if rnd.random() < 0.2: a += ["--host-ipv4-loopback-cidr", "127.0.0.0/8"]
    a += ["--enable-ipv6=" + rnd.choice(["true", "false"])]
    return a


def sh(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def main():
    snare, n = sys.argv[1], int(sys.argv[2])
    rnd = random.Random(int(os.environ.get("SNARE_RANDOM_SEED", "20261126")))
    passed = failed = 0
    for i in range(n):
        args = random_args(rnd)
        ns = f"snare-rnd-{os.getpid()}-{i}"
        r = sh([snare, "--dry-run", *args])
        s = sh([snare, "--dry-run", "--output-format=save", *args])
        if r.returncode != 0 or s.returncode != 0:
            print(f"FAIL case {i} {args}: dry-run exit {r.returncode}/{s.returncode}: {r.stderr.strip()}")
            failed += 1
            continue
        restore, save = split_families(r.stdout), split_families(s.stdout)
        subprocess.run(["ip", "netns", "add", ns], check=True)
        try:
            ok = True
            for fam, rest, dump in (("ipv4", "iptables-legacy-restore", "iptables-legacy-save"),
                                    ("ipv6", "ip6tables-legacy-restore", "ip6tables-legacy-save")):
                text = "\n".join(restore[fam]) + "\n"
                if restore[fam]:
                    lr = sh(["ip", "netns", "exec", ns, rest, "--noflush"], input=text)
                    if lr.returncode != 0:
                        print(f"FAIL case {i} {fam}: kernel refused snare's rules: {lr.stderr.strip()}\n{text}")
                        ok = False
                        continue
                got = tables(sh(["ip", "netns", "exec", ns, dump]).stdout.splitlines())
                want = tables(save[fam])
                if got != want:
                    ok = False
                    print(f"FAIL case {i} {fam} {args}")
                    for t in sorted(set(got) | set(want)):
                        if got.get(t) != want.get(t):
                            print(f"  {t}: kernel {got.get(t)}\n  {t}: snare  {want.get(t)}")
            passed += ok
            failed += not ok
        finally:
            subprocess.run(["ip", "netns", "del", ns])
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
