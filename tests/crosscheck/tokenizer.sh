#!/usr/bin/env bash
# The tokenizer cross-check: `adalora tokenize` against HF's BERT tokenizers
# (tokenizer_check.py) on every sentence of the four datasets and on the
# hand-made edge cases, offline (HF_HUB_OFFLINE=1: build/assets only).
#
# usage: tests/crosscheck/tokenizer.sh [DRIVER] [WORK_DIR] [PYTHON]
#   defaults: build/double/adalora, build/crosscheck/tokenizer, build/venv/bin/python
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
driver=${1:-$root/build/double/adalora}
work=${2:-$root/build/crosscheck/tokenizer}
python=${3:-$root/build/venv/bin/python}
assets=$root/build/assets

[ -x "$driver" ] || { echo "tokenizer: driver $driver is not an executable (make PRECISION=double driver)" >&2; exit 2; }
[ -d "$assets/all-MiniLM-L6-v2" ] || { echo "tokenizer: $assets/all-MiniLM-L6-v2 is missing (make deps)" >&2; exit 2; }
"$python" -c 'import transformers' 2>/dev/null ||
    { echo "tokenizer: $python cannot import transformers (make deps builds build/venv)" >&2; exit 2; }
mkdir -p "$work"
HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 "$python" "$here/tokenizer_check.py" "$driver" "$assets" "$work"
