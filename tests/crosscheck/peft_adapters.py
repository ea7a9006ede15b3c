"""Adapters both ways between our encoder runs and Hugging Face PEFT (issue 14).

(a) ours -> PEFT: a short float AdaLoRA run of ours on a sentiment task
    (`adalora train`, --convention peft, so s = lora_alpha / (init_r + 1e-5) as
    PEFT scales), `adalora export --format peft`, then
    PeftModel.from_pretrained(BertForSequenceClassification(MODEL), DIR): the
    config must say what PEFT's would (task_type SEQ_CLS, modules_to_save
    ["classifier"], rank_pattern keys "PATH.lora_E", ...); the load must use
    every tensor of our file and leave no adapter or classifier parameter
    unloaded, build every module at the rank its rank_pattern keeps (ranknum
    = init_r), and warn of nothing it does not also warn of when it loads its
    own save_pretrained of the same adapter (whose tensors must be ours, bit
    for bit); and its logits on the task's first ROWS training sentences must
    be ours (`adalora encoder-step --adapter RUN/adapter.safetensors`).
(b) PEFT -> ours: PEFT trains an AdaLoRA adapter itself (get_peft_model,
    task_type SEQ_CLS, update_and_allocate every step, so triplets are
    masked and rank_pattern is set; the classifier trains through
    modules_to_save), save_pretrained, `adalora import --out`, and our
    encoder's logits from the imported adapter must be PEFT's.

Metric: max |ours - PEFT| / max |PEFT| over all logits (float32 both sides);
bound --tol (1e-5). One line per direction with the figure and the PEFT,
transformers and torch versions. Exit 0 when both pass, 1 when a check
fails, 2 on bad input (missing driver or checkpoint, a failing command).
"""
import argparse
import json
import logging
import os
import subprocess
import sys
import warnings

TASK = "sentiment-amazon"
TARGETS = ["query", "value"]
INIT_R, TARGET_R, ALPHA = 4, 2, 8.0
# Our run (a): AdaLoRA's schedule over 30 steps, so the budget falls from
# n * init_r to n * target_r and the final pattern is fixed.
# (--batch apart: encoder-step's is the number of sentences compared.)
OUR_RUN = ["--task", TASK, "--method", "adalora", "--convention", "peft", "--total_step", "30", "--tinit", "4",
           "--tfinal", "8", "--deltaT", "3", "--init_r", str(INIT_R), "--target_r", str(TARGET_R),
           "--dropout", "0", "--target-modules", ",".join(TARGETS), "--lora_alpha", str(ALPHA), "--lr", "0.01",
           "--seed", "3", "--log", "quiet"]
# PEFT's run (b): masks at steps 4 and 6 (deltaT 2 after tinit 2), the final
# mask at 7 = total_step - tfinal, then the pattern every step.
PEFT_STEPS = dict(tinit=2, tfinal=3, deltaT=2, total_step=10)


def fail(msg, code):
    print(f"peft-adapters: {msg}", file=sys.stderr)
    sys.exit(code)


def run(cmd, log):
    """Runs one driver command; a failure is bad input (exit 2) with its output shown."""
    with open(log, "w") as f:
        r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        fail(f"'{' '.join(cmd)}' exited {r.returncode}:\n" + open(log).read(), 2)


