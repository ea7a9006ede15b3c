"""The number of mask steps in a trace (steps at which the allocator selected
a new pattern, action "mask"), for run.sh's case line."""
import json
import os
import sys

with open(os.path.join(sys.argv[1], "index.json"), encoding="utf-8") as f:
    steps = json.load(f)["steps"]
print(sum(1 for s in steps if s["scalars"].get("action") == "mask"))
