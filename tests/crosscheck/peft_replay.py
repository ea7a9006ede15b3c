"""Replays an `adalora train --dump-init` directory through Hugging Face
PEFT's own AdaLoRA and writes a trace in the driver's format (README, "Step
traces"), for `adalora trace-diff` against the driver's `--convention peft`
run (README, "Cross-check against the real PEFT").

    build/venv/bin/python tests/crosscheck/peft_replay.py --init DUMP --trace OUT [--model DIR]

Everything AdaLoRA does here is PEFT's code: `get_peft_model(model,
AdaLoraConfig(...))` builds its `SVDLinear` layers, `AdaLoraModel.forward`
adds the orthogonal term, `update_and_allocate` runs its `RankAllocator`
(importance EMAs, budget, masks, the forced final mask, `reset_ipt`, the
re-applied pattern). The script only builds the host network, copies the
dumped initial adapters into PEFT's parameters, feeds the dumped batches in
order and observes:

- the host: planted tasks, a torch.nn.Module whose modules carry our names
  (so `target_modules` selects the same matrices); the encoder, transformers'
  BertForSequenceClassification from the same checkpoint, dropout off;
- the loop, as PEFT documents it (AdaLoraModel.update_and_allocate's
  docstring): `loss.backward(); optimizer.step();
  model.base_model.update_and_allocate(i_step); optimizer.zero_grad()` with
  i_step = 0, 1, ..., torch.optim.AdamW with the dump's hyper-parameters over
  every trainable parameter, `total_step`, `tinit`, `tfinal`, `deltaT` given
  to AdaLoraConfig as the dump has them; clipping (when the dump has it) by
  torch.nn.utils.clip_grad_norm_ between backward and the optimizer step, as
  transformers' Trainer does;
- the task loss by a forward hook on the host (before AdaLoraModel adds its
  term), the threshold by recording what `torch.kthvalue` returns inside
  `mask_to_budget`, the action by recording which of `mask_to_budget` and
  `mask_using_rank_pattern` ran, the keep pattern from `rank_pattern`, the
  EMAs from the allocator's `exp_avg_ipt` and `exp_avg_unc` (an entry PEFT
  has emptied is written as zeros, the value `update_ipt` restarts from).

Not in this trace (trace-diff --ignore S,orth_raw,phase): PEFT computes the
triplet scores only inside a mask step, keeps no raw regulariser sum and no
phase label. PEFT's instantaneous `ipt` is not traced either: it is fixed by
two consecutive exp_avg_ipt, I(t) = (Ibar(t) - beta1 Ibar(t-1)) / (1 - beta1).

A planted task's model is called through `peft_model.base_model` (the
AdaLoraModel), as PEFT's task classes (PeftModelForSequenceClassification,
...) call it: PeftModel.forward of a model without a task type calls the
wrapped model directly and so never adds AdaLoraModel.forward's orthogonal
term (measured: README)."""
import argparse
import contextlib
import math
import sys
import types

import numpy as np
import torch

import peft
import transformers
from peft import AdaLoraConfig, TaskType, get_peft_model

from layers import ACTIVATIONS, task_loss
from trace_io import BadInput, TraceWriter, exit_code, json_number, load_array, read_index, trace_header

DTYPE = torch.float64
ADAPTER = "default"
# Our encoder module types (PEFT's names) -> the module's path inside a BERT layer.
ENCODER_PATHS = {"query": "attention.self.query", "key": "attention.self.key", "value": "attention.self.value",
                 "attention.output.dense": "attention.output.dense", "intermediate.dense": "intermediate.dense",
                 "output.dense": "output.dense"}
# The conventions rows PEFT's code has (docs/SPEC.md section 4): a dump with
# another value cannot be replayed by PEFT.
PEFT_ROWS = {"orth-norm": "plain", "orth-reduce": "mean", "sensitivity-weights": "post-step", "step-base": "0",
             "warmup-end": "through-tinit", "budget-rounding": "floor", "ties": "kthvalue",
             "final-phase": "freeze-pattern", "final-emas": "reset"}


