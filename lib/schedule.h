/* schedule.h: the cubic budget schedule of Eq. 14 (Appendix A, corrected) and
 * when the allocator masks.
 *
 *   b(t) = b(0)                                                  t < t_i
 *   b(t) = b(T) + (b(0) − b(T)) · (1 − (t − t_i)/(T − t_i − t_f))³  t_i <= t < T − t_f
 *   b(t) = b(T)                                                  otherwise
 *
 * The paper's text (docs/SPEC.md §2, the schedule's typo) write (t − t_i − t_f) in the
 * cubic term; that jumps at t = t_i and at t = T − t_f, so it is a typo and
 * both public implementations use (t − t_i), as here.
 *
 * Conventions (docs/SPEC.md §4, rows 4–6, 8), one field each:
 *   row 4  step_base   1: steps t = 1..T (paper); 0: PEFT's global_step 0..T−1
 *   row 5  warmup_end  BEFORE_TINIT: warm-up while t < t_i, with masks every ΔT
 *                      steps as in the decay (no-ops when b(0) keeps every
 *                      triplet) (paper); THROUGH_TINIT: step <= tinit, no mask
 *                      in warm-up (PEFT's budget_schedule)
 *   row 6  rounding    NEAREST (the paper leaves it open) or FLOOR (PEFT's int()
 *                      of PEFT's own expression, evaluated in its order of
 *                      operations with pow: bit-exact to PEFT's budgets)
 * Masks run at every step number divisible by ΔT in the decay. In both, the final phase starts at T − t_f with a forced mask at b(T);
 * after it the stored pattern is re-applied every step (FREEZE, paper and
 * PEFT), or re-selected every step from the frozen EMAs (RECOMPUTE, the
 * authors' code, whose mask at T − t_f runs only if ΔT divides it). */
#ifndef ADA_SCHEDULE_H
#define ADA_SCHEDULE_H

#include "ada_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The paper's or PEFT's values of rows 4–6 at once (ada_schedule_set_convention). */
typedef enum { ADA_SCHED_PAPER = 0, ADA_SCHED_PEFT = 1 } ada_sched_convention;
typedef enum { ADA_WARMUP_BEFORE_TINIT = 0, ADA_WARMUP_THROUGH_TINIT = 1 } ada_warmup_end;
typedef enum { ADA_ROUND_NEAREST = 0, ADA_ROUND_FLOOR = 1 } ada_budget_rounding;
typedef enum { ADA_PHASE_WARMUP = 0, ADA_PHASE_DECAY = 1, ADA_PHASE_FINAL = 2 } ada_phase;
typedef enum { ADA_FINAL_FREEZE = 0, ADA_FINAL_RECOMPUTE = 1 } ada_final_phase;
typedef enum {
    ADA_ACTION_NONE = 0,    /* leave λ as the optimizer left it */
    ADA_ACTION_MASK = 1,    /* score, keep the top b(t), zero the rest */
    ADA_ACTION_REAPPLY = 2  /* zero λ where the stored pattern says pruned */
} ada_mask_action;

typedef struct {
    long b0;       /* initial budget b(0), usually n·r0 */
    long bT;       /* target budget b(T) */
    long t_init;   /* warm-up steps t_i (PEFT tinit) */
    long t_final;  /* final fine-tuning steps t_f (PEFT tfinal) */
    long total;    /* total steps T (PEFT total_step) */
    long delta_t;  /* steps between mask steps ΔT (PEFT deltaT) */
    int step_base;              /* row 4: number of the first step, 1 or 0 */
    ada_warmup_end warmup_end;  /* row 5 */
    ada_budget_rounding rounding; /* row 6 */
    ada_final_phase final_phase;  /* rows 8–9 */
} ada_schedule;

/* Sets rows 4–6 to the paper's (1, BEFORE_TINIT, NEAREST) or PEFT's
 * (0, THROUGH_TINIT, FLOOR) values. */
void ada_schedule_set_convention(ada_schedule *s, ada_sched_convention convention);

/* Validates: 0 <= bT <= b0 <= n_triplets, t_i >= 0, t_f >= 0,
 * T > t_i + t_f, ΔT >= 1, step_base 0 or 1, known enums. */
ada_status ada_schedule_check(const ada_schedule *s, long n_triplets);

/* Eq. 14: budget and phase at `step`, numbered from step_base (paper 1..T,
 * PEFT 0..T−1); 0 <= step <= T. A pure function. */
ada_status ada_budget_at(long *budget, ada_phase *phase, long step, const ada_schedule *s);

/* Rows 8–9: what the allocator does at the end of `step`. */
ada_status ada_mask_action_at(ada_mask_action *action, long step, const ada_schedule *s);

/* Row 4: the number of the step that follows `completed` finished steps
 * (completed + step_base: paper completed + 1, PEFT completed). */
long ada_schedule_step_number(long completed, const ada_schedule *s);

#ifdef __cplusplus
}
#endif
#endif
