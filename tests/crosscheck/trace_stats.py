"""Counts what a trace holds, for run.sh's case line: traced steps, steps at
which the allocator selected a new pattern (action "mask"), and keep masks
(one per module per traced step)."""
import json
import os
import sys

with open(os.path.join(sys.argv[1], "index.json"), encoding="utf-8") as f:
    steps = json.load(f)["steps"]
mask_steps = sum(1 for s in steps if s["scalars"].get("action") == "mask")
masks = sum(1 for s in steps for kinds in s["tensors"].values() if "keep" in kinds)
print(len(steps), mask_steps, masks)
