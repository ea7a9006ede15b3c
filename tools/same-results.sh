#!/usr/bin/env bash
# Proves that two commits compute the same results, bit for bit.
#
# usage: [QUICK=1] tools/same-results.sh BEFORE AFTER [OUT_DIR]
#   BEFORE, AFTER: any git revisions (commits, branches, tags); OUT_DIR
#   defaults to build/same-results.
#
# For each revision, in a scratch worktree of its own (OUT_DIR/BEFORE-SHA,
# OUT_DIR/AFTER-SHA, so the working tree is never touched), it builds the float
# and double drivers and runs
#   - `make run` (AdaLoRA on planted-mlp, then `compare` on planted-linear);
#   - `make crosscheck` (every preset and importance kind, double, against
#     the PyTorch reference): the kept run directories and dumps, and the
#     table of largest relative differences against the reference;
#   - every method on both planted tasks in float and double, traced at every
#     step (`--trace`), a small schedule that goes through every phase;
#   - the first cell of every experiments suite under --quick (`--shard 1/N`
#     with N at least the cell count: one cell each).
# QUICK=1 leaves out the cross-check and the suites' cells (about half the
# time; `make crosscheck` checks the reference on its own).
# Then it compares the two result trees: every summary.json as JSON with the
# fields that describe the machine or the clock removed (machine, time_ms,
# ms_per_step, peak_rss_kib) and the asset paths reduced to their names, every metrics.csv without its wall-clock
# column, every trace with `trace-diff --rtol 0 --atol 0`, and every other
# file (ranks.csv, rank_pattern.json, adapter.safetensors, dumps, the
# cross-check's diff tables) byte for byte. Logs are not compared (they time
# themselves). A file only AFTER has (the output of a new task or suite) is
# counted as new, not compared; a file only BEFORE has is a difference.
# ADDED_KEYS="a.b,c" names JSON keys (dotted paths) that AFTER adds on
# purpose (a new conventions row, a new index field): where BEFORE lacks one,
# it is dropped from AFTER before comparing, and the count is printed.
# Prints one line per compared file class and ends
# "same-results: N files identical, M differ"; exits 1 on any difference,
# 2 on bad usage or a failed build.
set -uo pipefail
before=${1:?usage: tools/same-results.sh BEFORE AFTER [OUT_DIR]}
after=${2:?usage: tools/same-results.sh BEFORE AFTER [OUT_DIR]}
top=$(git rev-parse --show-toplevel) || exit 2
out=${3:-$top/build/same-results}
python=/usr/bin/python3
mkdir -p "$out" || exit 2
out=$(cd "$out" && pwd)

# collect REV: builds REV in its worktree and writes its results to
# $out/REV-SHA/results; prints that directory.
collect() {
    local sha wt res
    sha=$(git -C "$top" rev-parse --verify "$1^{commit}") || { echo "same-results: $1 is not a revision" >&2; exit 2; }
    res=$out/$sha/results
    if [ -f "$res/.complete" ]; then echo "$res"; return; fi
    # The working tree itself when it is that commit, clean: its builds are
    # reused; any other revision gets a scratch worktree of its own.
    if [ "$sha" = "$(git -C "$top" rev-parse HEAD)" ] && [ -z "$(git -C "$top" status --porcelain)" ]; then
        wt=$top
    else
        wt=$out/$sha
        git -C "$top" worktree remove --force "$wt" >/dev/null 2>&1
        rm -rf "$wt"
        git -C "$top" worktree add --detach "$wt" "$sha" >/dev/null 2>&1 || { echo "same-results: cannot check out $1" >&2; exit 2; }
        # What `make deps` installed into build/ (the venv, the model, the
        # sentence data) serves every revision: linked, not installed again.
        mkdir -p "$wt/build"
        local asset
        for asset in assets venv; do
            [ -e "$top/build/$asset" ] && ln -sfn "$(cd "$top/build/$asset" && pwd -P)" "$wt/build/$asset"
        done
    fi
    rm -rf "$res"
    # Every step checked by hand: `set -e` does not act inside a function
    # whose caller tests its status.
    (
        cd "$wt" || exit 1
        mkdir -p "$res" || exit 1
        local logs=$out/$sha
        echo "== $1 ($sha): build" >&2
        make --no-print-directory all >"$logs/build.log" 2>&1 || exit 1
        make --no-print-directory PRECISION=double driver >>"$logs/build.log" 2>&1 || exit 1
        echo "== $1: make run" >&2
        make --no-print-directory run >"$logs/run.log" 2>&1 && cp -r build/run "$res/run" || exit 1
        if [ "${QUICK:-}" != 1 ]; then
        echo "== $1: make crosscheck" >&2
        make --no-print-directory crosscheck >"$logs/crosscheck.log" 2>&1 && cp -r build/crosscheck "$res/crosscheck" || exit 1
        grep -E '^(paper|peft|original) ' "$logs/crosscheck.log" >"$res/crosscheck/table.txt"
        fi
        echo "== $1: traced runs" >&2
        local prec task method dir
        for prec in float double; do
            for task in planted-linear planted-mlp; do
                for method in adalora lora lora-orth svd-lora prune-lora svd-proj; do
                    dir=$res/traced/$prec-$task-$method
                    mkdir -p "$dir" || exit 1
                    build/$prec/adalora train --task "$task" --method "$method" --init_r 4 --target_r 2 \
                        --total_step 30 --tinit 4 --tfinal 8 --deltaT 3 --batch 16 --lr 5e-3 \
                        --train-rows 256 --test-rows 64 --width 16 --layers 2 --seed 5 --log quiet \
                        --out "$dir/run" --trace "$dir/trace" --trace-steps 0-30 >>"$logs/traced.log" 2>&1 || exit 1
                done
            done
        done
        [ "${QUICK:-}" = 1 ] && { touch "$res/.complete"; exit 0; }
        echo "== $1: one quick cell of every suite" >&2
        local suites s
        suites=$(make -s --no-print-directory list-suites 2>/dev/null) ||
            suites=$(sed -n 's/^SUITES *:= *//p' Makefile)
        for s in $suites; do
            build/adalora sweep "$s" --out "$res/suites" --quick --shard 1/100000 --jobs 1 >>"$logs/suites.log" 2>&1 || exit 1
        done
        touch "$res/.complete"
    ) || { echo "same-results: $1 failed (logs in $out/$sha/*.log)" >&2; exit 2; }
    echo "$res"
}

