#!/usr/bin/env bash
# Runs each doctest binary given, then prints one summary line over all of
# them: "tests: N passed, N failed" (test cases). Exits non-zero on any failure.
set -uo pipefail
passed=0; failed=0; status=0
for bin in "$@"; do
    echo "== $bin"
    out=$("$bin" 2>&1); rc=$?
    printf '%s\n' "$out"
    line=$(printf '%s\n' "$out" | grep -E '^\[doctest\] test cases:' | tail -n 1)
    if [ -z "$line" ]; then
        echo "$bin: no doctest summary (crashed?), exit code $rc" >&2
        failed=$((failed + 1)); status=1; continue
    fi
    p=$(sed -E 's/.*\| *([0-9]+) passed.*/\1/' <<<"$line")
    f=$(sed -E 's/.*\| *([0-9]+) failed.*/\1/' <<<"$line")
    passed=$((passed + p)); failed=$((failed + f))
    [ "$rc" -ne 0 ] && status=1
done
echo "tests: $passed passed, $failed failed"
exit $status