def versions():
    return {"peft": peft.__version__, "transformers": transformers.__version__, "torch": torch.__version__}


def check_replayable(index):
    """PEFT's AdaLoRA has one of each row; refuse what it cannot run."""
    if index.get("method") != "adalora" or index.get("form") != "svd":
        raise BadInput(f"method {index.get('method')!r} form {index.get('form')!r}: PEFT's AdaLoRA is the method "
                       "adalora (SVD form)")
    conv = index["conventions"]
    for row, value in PEFT_ROWS.items():
        if str(conv.get(row)) != value:
            raise BadInput(f"conventions: {row} is {conv.get(row)!r}; PEFT's code has {value!r} (train with "
                           "--convention peft)")
    if abs(float(conv["scale-eps"]) - 1e-5) > 1e-12:
        raise BadInput(f"conventions: scale-eps is {conv['scale-eps']}; PEFT's SVDLinear divides by ranknum + 1e-5")
    alloc = index["allocation"]
    if not alloc["prune"] or alloc["importance"] != "sens-unc" or alloc.get("hard_delete") or alloc.get("svd_proj"):
        raise BadInput("allocation: PEFT prunes with s = Ibar * Ubar, masking (no hard delete, no projection)")
    if index["optimizer"]["kind"] != "adamw":
        raise BadInput(f"optimizer {index['optimizer']['kind']!r}: the replay steps torch.optim.AdamW")
    sched, n = index["schedule"], len(index["modules"])
    if sched["b0"] != n * index["r0"] or sched["bT"] % n:
        raise BadInput(f"schedule: b0 = {sched['b0']}, bT = {sched['bT']} are not n*init_r and n*target_r "
                       f"(n = {n}); PEFT's budgets are per-matrix ranks")


# ---------------------------------------------------------------- the hosts

class Output(types.SimpleNamespace):
    """What AdaLoraModel.forward reads (`outputs.loss`) and adds its term to."""


class PlantedHost(torch.nn.Module):
    """The MLP tasks' network with plain nn.Linear modules under our names
    (a dotted name is a nested module): chain c reads its own x, its modules
    run in order with their activations, the loss is the sum of the chains'."""

    def __init__(self, dump, index):
        super().__init__()
        self.specs = sorted(index["modules"], key=lambda m: m["index"])
        self.loss_kind = index["loss"]["kind"]
        for m in self.specs:
            *parents, leaf = m["name"].split(".")
            owner = self
            for part in parents:
                if not hasattr(owner, part):
                    owner.add_module(part, torch.nn.Module())
                owner = getattr(owner, part)
            linear = torch.nn.Linear(m["d_in"], m["d_out"], bias=bool(m["has_bias"]), dtype=DTYPE)
            with torch.no_grad():
                linear.weight.copy_(torch.as_tensor(load_array(dump, m["files"]["W0"])))
                if m["has_bias"]:
                    linear.bias.copy_(torch.as_tensor(load_array(dump, m["files"]["bias"])))
            owner.add_module(leaf, linear)

    def forward(self, xs, ys):
        total = 0.0
        for c in sorted(xs):
            h = xs[c]
            for m in self.specs:
                if m["chain"] == c:
                    h = ACTIVATIONS[m["activation"]](self.get_submodule(m["name"])(h))
            total = total + task_loss(self.loss_kind, h, ys[c])
        return Output(loss=total)


def planted_host(dump, index):
    model = PlantedHost(dump, index)
    for p in model.parameters():
        p.requires_grad_(False)
    xs, ys = {}, {}
    for chain in index["chains"]:
        c = chain["chain"]
        xs[c] = torch.as_tensor(load_array(dump, chain["x"]), dtype=DTYPE)
        target = chain.get("y") or chain.get("labels")
        ys[c] = torch.as_tensor(load_array(dump, target))
        if chain.get("y"):
            ys[c] = ys[c].to(DTYPE)
    paths = {m["name"]: m["name"] for m in index["modules"]}

    def step_inputs(t):
        return (({c: x[t - 1] for c, x in xs.items()}, {c: y[t - 1] for c, y in ys.items()}), {})

    return model, paths, None, step_inputs


