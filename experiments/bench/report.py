#!/usr/bin/python3
"""report.py: BENCHMARKS.md from the benchmark binary's JSON (Google
Benchmark, --benchmark_out) and torch_compare.py's JSON.

Usage: report.py BENCH_JSON TORCH_JSON --out BENCHMARKS.md
Standard library only. Every figure comes from the two files; a target whose
benchmark is missing from them is reported as "not measured".
"""
import argparse
import json
import os
import re
import sys
from datetime import datetime, timezone

PHASES = ["forward", "backward", "optimizer", "importance", "allocation", "svd"]


def parse_name(name):
    """'step/adalora/d:1024/r0:12/batch:256' -> ('step', ['adalora'], {'d': 1024, ...})"""
    parts = name.split("/")
    plain, keyed = [], {}
    for p in parts[1:]:
        if ":" in p and re.fullmatch(r"[A-Za-z0-9_]+:\d+", p):
            k, v = p.split(":")
            keyed[k] = int(v)
        else:
            plain.append(p)
    return parts[0], plain, keyed


class Bench:
    def __init__(self, path):
        with open(path) as f:
            data = json.load(f)
        self.context = data.get("context", {})
        # Names as registered (Google Benchmark appends "/real_time"). With
        # repetitions, the median of each benchmark's runs (and its counters)
        # stands for it; otherwise its one run.
        self.rows, self.largest = {}, {}
        for b in data["benchmarks"]:
            name = re.sub(r"/real_time$", "", b.get("run_name", b["name"]))
            if b.get("run_type", "iteration") == "iteration":
                self.rows.setdefault(name, b)
            elif b.get("aggregate_name") == "median":
                self.rows[name] = b
            elif b.get("aggregate_name") == "max":
                self.largest[name] = b
        self.repetitions = max((b.get("repetitions", 1) for b in data["benchmarks"]), default=1)

    def get(self, name):
        return self.rows.get(name)

    def largest_counter(self, name, counter):
        """The counter's largest value over the repetitions (the one run without)."""
        return self.largest.get(name, self.rows.get(name, {})).get(counter, 0)

    def ms(self, name):
        """Wall time of one iteration in ms."""
        b = self.rows.get(name)
        if b is None:
            return None
        scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b["time_unit"]]
        return b["real_time"] * scale

    def step_ms(self, name):
        b = self.rows.get(name)
        return None if b is None else b["step_time"] * 1e3

    def select(self, kind):
        for name, b in self.rows.items():
            k, plain, keyed = parse_name(name)
            if k == kind:
                yield name, plain, keyed, b


def fmt(v, digits=3):
    if v is None:
        return "n/a"
    if abs(v) >= 1000 or (abs(v) < 0.01 and v != 0):
        return f"{v:.{digits}g}"
    return f"{v:.{digits}g}" if abs(v) < 1 else f"{v:.{max(digits - len(str(int(abs(v)))), 0)}f}"


def gflops(b):
    return None if b is None or "FLOP/s" not in b else b["FLOP/s"] / 1e9


def verdict(ok):
    return "not measured" if ok is None else ("MET" if ok else "MISSED")


def step_name(method, d, r0=12, batch=256):
    return f"step/{method}/d:{d}/r0:{r0}/batch:{batch}"


