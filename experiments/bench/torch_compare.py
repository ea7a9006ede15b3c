#!/usr/bin/python3
"""torch_compare.py: the same AdaLoRA training step in this project and in
PyTorch (Debian's python3-torch), timed side by side.

Each side runs in its own process, so each peak RSS (getrusage ru_maxrss) is
its own: ours is the driver's summary.json (`peak_rss_kib`, `ms_per_step`),
PyTorch's is measured by this script re-running itself with --torch-child.
Both sides use float32, the same thread count (the driver's OpenBLAS threads,
torch.set_num_threads) and the same OPENBLAS_CORETYPE in their environment.
PyTorch runs twice (OpenMP's default waiting and OMP_WAIT_POLICY=passive) and
its faster run counts.

The PyTorch step is the paper's (the driver's defaults): forward through
W0 + s P diag(lam) Q per module, task loss + gamma * sum_k R(P_k, Q_k)
(squared Frobenius, summed), backward, the importance EMAs from the pre-step
weights (Eqs. 10-12), AdamW, then every deltaT steps the triplet scores
(Eq. 9), the cubic budget (Eq. 14) and the global top-b mask written into lam.

Usage: torch_compare.py --driver build/float/adalora --out torch.json [--full]
Only the Python standard library and torch are used.
"""
import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

# The two cases: the planted-linear default (d = 64: 4 layers x q, k, v, o,
# f1, f2, each its own chain) and the 4-layer GELU MLP at d = 1024.
CASES = {
    "planted-linear d=64": dict(task="planted-linear", width=64, layers=4, init_r=8, target_r=2, batch=32,
                                total_step=500, tinit=50, tfinal=150, deltaT=10, train_rows=1024),
    "planted-mlp d=1024": dict(task="planted-mlp", width=1024, layers=4, init_r=12, target_r=6, batch=256,
                               total_step=30, tinit=5, tfinal=10, deltaT=10, train_rows=1024),
}
FULL_STEPS = {"planted-linear d=64": 2000, "planted-mlp d=1024": 200}
LR, BETA1, BETA2, GAMMA, ALPHA = 5e-3, 0.85, 0.85, 0.1, 8.0


def module_shapes(case):
    """(d_in, d_out, bias, gelu, chain) per module, as driver/tasks/tasks.cpp builds them."""
    d = case["width"]
    mods = []
    if case["task"] == "planted-linear":
        for _ in range(case["layers"]):
            for j in range(6):
                d_out = 4 * d if j == 4 else d
                d_in = 4 * d if j == 5 else d
                mods.append((d_in, d_out, False, False, len(mods)))
    else:
        for l in range(case["layers"]):
            mods.append((d, d, True, l + 1 < case["layers"], 0))
    return mods


def budget_at(t, b0, bT, ti, tf, T):
    """Eq. 14 (corrected, paper convention t = 1..T, rounded to nearest)."""
    if t < ti:
        return b0
    if t >= T - tf:
        return bT
    frac = 1.0 - (t - ti) / (T - ti - tf)
    return int(round(bT + (b0 - bT) * frac ** 3))


def torch_child(case, threads):
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    f = torch.float32
    mods = module_shapes(case)
    r0, batch, T = case["init_r"], case["batch"], case["total_step"]
    scale = ALPHA / r0
    rows = case["train_rows"]
    chains = sorted(set(m[4] for m in mods))
    first = {c: next(m for m in mods if m[4] == c) for c in chains}
    last = {c: [m for m in mods if m[4] == c][-1] for c in chains}
    xs = {c: torch.randn(rows, first[c][0], dtype=f) for c in chains}
    ys = {c: torch.randn(rows, last[c][1], dtype=f) for c in chains}
    W0, bias, P, lam, Q = [], [], [], [], []
    for d_in, d_out, has_bias, _, _ in mods:
        W0.append(torch.randn(d_out, d_in, dtype=f) / d_in ** 0.5)
        bias.append(torch.randn(d_out, dtype=f) * 0.1 if has_bias else None)
        P.append((torch.randn(d_out, r0, dtype=f) * 0.02).requires_grad_())
        lam.append(torch.zeros(r0, dtype=f, requires_grad=True))
        Q.append((torch.randn(r0, d_in, dtype=f) * 0.02).requires_grad_())
    params = [p for k in range(len(mods)) for p in (P[k], lam[k], Q[k])]
    ibar = [torch.zeros_like(p) for p in params]
    ubar = [torch.zeros_like(p) for p in params]
    opt = torch.optim.AdamW(params, lr=LR, weight_decay=0.0)
    eye = torch.eye(r0, dtype=f)
    n_trip = len(mods) * r0
    bT = len(mods) * case["target_r"]
    sse = case["task"] == "planted-linear"

    def step(t):
        idx = torch.randint(0, rows, (batch,))
        loss = 0.0
        out = {}
        for k, (d_in, d_out, has_bias, gelu, c) in enumerate(mods):
            x = out[c] if c in out else xs[c][idx]
            y = torch.addmm(bias[k], x, W0[k].t()) if has_bias else x @ W0[k].t()
            y = y + scale * ((x @ Q[k].t()) * lam[k]) @ P[k].t()
            out[c] = torch.nn.functional.gelu(y) if gelu else y
        for c in chains:
            diff = out[c] - ys[c][idx]
            loss = loss + ((diff * diff).sum() / batch if sse else (diff * diff).mean())
        orth = sum(((P[k].t() @ P[k] - eye) ** 2).sum() + ((Q[k] @ Q[k].t() - eye) ** 2).sum()
                   for k in range(len(mods)))
        loss = loss + GAMMA * orth
        opt.zero_grad(set_to_none=False)
        loss.backward()
        with torch.no_grad():
            for p, ib, ub in zip(params, ibar, ubar):  # Eqs. 10-12, pre-step weights
                sens = (p * p.grad).abs()
                ib.mul_(BETA1).add_(sens, alpha=1 - BETA1)
                ub.mul_(BETA2).add_((sens - ib).abs(), alpha=1 - BETA2)
        opt.step()
        if t % case["deltaT"] == 0 and t < T - case["tfinal"]:
            b = budget_at(t, n_trip, bT, case["tinit"], case["tfinal"], T)
            with torch.no_grad():
                scores = []
                for k in range(len(mods)):  # Eq. 9
                    sP, sl, sQ = (ibar[3 * k + j] * ubar[3 * k + j] for j in range(3))
                    scores.append(sl + sP.mean(0) + sQ.mean(1))
                S = torch.cat(scores)
                keep = torch.zeros(n_trip, dtype=torch.bool)
                keep[torch.topk(S, b).indices] = True
                for k in range(len(mods)):  # Eq. 8: zeros into lam
                    lam[k].masked_fill_(~keep[k * r0:(k + 1) * r0], 0.0)
        return float(loss)

    t0 = time.perf_counter()
    for t in range(1, T + 1):
        step(t)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"ms_per_step": seconds * 1e3 / T, "peak_rss_kib": peak, "torch": torch.__version__,
                      "threads": torch.get_num_threads()}))


