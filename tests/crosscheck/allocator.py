"""The rank allocator, written from docs/SPEC.md (Eqs. 8-14 and the conventions
table, section 4) and shaped like PEFT's `RankAllocator`
(`peft/tuners/adalora/layer.py`): `update_ipt`, `calculate_score`,
`mask_to_budget`, `budget_schedule`, `mask_using_rank_pattern`,
`update_and_allocate(model, global_step)`.

State per trainable tensor (PEFT's names): exp_avg_ipt = I-bar (Eq. 11) and
exp_avg_unc = U-bar (Eq. 12), both starting at 0 with no bias correction.
The keep pattern covers all n * r0 triplets; the global index of triplet i of
module k is k * r0 + i (the order of Eq. 8's global ranking)."""
import math

import torch


class RankAllocator:
    def __init__(self, model, schedule, allocation, conv):
        self.model = model
        self.init_bgt = int(schedule["b0"])
        self.target_bgt = int(schedule["bT"])
        self.tinit = int(schedule["tinit"])
        self.tfinal = int(schedule["tfinal"])
        self.total_step = int(schedule["total_step"])
        self.deltaT = int(schedule["deltaT"])
        self.prune = bool(allocation["prune"])
        self.hard_delete = bool(allocation.get("hard_delete", False))
        self.importance = allocation["importance"]
        if self.importance not in ("sens-unc", "sens", "magnitude"):
            raise ValueError(f"importance '{self.importance}': allowed values are "
                             "sens-unc, sens, magnitude")
        self.beta1 = float(allocation["beta1"])
        self.beta2 = float(allocation["beta2"])
        self.conv = conv
        self.r0 = int(model.adapted[0].ranknum)
        self.n_triplets = len(model.adapted) * self.r0
        self.keep = torch.ones(self.n_triplets, dtype=torch.bool)
        self.reset_ipt()

    # ------------------------------------------------------------ Eqs. 10-13
    def named_lora_parameters(self):
        for k, module in enumerate(self.model.adapted):
            for name in ("lora_B", "lora_E", "lora_A"):
                p = getattr(module, name)
                if p is not None:
                    yield (k, name), p

    def reset_ipt(self):
        self.exp_avg_ipt, self.exp_avg_unc = {}, {}
        for key, p in self.named_lora_parameters():
            self.exp_avg_ipt[key] = torch.zeros_like(p.detach())
            self.exp_avg_unc[key] = torch.zeros_like(p.detach())

    def tracks_importance(self, phase):
        """Eqs. 10-12 run only when a score needs them, and not in the final
        phase: docs/SPEC.md §4, row 9 (PEFT and the original update the EMAs only while
        global_step < total_step - tfinal; README: "the EMAs are not updated
        in the final t_f steps")."""
        return self.prune and self.importance != "magnitude" and phase != "final"

    @torch.no_grad()
    def update_ipt(self, model):
        """Eq. 10: I = |w * dL/dw|; Eq. 11: I-bar(t) = b1 I-bar(t-1) + (1 - b1) I(t);
        Eq. 12: U-bar(t) = b2 U-bar(t-1) + (1 - b2) |I(t) - I-bar(t)|, with the
        already updated I-bar(t). The weights are whatever the parameters hold
        when this is called (before or after the optimizer step: row 3); the
        gradient is the one of this step (after clipping, when clipping is on)."""
        for key, p in self.named_lora_parameters():
            ipt = (p * p.grad).abs()
            self.exp_avg_ipt[key] = self.beta1 * self.exp_avg_ipt[key] + (1 - self.beta1) * ipt
            self.exp_avg_unc[key] = (self.beta2 * self.exp_avg_unc[key]
                                     + (1 - self.beta2) * (ipt - self.exp_avg_ipt[key]).abs())

    def _element_score(self, key):
        """Eq. 13: s = I-bar * U-bar; the Table 4 ablation "sens" uses I-bar alone."""
        if self.importance == "sens":
            return self.exp_avg_ipt[key]
        return self.exp_avg_ipt[key] * self.exp_avg_unc[key]

    # ------------------------------------------------------------ Eq. 9
    @torch.no_grad()
    def calculate_score(self, model):
        """Eq. 9 for every triplet, in the global order (n * r0 scores):
        S_i = s(lambda_i) + (1/d1) sum_j s(P_ji) + (1/d2) sum_j s(Q_ij),
        i.e. the mean over column i of P (lora_B) plus the mean over row i of
        Q (lora_A). LoRA form (prune-lora, docs/SPEC.md §3): the B column and A
        row means alone. Table 4's "S_i = |lambda_i|" ablation: magnitude."""
        scores = []
        for k, module in enumerate(model.adapted):
            if self.importance == "magnitude":
                scores.append(module.lora_E.detach().abs().view(-1))
                continue
            score = (self._element_score((k, "lora_B")).mean(dim=0)
                     + self._element_score((k, "lora_A")).mean(dim=1))
            if module.lora_E is not None:
                score = score + self._element_score((k, "lora_E")).view(-1)
            scores.append(score)
        return torch.cat(scores)

    # ------------------------------------------------------------ Eq. 14
    def budget_schedule(self, step):
        """Eq. 14 (with the (t - t_i) correction of docs/SPEC.md §2 ("The schedule's typo")):
        b(0) in the warm-up, the cubic decay, b(T) from T - t_f on. Row 5: the
        warm-up is t < t_i (paper) or step <= tinit (PEFT's budget_schedule).
        Row 6: the cubic value is rounded to nearest (README: "the paper's
        budget is rounded to the nearest integer"; an exact half rounds up) or
        truncated (PEFT's int()). The final phase starts at T - t_f in both
        numberings (docs/SPEC.md §2, Eq. 14's "otherwise"; PEFT's forced mask at
        global_step == total_step - tfinal)."""
        T, ti, tf = self.total_step, self.tinit, self.tfinal
        warm = step <= ti if self.conv.warmup_end == "through-tinit" else step < ti
        if warm:
            return self.init_bgt, "warmup"
        if step >= T - tf:
            return self.target_bgt, "final"
        mul_coeff = 1 - (step - ti) / (T - tf - ti)
        exact = (self.init_bgt - self.target_bgt) * (mul_coeff ** 3) + self.target_bgt
        if self.conv.budget_rounding == "floor":
            return int(exact), "decay"
        return int(math.floor(exact + 0.5)), "decay"

    def mask_action(self, step, phase):
        """When masking runs (rows 5, 8, 9):
        - warm-up: paper, every DeltaT steps (README: "a mask step is every step
          with t % DeltaT == 0 before T - t_f (a warm-up mask is a no-op when
          b(0) = n*r0)"); PEFT, never (its budget_schedule has mask_ind False);
        - decay: every step with step % DeltaT == 0 (paper section 4; PEFT);
        - final, freeze-pattern: the forced mask at b(T) at T - t_f, then the
          stored pattern re-applied every step (PEFT's update_and_allocate);
        - final, recompute (the authors' code): a mask at T - t_f only when
          DeltaT divides it, then a fresh mask every step from the frozen EMAs."""
        on_grid = step % self.deltaT == 0
        if phase == "warmup":
            return "mask" if on_grid and self.conv.warmup_end == "before-tinit" else "none"
        if phase == "decay":
            return "mask" if on_grid else "none"
        start = self.total_step - self.tfinal
        if self.conv.final_phase == "freeze-pattern":
            return "mask" if step == start else "reapply"
        return "mask" if (step > start or on_grid) else "none"

    # ------------------------------------------------------------ Eq. 8
    @torch.no_grad()
    def mask_to_budget(self, model, budget, scores):
        """Eq. 8: keep the triplets whose score is among the top b(t) of all
        n * r0 scores. Row 7: "exact" keeps exactly b(t) (README: among equal
        scores the lower global index wins); "kthvalue" is PEFT's
        `torch.kthvalue(all_score, k = init_bgt - budget)` with every score
        <= the threshold masked (init_bgt = sum of r0 = n * r0); k = 0 keeps
        everything (where PEFT raises). A hard-deleted triplet scores -inf and
        stays pruned. Returns the threshold: the largest pruned score (README
        metrics.csv), -inf when nothing is pruned."""
        scores = scores.clone()
        if self.hard_delete:
            scores[~self.keep] = -math.inf
        n, k = self.n_triplets, self.n_triplets - budget
        if self.conv.ties == "exact":
            order = sorted(range(n), key=lambda i: (-scores[i].item(), i))
            keep = torch.zeros(n, dtype=torch.bool)
            keep[order[:budget]] = True
            pruned = scores[~keep]
            threshold = pruned.max().item() if pruned.numel() else -math.inf
        elif k == 0:
            keep, threshold = torch.ones(n, dtype=torch.bool), -math.inf
        else:
            threshold = torch.kthvalue(scores, k).values.item()
            keep = scores > threshold
        if self.hard_delete:
            keep &= scores != -math.inf
        self.keep = keep
        self.mask_using_rank_pattern(model)
        return threshold

    @torch.no_grad()
    def mask_using_rank_pattern(self, model):
        """Writes the zeros of the pattern: lambda_i in SVD form (masking never
        deletes: docs/SPEC.md §2, Eq. 8), the B column and A row in LoRA form."""
        for k, module in enumerate(model.adapted):
            pruned = ~self.keep[k * self.r0:(k + 1) * self.r0]
            if module.lora_E is not None:
                module.lora_E[pruned] = 0.0
            else:
                module.lora_B[:, pruned] = 0.0
                module.lora_A[pruned, :] = 0.0

    # ------------------------------------------------------------ one step
    def update_ipt_pre_step(self, model, global_step):
        """Row 3, paper: the sensitivity uses w(t), before the optimizer step."""
        _, phase = self.budget_schedule(global_step)
        if self.conv.sensitivity_weights == "pre-step" and self.tracks_importance(phase):
            self.update_ipt(model)

    def update_and_allocate(self, model, global_step):
        """After the optimizer step, like PEFT's: (row 3, PEFT/original: the
        EMAs from the post-step weights), schedule b(t), then mask, re-apply or
        nothing. Returns what happened, and the scores of Eq. 9 at this point
        (for the trace)."""
        budget, phase = self.budget_schedule(global_step)
        if self.conv.sensitivity_weights == "post-step" and self.tracks_importance(phase):
            self.update_ipt(model)
        scores = self.calculate_score(model) if self.prune else None
        action, threshold = self.mask_action(global_step, phase), None
        if not self.prune:
            budget, action = self.n_triplets, "none"
        elif action == "mask":
            threshold = self.mask_to_budget(model, budget, scores)
            if phase == "final" and self.conv.final_emas == "reset":
                self.reset_ipt()  # row 9, PEFT: reset_ipt() right after the forced mask
        elif action == "reapply" or self.hard_delete:
            self.mask_using_rank_pattern(model)
        return {"budget": budget, "phase": phase, "action": action,
                "threshold": threshold, "scores": scores,
                "kept": int(self.keep.sum().item())}