def rel_diff(ours, ref):
    import numpy as np

    ours, ref = np.asarray(ours, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    if ours.shape != ref.shape:
        fail(f"logits of shape {ours.shape} against PEFT's {ref.shape}", 1)
    return float(np.max(np.abs(ours - ref)) / max(float(np.max(np.abs(ref))), 1e-300))


class Captured(logging.Handler):
    """Collects log records of WARNING and above (PEFT and transformers warn through logging too)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record.getMessage())


def load_quietly(load):
    """Calls load(); returns its result and every warning it raised (warnings module and logging)."""
    handler = Captured()
    loggers = [logging.getLogger(n) for n in ("peft", "transformers", "")]
    for lg in loggers:
        lg.addHandler(handler)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = load()
    for lg in loggers:
        lg.removeHandler(handler)
    return result, [str(w.message) for w in caught] + handler.records


def base_model(model_dir, torch):
    from transformers import BertForSequenceClassification

    # The base's classifier is newly initialised (MiniLM is a BertModel):
    # transformers reports it; only PEFT's load below must be silent.
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    m = BertForSequenceClassification.from_pretrained(model_dir, num_labels=2, dtype=torch.float32,
                                                      attn_implementation="eager")
    hf_logging.set_verbosity_warning()
    return m.eval()


def peft_logits(model, ids, mask, torch):
    model.eval()
    with torch.no_grad():
        return model(input_ids=torch.as_tensor(ids, dtype=torch.long),
                     attention_mask=torch.as_tensor(mask, dtype=torch.long)).logits.numpy()


def adapter_effect(model, ids, mask, torch):
    """How far the adapters move PEFT's logits: the relative difference
    between the logits and those with every lora_E zeroed (the classifier
    kept). The comparison means something only when this is far above the
    bound."""
    with_adapters = peft_logits(model, ids, mask, torch)
    saved = {n: p.detach().clone() for n, p in model.named_parameters() if ".lora_E." in n}
    with torch.no_grad():
        for n, p in model.named_parameters():
            if n in saved:
                p.zero_()
        without = peft_logits(model, ids, mask, torch)
        for n, p in model.named_parameters():
            if n in saved:
                p.copy_(saved[n])
    return rel_diff(with_adapters, without)


def check_loaded(model, peft_dir, torch):
    """Every tensor of our file is a parameter of the loaded model, with its
    values; every adapter and classifier parameter came from the file; each
    module has the rank its rank_pattern keeps and ranknum init_r. Returns
    the problems found (empty when none)."""
    from safetensors.torch import load_file

    problems = []
    cfg = json.load(open(os.path.join(peft_dir, "adapter_config.json")))
    weights = load_file(os.path.join(peft_dir, "adapter_model.safetensors"))
    params = dict(model.named_parameters())
    # PEFT's parameter names: a module's tensor gets the adapter's name
    # (".default"), the classifier lives in its ModulesToSaveWrapper.
    def param_name(key):
        if key.endswith((".lora_A", ".lora_B", ".lora_E")):
            return key + ".default"
        head, leaf = key.rsplit(".", 1)
        return f"{head}.modules_to_save.default.{leaf}"

    used = set()
    for key, value in weights.items():
        name = param_name(key)
        if name not in params:
            problems.append(f"file tensor {key} is no parameter of the PEFT model ({name})")
            continue
        used.add(name)
        if tuple(params[name].shape) != tuple(value.shape) or not torch.equal(params[name].detach(), value):
            problems.append(f"{name} does not hold the file's {key}")
    for name in params:
        if (".lora_" in name or "modules_to_save" in name) and name not in used:
            problems.append(f"PEFT parameter {name} was not loaded from the file")
    for key, flags in cfg["rank_pattern"].items():
        module = model.get_submodule("base_model.model." + key[: -len(".lora_E")])
        if module.lora_A["default"].shape[0] != sum(flags):
            problems.append(f"{key}: PEFT built rank {module.lora_A['default'].shape[0]}, rank_pattern keeps {sum(flags)}")
        # PEFT restores ranknum = init_r (the scale) on a module that kept a triplet.
        if sum(flags) > 0 and float(module.ranknum["default"]) != float(cfg["init_r"]):
            problems.append(f"{key}: ranknum {float(module.ranknum['default'])}, expected init_r {cfg['init_r']}")
    return problems


def same_files(ours_dir, peft_dir, torch):
    """Our export against PEFT's save_pretrained of the adapter it loaded from
    it: the same tensor names, shapes and values, and the same rank_pattern.
    Returns the differences."""
    from safetensors.torch import load_file

    problems = []
    ours = load_file(os.path.join(ours_dir, "adapter_model.safetensors"))
    theirs = load_file(os.path.join(peft_dir, "adapter_model.safetensors"))
    if sorted(ours) != sorted(theirs):
        problems.append(f"tensor names differ from PEFT's save: ours only {sorted(set(ours) - set(theirs))[:3]}, "
                        f"PEFT's only {sorted(set(theirs) - set(ours))[:3]}")
    for k in sorted(set(ours) & set(theirs)):
        if ours[k].shape != theirs[k].shape or not torch.equal(ours[k], theirs[k]):
            problems.append(f"tensor {k} differs from PEFT's save")
    pattern = [json.load(open(os.path.join(d, "adapter_config.json")))["rank_pattern"] for d in (ours_dir, peft_dir)]
    if pattern[0] != pattern[1]:
        problems.append("rank_pattern differs from PEFT's save")
    return problems


def check_config(cfg, model_dir, problems):
    expected = {"peft_type": "ADALORA", "task_type": "SEQ_CLS", "base_model_name_or_path": model_dir,
                "init_r": INIT_R, "target_r": TARGET_R, "lora_alpha": ALPHA, "modules_to_save": ["classifier"],
                "target_modules": TARGETS}
    for key, value in expected.items():
        if cfg.get(key) != value:
            problems.append(f"adapter_config.json {key} = {cfg.get(key)!r}, expected {value!r}")
    pattern = cfg.get("rank_pattern") or {}
    keys = sorted(pattern)
    want = sorted(f"bert.encoder.layer.{l}.attention.self.{t}.lora_E" for l in range(6) for t in TARGETS)
    if keys != want:
        problems.append(f"rank_pattern keys {keys[:2]}... are not PEFT's spelling {want[:2]}...")


def ours_to_peft(a, torch, versions):
    import numpy as np
    from peft import PeftModel

    out = a.out
    common = ["--model", a.model] + OUR_RUN
    run([a.driver, "train", *common, "--batch", "8", "--out", f"{out}/run"], f"{out}/train.log")
    run([a.driver, "export", f"{out}/run", "--format", "peft", "--out", f"{out}/peft-ours"], f"{out}/export.log")
    run([a.driver, "encoder-step", *common, "--batch", str(a.rows), "--rows", str(a.rows),
         "--adapter", f"{out}/run/adapter.safetensors", "--out", f"{out}/ours-a"], f"{out}/step-a.log")
    ids, mask = np.load(f"{out}/ours-a/ids.npy"), np.load(f"{out}/ours-a/mask.npy")
    ours = np.load(f"{out}/ours-a/logits.npy")

    base = base_model(a.model, torch)
    model, warned = load_quietly(lambda: PeftModel.from_pretrained(base, f"{out}/peft-ours"))
    cfg = json.load(open(f"{out}/peft-ours/adapter_config.json"))
    problems = []
    check_config(cfg, a.model, problems)
    problems += check_loaded(model, f"{out}/peft-ours", torch)
    # PEFT's own save of the adapter it loaded: the same tensors, and the
    # warnings PEFT gives any AdaLoRA adapter (0.21.2 warns that an AdaLoRA
    # rank_pattern's "PATH.lora_E" keys match no module, as LoRA would read
    # them, though its AdaLoRA loader then applies them): ours may give no other.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a module that kept nothing: PEFT's "zero-sized lora_A" note on its save
        model.save_pretrained(f"{out}/peft-resaved")
    problems += same_files(f"{out}/peft-ours", f"{out}/peft-resaved", torch)
    fresh = base_model(a.model, torch)
    _, baseline = load_quietly(lambda: PeftModel.from_pretrained(fresh, f"{out}/peft-resaved"))
    extra = [w for w in warned if w not in baseline]
    problems += [f"PEFT warned of our files (not of its own save): {w}" for w in extra]
    kept = sum(sum(f) for f in cfg["rank_pattern"].values())
    total = len(cfg["rank_pattern"]) * INIT_R
    if kept == total:
        problems.append("no triplet was masked: the rank_pattern was not exercised")
    effect = adapter_effect(model, ids, mask, torch)
    if effect < 100 * a.tol:
        problems.append(f"the adapters move the logits by only {effect:.3g} (< 100 x the bound): nothing to compare")
    d = rel_diff(ours, peft_logits(model, ids, mask, torch))
    ok = d <= a.tol and not problems
    for p in problems:
        print(f"peft-adapters: ours -> PEFT: {p}")
    print(f"peft-adapters: ours -> PEFT: max relative logit difference {d:.3g} (bound {a.tol:g}) over {len(ids)} "
          f"sentences (the adapters move them by {effect:.3g}), {len(cfg['rank_pattern'])} modules, {kept} of {total} "
          f"triplets kept, {len(extra)} warnings on load beyond the {len(baseline)} of PEFT's own save: "
          f"{'ok' if ok else 'FAILED'}; {versions}")
    return ok, ids, mask


def peft_to_ours(a, torch, versions, ids, mask):
    import numpy as np
    from peft import AdaLoraConfig, get_peft_model

    out = a.out
    labels = np.load(f"{out}/ours-a/labels.npy")
    torch.manual_seed(11)
    base = base_model(a.model, torch)
    cfg = AdaLoraConfig(task_type="SEQ_CLS", init_r=INIT_R, target_r=TARGET_R, lora_alpha=ALPHA, lora_dropout=0.0,
                        target_modules=TARGETS, orth_reg_weight=0.1, **PEFT_STEPS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # transformers' deprecation notes inside PEFT's own calls
        model = get_peft_model(base, cfg)
    model.train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-2)
    n, batch = len(ids), 8
    for step in range(PEFT_STEPS["total_step"]):
        rows = [(step * batch + i) % n for i in range(batch)]
        o = model(input_ids=torch.as_tensor(ids[rows], dtype=torch.long),
                  attention_mask=torch.as_tensor(mask[rows], dtype=torch.long),
                  labels=torch.as_tensor(labels[rows], dtype=torch.long))
        o.loss.backward()
        opt.step()
        model.base_model.update_and_allocate(step)
        opt.zero_grad()
    theirs = peft_logits(model, ids, mask, torch)
    effect = adapter_effect(model, ids, mask, torch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a module that kept nothing: PEFT's "zero-sized lora_A" note on its save
        model.save_pretrained(f"{out}/peft-theirs")
    saved = json.load(open(f"{out}/peft-theirs/adapter_config.json"))
    pattern = saved.get("rank_pattern") or {}
    kept = sum(sum(f) for f in pattern.values())
    total = len(pattern) * INIT_R
    problems = [] if pattern and kept < total else ["PEFT masked no triplet (rank_pattern unset or all kept)"]
    if effect < 100 * a.tol:
        problems.append(f"the adapters move the logits by only {effect:.3g} (< 100 x the bound): nothing to compare")

    run([a.driver, "import", f"{out}/peft-theirs", "--out", f"{out}/imported"], f"{out}/import.log")
    run([a.driver, "encoder-step", "--model", a.model, *OUR_RUN, "--batch", str(a.rows), "--rows", str(a.rows),
         "--adapter", f"{out}/imported/adapter.safetensors", "--out", f"{out}/ours-b"], f"{out}/step-b.log")
    ours = np.load(f"{out}/ours-b/logits.npy")
    if not np.array_equal(np.load(f"{out}/ours-b/ids.npy"), ids):
        problems.append("the two encoder-step dumps saw different sentences")
    d = rel_diff(ours, theirs)
    ok = d <= a.tol and not problems
    for p in problems:
        print(f"peft-adapters: PEFT -> ours: {p}")
    print(f"peft-adapters: PEFT -> ours: max relative logit difference {d:.3g} (bound {a.tol:g}) over {len(ids)} "
          f"sentences (the adapters move them by {effect:.3g}), {len(pattern)} modules, {kept} of {total} triplets kept after "
          f"{PEFT_STEPS['total_step']} PEFT steps: {'ok' if ok else 'FAILED'}; {versions}")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--driver", required=True, help="the float adalora driver")
    ap.add_argument("--model", required=True, help="the MiniLM checkpoint folder (build/assets/all-MiniLM-L6-v2)")
    ap.add_argument("--out", required=True, help="work folder (created; must not exist)")
    ap.add_argument("--rows", type=int, default=32, help="sentences whose logits are compared (1..64)")
    ap.add_argument("--tol", type=float, default=1e-5, help="bound on the max relative logit difference")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (1 or 2)")
    a = ap.parse_args()
    if not os.access(a.driver, os.X_OK):
        fail(f"--driver {a.driver}: not an executable file", 2)
    if not os.path.isfile(os.path.join(a.model, "config.json")):
        fail(f"--model {a.model}: no config.json there (run make deps)", 2)
    if not 1 <= a.rows <= 64:
        fail(f"--rows {a.rows}: allowed 1..64", 2)
    if not (0 < a.tol < 1):
        fail(f"--tol {a.tol}: allowed 0 < tol < 1", 2)
    if a.threads not in (1, 2):
        fail(f"--threads {a.threads}: allowed 1 or 2", 2)
    if os.path.exists(a.out):
        fail(f"--out {a.out}: already exists", 2)
    os.makedirs(a.out)
    a.model = os.path.abspath(a.model)
    try:
        import peft
        import torch
        import transformers
    except ImportError as e:
        fail(f"cannot import {e.name} (run make deps)", 2)
    torch.set_num_threads(a.threads)
    versions = f"peft {peft.__version__}, transformers {transformers.__version__}, torch {torch.__version__}"
    ok_a, ids, mask = ours_to_peft(a, torch, versions)
    ok_b = peft_to_ours(a, torch, versions, ids, mask)
    sys.exit(0 if ok_a and ok_b else 1)


if __name__ == "__main__":
    main()
