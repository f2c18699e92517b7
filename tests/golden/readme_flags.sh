#!/bin/bash
# Every flag in `snare --help` (and `snare proxy --help`, `snare ambient --help`, `snare
# ambient-host --help`, `snare ambient-host probe --help`) is in the README's tables, and every
# flag in those tables is in the help.
set -euo pipefail
exec python3 - "$SNARE" "$SNARE_SOURCE_DIR/README.md" <<'PY'
import re, subprocess, sys
snare, readme = sys.argv[1], open(sys.argv[2]).read()
def help_flags(args):
    out = subprocess.run([snare, *args, "--help"], capture_output=True, text=True).stdout
    flags = set()
    for line in out.splitlines():
        # "  -p, --envoy-port ..." or "      --dns-servers ...": a wrapped help line is indented
        # further, so a flag named in a description is not taken for one.
        m = re.match(r"(?:  -\w, |      )(--[\w-]+)", line)
        if m:
            flags.add(m.group(1))
    return flags
def table_flags(section):
    # flags named in the first column of the section's table
    start = readme.index(section)
    end = readme.find("\n## ", start + 1)
    flags = set()
    for line in readme[start:end].splitlines():
        if line.startswith("| `-"):
            first = line.split("|")[1]
            flags |= set(re.findall(r"`(--[\w-]+)`", first))
    return flags
failed = 0
for section, commands in (("## Flags and environment variables", [[]]),
                          ("### `snare proxy` flags", [["proxy"]]),
                          ("### `snare trace` flags", [["trace"]]),
                          ("### `snare ambient` flags",
                           [["ambient"], ["ambient-host"], ["ambient-host", "probe"]])):
    args = commands[0]
    if section not in readme:
        print(f"FAIL: README has no section {section}"); failed += 1; continue
    h, t = set().union(*(help_flags(c) for c in commands)), table_flags(section)
    for f in sorted(h - t): print(f"FAIL: {' '.join(['snare', *args])} --help has {f}, README's table does not"); failed += 1
    for f in sorted(t - h): print(f"FAIL: README's table has {f}, {' '.join(['snare', *args])} --help does not"); failed += 1
print(f"{0 if failed else 1} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
