#!/usr/bin/env bash
# The cross-check of `make crosscheck`: for each case, the double-precision
# driver trains with --dump-init and --trace at every step, the PyTorch
# reference (reference.py) replays the dump and traces the same steps, and
# `adalora trace-diff --rtol 1e-9` compares the two traces (budgets, actions,
# kept counts and keep masks exactly; tensors and losses within 1e-9 relative).
# Prints one line per case and fails (exit 1) if any case differs. The line
# also says what the run went through (trace_stats.py: phases, clipping that
# bound, revivals, kthvalue ties), so a case that stops exercising its
# feature shows.
#
# usage: tests/crosscheck/run.sh DRIVER OUT_DIR [PYTHON]
#   PYTHON defaults to /usr/bin/python3: Debian's python3-torch is importable
#   only by Debian's own interpreter, not by a pyenv python3 earlier on PATH.
set -uo pipefail
driver=${1:?usage: run.sh DRIVER OUT_DIR [PYTHON]}
out=${2:?usage: run.sh DRIVER OUT_DIR [PYTHON]}
python=${3:-/usr/bin/python3}
here=$(cd "$(dirname "$0")" && pwd)
rtol=1e-9

[ -x "$driver" ] || { echo "crosscheck: driver $driver is not an executable" >&2; exit 2; }
"$python" -c 'import torch, numpy' 2>/dev/null ||
    { echo "crosscheck: $python cannot import torch and numpy (install python3-torch python3-numpy)" >&2; exit 2; }

# A schedule small enough for seconds per case that still has every phase:
# T = 30 steps, warm-up t_i = 4, masks every deltaT = 3 steps in the decay
# (6 of them), the final phase from T - t_f = 22 (off the deltaT grid in both
# numberings, so `freeze-pattern` forces a mask there and `recompute` skips
# it), traced at every step. A trace is one .npy per tensor per step, so the
# tasks are kept small (6 and 3 modules) and a passing case's two traces are
# deleted (its dump, logs and diff.txt stay); a failing case keeps them.
total=30
schedule=(--init_r 4 --target_r 2 --total_step "$total" --tinit 4 --tfinal 8 --deltaT 3
          --batch 16 --lr 5e-3 --orth_reg_weight 0.1 --train-rows 256 --test-rows 64 --log quiet)
declare -A task_opts=(
    [planted-linear]="--width 8 --layers 1"
    [planted-mlp]="--width 16 --layers 3"
)

rm -rf "$out" && mkdir -p "$out" || exit 2
failed=0; cases=0
printf '%-9s %-15s %-11s %-10s %5s %10s %6s  %-23s %-7s %-38s %s\n' preset task method importance steps mask-steps masks \
    'largest rel diff' result 'seen in the run' options