def encoder_host(dump, index, model_dir):
    enc = index["encoder"]
    if float(enc["dropout"]) != 0.0:
        raise BadInput(f"encoder: dropout {enc['dropout']}: the replay cannot draw our dropout masks (train with "
                       "--dropout 0)")
    classes = int(enc["classes"])
    model = transformers.BertForSequenceClassification.from_pretrained(
        model_dir, num_labels=classes, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
        classifier_dropout=0.0, problem_type="regression" if classes == 1 else "single_label_classification")
    model = model.to(DTYPE)
    head = index["head"]
    with torch.no_grad():
        model.classifier.weight.copy_(torch.as_tensor(load_array(dump, head["weight"])))
        model.classifier.bias.copy_(torch.as_tensor(load_array(dump, head["bias"])))
    paths = {}
    for m in index["modules"]:
        layer, _, kind = m["name"].partition(".")
        if kind not in ENCODER_PATHS:
            raise BadInput(f"module {m['name']}: type {kind!r} is not one of {', '.join(ENCODER_PATHS)}")
        paths[m["name"]] = f"bert.encoder.layer.{int(layer)}.{ENCODER_PATHS[kind]}"
    tok = index["tokens"]
    ids = torch.as_tensor(load_array(dump, tok["ids"])).long()
    types_ = torch.as_tensor(load_array(dump, tok["type_ids"])).long()
    mask = torch.as_tensor(load_array(dump, tok["mask"])).long()
    lengths = load_array(dump, tok["lengths"])
    if classes == 1:
        targets = torch.as_tensor(load_array(dump, tok["targets"]), dtype=DTYPE)
    else:
        targets = torch.as_tensor(load_array(dump, tok["labels"])).long()

    def step_inputs(t):
        n = int(lengths[t - 1])
        return ((), {"input_ids": ids[t - 1, :, :n], "token_type_ids": types_[t - 1, :, :n],
                     "attention_mask": mask[t - 1, :, :n], "labels": targets[t - 1]})

    return model, paths, TaskType.SEQ_CLS, step_inputs


# ---------------------------------------------------------------- observing PEFT

class Spy:
    """Records the calls of an object's method (and what they return) while
    calling the original; `restore` puts the original back."""

    def __init__(self, owner, name):
        self.owner, self.name, self.original = owner, name, getattr(owner, name)
        self.calls, self.values = [], []

        def recording(*args, **kwargs):
            result = self.original(*args, **kwargs)
            self.calls.append((args, kwargs, result))
            loss = getattr(result, "loss", None)  # a forward's loss, read now: it is changed in place later
            self.values.append(loss.detach().item() if isinstance(loss, torch.Tensor) else None)
            return result

        setattr(owner, name, recording)

    def restore(self):
        setattr(self.owner, self.name, self.original)


@contextlib.contextmanager
def spies(*targets):
    made = [Spy(owner, name) for owner, name in targets]
    try:
        yield made
    finally:
        for s in reversed(made):
            s.restore()


# ---------------------------------------------------------------- the replay

