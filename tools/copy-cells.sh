#!/bin/bash
# copy-cells.sh FROM TO SUITE...: copies the small files of every finished
# cell (summary.json, metrics.csv, ranks.csv, dev.csv, rank_pattern.json:
# what `adalora report` reads; never adapter.safetensors, which the seed
# reproduces) of each suite from sweep tree FROM to sweep tree TO, with the
# suite's suite.json; a cell already in TO is left as it is. Each cell
# appears whole or not at all (copied under ID.tmp, then renamed).
# tools/experiments-full.sh uses it both ways: committed cells into the run
# tree, finished cells back to be committed.
set -euo pipefail
from=${1:?usage: copy-cells.sh FROM TO SUITE...}
to=${2:?usage: copy-cells.sh FROM TO SUITE...}
shift 2
for suite in "$@"; do
    [ -f "$from/$suite/suite.json" ] || continue
    mkdir -p "$to/$suite/cells"
    [ -f "$to/$suite/suite.json" ] || cp "$from/$suite/suite.json" "$to/$suite/suite.json"
    for cell in "$from/$suite/cells"/*/; do
        [ -f "$cell/summary.json" ] || continue
        id=$(basename "$cell")
        [ -e "$to/$suite/cells/$id" ] && continue
        rm -rf "$to/$suite/cells/$id.tmp"
        mkdir -p "$to/$suite/cells/$id.tmp"
        for f in summary.json metrics.csv ranks.csv dev.csv rank_pattern.json; do
            if [ -f "$cell/$f" ]; then cp "$cell/$f" "$to/$suite/cells/$id.tmp/$f"; fi
        done
        mv "$to/$suite/cells/$id.tmp" "$to/$suite/cells/$id"
    done
done
