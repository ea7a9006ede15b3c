#!/usr/bin/env bash
# The cross-check against the real Hugging Face PEFT (`make crosscheck-peft`):
# for each case the double-precision driver trains with --convention peft,
# --dump-init and --trace at every step; peft_replay.py replays the dump
# through PEFT's own AdaLoRA (get_peft_model, SVDLinear, AdaLoraModel.forward,
# update_and_allocate) and traces the same steps; `adalora trace-diff --rtol
# 1e-9 --ignore S,orth_raw,phase` compares them: budgets, actions, kept counts
# and keep masks exactly, every other tensor and scalar within 1e-9 relative.
# One line per case with what the run went through (trace_stats.py) and the
# largest relative difference per tensor; exit 1 if any case differs.
#
# usage: tests/crosscheck/peft.sh DRIVER OUT_DIR PYTHON MODEL_DIR
#   PYTHON: the project's virtual environment (make deps); MODEL_DIR: the
#   encoder's checkpoint (build/assets/all-MiniLM-L6-v2).
set -uo pipefail
driver=${1:?usage: peft.sh DRIVER OUT_DIR PYTHON MODEL_DIR}
out=${2:?usage: peft.sh DRIVER OUT_DIR PYTHON MODEL_DIR}
python=${3:?usage: peft.sh DRIVER OUT_DIR PYTHON MODEL_DIR}
model=${4:?usage: peft.sh DRIVER OUT_DIR PYTHON MODEL_DIR}
here=$(cd "$(dirname "$0")" && pwd)
rtol=1e-9
ignore=S,orth_raw,phase   # what PEFT does not expose (peft_replay.py's docstring)

[ -x "$driver" ] || { echo "crosscheck-peft: driver $driver is not an executable" >&2; exit 2; }
"$python" -c 'import peft, transformers, torch' 2>/dev/null ||
    { echo "crosscheck-peft: $python cannot import peft, transformers and torch (run make deps)" >&2; exit 2; }
[ -f "$model/model.safetensors" ] || { echo "crosscheck-peft: no checkpoint in $model (run make deps)" >&2; exit 2; }
versions=$("$python" -c 'import peft, transformers, torch; print(f"PEFT {peft.__version__}, transformers {transformers.__version__}, torch {torch.__version__}")')
# One thread each: the traces do not depend on it, and the two cores are shared.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

rm -rf "$out" && mkdir -p "$out" || exit 2
echo "crosscheck-peft: against $versions (float64), rtol $rtol, not compared: $ignore"
failed=0; cases=0
printf '%-22s %5s %10s %6s  %-7s %-45s %s\n' case steps mask-steps masks result 'seen in the run' options

# [expect="what..."] run_case NAME TASK [driver options...]
run_case() {
    local name=$1 task=$2; shift 2
    local dir=$out/$name
    mkdir -p "$dir"
    cases=$((cases + 1))
    local -a opts=(train --task "$task" --method adalora --convention peft --seed 5 --out "$dir/run"
                   --dump-init "$dir/init" --trace "$dir/driver" --log quiet "$@")
    local verdict=ok masksteps=- covers=- steps=- masks=- perkind=-
    if ! "$driver" "${opts[@]}" >"$dir/driver.log" 2>&1; then
        verdict="FAILED: driver (see $dir/driver.log)"
    elif ! "$python" "$here/peft_replay.py" --init "$dir/init" --trace "$dir/peft" --model "$model" \
            >"$dir/peft.log" 2>&1; then
        verdict="FAILED: peft_replay: $(tail -n 1 "$dir/peft.log")"
    else
        read -r masksteps covers <<<"$("$python" "$here/trace_stats.py" "$dir/driver")"
        "$driver" trace-diff "$dir/driver" "$dir/peft" --rtol "$rtol" --ignore "$ignore" >"$dir/diff.txt" 2>&1 ||
            verdict="FAILED: $(grep -m1 'first difference' "$dir/diff.txt" || tail -n 1 "$dir/diff.txt")"
        local summary
        summary=$(grep -E '^trace-diff: [0-9]+ steps' "$dir/diff.txt" | tail -n 1)
        steps=$(sed -nE 's/^trace-diff: ([0-9]+) steps.*/\1/p' <<<"$summary")
        masks=$(sed -nE 's/.*\(([0-9]+) keep masks\).*/\1/p' <<<"$summary")
        perkind=$(sed -nE 's/.*per kind: ([^;]*);.*/\1/p' <<<"$summary")
        [ -n "$steps" ] || verdict="FAILED: no trace-diff summary (see $dir/diff.txt)"
        local want
        for want in ${expect:-}; do
            [[ ",$covers," == *",$want,"* ]] || { verdict="FAILED: the run never saw '$want'"; break; }
        done
    fi
    if [ "$verdict" = ok ]; then
        rm -rf "$dir/driver" "$dir/peft"
    else
        failed=$((failed + 1))
    fi
    printf '%-22s %5s %10s %6s  %-7s %-45s %s\n' "$name" "${steps:--}" "${masksteps:--}" "${masks:--}" \
        "$verdict" "${covers:--}" "$*"
    printf '  largest relative difference: %s\n' "$perkind"
}