def targets(bench, torch_cases):
    rows = []  # (target, measured, bar, verdict)
    # (a) the adalora step against sgemm on the same shapes
    n = step_name("adalora", 1024)
    ours, ref = gflops(bench.get(n)), gflops(bench.get("sgemm:" + n))
    frac = ours / ref if ours and ref else None
    rows.append(("(a) adalora step, 4-layer MLP d=1024 r0=12 batch 256: GEMM FLOP/s vs sgemm on the same shapes",
                 "n/a" if frac is None else f"{fmt(ours)} vs {fmt(ref)} GFLOP/s = {frac:.0%}",
                 ">= 70%", verdict(None if frac is None else frac >= 0.70)))
    # (b) adalora vs lora at equal r0
    for d in (1024, 256, 64):
        a, l = bench.step_ms(step_name("adalora", d)), bench.step_ms(step_name("lora", d))
        ratio = a / l if a and l else None
        bar = "<= 1.05" if d == 1024 else "(reported)"
        ok = None if ratio is None else ratio <= 1.05
        rows.append((f"(b) adalora / lora step time at r0=12, batch 256, d={d}",
                     "n/a" if ratio is None else f"{fmt(a)} / {fmt(l)} ms = {ratio:.3f}", bar,
                     verdict(ok) if d == 1024 else "-"))
    # (c) allocation O(N)
    t6, t5 = bench.ms("allocation/N:1000000"), bench.ms("allocation/N:100000")
    rows.append(("(c) allocation (Eq. 8) of 1e6 triplets", "n/a" if t6 is None else f"{fmt(t6)} ms", "< 10 ms",
                 verdict(None if t6 is None else t6 < 10)))
    ratio = t6 / t5 if t6 and t5 else None
    rows.append(("(c) allocation time 1e6 / 1e5", "n/a" if ratio is None else f"{ratio:.2f}", "< 12",
                 verdict(None if ratio is None else ratio < 12)))
    # (d) PyTorch
    bars = {"planted-linear d=64": 5.0, "planted-mlp d=1024": 1.2}
    if not torch_cases:
        rows.append(("(d) against PyTorch", "n/a (see the PyTorch section)", ">= 5x at d=64, >= 1.2x at d=1024",
                     verdict(None)))
    for c in torch_cases:
        bar = bars.get(c["case"])
        rows.append((f"(d) speed-up over PyTorch, {c['case']} (ms/step PyTorch / ours)",
                     f"{fmt(c['torch_ms_per_step'])} / {fmt(c['ours_ms_per_step'])} ms = {c['speedup']:.2f}x",
                     f">= {bar}x", verdict(c["speedup"] >= bar)))
        rows.append((f"(d) peak RSS, {c['case']} (ours vs PyTorch)",
                     f"{c['ours_peak_rss_kib'] / 1024:.1f} vs {c['torch_peak_rss_kib'] / 1024:.1f} MiB",
                     "ours <= PyTorch", verdict(c["ours_peak_rss_kib"] <= c["torch_peak_rss_kib"])))
    # (e) allocations in the timed steps of every step benchmark
    steps = list(bench.select("step"))
    allocs = sum(bench.largest_counter(n, "allocations") for n, _, _, _ in steps)
    blas = sum(bench.largest_counter(n, "blas_allocations") for n, _, _, _ in steps)
    rows.append(("(e) heap allocations in the timed training steps (all step benchmarks, after the first step)",
                 f"{int(allocs)} in {len(steps)} benchmarks (and {int(blas)} made inside OpenBLAS itself)"
                 if steps else "n/a", "0", verdict(None if not steps else allocs == 0)))
    return rows


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bench_json")
    ap.add_argument("torch_json")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    bench = Bench(a.bench_json)
    with open(a.torch_json) as f:
        torch = json.load(f)
    torch_cases = torch["cases"]
    c = bench.context
    md = ["# Benchmarks", "",
          "Written by `make bench` (experiments/bench/report.py) from `build/bench*/bench.json` (Google Benchmark) "
          "and `torch.json` (experiments/bench/torch_compare.py); see README.md, \"Benchmarks\".", "",
          table(["", ""], [
              ("date", c.get("date", "?")),
              ("host", c.get("host_name", "?")),
              ("CPU", f"{c.get('cpu', '?')}, {c.get('num_cpus', '?')} logical cores, {c.get('mhz_per_cpu', '?')} MHz"),
              ("load average at start", ", ".join(f"{x:.2f}" for x in c.get("load_avg", []))),
              ("BLAS", c.get("blas", "?")),
              ("BLAS version", c.get("blas_version", "?")),
              ("BLAS kernel", f"{c.get('blas_kernel', '?')} ({c.get('blas_kernel_choice', '?')})"),
              ("BLAS threads", c.get("blas_threads", "?")),
              ("commit", c.get("commit", "?")),
              ("grid", c.get("grid", "?") + (" (`make bench`)" if c.get("grid") == "quick" else " (`make bench FULL=1`)")),
              ("repetitions", f"{bench.repetitions}" + (" (each figure is the median)" if bench.repetitions > 1 else "")),
              ("library build", c.get("library_build_type", "?") + " Google Benchmark; the project at -O2, float"),
          ]), ""]

    md += ["## Targets", "", table(["target", "measured", "bar", "verdict"], targets(bench, torch_cases)), ""]

    md += ["## Where a step's time goes", "",
           "Mean ms per training step of each phase (the trainer's own clock, `ada_step_info.ms`; svd: svd-proj's "
           "projection), 4-layer MLP, r0 = 12, batch 256, a mask step every 10 steps. `svd-proj` uses the `qr` "
           "SVD (the driver's default), `svd-proj-full` the `full` one.", ""]
    split = []
    for name, plain, keyed, b in sorted(bench.select("step"), key=lambda x: (x[1][0], x[2].get("d", 0))):
        if keyed.get("r0") != 12 or keyed.get("batch") != 256:
            continue
        split.append([plain[0], keyed["d"], fmt(b["step_time"] * 1e3)] + [fmt(b.get("ms_" + p, 0)) for p in PHASES])
    md += [table(["method", "d", "ms/step"] + PHASES, split), ""]

    md += ["## Training step throughput", "",
           "GEMM FLOPs of one step counted from the cblas_sgemm calls the step really makes (2·M·N·K each); "
           "sgemm = the same calls replayed alone on buffers of the same sizes, in the same run.", ""]
    rows = []
    for name, plain, keyed, b in sorted(bench.select("step"), key=lambda x: (x[1][0], x[2]["d"], x[2]["r0"], x[2]["batch"])):
        ref = gflops(bench.get("sgemm:" + name))
        g = gflops(b)
        rows.append([plain[0], keyed["d"], keyed["r0"], keyed["batch"], fmt(b["step_time"] * 1e3), fmt(g), fmt(ref),
                     "n/a" if not ref else f"{g / ref:.0%}", int(bench.largest_counter(name, "allocations"))])
    md += [table(["method", "d", "r0", "batch", "ms/step", "GFLOP/s", "sgemm GFLOP/s", "of sgemm", "allocations"], rows), ""]

    md += ["## The encoder's training step (MiniLM's sizes)", "",
           "One full `ada_trainer_step` of the BERT encoder host (experiments/bench/encoder_step.h): 6 layers, hidden "
           "384, 12 heads, FFN 1536, every matrix adapted at r0 = 8, B sequences of T tokens, random weights; "
           "the trainer's phase clock per step.", ""]
    rows = []
    for name, plain, keyed, b in sorted(bench.select("encoder_step"), key=lambda x: (x[1][0], x[2]["B"])):
        rows.append([plain[0], keyed["B"], keyed["T"], fmt(bench.ms(name)), fmt(b.get("tokens_per_s", 0))] +
                    [fmt(b.get("ms_" + p, 0)) for p in PHASES[:5]])
    md += [table(["method", "B", "T", "ms/step", "tokens/s"] + PHASES[:5], rows), ""]

    md += ["## Kernels", ""]
    rows = []
    for kind in ("layer_forward", "layer_backward", "orth"):
        for name, plain, keyed, b in sorted(bench.select(kind), key=lambda x: (x[1], x[2]["d"], x[2]["r0"], x[2].get("batch", 0))):
            ref = gflops(bench.get("sgemm:" + name))
            g = gflops(b)
            rows.append([kind + ("/" + plain[0] if plain else ""), keyed["d"], keyed["r0"], keyed.get("batch", "-"),
                         fmt(bench.ms(name)), fmt(g), fmt(ref), "n/a" if not ref else f"{g / ref:.0%}"])
    md += ["Adapted d x d layer (Eq. 3 and LoRA) and the regulariser (Eq. 4) of one layer:", "",
           table(["kernel", "d", "r0", "batch", "ms", "GFLOP/s", "sgemm GFLOP/s", "of sgemm"], rows), ""]
    rows = []
    for kind in ("importance", "scores"):
        for name, plain, keyed, b in sorted(bench.select(kind), key=lambda x: (x[2]["d"], x[2]["r0"])):
            rows.append([kind, keyed["d"], keyed["r0"], fmt(bench.ms(name) * 1e3), fmt(b.get("items_per_second", 0) / 1e6),
                         fmt(b.get("bytes_per_second", 0) / 2 ** 30)])
    md += ["Importance (Eqs. 10–12, over the 4-layer arena; items = entries) and triplet scores (Eq. 9, 4 layers; "
           "items = triplets). No GEMM: memory-bound loops, so bandwidth rather than FLOP/s:", "",
           table(["kernel", "d", "r0", "µs", "M items/s", "GiB/s"], rows), ""]
    rows = []
    prev = None
    for name, plain, keyed, b in sorted(bench.select("allocation"), key=lambda x: x[2]["N"]):
        t = bench.ms(name)
        rows.append([keyed["N"], fmt(t), fmt(t * 1e6 / keyed["N"]), "-" if prev is None else f"{t / prev[1]:.2f} (x{keyed['N'] / prev[0]:g} N)"])
        prev = (keyed["N"], t)
    md += ["Allocation (Eq. 8, exact top-b selection, b = N/2):", "",
           table(["N triplets", "ms", "ns per triplet", "time ratio to the previous N"], rows), ""]
    rows = []
    by = {}
    for name, plain, keyed, b in bench.select("svd"):
        by.setdefault((keyed["d"], keyed["r0"]), {})[plain[0]] = bench.ms(name)
    for (d, r), t in sorted(by.items()):
        full, qr = t.get("full"), t.get("qr")
        rows.append([d, r, fmt(full), fmt(qr), "n/a" if not (full and qr) else f"{full / qr:.1f}"])
    md += ["Exact SVD of one d x d product B A of rank r0 (reference_svd/): `full` (gesdd on the product) vs `qr`:",
           "", table(["d", "r0", "full ms", "qr ms", "full / qr"], rows), ""]

    md += ["## Against PyTorch", "",
           "The same model and AdaLoRA step in PyTorch (experiments/bench/torch_compare.py), each side in its own "
           "process, float32, same thread count and OPENBLAS_CORETYPE.", ""]
    rows = [[t["case"], t["steps"], fmt(t["ours_ms_per_step"]), fmt(t["torch_ms_per_step"]), f"{t['speedup']:.2f}x",
             f"{t['ours_peak_rss_kib'] / 1024:.1f}", f"{t['torch_peak_rss_kib'] / 1024:.1f}", t["threads"],
             t["torch_version"], t["openblas_coretype"]] for t in torch_cases]
    md += [table(["case", "steps", "ours ms/step", "PyTorch ms/step", "speed-up", "ours peak MiB", "PyTorch peak MiB",
                  "threads", "torch", "OPENBLAS_CORETYPE"], rows) if rows else "Skipped: " + torch.get("skipped", "?"), ""]

    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(md))
    os.replace(tmp, a.out)
    # the per-phase split and the targets on the terminal too
    print("\n".join(md[md.index("## Targets"):md.index("## Training step throughput")]))


if __name__ == "__main__":
    main()
