#!/bin/bash
# Every Catch2 test case of unit_tests is a ctest test of its own. CTest's discovery reads the
# names as a CMake list: a ';' splits a name, and an unbalanced '[' or ']' swallows every name
# after it, so such tests silently stop running in ctest (and so in CI). This compares the two
# lists and names what ctest lost.
set -euo pipefail
unit="$SNARE_BUILD_DIR/tests/unit_tests"
# Catch2 v2 exits with the number of test cases it listed: the exit status says nothing here.
listing=$("$unit" --list-test-names-only || true)
names=$(grep -v '^$' <<<"$listing" | sort)
bad=$(grep -n '[][;]' <<<"$names" || true)
if [ -n "$bad" ]; then
  echo "test names with ';', '[' or ']' (ctest cannot hold them; reword them):" >&2
  echo "$bad" >&2
  exit 1
fi
discovered=$(cd "$SNARE_BUILD_DIR" && ctest -N -L '^unit$' | sed -n 's/^ *Test *#[0-9]*: //p' | sort)
lost=$(comm -23 <(echo "$names") <(echo "$discovered"))
if [ -n "$lost" ]; then
  echo "unit test cases ctest does not run ($(grep -c . <<<"$lost")):" >&2
  echo "$lost" | head -20 >&2
  exit 1
fi
echo "unit test names: $(grep -c . <<<"$names") test cases, every one a ctest test"
