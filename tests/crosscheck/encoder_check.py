"""The encoder host against Hugging Face transformers and torch autograd.

Reads a directory written by `adalora encoder-step` (driver/cli/encoder_step.h):
the token ids and mask of one batch, our hidden states of every layer and our
logits, every adapter tensor and the head with our gradients of one training
step (task loss + orth_weight * sum R, Eq. 4). Rebuilds the same step on
transformers' BertModel loaded from the same checkpoint (eager attention, eval
mode: no dropout), the adapters added by forward hooks on the adapted
nn.Linear modules:
    SVD form (Eq. 3):  y = x W^T + b + scale * ((x Q^T) * lambda) P^T
    LoRA form:         y = x W^T + b + scale * (x A^T) B^T
and the head as ours: logits = tanh(pooler) W_cls^T + b_cls (BertModel's
pooler_output is already dense + tanh on [CLS]). Autograd gives the reference
gradients.

Metric, per tensor: max |ours - reference| / max |reference| (the largest
deviation relative to the tensor's largest entry). Prints one line per tensor
group and exits 1 if any exceeds its bound (--forward-tol for hidden states
and logits, --grad-tol for gradients).
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from regularizer import factor_term  # noqa: E402  (Eq. 4, one factor)

# PEFT's target_modules names -> the module path inside a BertLayer.
MODULE_PATH = {
    "query": "attention.self.query",
    "key": "attention.self.key",
    "value": "attention.self.value",
    "attention.output.dense": "attention.output.dense",
    "intermediate.dense": "intermediate.dense",
    "output.dense": "output.dense",
}


def rel_err(ours, ref):
    ours = np.asarray(ours, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if ours.shape != ref.shape:
        raise SystemExit(f"encoder_check: shape {ours.shape} against the reference's {ref.shape}")
    return float(np.max(np.abs(ours - ref)) / max(np.max(np.abs(ref)), 1e-300))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", required=True, help="directory written by adalora encoder-step")
    ap.add_argument("--forward-tol", type=float, required=True)
    ap.add_argument("--grad-tol", type=float, required=True)
    a = ap.parse_args()

    def load(name):
        return np.load(os.path.join(a.dump, name + ".npy"))

    index = json.load(open(os.path.join(a.dump, "index.json")))
    dtype = torch.float64 if index["precision"] == "double" else torch.float32
    torch.manual_seed(0)
    from transformers import BertModel

    model = BertModel.from_pretrained(index["model_dir"], dtype=dtype, attn_implementation="eager")
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)

    def leaf(name):
        return torch.tensor(load(name), dtype=dtype, requires_grad=True)

    svd = index["form"] == "svd"
    scale = index["scale"]
    adapters = {}
    for mod in index["modules"]:
        name = mod["name"]
        if svd:
            t = {"P": leaf(name + ".P"), "lambda": leaf(name + ".lambda"), "Q": leaf(name + ".Q")}
        else:
            t = {"B": leaf(name + ".B"), "A": leaf(name + ".A")}
        adapters[name] = t
        linear = model.encoder.layer[mod["layer"]].get_submodule(MODULE_PATH[mod["type"]])

        def hook(module, inputs, out, t=t):
            x = inputs[0]
            if svd:
                return out + scale * ((x @ t["Q"].T) * t["lambda"]) @ t["P"].T
            return out + scale * (x @ t["A"].T) @ t["B"].T

        linear.register_forward_hook(hook)
    head_w, head_b = leaf("classifier.weight"), leaf("classifier.bias")

    ids = torch.tensor(load("ids"), dtype=torch.long)
    mask = torch.tensor(load("mask"), dtype=torch.long)
    out = model(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids), output_hidden_states=True)
    logits = out.pooler_output @ head_w.T + head_b
    if index["loss"] == "cross-entropy":
        task = F.cross_entropy(logits, torch.tensor(load("labels"), dtype=torch.long))
    else:
        task = F.mse_loss(logits, torch.tensor(load("targets"), dtype=dtype))
    orth = 0.0
    for t in adapters.values():
        left, right = (t["P"], t["Q"]) if svd else (t["B"], t["A"])
        orth = orth + factor_term(left, "PtP", index["orth_norm"]) + factor_term(right, "QQt", index["orth_norm"])
    total = task + index["orth_weight"] * orth
    total.backward()
    leaves = [x for t in adapters.values() for x in t.values()] + [head_w, head_b]
    if index["clip"] > 0:  # the step clips the global gradient norm (torch.nn.utils.clip_grad_norm_)
        torch.nn.utils.clip_grad_norm_(leaves, index["clip"])

    rows = []  # (what, error, bound)
    n, T = ids.shape
    for layer, h in enumerate(out.hidden_states):
        rows.append((f"hidden state {layer}", rel_err(load(f"hidden_{layer}"), h.detach().reshape(n * T, -1)), a.forward_tol))
    rows.append(("logits", rel_err(load("logits"), logits.detach()), a.forward_tol))
    rows.append(("task loss", abs(index["task_loss"] - task.item()) / abs(task.item()), a.forward_tol))
    by_part = {}
    for name, t in adapters.items():
        for part, x in t.items():
            err = rel_err(load(f"grad.{name}.{part}"), x.grad)
            by_part.setdefault(part, []).append((err, name))
    for part, errs in by_part.items():
        worst = max(errs)
        rows.append((f"grad {part} ({len(errs)} modules, worst {worst[1]})", worst[0], a.grad_tol))
    rows.append(("grad classifier.weight", rel_err(load("grad.classifier.weight"), head_w.grad), a.grad_tol))
    rows.append(("grad classifier.bias", rel_err(load("grad.classifier.bias"), head_b.grad), a.grad_tol))

    failed = 0
    print(f"encoder_check: {index['task']}, {index['precision']}, {index['form']} form, {n} sentences x {T} tokens, "
          f"transformers BertModel from {index['model_dir']}")
    for what, err, bound in rows:
        ok = err <= bound
        failed += not ok
        print(f"  {what:<58} max rel err {err:.3e}  (bound {bound:.0e})  {'ok' if ok else 'FAILED'}")
    print(f"encoder_check: {len(rows)} comparisons, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
