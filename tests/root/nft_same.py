#!/usr/bin/env python3
"""Whether two nftables JSON listings hold the same istio tables: `nft -j list ruleset` (or a
golden kernel form) against snare's `--native-nftables --dry-run --output-format=save`.
Handles, counters and metainfo are left out; chains are compared by name, rules in order.
usage: nft_same.py WANT.json HAVE.json   (exit 0 same, 1 different, with the difference)"""
import json
import sys


def tables(path_or_text):
    """A JSON listing (a file, or the text itself) -> {table: {chain: (attributes, [rules])}}."""
    text = path_or_text if path_or_text.lstrip().startswith("{") else open(path_or_text).read()
    out = {}
    for item in json.loads(text)["nftables"]:
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


def differences(want, have):
    """Lines naming each chain that differs."""
    out = []
    for t in sorted(set(want) | set(have)):
        for c in sorted(set(want.get(t, {})) | set(have.get(t, {}))):
            w, h = want.get(t, {}).get(c), have.get(t, {}).get(c)
            if w != h:
                out.append(f"{t} {c}:\n  want {w}\n  have {h}")
    return out


if __name__ == "__main__":
    diff = differences(tables(sys.argv[1]), tables(sys.argv[2]))
    if diff:
        print("\n".join(diff))
    sys.exit(1 if diff else 0)
