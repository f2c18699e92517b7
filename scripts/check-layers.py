#!/usr/bin/env python3
"""Checks that src/'s folders depend on each other exactly as docs/DESIGN.md's table says, and in
one direction only.

The table's rows read `| `folder/` | what it holds | depends on |`; the last column lists folders
(or says "nothing", or "everything" for the composition root). A folder depends on another when one
of its files has `#include "other/..."`. The check fails when a folder includes one its row does
not name, when a row names one it does not include (the table would lie), or when the folders'
graph has a cycle (an include that runs back up). Prints one line per finding; exit 1 if any.
Usage: scripts/check-layers.py [repository root]
"""
import pathlib
import re
import sys

ROW = re.compile(r"^\|\s*`([a-z_]+)/`\s*\|.*\|\s*([^|]*?)\s*\|\s*$")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/[^"]+"', re.M)


def design_table(design: pathlib.Path):
    """folder -> set of folders its row names, or None for "everything"."""
    rows = {}
    for line in design.read_text().splitlines():
        m = ROW.match(line)
        if not m:
            continue
        folder, deps = m.group(1), m.group(2).strip()
        if deps == "everything":
            rows[folder] = None
        elif deps == "nothing":
            rows[folder] = set()
        else:
            rows[folder] = {d.strip().strip("`").rstrip("/") for d in deps.split(",")}
    return rows


def includes(src: pathlib.Path):
    """folder -> {included folder: first file that includes it}."""
    found = {}
    for folder in sorted(p for p in src.iterdir() if p.is_dir()):
        deps = found.setdefault(folder.name, {})
        for f in sorted(folder.rglob("*")):
            if f.suffix not in (".h", ".cpp"):
                continue
            for other in INCLUDE.findall(f.read_text()):
                if other != folder.name and (src / other).is_dir():
                    deps.setdefault(other, str(f.relative_to(src.parent)))
    return found


def cycle(graph):
    """One cycle of the graph as a list of folders, or None."""
    state = {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt, path + [nxt])
                if found:
                    return found
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node, [node])
            if found:
                return found
    return None


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    table = design_table(root / "docs" / "DESIGN.md")
    actual = includes(root / "src")
    problems = []
    for folder, deps in sorted(actual.items()):
        if folder not in table:
            problems.append(f"src/{folder}/ has no row in docs/DESIGN.md's table")
            continue
        named = table[folder]
        if named is None:  # the composition root may use every folder
            continue
        for dep, where in sorted(deps.items()):
            if dep not in named:
                problems.append(f"{where} includes {dep}/, which DESIGN.md's row for {folder}/ "
                                f"does not name")
        for dep in sorted(named - set(deps)):
            problems.append(f"DESIGN.md says {folder}/ depends on {dep}/, but nothing in "
                            f"src/{folder}/ includes it")
    for folder in sorted(set(table) - set(actual)):
        problems.append(f"DESIGN.md has a row for {folder}/, which src/ does not have")
    loop = cycle({f: set(d) for f, d in actual.items()})
    if loop:
        problems.append("folders include each other in a circle: " + " -> ".join(loop))
    for p in problems:
        print(p)
    if not problems:
        print(f"layers: {len(actual)} folders, includes equal docs/DESIGN.md's table, no cycle")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
