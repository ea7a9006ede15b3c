#!/bin/bash
# experiments-full.sh DRIVER SHARD NPROC SUITE...: the full grids (a SUITE is
# a name of experiments/suites/ or the path of a TOML), resumable
# from the per-cell results committed in experiments/results/runs/.
#
# A full grid of the encoder suites takes hours on 2 cores, so it is run in
# pieces and its finished cells are committed as they come:
#   1. the committed cells (experiments/results/runs/SUITE/{suite.json,
#      cells/ID/}) are copied into the run tree build/experiments-full/, where
#      `adalora sweep` skips them (a cell present is a cell done);
#   2. each suite's missing cells of this shard (i/N, `adalora sweep --shard`)
#      run, NPROC at a time;
#   3. every finished cell's small files are copied back into
#      experiments/results/runs/ (tools/copy-cells.sh), even when a later
#      cell fails, so an interrupted run loses only the cells that were running;
#   4. experiments/results/REPORT.md and its plots are written from
#      experiments/results/runs/ (every suite present there, finished or not:
#      the report says which are incomplete).
set -uo pipefail
driver=${1:?usage: experiments-full.sh DRIVER SHARD NPROC SUITE...}
shard=${2:?shard i/N}
jobs=${3:?parallel cells}
shift 3
committed=experiments/results/runs
runs=build/experiments-full
mkdir -p "$committed" "$runs"

here=$(dirname "$0")

failed=0
for suite in "$@"; do
    name=$(basename "$suite" .toml)  # a suite's name, or the path of its TOML
    bash "$here/copy-cells.sh" "$committed" "$runs" "$name" || failed=1
    echo "== sweep $name (full, shard $shard)"
    "$driver" sweep "$suite" --out "$runs" --shard "$shard" --jobs "$jobs" || failed=1
    bash "$here/copy-cells.sh" "$runs" "$committed" "$name" || failed=1
done
"$driver" report "$committed" --out experiments/results --replace || failed=1
exit $failed
