#!/usr/bin/env python3
"""Writes the test pods for the CNI tests as the API server returns them: istio 1.30's
plugin_dryrun_test.go cases (containers `test`, `istio-proxy`, `istio-validate`; the annotations,
proxy environment and securityContext of each case), and the pods the plugin must leave alone.

usage: pods.py DIR   (writes DIR/NS/NAME.json)"""
import json
import os
import sys

STATUS = {"sidecar.istio.io/status": "true"}
UID, GID = 1000670000, 1000670001
# name: (annotations, proxy env, securityContext); kernel-form/cni-sidecar/<name>.v4.save holds
# what iptables-save printed after istio's golden for the case was loaded.
CASES = {
    "basic": (STATUS, [], {}),
    "include-exclude-ip": ({**STATUS, "traffic.sidecar.istio.io/includeOutboundIPRanges": "127.0.0.0/8",
                            "traffic.sidecar.istio.io/excludeOutboundIPRanges": "10.0.0.0/8"}, [], {}),
    "include-exclude-ports": ({**STATUS, "traffic.sidecar.istio.io/includeInboundPorts": "1111,2222",
                               "traffic.sidecar.istio.io/excludeInboundPorts": "3333,4444",
                               "traffic.sidecar.istio.io/excludeOutboundPorts": "5555,6666"}, [], {}),
    "tproxy": ({**STATUS, "sidecar.istio.io/interceptionMode": "TPROXY"}, [], {}),
    "dns": (STATUS, [{"name": "ISTIO_META_DNS_CAPTURE", "value": "true"}], {}),
    "invalid-drop": (STATUS, [{"name": "INVALID_DROP", "value": "true"}], {}),
    "custom-uid": (STATUS, [], {"runAsUser": UID, "runAsGroup": GID}),
    "custom-uid-zero": (STATUS, [], {"runAsUser": 0}),
    "custom-uid-tproxy": ({**STATUS, "sidecar.istio.io/interceptionMode": "TPROXY"}, [],
                          {"runAsUser": UID, "runAsGroup": GID}),
}


def pod(ns, name, annotations, env, ctx, containers=("test", "istio-proxy", "istio-validate"),
        init=()):
    def container(c):
        out = {"name": c, "image": "example"}
        if c == "istio-proxy":
            out.update({"args": ["proxy", "sidecar"], "env": env, "securityContext": ctx})
        return out
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "annotations": annotations},
            "spec": {"initContainers": [container(c) for c in init],
                     "containers": [container(c) for c in containers]}}


def write(root, p):
    d = os.path.join(root, p["metadata"]["namespace"])
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, p["metadata"]["name"] + ".json"), "w") as f:
        json.dump(p, f)


root = sys.argv[1]
for name, (ann, env, ctx) in CASES.items():
    write(root, pod("default", name, ann, env, ctx))
# The pod for the test of a late API server (as basic).
write(root, pod("default", "late", STATUS, [], {}))
# Pods the plugin leaves alone.
write(root, pod("default", "no-status", {}, [], {}))
write(root, pod("default", "with-istio-init", STATUS, [], {}, init=("istio-init",)))
write(root, pod("default", "disable-envoy", STATUS, [{"name": "DISABLE_ENVOY", "value": "true"}], {}))
write(root, pod("default", "no-proxy", STATUS, [], {}, containers=("test",)))
write(root, pod("kube-system", "excluded", STATUS, [], {}))
# Ambient: the namespace "amb" is labelled for ambient (helm's selectors); its pods without a
# sidecar are handed to the node agent, the sidecar pod keeps the sidecar path.
os.makedirs(os.path.join(root, "amb"), exist_ok=True)
with open(os.path.join(root, "amb", "namespace.json"), "w") as f:
    json.dump({"kind": "Namespace", "apiVersion": "v1",
               "metadata": {"name": "amb", "labels": {"istio.io/dataplane-mode": "ambient"}}}, f)
AMBIENT = {"ambient.istio.io/bypass-inbound-capture": "true", "ambient.istio.io/dns-capture": "false"}
for name in ("amb-web", "amb-500", "amb-noagent"):
    write(root, pod("amb", name, AMBIENT, [], {}, containers=("test",)))
write(root, pod("amb", "amb-sidecar", STATUS, [], {}))