class Replay:
    def __init__(self, dump, index, model_dir):
        check_replayable(index)
        self.index = index
        host = index.get("host", "mlp")
        if host == "mlp":
            model, self.paths, task_type, self.step_inputs = planted_host(dump, index)
        elif host == "encoder":
            if not model_dir:
                raise BadInput("an encoder dump needs --model (the checkpoint folder the run used)")
            model, self.paths, task_type, self.step_inputs = encoder_host(dump, index, model_dir)
        else:
            raise BadInput(f"host {host!r}: allowed values are mlp, encoder")
        sched, n = index["schedule"], len(index["modules"])
        self.names = [m["name"] for m in sorted(index["modules"], key=lambda m: m["index"])]
        self.r0 = int(index["r0"])
        self.config = AdaLoraConfig(
            task_type=task_type, init_r=self.r0, target_r=sched["bT"] // n, tinit=sched["tinit"],
            tfinal=sched["tfinal"], deltaT=sched["deltaT"], beta1=index["allocation"]["beta1"],
            beta2=index["allocation"]["beta2"], orth_reg_weight=index["regulariser"]["gamma"],
            total_step=sched["total_step"], lora_alpha=index["alpha"], lora_dropout=0.0,
            target_modules=[self.paths[name] for name in self.names])
        self.peft_model = get_peft_model(model, self.config)
        self.tuner = self.peft_model.base_model          # AdaLoraModel
        self.allocator = self.tuner.rankallocator
        self.host = self.tuner.model                     # the wrapped network
        self.copy_initial_adapters(dump, index)
        opt = index["optimizer"]
        self.params = [p for p in self.peft_model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(self.params, lr=opt["lr"], betas=(opt["beta1"], opt["beta2"]),
                                           eps=opt["eps"], weight_decay=opt["weight_decay"])
        self.clip = float(opt["clip"])
        # AdaLoraModel.forward calls self.model.forward(...) (no hooks run):
        # the task loss is read from what that call returns, before the
        # orthogonal term is added to it in place.
        self.host_forward = Spy(self.host, "forward")

    def layer(self, name):
        return self.host.get_submodule(self.paths[name])

    def copy_initial_adapters(self, dump, index):
        adapted = sum(1 for _, m in self.host.named_modules() if hasattr(m, "lora_E"))
        if adapted != len(self.names):
            raise BadInput(f"PEFT adapted {adapted} modules, the dump has {len(self.names)}")
        with torch.no_grad():
            for m in index["modules"]:
                layer, files = self.layer(m["name"]), m["files"]
                layer.lora_B[ADAPTER].copy_(torch.as_tensor(load_array(dump, files["P"])))
                layer.lora_E[ADAPTER].copy_(torch.as_tensor(load_array(dump, files["lam"])).reshape(-1, 1))
                layer.lora_A[ADAPTER].copy_(torch.as_tensor(load_array(dump, files["Q"])))
                scale = layer.scaling[ADAPTER] / (layer.ranknum[ADAPTER].item() + 1e-5)
                if abs(scale - index["scale"]) > 1e-12 * abs(scale):
                    raise BadInput(f"module {m['name']}: PEFT's scale {scale} is not the dump's {index['scale']}")

    def task_loss(self):
        """The task loss the host's forward returned last, as it returned it."""
        return self.host_forward.values[-1]

    def forward(self, t):
        args, kwargs = self.step_inputs(t)
        if self.config.task_type is None:
            return self.tuner(*args, **kwargs)       # AdaLoraModel.forward (see the module docstring)
        return self.peft_model(*args, **kwargs)      # PeftModelForSequenceClassification -> AdaLoraModel

    # ------------------------------------------------------------ the trace
    def keep(self):
        pattern = self.config.rank_pattern
        out = {}
        for name in self.names:
            if pattern is None:
                out[name] = np.ones(self.r0, dtype=np.uint8)
            else:
                out[name] = np.asarray(pattern[f"{self.paths[name]}.lora_E.{ADAPTER}"], dtype=np.uint8)
        return out

    def ema(self, table, name, part, shape):
        key = f"{self.paths[name]}.{part}.{ADAPTER}"
        value = table.get(key)
        return np.zeros(shape) if value is None else value.detach().numpy().reshape(shape).copy()

    def tensors(self, grads=None, lam_pre=None):
        out, keep = {}, self.keep()
        for name in self.names:
            layer = self.layer(name)
            P = layer.lora_B[ADAPTER].detach().numpy().copy()
            lam = layer.lora_E[ADAPTER].detach().numpy().reshape(-1).copy()
            Q = layer.lora_A[ADAPTER].detach().numpy().copy()
            t = {"P": P, "lam": lam, "Q": Q, "keep": keep[name]}
            if grads is not None:
                t.update(grads[name])
                t["lam_pre"] = lam_pre[name]
                for part, kind, shape in (("lora_B", "P", P.shape), ("lora_E", "lam", lam.shape),
                                          ("lora_A", "Q", Q.shape)):
                    t["ibar_" + kind] = self.ema(self.allocator.exp_avg_ipt, name, part, shape)
                    t["ubar_" + kind] = self.ema(self.allocator.exp_avg_unc, name, part, shape)
            out[name] = t
        return out

    def grads(self):
        out = {}
        for name in self.names:
            layer = self.layer(name)
            out[name] = {"grad_P": layer.lora_B[ADAPTER].grad.detach().numpy().copy(),
                         "grad_lam": layer.lora_E[ADAPTER].grad.detach().numpy().reshape(-1).copy(),
                         "grad_Q": layer.lora_A[ADAPTER].grad.detach().numpy().copy()}
        return out

    def run(self, writer):
        T = int(self.index["total_step"])
        writer.step(0, {"kept": int(sum(k.sum() for k in self.keep().values()))}, self.tensors())
        for t in range(1, T + 1):
            i_step = t - 1
            outputs = self.forward(t)
            loss = outputs.loss
            loss.backward()
            grad_norm = None
            if self.clip > 0:
                grad_norm = torch.nn.utils.clip_grad_norm_(self.params, self.clip).item()
            grads = self.grads()
            self.optimizer.step()
            lam_pre = {n: self.layer(n).lora_E[ADAPTER].detach().numpy().reshape(-1).copy() for n in self.names}
            with spies((self.allocator, "mask_to_budget"), (self.allocator, "mask_using_rank_pattern"),
                       (torch, "kthvalue")) as (masked, reapplied, kth):
                self.tuner.update_and_allocate(i_step)
            self.optimizer.zero_grad()
            action = "mask" if masked.calls else "reapply" if reapplied.calls else "none"
            threshold = kth.calls[-1][2].values.item() if kth.calls else None
            keep = self.keep()
            task = self.task_loss()
            self.host_forward.calls.clear()
            scalars = {"schedule_step": i_step, "loss": loss.detach().item(), "task_loss": task,
                       "orth_term": loss.detach().item() - task, "grad_norm": json_number(grad_norm),
                       "budget": self.allocator.budget_schedule(i_step)[0], "threshold": json_number(threshold),
                       "action": action, "kept": int(sum(k.sum() for k in keep.values()))}
            writer.step(t, scalars, self.tensors(grads, lam_pre))
            if not math.isfinite(loss.detach().item()):
                raise RuntimeError(f"loss is {loss.detach().item()} at step {t}")


def replay(dump, out, model_dir):
    index = read_index(dump, "adalora-init")
    if index.get("precision") != "double":
        raise BadInput(f"{dump}: precision {index.get('precision')!r}; replay a double build's dump")
    runner = Replay(dump, index, model_dir)
    producer = ("tests/crosscheck/peft_replay.py (PEFT %s, transformers %s, torch %s, float64)"
                % (peft.__version__, transformers.__version__, torch.__version__))
    header = trace_header(index, producer)
    header["versions"] = versions()
    with TraceWriter(out, header) as writer:
        runner.run(writer)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--init", required=True, help="a --dump-init directory of the driver (--convention peft)")
    parser.add_argument("--trace", required=True, help="output directory (must not exist)")
    parser.add_argument("--model", default="", help="the encoder's checkpoint folder (encoder dumps)")
    args = parser.parse_args(argv)
    torch.set_default_dtype(DTYPE)
    torch.manual_seed(0)  # PEFT draws initial adapters before they are overwritten
    return exit_code("peft_replay.py", args.init, lambda: replay(args.init, args.trace, args.model))

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
