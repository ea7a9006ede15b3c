#!/usr/bin/env bash
# Runs each libFuzzer target given (build/fuzz/fuzz_NAME) for SECONDS, from a
# scratch copy of its committed corpus tests/fuzz/corpus/NAME (so a run never
# changes the committed files), after replaying the inputs that once crashed
# it (tests/fuzz/regressions/NAME, if any). Prints executions and crashes per
# target; exits non-zero if any target crashed.
#   usage: tests/fuzz/run.sh SECONDS NAME...
set -uo pipefail
cd "$(dirname "$0")/../.."
seconds=$1; shift
work=build/fuzz/run
status=0
summary=""
for name in "$@"; do
    bin=build/fuzz/fuzz_$name
    corpus=$work/corpus/$name
    crashes=$work/crashes/$name
    rm -rf "$corpus" "$crashes"
    mkdir -p "$corpus" "$crashes"
    cp tests/fuzz/corpus/"$name"/* "$corpus"/
    echo "== fuzz $name: ${seconds}s from $(ls "$corpus" | wc -l) seed inputs"
    if [ -d tests/fuzz/regressions/"$name" ]; then
        if ! "$bin" tests/fuzz/regressions/"$name"/* >"$work/$name-regressions.log" 2>&1; then
            cat "$work/$name-regressions.log"
            echo "fuzz $name: a committed regression input crashes again" >&2
            status=1
        fi
    fi
    # -artifact_prefix: a crashing input is saved there; -print_final_stats:
    # the execution count. The log keeps libFuzzer's report of a crash.
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$crashes/" "$corpus" >"$work/$name.log" 2>&1
    rc=$?
    execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$work/$name.log" | tail -n 1)
    found=$(find "$crashes" -type f | wc -l)
    if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
        grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|artifact_prefix|Test unit written)' "$work/$name.log" | head -n 20
        echo "fuzz $name: exit code $rc, log $work/$name.log" >&2
        status=1
    fi
    line="fuzz $name: ${execs:-0} executions, $found crashes, corpus $(ls "$corpus" | wc -l) inputs"
    echo "$line"
    summary+="$line"$'\n'
done
printf '== fuzz summary (%ss per target)\n%s' "$seconds" "$summary"
exit $status
