"""The rows of the conventions table of docs/SPEC.md §4 as the dump's index
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
    "final-emas": ("keep", "reset"),
}
NUMERIC = ("scale-eps", "init-std", "clip")

# What the bundled row sets (docs/SPEC.md §4, rows 4-6: paper t = 1..T, t < t_i, nearest
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
        if "schedule-convention" not in rows and not all(k in rows for k in BUNDLED["paper"]):
            raise ValueError("conventions: need schedule-convention or all of step-base, "
                             "warmup-end, budget-rounding")
        schedule = dict(BUNDLED[rows.get("schedule-convention", "paper")])
        for key in schedule:
            if key in rows:
                schedule[key] = rows[key]
        missing = [k for k in ("orth-norm", "orth-reduce", "sensitivity-weights", "ties", "final-phase")
                   if k not in rows]
        if missing:  # no silent default: every row the run used is in its index
            raise ValueError("conventions: missing row(s) " + ", ".join(missing))
        self.orth_norm = rows["orth-norm"]
        self.orth_reduce = rows["orth-reduce"]
        self.sensitivity_weights = rows["sensitivity-weights"]
        self.step_base = int(schedule["step-base"])
        self.warmup_end = schedule["warmup-end"]
        self.budget_rounding = schedule["budget-rounding"]
        self.ties = rows["ties"]
        self.final_phase = rows["final-phase"]
        self.final_emas = rows.get("final-emas", "keep")  # dumps before the row existed kept them
        self.numbers = {k: float(rows[k]) for k in NUMERIC if k in rows}
