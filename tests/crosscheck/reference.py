#!/usr/bin/python3
"""An independent AdaLoRA reference in PyTorch (float64, autograd), written
from the equations of docs/SPEC.md §2, for cross-checking the C implementation step by
step (README, "Cross-check against an independent PyTorch reference").

    /usr/bin/python3 tests/crosscheck/reference.py --init DUMP --trace OUT --trace-steps 0-40

It reads a `adalora train --dump-init DUMP` directory (initial weights, the
exact mini-batches, the hyper-parameters and every conventions row), runs the
same T steps and writes a trace that `adalora trace-diff` compares with the
driver's `--trace`. Debian's python3-torch is importable only by Debian's own
interpreter, hence /usr/bin/python3.

One step (docs/SPEC.md §4, "Order of one optimizer step", and Algorithm 1):
forward with the current lambda -> L = C + orth term (Eq. 4) -> backward ->
clip (torch.nn.utils.clip_grad_norm_) -> [EMAs from w(t), paper] -> AdamW
step (torch.optim.AdamW) -> [EMAs from w(t+1), PEFT] -> schedule (Eq. 14) ->
mask (Eq. 8) -> zero grads."""
import argparse
import math
import sys

import numpy as np
import torch

from allocator import RankAllocator
from conventions import Conventions
from layers import DTYPE, HostModel, LoRALinear, SVDLinear
from regularizer import orth_raw, orth_term
from trace_io import (BadInput, TraceWriter, exit_code, json_number, load_array, parse_steps, read_index,
                      trace_header)


def build_model(dump, index):
    """The host model from the dump: every module's W0, bias and adapter."""
    form, modules = index["form"], []
    if form not in ("svd", "lora"):
        raise BadInput(f"{dump}/index.json: form '{form}': allowed values are svd, lora")
    for m in sorted(index["modules"], key=lambda m: m["index"]):
        files = m["files"]
        W0 = load_array(dump, files["W0"])
        bias = load_array(dump, files["bias"]) if m["has_bias"] else None
        if form == "svd":
            module = SVDLinear(W0, bias, load_array(dump, files["P"]), load_array(dump, files["lam"]),
                               load_array(dump, files["Q"]), index["alpha"], index["scale_eps"])
        else:
            module = LoRALinear(W0, bias, load_array(dump, files["B"]), load_array(dump, files["A"]),
                                index["alpha"], index["scale_eps"])
        if module.lora_B.shape != (m["d_out"], index["r0"]) or module.lora_A.shape != (index["r0"], m["d_in"]):
            raise BadInput(f"{dump}: module {m['name']}: adapter shapes disagree with the index")
        modules.append(module)
    ordered = sorted(index["modules"], key=lambda m: m["index"])
    return HostModel(modules, [m["name"] for m in ordered], [m["chain"] for m in ordered],
                     [m["activation"] for m in ordered], index["loss"]["kind"])


def load_batches(dump, index):
    """Per chain: inputs [T, B, d_in] and targets [T, B, d_out] (or labels)."""
    xs, ys = {}, {}
    for chain in index["chains"]:
        c = chain["chain"]
        xs[c] = torch.as_tensor(load_array(dump, chain["x"]), dtype=DTYPE)
        target = chain.get("y") or chain.get("labels")
        ys[c] = torch.as_tensor(load_array(dump, target))
        if chain.get("y"):
            ys[c] = ys[c].to(DTYPE)
    return xs, ys


def check_consistent(index, conv, model):
    """The index states some rows twice (as conventions and in its sections):
    refuse a dump whose two statements disagree, and a scale we would not
    reproduce."""
    pairs = [(index["regulariser"]["orth_norm"], conv.orth_norm, "orth-norm"),
             (index["regulariser"]["orth_reduce"], conv.orth_reduce, "orth-reduce"),
             (index["allocation"]["sensitivity_weights"], conv.sensitivity_weights, "sensitivity-weights"),
             (index["allocation"]["ties"], conv.ties, "ties")]
    for section, row, name in pairs:
        if section != row:
            raise BadInput(f"index.json: {name} is '{row}' in conventions but '{section}' in its section")
    for name, value in (("clip", index["optimizer"]["clip"]), ("scale-eps", index["scale_eps"])):
        if name in conv.numbers and conv.numbers[name] != float(value):
            raise BadInput(f"index.json: {name} is {conv.numbers[name]} in conventions but {value} elsewhere")
    module = model.adapted[0]
    scale = module.scaling / (module.ranknum + module.scale_eps)
    if abs(scale - index["scale"]) > 1e-6 * abs(scale):
        raise BadInput(f"index.json: scale {index['scale']} is not alpha / (r0 + scale_eps) = {scale}")
    if index["optimizer"]["kind"] != "adamw":
        raise BadInput(f"index.json: optimizer '{index['optimizer']['kind']}': only adamw is supported")


def lora_kinds(module):
    """The trace's names of a module's trainable tensors."""
    kinds = [("P", module.lora_B), ("Q", module.lora_A)]
    if module.lora_E is not None:
        kinds.insert(1, ("lam", module.lora_E))
    return kinds