small=(--total_step 30 --batch 16 --lr 5e-3 --train-rows 256 --test-rows 64)
# PEFT's AdaLoraConfig defaults: init_r 12, target_r 8, tinit 0, tfinal 0,
# deltaT 1, beta1 = beta2 = 0.85, orth_reg_weight 0.5, lora_alpha 8 (LoraConfig).
expect="decay" run_case mlp-default-config planted-mlp --width 16 --layers 3 "${small[@]}" \
    --init_r 12 --target_r 8 --tinit 0 --tfinal 0 --deltaT 1 --beta1 0.85 --beta2 0.85 \
    --orth_reg_weight 0.5 --lora_alpha 8
# The forced final mask at T - t_f = 22, which deltaT = 3 does not divide; EMAs reset there.
# planted-linear with noisy targets: a module planted at rank 0 would otherwise fit its
# targets exactly, and its gradients would be rounding noise (1e-18) that no two
# implementations share (PEFT scales by * alpha / (r + 1e-5) in two roundings).
expect="warmup decay final offgrid reset" run_case linear-final-offgrid planted-linear --width 8 --layers 1 --noise 0.1 \
    "${small[@]}" --init_r 4 --target_r 2 --tinit 4 --tfinal 8 --deltaT 3 --orth_reg_weight 0.1
expect="warmup decay final offgrid reset" run_case mlp-orth-0 planted-mlp --width 16 --layers 3 "${small[@]}" \
    --init_r 4 --target_r 2 --tinit 4 --tfinal 8 --deltaT 3 --orth_reg_weight 0
expect="warmup decay final offgrid reset" run_case mlp-orth-0.3 planted-mlp --width 16 --layers 3 "${small[@]}" \
    --init_r 4 --target_r 2 --tinit 4 --tfinal 8 --deltaT 3 --orth_reg_weight 0.3
# target_r 1 of r0 6 over 12 matrices: some end at rank 0.
expect="decay final rank0" run_case linear-rank-0 planted-linear --width 8 --layers 2 --noise 0.1 "${small[@]}" \
    --init_r 6 --target_r 1 --tinit 3 --tfinal 6 --deltaT 2 --orth_reg_weight 0.1
expect="decay final" run_case mlp-tinit-0 planted-mlp --width 16 --layers 3 "${small[@]}" \
    --init_r 4 --target_r 2 --tinit 0 --tfinal 6 --deltaT 2 --orth_reg_weight 0.1
# 108 matrices at r0 = 12.
expect="warmup decay final" run_case linear-108-modules planted-linear --width 16 --layers 18 --noise 0.1 \
    --total_step 24 --batch 8 --lr 5e-3 --train-rows 64 --test-rows 16 \
    --init_r 12 --target_r 4 --tinit 3 --tfinal 5 --deltaT 2 --orth_reg_weight 0.1
# The loop's own clipping (as transformers' Trainer clips) binding.
expect="decay final clipped" run_case mlp-clip planted-mlp --width 16 --layers 3 "${small[@]}" \
    --init_r 4 --target_r 2 --tinit 4 --tfinal 8 --deltaT 3 --orth_reg_weight 0.1 --clip 0.02

# The encoder host against transformers' BertForSequenceClassification from the
# same checkpoint (MiniLM-L6), dropout off: PEFT's BERT default target modules
# (query, value); all six matrix types with the final mask off the grid; the
# regression head (one output, MSE).
enc=(--batch 4 --max-seq 32 --dropout 0 --lr 5e-3)
expect="decay final" run_case encoder-query-value sentiment-amazon "${enc[@]}" --target-modules query,value \
    --total_step 10 --init_r 4 --target_r 2 --tinit 2 --tfinal 3 --deltaT 2 --orth_reg_weight 0.1
expect="warmup decay final offgrid reset" run_case encoder-all-six sentiment-yelp "${enc[@]}" --target-modules all \
    --total_step 12 --init_r 4 --target_r 1 --tinit 2 --tfinal 4 --deltaT 3 --orth_reg_weight 0.5
expect="decay final" run_case encoder-regression vader-movies-score "${enc[@]}" --target-modules query,key,value \
    --total_step 8 --init_r 3 --target_r 1 --tinit 1 --tfinal 2 --deltaT 2 --orth_reg_weight 0.1

echo "crosscheck-peft: $cases cases, $failed failed, against $versions (traces and diffs in $out)"
[ "$failed" -eq 0 ]
