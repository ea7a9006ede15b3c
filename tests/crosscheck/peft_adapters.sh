#!/usr/bin/env bash
# Adapters both ways between our encoder runs and Hugging Face PEFT
# (peft_adapters.py): our float run exported and loaded by
# PeftModel.from_pretrained onto BertForSequenceClassification (no warning,
# every key used, rank_pattern applied) gives our logits; an adapter PEFT
# trained and saved is imported and gives PEFT's logits; both within 1e-5
# relative, on the MiniLM checkpoint and the first 32 training sentences of
# sentiment-amazon. One line per direction; exit 1 on a failed check, 2 on
# bad input.
#
# usage: tests/crosscheck/peft_adapters.sh FLOAT_DRIVER OUT_DIR PYTHON [MODEL_DIR]
#   MODEL_DIR defaults to build/assets/all-MiniLM-L6-v2 (make deps)
set -uo pipefail
if [ $# -lt 3 ] || [ $# -gt 4 ]; then
    echo "usage: peft_adapters.sh FLOAT_DRIVER OUT_DIR PYTHON [MODEL_DIR]" >&2
    exit 2
fi
driver=$1 out=$2 python=$3
model=${4:-build/assets/all-MiniLM-L6-v2}
here=$(cd "$(dirname "$0")" && pwd)
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1  # never a download: the checkpoint is a local folder
export HF_HUB_DISABLE_PROGRESS_BARS=1
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2  # the machine is small and shared

"$python" -c 'import torch, transformers, peft' 2>/dev/null ||
    { echo "crosscheck-peft: $python cannot import torch, transformers and peft (run make deps)" >&2; exit 2; }
rm -rf "$out" || exit 2
mkdir -p "$(dirname "$out")" || exit 2
exec "$python" "$here/peft_adapters.py" --driver "$driver" --model "$model" --out "$out" --threads 2