def state_tensors(model, allocator, grads, info, lam_pre, ab_pre, form):
    """Every tensor of one traced step, per module (trace format of the README)."""
    r0, out = allocator.r0, {}
    for k, (name, module) in enumerate(zip(model.names, model.adapted)):
        t = {}
        for kind, p in lora_kinds(module):
            t[kind] = p.detach().numpy().reshape(-1) if kind == "lam" else p.detach().numpy().copy()
            t["grad_" + kind] = grads[k][kind]
            key = {"P": "lora_B", "lam": "lora_E", "Q": "lora_A"}[kind]
            if allocator.prune:  # the EMAs are traced only when the run prunes
                t["ibar_" + kind] = allocator.exp_avg_ipt[(k, key)].numpy().reshape(t[kind].shape).copy()
                t["ubar_" + kind] = allocator.exp_avg_unc[(k, key)].numpy().reshape(t[kind].shape).copy()
        if form == "svd":
            t["lam_pre"] = lam_pre[k]
        else:
            t["P_pre"], t["Q_pre"] = ab_pre[k]
        t["keep"] = allocator.keep[k * r0:(k + 1) * r0].numpy().astype(np.uint8)
        if info["scores"] is not None:
            t["S"] = info["scores"][k * r0:(k + 1) * r0].numpy().copy()
        out[name] = t
    return out


def initial_tensors(model, allocator):
    r0, out = allocator.r0, {}
    for k, (name, module) in enumerate(zip(model.names, model.adapted)):
        t = {kind: (p.detach().numpy().reshape(-1) if kind == "lam" else p.detach().numpy().copy())
             for kind, p in lora_kinds(module)}
        t["keep"] = allocator.keep[k * r0:(k + 1) * r0].numpy().astype(np.uint8)
        out[name] = t
    return out


def run(dump, out, steps_spec):
    index = read_index(dump, "adalora-init")
    host = index.get("host", "mlp")  # a dump written before the encoder host has none
    if host != "mlp":
        raise BadInput(f"{dump}/index.json: host '{host}': this reference rebuilds only the MLP host (allowed: mlp)")
    try:
        conv = Conventions(index["conventions"])
    except ValueError as e:
        raise BadInput(f"{dump}/index.json: {e}")
    model = build_model(dump, index)
    check_consistent(index, conv, model)
    xs, ys = load_batches(dump, index)
    T = int(index["total_step"])
    traced = set(parse_steps(steps_spec, T))
    opt = index["optimizer"]
    params = [p for module in model.adapted for _, p in lora_kinds(module)]
    # The run's optimizer: torch.optim.AdamW with the dump's lr, betas, eps and
    # weight decay (decoupled, applied to every adapter tensor, lambda included).
    optimizer = torch.optim.AdamW(params, lr=opt["lr"], betas=(opt["beta1"], opt["beta2"]),
                                  eps=opt["eps"], weight_decay=opt["weight_decay"])
    allocator = RankAllocator(model, index["schedule"], index["allocation"], conv)
    reg = index["regulariser"]
    gamma = float(reg["gamma"])
    producer = "tests/crosscheck/reference.py (PyTorch %s, float64)" % torch.__version__
    with TraceWriter(out, trace_header(index, producer)) as writer:
        if 0 in traced:
            writer.step(0, {"kept": int(allocator.keep.sum())}, initial_tensors(model, allocator))
        for t in range(1, T + 1):
            global_step = t - 1 + conv.step_base   # row 4: 1..T (paper) or 0..T-1 (PEFT)
            batch_x = {c: x[t - 1] for c, x in xs.items()}
            batch_y = {c: y[t - 1] for c, y in ys.items()}
            task = model(batch_x, batch_y)
            raw, term = None, 0.0
            loss = task
            if gamma > 0:
                raw, count = orth_raw(model, reg["orth_norm"])
                term = orth_term(raw, count, gamma, reg["orth_reduce"])
                loss = task + term
            loss.backward()
            grad_norm = None
            if opt["clip"] > 0:
                grad_norm = torch.nn.utils.clip_grad_norm_(params, opt["clip"]).item()
            grads = [{kind: p.grad.detach().numpy().reshape(-1 if kind == "lam" else p.shape).copy()
                      for kind, p in lora_kinds(module)} for module in model.adapted]
            allocator.update_ipt_pre_step(model, global_step)
            optimizer.step()
            lam_pre = [m.lora_E.detach().numpy().reshape(-1).copy() if m.lora_E is not None else None
                       for m in model.adapted]
            ab_pre = [(m.lora_B.detach().numpy().copy(), m.lora_A.detach().numpy().copy())
                      for m in model.adapted]
            info = allocator.update_and_allocate(model, global_step)
            optimizer.zero_grad(set_to_none=False)
            if t in traced:
                scalars = {"schedule_step": global_step, "loss": float(loss), "task_loss": float(task),
                           "orth_raw": json_number(raw), "orth_term": float(term),
                           "grad_norm": json_number(grad_norm), "budget": info["budget"],
                           "threshold": json_number(info["threshold"]), "action": info["action"],
                           "phase": info["phase"], "kept": info["kept"]}
                writer.step(t, scalars, state_tensors(model, allocator, grads, info, lam_pre,
                                                      ab_pre, index["form"]))
            if not math.isfinite(float(loss)):
                raise RuntimeError(f"loss is {float(loss)} at step {t}")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--init", required=True, help="a --dump-init directory of the driver")
    parser.add_argument("--trace", required=True, help="output directory (must not exist)")
    parser.add_argument("--trace-steps", default="all", help="e.g. 0-20,50,100 or all (default)")
    args = parser.parse_args(argv)
    torch.set_default_dtype(DTYPE)
    return exit_code("reference.py", args.init, lambda: run(args.init, args.trace, args.trace_steps))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
