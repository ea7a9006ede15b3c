/* trainer.h: one training step in the order of docs/SPEC.md §2, as three calls that can
 * each be run and tested alone (ada_trainer_step runs all three):
 *
 *   ada_trainer_gradients  forward → task loss + γ·orth (Eq. 4) → backward → clip
 *   ada_trainer_update     importance EMAs (Eqs. 10–12, pre-step weights) →
 *                          optimizer → (EMAs from post-step weights, row 3)
 *   ada_trainer_allocate   schedule b(t) (Eq. 14) → triplet scores (Eq. 9) →
 *                          global top-b selection (Eq. 8) → mask
 *
 * Masking writes zeros into λ (SVD form), as Algorithm 1's
 * λ(t+1) = T(λ̃(t), S(t)) does; P and Q of a masked triplet keep training and
 * the triplet can win its place back at a later mask step. In LoRA form
 * (prune-lora) the B column and the A row are zeroed. The optimizer's moments
 * of a masked entry are left as they are. In the final t_f steps the EMAs are
 * no longer updated and the stored pattern is written again after every step.
 * With hard_delete a pruned triplet stays pruned for the rest of the run.
 *
 * Numerical guard: a non-finite loss (after the forward), gradient (after
 * backward and the regulariser, before clipping) or parameter (after the
 * optimizer) fails the step with ADA_ERR_NONFINITE and a message naming the
 * step, the module and the tensor ("step 12: non-finite gradient in module
 * q0, tensor lambda[3] = inf"). A failed gradients call leaves parameters,
 * moments and EMAs untouched; a failed update has already written them (the
 * caller restores its own copy, see driver/run_state.h).
 * Every buffer is allocated by ada_trainer_create: a step allocates nothing. */
#ifndef ADA_TRAINER_H
#define ADA_TRAINER_H

#include "ada_common.h"
#include "allocator.h"
#include "importance.h"
#include "model.h"
#include "optimizer.h"
#include "orth_reg.h"
#include "schedule.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Row 3: the weights w in I = |w · g|. */
typedef enum { ADA_SENS_PRE_STEP = 0, ADA_SENS_POST_STEP = 1 } ada_sens_weights;

/* Row 9, the EMAs after the forced mask at T − t_f (final_phase FREEZE):
 * KEEP them as they were (the paper; nothing reads them afterwards), or
 * RESET them to 0 (PEFT's update_and_allocate calls reset_ipt() there). Only
 * the traced values and a checkpoint's EMAs differ; RECOMPUTE reads the
 * EMAs at every final step, so it needs KEEP. */
typedef enum { ADA_FINAL_EMAS_KEEP = 0, ADA_FINAL_EMAS_RESET = 1 } ada_final_emas;

typedef struct {
    ada_optimizer_config opt;
    double clip;                   /* global gradient-norm bound; 0 = no clipping */
    double gamma;                  /* γ of Eq. 4; 0 = no regulariser */
    ada_orth_norm orth_norm;       /* row 1 */
    ada_orth_reduce orth_reduce;   /* row 2 */
    int prune;                     /* 1: allocate by Eqs. 8–14; 0: fixed rank */
    int hard_delete;               /* 1: a pruned triplet never comes back */
    ada_importance_kind importance;
    double beta1, beta2;           /* Eqs. 11 and 12 */
    ada_sens_weights sens_weights; /* row 3 */
    ada_ties ties;                 /* row 7 */
    ada_schedule schedule;         /* Eq. 14 and rows 4–6, 8 */
    ada_final_emas final_emas;     /* row 9 */
} ada_train_config;

typedef struct {
    ada_model *model;        /* not owned */
    ada_train_config config;
    real *m1, *m2;           /* AdamW moments, laid out like model->params */
    real *ibar, *ubar;       /* Ī and Ū (Eqs. 11, 12), laid out like model->params */
    real *scores;            /* n·r0 triplet scores S of the last mask step (Eq. 9) */
    int32_t *select_work;    /* n·r0 scratch of the selection */
    uint8_t *prev_keep;      /* n·r0: the pattern before the last mask step */
    long completed;          /* finished steps, skipped ones included (the schedule's clock) */
    long updates;            /* optimizer steps taken: AdamW's bias-correction count; equals
                                completed unless steps were skipped (ada_trainer_skip_step) */
    double orth_weight;      /* factor of each R term in L (Eq. 4 reduction) */
    void *memory;
} ada_trainer;

/* Where a step's time goes (wall clock, milliseconds). */
typedef enum {
    ADA_TIME_FORWARD = 0,    /* forward and task loss */
    ADA_TIME_BACKWARD = 1,   /* backward, regulariser, clipping */
    ADA_TIME_OPTIMIZER = 2,
    ADA_TIME_IMPORTANCE = 3, /* Eqs. 10–12 */
    ADA_TIME_ALLOCATION = 4, /* schedule, scores, selection, masking */
    ADA_TIME_COUNT = 5
} ada_time_phase;

