#!/usr/bin/env python3
"""A stand-in for istio-cni's node agent: HTTP/1.1 on a unix socket (its pluginevent.sock),
recording each request (method, path, Content-Type and the body, one JSON line each) in LOG and
answering STATUS (200 with an empty body, as the agent on success; otherwise the status with
"no ztunnel connection\\n", as the agent's http.Error). It prints "ready" once it listens.

usage: agent.py SOCKET LOG STATUS"""
import http.server
import json
import os
import socketserver
import sys

sock, log, code = sys.argv[1], sys.argv[2], int(sys.argv[3])


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def address_string(self):
        return "unix"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(log, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path,
                                "content_type": self.headers.get("Content-Type"),
                                "body": body.decode()}) + "\n")
        text = b"" if code == 200 else b"no ztunnel connection\n"
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)


class Server(socketserver.UnixStreamServer):
    def get_request(self):
        conn, _ = super().get_request()
        return conn, ("unix", 0)


if os.path.exists(sock):
    os.unlink(sock)
server = Server(sock, Handler)
os.chmod(sock, 0o666)
print("ready", flush=True)
server.serve_forever()
