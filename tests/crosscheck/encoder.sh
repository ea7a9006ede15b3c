#!/usr/bin/env bash
# The real-model part of `make crosscheck`: the encoder host (lib/hosts/encoder.h)
# on the MiniLM checkpoint against Hugging Face transformers' BertModel and
# torch autograd (encoder_check.py), in float and double, for the SVD form
# (AdaLoRA), the LoRA form, a subset of target modules and a regression head.
# Each case: `adalora encoder-step` writes one training step's forward and
# gradients; encoder_check.py rebuilds the step and compares (one line per
# tensor group). Bounds: forward (every hidden state, the logits, the loss)
# 1e-5 in float and 1e-10 in double; gradients 1e-9 in double and 1e-4 in
# float (float32 against float32: summation order alone moves the last digits
# of a 6-layer backward).
#
# usage: tests/crosscheck/encoder.sh FLOAT_DRIVER DOUBLE_DRIVER OUT_DIR PYTHON
set -uo pipefail
float_driver=${1:?usage: encoder.sh FLOAT_DRIVER DOUBLE_DRIVER OUT_DIR PYTHON}
double_driver=${2:?usage: encoder.sh FLOAT_DRIVER DOUBLE_DRIVER OUT_DIR PYTHON}
out=${3:?usage: encoder.sh FLOAT_DRIVER DOUBLE_DRIVER OUT_DIR PYTHON}
python=${4:?usage: encoder.sh FLOAT_DRIVER DOUBLE_DRIVER OUT_DIR PYTHON}
here=$(cd "$(dirname "$0")" && pwd)
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1  # never a download: the checkpoint is a local folder
export HF_HUB_DISABLE_PROGRESS_BARS=1 TRANSFORMERS_VERBOSITY=error

"$python" -c 'import torch, transformers' 2>/dev/null ||
    { echo "crosscheck-encoder: $python cannot import torch and transformers (run make deps)" >&2; exit 2; }
rm -rf "$out" && mkdir -p "$out" || exit 2
failed=0; cases=0
# run_case NAME PRECISION driver options...
run_case() {
    local name=$1 precision=$2; shift 2
    local driver=$float_driver fwd=1e-5 grad=1e-4
    [ "$precision" = double ] && driver=$double_driver fwd=1e-10 grad=1e-9
    cases=$((cases + 1))
    local dir=$out/$name-$precision
    if ! "$driver" encoder-step --out "$dir" --dropout 0 --seed 5 --batch 8 --rows 8 "$@" >"$out/$name-$precision.log" 2>&1; then
        echo "crosscheck-encoder: $name ($precision): the driver failed:"; cat "$out/$name-$precision.log"
        failed=$((failed + 1)); return
    fi
    if ! "$python" "$here/encoder_check.py" --dump "$dir" --forward-tol "$fwd" --grad-tol "$grad"; then
        failed=$((failed + 1))
    fi
}
for precision in float double; do
    run_case adalora-yelp "$precision" --task sentiment-yelp --method adalora --init_r 4
    run_case lora-amazon "$precision" --task sentiment-amazon --method lora --lora_r 4
    run_case qv-imdb "$precision" --task sentiment-imdb --method adalora --init_r 2 --target-modules query,value
    run_case score-vader "$precision" --task vader-movies-score --method adalora --init_r 3 --convention peft
done
echo "crosscheck-encoder: $cases cases, $failed failed"
[ "$failed" -eq 0 ]
