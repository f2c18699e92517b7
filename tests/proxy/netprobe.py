#!/usr/bin/env python3
"""Traffic for the proxy root tests: servers and clients with checked results.

  netprobe.py serve PORT           echo server on [::]:PORT (dual-stack); PORT+1 answers
                                   "<peer address>\\n" and closes (who reached the app?)
  netprobe.py echo HOST PORT SIZE  send SIZE random bytes, half-close, read the echo to EOF,
                                   compare (the echo of the tail arrives after our FIN)
  netprobe.py whoami HOST PORT     print what PORT+1 says
  netprobe.py hold HOST PORT N [S] open N connections at once, one round trip each, hold them
                                   until all are up and S seconds more (default 0.5), then
                                   close all
  netprobe.py seq HOST PORT N [C]  N connections, C in flight (default 16), one round trip each
  netprobe.py refused HOST PORT    exit 0 if the connection ends without an echo (reset or EOF)
Exit status 0 = all checks passed.
"""
import asyncio
import os
import resource
import socket
import sys


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def serve(port):
    async def echo(reader, writer):
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
            writer.write_eof()
            await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def who(reader, writer):
        peer = writer.get_extra_info("peername")
        host = peer[0]
        if host.startswith("::ffff:"):
            host = host[7:]
        writer.write(f"{host}\n".encode())
        await writer.drain()
        writer.close()

    servers = []
    for p, handler in ((port, echo), (port + 1, who)):
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", p))
        s.listen(4096)
        servers.append(await asyncio.start_server(handler, sock=s, limit=1 << 20))
    print("ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


async def one_round(host, port, payload, keep=None):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(payload)
    await writer.drain()
    got = await reader.readexactly(len(payload))
    if got != payload:
        raise RuntimeError("payload mismatch")
    if keep is not None:
        keep.append(writer)
        return
    writer.close()
    await writer.wait_closed()


async def echo(host, port, size):
    payload = os.urandom(size)
    reader, writer = await asyncio.open_connection(host, port)

    async def send():
        writer.write(payload)
        await writer.drain()
        writer.write_eof()  # half-close: the rest of the echo must still come back

    sender = asyncio.create_task(send())
    chunks = []
    while True:
        data = await reader.read(1 << 20)
        if not data:
            break
        chunks.append(data)
    await sender
    got = b"".join(chunks)
    writer.close()
    if got != payload:
        print(f"echo mismatch: sent {len(payload)} bytes, got {len(got)}", file=sys.stderr)
        return 1
    print(f"echo ok {len(payload)} bytes")
    return 0


async def hold(host, port, n, seconds=0.5):
    keep = []
    sem = asyncio.Semaphore(256)

    async def one(i):
        async with sem:
            await one_round(host, port, b"x%06d" % i, keep)

    results = await asyncio.gather(*(one(i) for i in range(n)), return_exceptions=True)
    errors = [r for r in results if isinstance(r, Exception)]
    print(f"held {len(keep)} connections open at once, {len(errors)} errors", flush=True)
    if errors:
        print(f"first error: {errors[0]!r}", file=sys.stderr)
    await asyncio.sleep(seconds)
    for w in keep:
        w.close()
    await asyncio.sleep(0.5)
    return 0 if not errors and len(keep) == n else 1


async def seq(host, port, n, conc):
    errors = []
    counter = iter(range(n))

    async def runner():
        for i in counter:
            try:
                await one_round(host, port, b"s%07d" % i)
            except Exception as e:  # noqa: BLE001 - counted, reported below
                errors.append(e)

    await asyncio.gather(*(runner() for _ in range(conc)))
    print(f"{n} sequential connections ({conc} in flight), {len(errors)} errors")
    if errors:
        print(f"first error: {errors[0]!r}", file=sys.stderr)
    return 0 if not errors else 1


def refused(host, port):
    data = b""
    try:
        s = socket.create_connection((host, port), timeout=5)
        try:
            s.sendall(b"hello")
            data = s.recv(100)
        finally:
            s.close()
    except OSError:  # reset or refused while connecting or reading
        pass
    if data:
        print(f"expected no echo, got {data!r}", file=sys.stderr)
        return 1
    print("no echo (refused)")
    return 0


def bounded(coro, seconds=120):
    """Every client run ends: a broken relay fails the test instead of hanging it."""
    async def run():
        try:
            return await asyncio.wait_for(coro, seconds)
        except asyncio.TimeoutError:
            print(f"timed out after {seconds} s", file=sys.stderr)
            return 1
    return asyncio.run(run())


def main(argv):
    raise_nofile()
    cmd = argv[1]
    if cmd == "serve":
        asyncio.run(serve(int(argv[2])))
        return 0
    if cmd == "echo":
        return bounded(echo(argv[2], int(argv[3]), int(argv[4])), 60)
    if cmd == "whoami":
        with socket.create_connection((argv[2], int(argv[3]) + 1), timeout=5) as s:
            print(s.makefile().readline().strip())
        return 0
    if cmd == "hold":
        seconds = float(argv[5]) if len(argv) > 5 else 0.5
        return bounded(hold(argv[2], int(argv[3]), int(argv[4]), seconds))
    if cmd == "seq":
        conc = int(argv[5]) if len(argv) > 5 else 16
        return bounded(seq(argv[2], int(argv[3]), int(argv[4]), conc), 300)
    if cmd == "refused":
        return refused(argv[2], int(argv[3]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
