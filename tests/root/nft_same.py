#!/usr/bin/env python3
"""Whether two nftables JSON listings hold the same istio tables: `nft -j list ruleset` (or a
golden kernel form) against snare's `--native-nftables --dry-run --output-format=save`.
Handles, counters and metainfo are left out; chains are compared by name, rules in order.
usage: nft_same.py WANT.json HAVE.json   (exit 0 same, 1 different, with the difference)"""
import json
import sys


def tables(path):
    out = {}
    for item in json.load(open(path))["nftables"]:
        if "table" in item:
            out.setdefault(item["table"]["name"], {})
        elif "chain" in item:
            c = {k: v for k, v in item["chain"].items() if k != "handle"}
            out.setdefault(c["table"], {})[c["name"]] = (c, [])
        elif "rule" in item:
            r = item["rule"]
            expr = [{"counter": {"packets": 0, "bytes": 0}} if "counter" in e else e for e in r["expr"]]
            out[r["table"]][r["chain"]][1].append(expr)
    return out


want, have = tables(sys.argv[1]), tables(sys.argv[2])
if want == have:
    sys.exit(0)
for t in sorted(set(want) | set(have)):
    for c in sorted(set(want.get(t, {})) | set(have.get(t, {}))):
        w, h = want.get(t, {}).get(c), have.get(t, {}).get(c)
        if w != h:
            print(f"{t} {c}:\n  want {w}\n  have {h}")
sys.exit(1)
