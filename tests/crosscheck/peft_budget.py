"""The `peft` preset's budgets against PEFT's own `RankAllocator.budget_schedule`,
bit for bit, over thousands of schedules (issue 14: "a test over thousands of
schedules, including ones built so that the exact value is a whole number").

    build/venv/bin/python tests/crosscheck/peft_budget.py DRIVER [--schedules N] [--seed S]

PEFT's budget is `int((init_bgt - target_bgt) * (mul_coeff ** 3) + target_bgt)`
in Python floats. Where the exact value is a whole number the floats may land
just below it, and another order of operations or power function just above:
half of the schedules here are built that way (b(0) - b(T) a multiple of m^3
and the step at mul_coeff = k/m). Nothing of PEFT is re-implemented: the
budgets come from calling PEFT's method on a RankAllocator whose budgets and
config are set as `_set_budget_scheduler` sets them (init_bgt = n * init_r,
target_bgt = n * target_r). Our side is `adalora schedule --convention peft`.
Prints one line; exit 1 on any difference, 2 on bad input."""
import argparse
import random
import subprocess
import sys
from fractions import Fraction

import peft
from peft import AdaLoraConfig
from peft.tuners.adalora.layer import RankAllocator


def peft_budgets(n, init_r, target_r, tinit, tfinal, total):
    """PEFT's budgets at global_step 0..total-1."""
    allocator = RankAllocator.__new__(RankAllocator)  # no model: only the budgets are asked
    allocator.peft_config = AdaLoraConfig(init_r=init_r, target_r=target_r, tinit=tinit, tfinal=tfinal,
                                          total_step=total, deltaT=1)
    allocator.init_bgt = n * init_r
    allocator.target_bgt = n * target_r
    return [allocator.budget_schedule(step)[0] for step in range(total)]


def our_budgets(driver, b0, bT, tinit, tfinal, total):
    out = subprocess.run([driver, "schedule", "--convention", "peft", "--init-bgt", str(b0),
                          "--target-bgt", str(bT), "--tinit", str(tinit), "--tfinal", str(tfinal),
                          "--total-step", str(total)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in out.splitlines() if line and not line.startswith("#")]
    return {int(t): int(b) for t, b in rows}


def random_schedule(rng):
    n, init_r = rng.randint(1, 200), rng.randint(1, 32)
    target_r = rng.randint(0, init_r)
    total = rng.randint(3, 1500)
    tinit = rng.randint(0, total // 2)
    tfinal = rng.randint(0, total - tinit - 1)
    return n, init_r, target_r, tinit, tfinal, total


def whole_schedule(rng):
    """b(0) - b(T) = n (init_r - target_r) a multiple of m^3, and the decay
    long enough that mul_coeff = k/m falls on a step: the exact value there is
    a whole number."""
    while True:
        m = rng.randint(2, 15)
        n = m ** 3 * rng.randint(1, 4)
        target_r = rng.randint(0, 8)
        init_r = target_r + rng.randint(1, 8)
        span = m * rng.randint(1, 60)          # T - tfinal - tinit, a multiple of m
        tinit, tfinal = rng.randint(0, 300), rng.randint(0, 300)
        return n, init_r, target_r, tinit, tfinal, tinit + tfinal + span


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("driver")
    parser.add_argument("--schedules", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args(argv)
    if args.schedules < 2:
        print("peft_budget.py: --schedules must be >= 2", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    steps = whole_steps = differ = 0
    first = None
    for i in range(args.schedules):
        n, init_r, target_r, tinit, tfinal, total = (whole_schedule if i % 2 else random_schedule)(rng)
        theirs = peft_budgets(n, init_r, target_r, tinit, tfinal, total)
        try:
            ours = our_budgets(args.driver, n * init_r, n * target_r, tinit, tfinal, total)
        except (OSError, subprocess.CalledProcessError) as e:
            print(f"peft_budget.py: {args.driver} schedule failed: {e}", file=sys.stderr)
            return 2
        for step in range(total):
            steps += 1
            if tinit < step < total - tfinal:
                mul = 1 - Fraction(step - tinit, total - tfinal - tinit)
                whole_steps += ((n * (init_r - target_r)) * mul ** 3).denominator == 1
            if ours.get(step) != theirs[step]:
                differ += 1
                first = first or (f"n={n} init_r={init_r} target_r={target_r} tinit={tinit} tfinal={tfinal} "
                                  f"total={total} step={step}: ours {ours.get(step)}, PEFT {theirs[step]}")
    print(f"peft_budget: {args.schedules} schedules, {steps} steps ({whole_steps} decay steps whose exact "
          f"budget is a whole number), {differ} differ from PEFT {peft.__version__}'s budget_schedule"
          + (f"; first: {first}" if first else ""))
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