typedef struct {
    long step;               /* finished steps, this one included: 1..T */
    long schedule_step;      /* this step as the convention numbers it */
    double loss;             /* task_loss + orth_term */
    double task_loss;        /* C, summed over chains */
    double orth_raw;         /* Σ_k R(P_k, Q_k); NaN when γ = 0 (not computed) */
    double orth_term;        /* what the regulariser adds to L */
    double grad_norm;        /* before clipping; NaN when clipping is off */
    long budget;             /* b(t) */
    ada_phase phase;
    ada_mask_action action;
    double threshold;        /* largest pruned score at a mask step, else NaN */
    long kept;               /* kept triplets after the step */
    long revived;            /* pruned before this mask step, kept after it */
    long pruned;             /* kept before this mask step, pruned after it */
    double ms[ADA_TIME_COUNT]; /* time of each phase of this step */
} ada_step_info;

/* The paper's setting: AdamW (lr 1e-3, no weight decay), no clipping, γ 0.1
 * squared and summed, pruning with s = Ī·Ū, β1 = β2 = 0.85, pre-step weights,
 * exact ties, paper schedule with ΔT 1 (budgets and steps still to be set). */
ada_train_config ada_train_defaults(void);

ada_status ada_trainer_create(ada_trainer **out, ada_model *model, const ada_train_config *cfg);
void ada_trainer_free(ada_trainer *tr);

ada_status ada_trainer_gradients(ada_trainer *tr, const ada_batch *batch, ada_step_info *info);
ada_status ada_trainer_update(ada_trainer *tr, ada_step_info *info);
ada_status ada_trainer_allocate(ada_trainer *tr, ada_step_info *info);
ada_status ada_trainer_step(ada_trainer *tr, const ada_batch *batch, ada_step_info *info);

/* ---------------------------------------------------------------- seams
 * ada_trainer_step_hooked runs the same step with a caller's code at fixed
 * points of it (traces, measurements, an allocation by other means):
 *
 *   gradients → update → before_allocate → [allocate] → allocation → after_step
 *
 * Every member of ada_step_hooks may be NULL; hooks NULL is ada_trainer_step.
 * A hook that returns a nonzero status ends the step with that status (its
 * message is the hook's, ada_fail). Then, as for a failed update, parameters,
 * moments and EMAs are already written and `completed` has not advanced
 * (before_allocate, allocate), or the step is complete and info filled
 * (after_step). */

/* What an allocation of the caller's own (the allocate hook) is given and
 * reports. The trainer fills budget and action from the schedule, masked 0 and
 * threshold NaN; the hook sets masked and threshold if it changed the pattern. */
typedef struct {
    long budget;            /* b(t) of this step (Eq. 14) */
    ada_mask_action action; /* the schedule's action at the end of this step */
    int masked;             /* out: 1 when the hook set a new keep pattern */
    double threshold;       /* out: the score it pruned at, or NaN */
} ada_allocation;

typedef struct {
    void *ctx; /* passed to every hook */
    /* After the update, before any masking: the weights, gradients and EMAs
     * the allocation sees. info holds the gradients' and update's fields. */
    ada_status (*before_allocate)(void *ctx, ada_trainer *tr, const ada_step_info *info);
    /* Replaces the trainer's selection (needs config.prune = 0; the step is
     * refused before it starts otherwise). It may change model->keep and the
     * parameters; the trainer then reports info->budget = alloc->budget,
     * action MASK if alloc->masked (else NONE), threshold, the kept count
     * from model->keep, and revived = pruned = 0. Its time is not in
     * info->ms (the caller times it). */
    ada_status (*allocate)(void *ctx, ada_trainer *tr, ada_allocation *alloc);
    /* After the allocation: the step is done, completed counts it, info is complete. */
    ada_status (*after_step)(void *ctx, ada_trainer *tr, const ada_step_info *info);
} ada_step_hooks;

ada_status ada_trainer_step_hooked(ada_trainer *tr, const ada_batch *batch, ada_step_info *info,
                                   const ada_step_hooks *hooks);

/* Ends the step in progress without an update (after the caller restored the
 * pre-step parameters, moments, EMAs and masks): completed advances, so the
 * schedule moves on; updates does not, so AdamW's bias correction counts only
 * the updates made (as torch's GradScaler skipping optimizer.step()). The
 * step's mask action is still taken, from the stored EMAs (a trainer that
 * prunes): a run whose mask steps were skipped still ends at b(T). info gets
 * the step, its budget, phase, action and threshold, the kept count, and NaN
 * losses. */
ada_status ada_trainer_skip_step(ada_trainer *tr, ada_step_info *info);

/* The schedule at the step in progress (Eq. 14 and the mask timing of rows
 * 8–9): b(t), the phase and the mask action, whether or not this trainer
 * prunes (a caller that allocates by other means, like svd-proj, follows
 * the same schedule). action and phase may be NULL. */
ada_status ada_trainer_schedule_now(const ada_trainer *tr, long *budget, ada_phase *phase,
                                    ada_mask_action *action);

/* Eq. 9 for every module into tr->scores (the global triplet order). */
ada_status ada_trainer_scores(ada_trainer *tr);

#ifdef __cplusplus
}
#endif
#endif