def ours(driver, case, env):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "run")
        args = [driver, "train", "--task", case["task"], "--method", "adalora", "--log", "quiet",
                "--out", out, "--width", str(case["width"]), "--layers", str(case["layers"]),
                "--init_r", str(case["init_r"]), "--target_r", str(case["target_r"]),
                "--batch", str(case["batch"]), "--total_step", str(case["total_step"]),
                "--tinit", str(case["tinit"]), "--tfinal", str(case["tfinal"]),
                "--deltaT", str(case["deltaT"]), "--train-rows", str(case["train_rows"]),
                "--test-rows", "256", "--lr", str(LR)]  # the driver's kernel choice (auto)
        subprocess.run(args, check=True, env=env, stdout=subprocess.DEVNULL)
        with open(os.path.join(out, "summary.json")) as f:
            return json.load(f)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--driver", default="build/float/adalora")
    ap.add_argument("--out", help="the JSON file to write (required)")
    ap.add_argument("--full", action="store_true", help="more steps per case")
    ap.add_argument("--torch-child", help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=0, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.torch_child:
        torch_child(json.loads(a.torch_child), a.threads)
        return
    if not a.out:
        ap.error("--out is required")
    results = []
    if importlib.util.find_spec("torch") is None:
        print("torch_compare: PyTorch is not installed for " + sys.executable +
              " (Debian: apt-get install python3-torch); the comparison is skipped", file=sys.stderr)
        write_json(a.out, {"cases": [], "skipped": "PyTorch not installed"})
        return
    for name, case in CASES.items():
        case = dict(case)
        if a.full:
            scale = FULL_STEPS[name] / case["total_step"]
            for key in ("total_step", "tinit", "tfinal"):
                case[key] = int(case[key] * scale)
        env = dict(os.environ)
        s = ours(a.driver, case, env)
        machine = s["machine"]
        # the kernel our run used (also when the driver chose it), for PyTorch's OpenBLAS too
        env.setdefault("OPENBLAS_CORETYPE", machine["blas_kernel"])
        print(f"{name}: ours {s['ms_per_step']:.3f} ms/step, peak RSS {s['peak_rss_kib']} KiB "
              f"({machine['blas_kernel']}, {machine['blas_threads']} threads)", file=sys.stderr)
        # PyTorch twice, with OpenMP's default (spinning) and passive waiting,
        # and the faster counts: on a busy machine spinning threads can make
        # PyTorch several times slower, and the comparison should not gain by it.
        tries = []
        for policy in (None, "passive"):
            child_env = dict(env)
            if policy:
                child_env["OMP_WAIT_POLICY"] = policy
            child = subprocess.run([sys.executable, __file__, "--torch-child", json.dumps(case),
                                    "--threads", str(machine["blas_threads"])], check=True, env=child_env,
                                   stdout=subprocess.PIPE, text=True)
            t = json.loads(child.stdout.strip().splitlines()[-1])
            t["omp_wait_policy"] = policy or "default"
            tries.append(t)
        t = min(tries, key=lambda x: x["ms_per_step"])
        print(f"{name}: torch {t['ms_per_step']:.3f} ms/step, peak RSS {t['peak_rss_kib']} KiB", file=sys.stderr)
        results.append({"case": name, "config": case, "steps": case["total_step"],
                        "ours_ms_per_step": s["ms_per_step"], "ours_peak_rss_kib": s["peak_rss_kib"],
                        "torch_ms_per_step": t["ms_per_step"], "torch_peak_rss_kib": t["peak_rss_kib"],
                        "speedup": t["ms_per_step"] / s["ms_per_step"], "threads": machine["blas_threads"],
                        "torch_threads": t["threads"], "torch_version": t["torch"],
                        "torch_omp_wait_policy": t["omp_wait_policy"],
                        "torch_ms_per_step_tries": {x["omp_wait_policy"]: x["ms_per_step"] for x in tries},
                        "openblas_coretype": env["OPENBLAS_CORETYPE"], "blas_kernel": machine["blas_kernel"]})
    write_json(a.out, {"cases": results})


def write_json(path, value):
    """Written whole or not at all."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(value, f, indent=2)
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
