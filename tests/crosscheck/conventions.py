"""The rows of the spec's conventions table (section 4) as the dump's index
gives them (`"conventions": {option: value}`), read into one object.

Rows 4-6 come either bundled (`schedule-convention`: paper | peft) or split
(`step-base`: 1 | 0, `warmup-end`: before-tinit | through-tinit,
`budget-rounding`: nearest | floor); both spellings are accepted, the split
keys win when both are present."""

ALLOWED = {
    "orth-norm": ("squared", "plain"),
    "orth-reduce": ("sum", "mean"),
    "sensitivity-weights": ("pre-step", "post-step"),
    "schedule-convention": ("paper", "peft"),
    "step-base": ("1", "0"),
    "warmup-end": ("before-tinit", "through-tinit"),
    "budget-rounding": ("nearest", "floor"),
    "ties": ("exact", "kthvalue"),
    "final-phase": ("freeze-pattern", "recompute"),
}
NUMERIC = ("scale-eps", "init-std", "clip")

# What the bundled row sets (spec rows 4-6: paper t = 1..T, t < t_i, nearest
# by the README; PEFT global_step from 0, step <= tinit, int()).
BUNDLED = {
    "paper": {"step-base": "1", "warmup-end": "before-tinit", "budget-rounding": "nearest"},
    "peft": {"step-base": "0", "warmup-end": "through-tinit", "budget-rounding": "floor"},
}


class Conventions:
    def __init__(self, rows):
        rows = {k: str(v) for k, v in rows.items()}
        for key, value in rows.items():
            if key in ALLOWED and value not in ALLOWED[key]:
                raise ValueError(f"conventions: {key} = '{value}': allowed values are "
                                 + ", ".join(ALLOWED[key]))
        schedule = dict(BUNDLED[rows.get("schedule-convention", "paper")])
        for key in schedule:
            if key in rows:
                schedule[key] = rows[key]
        if "schedule-convention" not in rows and not all(k in rows for k in schedule):
            raise ValueError("conventions: need schedule-convention or all of step-base, "
                             "warmup-end, budget-rounding")
        self.orth_norm = rows.get("orth-norm", "squared")
        self.orth_reduce = rows.get("orth-reduce", "sum")
        self.sensitivity_weights = rows.get("sensitivity-weights", "pre-step")
        self.step_base = int(schedule["step-base"])
        self.warmup_end = schedule["warmup-end"]
        self.budget_rounding = schedule["budget-rounding"]
        self.ties = rows.get("ties", "exact")
        self.final_phase = rows.get("final-phase", "freeze-pattern")
        self.numbers = {k: float(rows[k]) for k in NUMERIC if k in rows}
