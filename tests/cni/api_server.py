#!/usr/bin/env python3
"""A stand-in Kubernetes API server for the CNI tests: HTTPS on 127.0.0.1 with a test CA, answering
GET /api/v1/namespaces/NS/pods/NAME from DIR/NS/NAME.json and GET /api/v1/namespaces/NS from
DIR/NS/namespace.json (a namespace without labels when that file is absent), and only to `Authorization: Bearer
TOKEN` (401 with a Status object otherwise; 404 for an unknown pod). It prints "ready PORT" once
it listens. Every request is appended to DIR/requests.log.

usage: api_server.py DIR CERT KEY TOKEN [PORT]   (PORT 0 or absent: any free port)"""
import http.server
import json
import os
import ssl
import sys

root, cert, key, token = sys.argv[1:5]
port = int(sys.argv[5]) if len(sys.argv) > 5 else 0


def status(code, reason, message):
    return json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                       "message": message, "reason": reason, "code": code}).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, code, body):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        with open(os.path.join(root, "requests.log"), "a") as log:
            log.write(f"{self.command} {self.path} {self.headers.get('Authorization', '-')}\n")
        if self.headers.get("Authorization") != f"Bearer {token}":
            return self.answer(401, status(401, "Unauthorized", "Unauthorized"))
        parts = self.path.strip("/").split("/")
        if len(parts) == 4 and parts[:3] == ["api", "v1", "namespaces"]:
            path = os.path.join(root, parts[3], "namespace.json")
            if not os.path.exists(path):
                return self.answer(200, json.dumps({"kind": "Namespace", "apiVersion": "v1",
                                                    "metadata": {"name": parts[3]}}).encode())
            with open(path, "rb") as f:
                return self.answer(200, f.read())
        if len(parts) != 6 or parts[:3] != ["api", "v1", "namespaces"] or parts[4] != "pods":
            return self.answer(404, status(404, "NotFound", f"no route {self.path}"))
        path = os.path.join(root, parts[3], parts[5] + ".json")
        if not os.path.exists(path):
            return self.answer(404, status(404, "NotFound", f'pods "{parts[5]}" not found'))
        with open(path, "rb") as f:
            self.answer(200, f.read())


server = http.server.HTTPServer(("127.0.0.1", port), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
print(f"ready {server.server_address[1]}", flush=True)
server.serve_forever()