a=$(collect "$before") || exit 2
b=$(collect "$after") || exit 2
driver=$top/build/double/adalora
[ -x "$driver" ] || driver=$(dirname "$b")/build/double/adalora

ADDED_KEYS=${ADDED_KEYS:-} "$python" - "$a" "$b" "$driver" <<'EOF'
import json, os, subprocess, sys
a, b, driver = sys.argv[1:4]
VOLATILE = {"machine", "time_ms", "ms_per_step", "peak_rss_kib"}
ADDED = [k.split(".") for k in os.environ["ADDED_KEYS"].split(",") if k]
dropped = 0

def drop_added(before, after):
    """Removes from `after` each ADDED path that `before` does not have."""
    global dropped
    for path in ADDED:
        x, y = before, after
        for part in path[:-1]:
            if not (isinstance(x, dict) and isinstance(y, dict) and part in x and part in y):
                break
            x, y = x[part], y[part]
        else:
            if isinstance(y, dict) and path[-1] in y and not (isinstance(x, dict) and path[-1] in x):
                del y[path[-1]]
                dropped += 1
    return after

def files(root):
    found = set()
    for d, dirs, names in os.walk(root):
        rel = os.path.relpath(d, root)
        for n in names:
            if not n.endswith(".log") and n != ".complete":
                found.add(os.path.normpath(os.path.join(rel, n)))
    return found

# Where a run found its assets: a scratch worktree links build/assets at a
# path of its own, so only the file or folder name is compared.
PATHS = {"model_dir", "data_file"}

def strip(v):
    if isinstance(v, dict):
        return {k: (os.path.basename(os.path.normpath(x)) if k in PATHS and isinstance(x, str) else strip(x))
                for k, x in v.items() if k not in VOLATILE}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v

def metrics(path):
    rows = [l.rstrip("\n").split(",") for l in open(path)]
    drop = [i for i, h in enumerate(rows[0]) if h == "seconds"] if rows else []  # wall clock
    return [[c for i, c in enumerate(r) if i not in drop] for r in rows]

fa, fb = files(a), files(b)
# Trace directories: every '<case>/trace' under traced/.
traces = sorted({os.path.dirname(f).split("/trace")[0] + "/trace" for f in fa | fb
                 if f.startswith("traced/") and "/trace/" in f})
traced_files = {f for f in fa | fb if f.startswith("traced/") and "/trace/" in f}
same = differ = new = 0
kinds = {}
def record(kind, ok, what):
    global same, differ
    k = kinds.setdefault(kind, [0, 0])
    if ok:
        same += 1; k[0] += 1
    else:
        differ += 1; k[1] += 1
        print("DIFFERS:", what)

for f in sorted((fa | fb) - traced_files):
    pa, pb = os.path.join(a, f), os.path.join(b, f)
    if f not in fa:  # a new output (a new task, suite or demo): nothing to compare with
        new += 1; continue
    if f not in fb:
        record("missing after", False, f + " only before"); continue
    name = os.path.basename(f)
    if name == "summary.json" or name == "suite.json":
        ja = json.load(open(pa))
        ok = strip(ja) == strip(drop_added(ja, json.load(open(pb))))
        record(name, ok, f)
    elif name == "metrics.csv":
        record(name, metrics(pa) == metrics(pb), f)
    else:
        record(os.path.splitext(name)[1] or name, open(pa, "rb").read() == open(pb, "rb").read(), f)

for t in traces:
    ta, tb = os.path.join(a, t), os.path.join(b, t)
    r = subprocess.run([driver, "trace-diff", ta, tb, "--rtol", "0", "--atol", "0"], capture_output=True, text=True)
    record("trace (trace-diff rtol 0)", r.returncode == 0, t + ": " + (r.stdout + r.stderr).strip().splitlines()[-1] if r.returncode else t)

for k, (s, d) in sorted(kinds.items()):
    print(f"  {k:28s} {s:5d} identical {d:5d} differ")
if ADDED:
    print(f"  keys only after (ADDED_KEYS): {dropped} dropped before comparing ({os.environ['ADDED_KEYS']})")
print(f"same-results: {same} files identical, {differ} differ ({new} new files only after, not compared)")
sys.exit(1 if differ else 0)
EOF
