#!/usr/bin/env python3
"""Tiny TCP/UDP probe for the traffic tests.

  probe.py serve NAME [--transparent] [--udp] ADDR:PORT ...
      Listens on each address; for every TCP connection answers one line
      "NAME listener=<port> orig=<original destination>" and closes. The original destination is
      SO_ORIGINAL_DST (IPv4) / IP6T_SO_ORIGINAL_DST (IPv6) when conntrack has a NAT mapping, else the
      socket's local address (TPROXY). With --transparent the sockets are IP_TRANSPARENT. With
      --udp it answers each datagram with "NAME udp listener=<port>". With --peer the TCP line
      ends with " from=<source address the listener saw>".
  probe.py connect [--udp] [--mark=N] [--source=ADDR] HOST PORT
      Connects, prints the line the server sent (or "error: ..."), exit 0 when a line came back.
      --mark sets the socket's SO_MARK (as ztunnel marks its own sockets), --source binds the
      socket to that address first.
"""
import select
import socket
import struct
import sys

SO_ORIGINAL_DST = 80
IP_TRANSPARENT = 19
IPV6_TRANSPARENT = 75
SOL_IPV6 = 41


def split_hostport(s):
    host, port = s.rsplit(":", 1)
    return host.strip("[]"), int(port)


def original_dst(conn, family):
    try:
        if family == socket.AF_INET:
            raw = conn.getsockopt(socket.SOL_IP, SO_ORIGINAL_DST, 16)
            port, = struct.unpack("!H", raw[2:4])
            return f"{socket.inet_ntop(socket.AF_INET, raw[4:8])}:{port}"
        raw = conn.getsockopt(SOL_IPV6, SO_ORIGINAL_DST, 28)
        port, = struct.unpack("!H", raw[2:4])
        return f"[{socket.inet_ntop(socket.AF_INET6, raw[8:24])}]:{port}"
    except OSError:
        host, port = conn.getsockname()[:2]
        return f"[{host}]:{port}" if family == socket.AF_INET6 else f"{host}:{port}"


def serve(name, addrs, transparent, udp, peer=False):
    socks = []
    for a in addrs:
        host, port = split_hostport(a)
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        if transparent:
            if fam == socket.AF_INET:
                s.setsockopt(socket.SOL_IP, IP_TRANSPARENT, 1)
            else:
                s.setsockopt(SOL_IPV6, IPV6_TRANSPARENT, 1)
        s.bind((host, port))
        if not udp:
            s.listen(64)
        socks.append((s, fam, port))
    print("ready", flush=True)
    while True:
        ready, _, _ = select.select([s for s, _, _ in socks], [], [])
        for s in ready:
            fam, port = next((f, p) for x, f, p in socks if x is s)
            if udp:
                data, peer = s.recvfrom(2048)
                s.sendto(f"{name} udp listener={port}\n".encode(), peer)
                continue
            conn, source = s.accept()
            tail = f" from={source[0]}" if peer else ""
            try:
                conn.sendall(f"{name} listener={port} orig={original_dst(conn, fam)}{tail}\n".encode())
            finally:
                conn.close()


def connect(host, port, udp, mark=None, source=None):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
    s.settimeout(3)
    try:
        if mark is not None:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, mark)
        if source is not None:
            s.bind((source, 0))
        if udp:
            s.sendto(b"q", (host, port))
            data = s.recv(2048)
        else:
            s.connect((host, port))
            data = s.recv(2048)
        line = data.decode().strip()
        print(line)
        return 0 if line else 1
    except OSError as e:
        print(f"error: {e}")
        return 1


def main():
    args = sys.argv[1:]
    if args[0] == "serve":
        transparent = "--transparent" in args
        udp = "--udp" in args
        rest = [a for a in args[2:] if not a.startswith("--")]
        serve(args[1], rest, transparent, udp, "--peer" in args)
    elif args[0] == "connect":
        udp = "--udp" in args
        opts = dict(a[2:].split("=", 1) for a in args[1:] if a.startswith("--") and "=" in a)
        rest = [a for a in args[1:] if not a.startswith("--")]
        mark = int(opts["mark"], 0) if "mark" in opts else None
        return connect(rest[0], int(rest[1]), udp, mark, opts.get("source"))
    return 2


if __name__ == "__main__":
    sys.exit(main())