# [expect="what..."] run_case NAME PRESET TASK METHOD IMPORTANCE [extra driver options...]
# expect: what trace_stats.py must report besides the decay and final phases.
run_case() {
    local name=$1 preset=$2 task=$3 method=$4 importance=$5; shift 5
    local dir=$out/$name
    mkdir -p "$dir"
    cases=$((cases + 1))
    local -a opts=(train --task "$task" ${task_opts[$task]} --method "$method" --convention "$preset"
                   "${schedule[@]}" --seed 3 --out "$dir/run" --dump-init "$dir/init"
                   --trace "$dir/driver" --trace-steps "0-$total" "$@")
    [ "$method" = adalora ] && opts+=(--importance "$importance")
    local verdict=ok masksteps=- covers=- steps=- masks=- maxrel=-
    if ! "$driver" "${opts[@]}" >"$dir/driver.log" 2>&1; then
        verdict="FAILED: driver (see $dir/driver.log)"
    elif ! "$python" "$here/reference.py" --init "$dir/init" --trace "$dir/reference" \
            --trace-steps "0-$total" >"$dir/reference.log" 2>&1; then
        verdict="FAILED: reference: $(tail -n 1 "$dir/reference.log")"
    else
        read -r masksteps covers <<<"$("$python" "$here/trace_stats.py" "$dir/reference")"
        "$driver" trace-diff "$dir/driver" "$dir/reference" --rtol "$rtol" >"$dir/diff.txt" 2>&1 ||
            verdict="FAILED: $(grep -m1 'first difference' "$dir/diff.txt" || tail -n 1 "$dir/diff.txt")"
        # trace-diff's summary: "N steps, N tensors (N keep masks), ...; largest
        # relative difference per kind: P 1e-16, Q ...; ..."
        local summary
        summary=$(grep -E '^trace-diff: [0-9]+ steps' "$dir/diff.txt" | tail -n 1)
        steps=$(sed -nE 's/^trace-diff: ([0-9]+) steps.*/\1/p' <<<"$summary")
        masks=$(sed -nE 's/.*\(([0-9]+) keep masks\).*/\1/p' <<<"$summary")
        maxrel=$(sed -nE 's/.*per kind: ([^;]*);.*/\1/p' <<<"$summary" | tr ',' '\n' |
                 awk 'NF == 2 {print $2, $1}' | sort -g | tail -n 1 | awk '{print $1 " (" $2 ")"}')
        [ -n "$steps" ] || verdict="FAILED: no trace-diff summary (see $dir/diff.txt)"
        # What this case is there to exercise must have happened (expect=...).
        local want
        for want in decay final ${expect:-}; do
            [[ ",$covers," == *",$want,"* ]] || { verdict="FAILED: the run never saw '$want'"; break; }
        done
    fi
    if [ "$verdict" = ok ]; then
        rm -rf "$dir/driver" "$dir/reference"
    else
        failed=$((failed + 1))
    fi
    printf '%-9s %-15s %-11s %-10s %5s %10s %6s  %-23s %-7s %-38s %s\n' "$preset" "$task" "$method" \
        "$( [ "$method" = adalora ] && echo "$importance" || echo -)" "${steps:--}" "${masksteps:--}" \
        "${masks:--}" "${maxrel:--}" "$verdict" "${covers:--}" "$*"
}

for task in planted-linear planted-mlp; do
    for preset in paper peft original; do
        for importance in sens-unc sens magnitude; do
            run_case "$task-$preset-$importance" "$preset" "$task" adalora "$importance"
        done
        # The LoRA form: prune-lora's doublets scored like Eq. 9, pruned for good.
        run_case "$task-$preset-prune-lora" "$preset" "$task" prune-lora -
    done
    # Clipping that acts (the original preset's 1.0 may not bind on a small
    # task), and rows set against their preset.
    expect=clipped run_case "$task-original-clip" original "$task" adalora sens-unc --clip 1e-3
    run_case "$task-paper-mixed" paper "$task" adalora sens-unc --ties kthvalue --final-phase recompute \
        --sensitivity-weights post-step --orth-norm plain
    run_case "$task-peft-mixed" peft "$task" adalora sens-unc --ties exact --orth-reduce sum \
        --sensitivity-weights pre-step --scale-eps 0
    # Ties that happen: with B = 0 at the start, prune-lora's pre-step
    # sensitivities are all 0, so a mask at step 1 sees n*r0 equal scores;
    # exact keeps b(1) of them (lower index first), kthvalue prunes them all.
    run_case "$task-paper-prune-lora-ties-exact" paper "$task" prune-lora - --tinit 0 --deltaT 1 --ties exact
    expect=under run_case "$task-paper-prune-lora-ties-kthvalue" paper "$task" prune-lora - --tinit 0 --deltaT 1 \
        --ties kthvalue
    # A pruned triplet that never comes back, and fixed-rank forms (no allocation).
    run_case "$task-paper-hard-delete" paper "$task" adalora sens-unc --hard-delete
    run_case "$task-paper-svd-lora" paper "$task" svd-lora -
    run_case "$task-peft-lora-orth" peft "$task" lora-orth -
done

echo "crosscheck: $cases cases, $failed failed (traces and diffs in $out)"
[ "$failed" -eq 0 ]
