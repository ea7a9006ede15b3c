"""What a trace covers, for run.sh's case line: the number of mask steps
(action "mask": the allocator selected a new pattern) and the situations the
run went through, so a case that silently stopped exercising its feature
shows: the phases seen, "clipped" (clipping scaled a gradient), "revived" (a
pruned triplet came back at a mask step), "under" (a mask step kept fewer
than b(t): PEFT's kthvalue ties), "rank0" (a module ends with every triplet
pruned), "offgrid" (the forced final mask falls on a step DeltaT does not
divide), "reset" (the importance EMAs are all zero after the forced mask:
PEFT's reset_ipt)."""
import json
import os
import sys

import numpy as np

trace = sys.argv[1]
with open(os.path.join(trace, "index.json"), encoding="utf-8") as f:
    index = json.load(f)
steps = index["steps"]
clip = float(index["optimizer"]["clip"])
seen, previous = [], None
for s in steps:
    sc = s["scalars"]
    if "phase" in sc and sc["phase"] not in seen:
        seen.append(sc["phase"])
    if clip > 0 and (sc.get("grad_norm") or 0) > clip and "clipped" not in seen:
        seen.append("clipped")
    keep = np.concatenate([np.load(os.path.join(trace, kinds["keep"]))
                           for kinds in s["tensors"].values()])
    if sc.get("action") == "mask":
        if previous is not None and np.any((previous == 0) & (keep == 1)) and "revived" not in seen:
            seen.append("revived")
        if sc["kept"] < sc["budget"] and "under" not in seen:
            seen.append("under")
    if sc.get("phase") == "final" and sc.get("action") == "mask":
        if sc["schedule_step"] % int(index["schedule"]["deltaT"]) and "offgrid" not in seen:
            seen.append("offgrid")
        ibar = [np.load(os.path.join(trace, f)) for kinds in s["tensors"].values()
                for kind, f in kinds.items() if kind.startswith("ibar_")]
        if ibar and not any(a.any() for a in ibar) and "reset" not in seen:
            seen.append("reset")
    previous = keep
if steps and any(not np.load(os.path.join(trace, kinds["keep"])).any() for kinds in steps[-1]["tensors"].values()):
    seen.append("rank0")
mask_steps = sum(1 for s in steps if s["scalars"].get("action") == "mask")
print(mask_steps, ",".join(seen))
