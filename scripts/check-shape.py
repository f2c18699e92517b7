#!/usr/bin/env python3
"""The code-shape rules of the brief, checked: every source file at most 500 lines, every function
body at most 80. Functions are found the way clang-format lays them out here: a definition starts
at column 0 and its body ends at the next `}` alone at column 0 (members defined inside a class
body are short by construction and not measured). Prints offenders; exit 1 if any."""
import subprocess
import sys

MAX_FILE, MAX_FUNC = 500, 80

files = subprocess.run(['git', 'ls-files', 'src/*.cpp', 'src/*.h', 'tests/*.cpp', 'tests/*.h',
                        'bench/*.cpp', 'bench/*.c'], capture_output=True, text=True,
                       check=True).stdout.split()
bad = []
for path in files:
    lines = open(path, encoding='utf-8').read().split('\n')
    if len(lines) - 1 > MAX_FILE:
        bad.append(f'{path}: {len(lines) - 1} lines (at most {MAX_FILE})')
    sig = body = None  # first line of the current top-level declaration; line its body opens
    for i, line in enumerate(lines):
        if body is None:
            if line[:1] not in ('', ' ', '}', '#', '/', '{') and not line.startswith(
                    ('namespace', 'extern', 'using', 'template', 'static_assert')):
                sig = i
            if sig is not None and line.rstrip().endswith('{') and (
                    '(' in ''.join(lines[sig:i + 1])) and not lines[sig].startswith(
                    ('struct', 'class', 'enum', 'union')):
                body = i
            elif line.rstrip().endswith((';', '}')):
                sig = None
        elif line.startswith('}'):
            if i - body - 1 > MAX_FUNC:
                bad.append(f'{path}:{sig + 1}: function of {i - body - 1} lines '
                           f'(at most {MAX_FUNC}): {lines[sig].strip()}')
            sig = body = None
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
