/* schedule.c: Eq. 14 and the mask timing of the conventions table. */
#include <math.h>

#include "schedule.h"
#include "ada_error.h"

void ada_schedule_set_convention(ada_schedule *s, ada_sched_convention convention) {
    const int peft = convention == ADA_SCHED_PEFT;
    s->step_base = peft ? 0 : 1;
    s->warmup_end = peft ? ADA_WARMUP_THROUGH_TINIT : ADA_WARMUP_BEFORE_TINIT;
    s->rounding = peft ? ADA_ROUND_FLOOR : ADA_ROUND_NEAREST;
}

ada_status ada_schedule_check(const ada_schedule *s, long n_triplets) {
    static const char fn[] = "ada_schedule_check";
    ADA_REQUIRE_PTR(s, fn);
    if (s->step_base != 0 && s->step_base != 1)
        return ada_fail(ADA_ERR_RANGE, "%s: step_base = %d, allowed: 1 (paper), 0 (peft)", fn,
                        s->step_base);
    if (s->warmup_end != ADA_WARMUP_BEFORE_TINIT && s->warmup_end != ADA_WARMUP_THROUGH_TINIT)
        return ada_fail(ADA_ERR_RANGE,
                        "%s: warmup_end = %d, allowed: 0 (before t_i), 1 (through t_i)", fn,
                        (int)s->warmup_end);
    if (s->rounding != ADA_ROUND_NEAREST && s->rounding != ADA_ROUND_FLOOR)
        return ada_fail(ADA_ERR_RANGE, "%s: rounding = %d, allowed: 0 (nearest), 1 (floor)",
                        fn, (int)s->rounding);
    if (s->final_phase != ADA_FINAL_FREEZE && s->final_phase != ADA_FINAL_RECOMPUTE)
        return ada_fail(ADA_ERR_RANGE,
                        "%s: final_phase = %d, allowed: 0 (freeze), 1 (recompute)", fn,
                        (int)s->final_phase);
    if (s->b0 < 0 || s->b0 > n_triplets)
        return ada_fail(ADA_ERR_RANGE, "%s: b0 = %ld, allowed: 0..%ld (n*r0)", fn, s->b0,
                        n_triplets);
    if (s->bT < 0 || s->bT > s->b0)
        return ada_fail(ADA_ERR_RANGE, "%s: bT = %ld, allowed: 0..b0 = %ld", fn, s->bT,
                        s->b0);
    if (s->t_init < 0 || s->t_final < 0)
        return ada_fail(ADA_ERR_RANGE, "%s: t_init = %ld, t_final = %ld, both must be >= 0",
                        fn, s->t_init, s->t_final);
    if (s->total <= s->t_init + s->t_final)
        return ada_fail(ADA_ERR_RANGE,
                        "%s: total = %ld, must be > t_init + t_final = %ld", fn, s->total,
                        s->t_init + s->t_final);
    if (s->delta_t < 1)
        return ada_fail(ADA_ERR_RANGE, "%s: delta_t = %ld, must be >= 1", fn, s->delta_t);
    return ADA_OK;
}

static ada_phase phase_at(long step, const ada_schedule *s) {
    /* Row 5: the paper's warm-up is t < t_i, PEFT's step <= tinit. */
    int in_warmup = s->warmup_end == ADA_WARMUP_THROUGH_TINIT ? step <= s->t_init : step < s->t_init;
    if (in_warmup) return ADA_PHASE_WARMUP;
    if (step >= s->total - s->t_final) return ADA_PHASE_FINAL;
    return ADA_PHASE_DECAY;
}

/* Eq. 14, the cubic decay term: b(T) + (b(0) − b(T)) (1 − (t − t_i)/(T − t_i − t_f))³. */
static double cubic_budget(long step, const ada_schedule *s) {
    double progress = (double)(step - s->t_init) / (double)(s->total - s->t_init - s->t_final);
    double remain = 1.0 - progress;
    return (double)s->bT + (double)(s->b0 - s->bT) * remain * remain * remain;
}

/* Row 6, PEFT: RankAllocator.budget_schedule's own expression
 * (peft/tuners/adalora/layer.py), evaluated as CPython evaluates it:
 *   mul_coeff = 1 - (step - tinit) / (total_step - tfinal - tinit)
 *   budget = int((init_bgt - target_bgt) * (mul_coeff ** 3) + target_bgt)
 * in IEEE doubles, in this order, the cube by the C library's pow (CPython's
 * float ** int calls it), truncated toward zero by int(). cubic_budget's
 * order and r·r·r land on the other side of a whole number where the exact
 * value is one (144 matrices, r0 16, target_r 4, T 1000, t_i 196, t_f 132,
 * step 252: 1907 there, 1906 here and in PEFT). */
static long peft_budget(long step, const ada_schedule *s) {
    double mul_coeff = 1.0 - (double)(step - s->t_init) / (double)(s->total - s->t_final - s->t_init);
    double value = (double)(s->b0 - s->bT) * pow(mul_coeff, 3.0) + (double)s->bT;
    return (long)value;
}

/* The checks both queries share: a valid schedule and 0 <= step <= T. */
static ada_status check_query(const char *fn, const void *out, const char *out_name, long step,
                              const ada_schedule *s) {
    if (!out) return ada_fail(ADA_ERR_NULL, "%s: %s is NULL", fn, out_name);
    ADA_REQUIRE_PTR(s, fn);
    ada_status st = ada_schedule_check(s, s->b0);
    if (st) return st;
    if (step < 0 || step > s->total)
        return ada_fail(ADA_ERR_RANGE, "%s: step = %ld, allowed: 0..%ld", fn, step, s->total);
    return ADA_OK;
}

ada_status ada_budget_at(long *budget, ada_phase *phase, long step, const ada_schedule *s) {
    ada_status st = check_query("ada_budget_at", budget, "budget", step, s);
    if (st) return st;
    ada_phase ph = phase_at(step, s);
    long b;
    if (ph == ADA_PHASE_WARMUP) b = s->b0;
    else if (ph == ADA_PHASE_FINAL) b = s->bT;
    else {
        /* Row 6: PEFT truncates its own expression with int(); the paper
         * leaves the rounding open: nearest. */
        b = s->rounding == ADA_ROUND_FLOOR ? peft_budget(step, s) : lround(cubic_budget(step, s));
    }
    *budget = b;
    if (phase) *phase = ph;
    return ADA_OK;
}

ada_status ada_mask_action_at(ada_mask_action *action, long step, const ada_schedule *s) {
    ada_status st = check_query("ada_mask_action_at", action, "action", step, s);
    if (st) return st;
    ada_phase ph = phase_at(step, s);
    int on_grid = step % s->delta_t == 0;
    ada_mask_action a = ADA_ACTION_NONE;
    if (ph == ADA_PHASE_WARMUP) {
        if (s->warmup_end == ADA_WARMUP_BEFORE_TINIT && on_grid) a = ADA_ACTION_MASK;
    } else if (ph == ADA_PHASE_DECAY) {
        if (on_grid) a = ADA_ACTION_MASK;
    } else if (s->final_phase == ADA_FINAL_FREEZE) {
        a = step == s->total - s->t_final ? ADA_ACTION_MASK : ADA_ACTION_REAPPLY;
    } else { /* RECOMPUTE: every step, except an off-grid first final step */
        a = (step > s->total - s->t_final || on_grid) ? ADA_ACTION_MASK : ADA_ACTION_NONE;
    }
    *action = a;
    return ADA_OK;
}

long ada_schedule_step_number(long completed, const ada_schedule *s) {
    return completed + s->step_base;
}
