/* ada_internal.h (internal): the kernels behind checked public entry points,
 * for callers inside the library that validated the configuration once, where
 * it entered (ada_trainer_create, ada_model_create): the enums (orth norm, tie
 * rule, importance kind, form), the optimizer config and the EMA rates are
 * trusted here, not re-checked on every step. Shapes come from the model, so
 * they are trusted too. Each public twin documents the arguments. */
#ifndef ADA_INTERNAL_H
#define ADA_INTERNAL_H

#include "ada_common.h"
#include "allocator.h"
#include "importance.h"
#include "adapted_layer.h"
#include "model.h"
#include "optimizer.h"
#include "orth_reg.h"

/* ada_orth_left / ada_orth_right without their checks. */
double ada_orth_left_unchecked(real *dP, int lddp, const real *P, int ldp, int d, int r,
                               ada_orth_norm norm, real weight, real *work);
double ada_orth_right_unchecked(real *dQ, int lddq, const real *Q, int ldq, int r, int d,
                                ada_orth_norm norm, real weight, real *work);

/* ada_model_orth with norm and weight trusted (the parameters are still
 * checked for NaN and Inf: they are data). */
ada_status ada_model_orth_unchecked(ada_model *m, double *raw, ada_orth_norm norm, real weight);

/* Module k's update as adapted_layer.h takes it, from the model's parameters
 * (no keep flags: the mask lives in λ, or in B's column and A's row), and the
 * views of its gradients in m->grads with dX as the input gradient: what
 * every host passes to ada_layer_forward/backward for an adapted matrix. */
ada_adapter ada_model_adapter_unchecked(const ada_model *m, int k);
ada_layer_grads ada_model_grads_unchecked(ada_model *m, int k, ada_mat dX);

/* ada_triplet_scores without its checks. */
void ada_triplet_scores_unchecked(real *S, int r, ada_form form, ada_importance_kind kind,
                                  const ada_triplet_emas *emas, const real *lam);

/* ada_importance_update without its checks: the caller keeps w and g finite
 * (the trainer's guard) and validated the rates. */
void ada_importance_update_unchecked(real *ibar, real *ubar, const real *w, const real *g,
                                     size_t n, real beta1, real beta2);

/* ada_adamw_update and ada_sgd_update with c validated by ada_optimizer_check. */
void ada_adamw_update_unchecked(real *w, real *m, real *v, const real *g, size_t n,
                                const ada_optimizer_config *c, long t);
void ada_sgd_update_unchecked(real *w, const real *g, size_t n, const ada_optimizer_config *c);

/* ada_select_top_budget with the tie rule trusted and 1 <= n, 0 <= budget <= n;
 * the scores are still checked (they are data). */
ada_status ada_select_top_budget_unchecked(uint8_t *keep, real *threshold, const real *scores,
                                           long n, long budget, ada_ties ties, int32_t *work);

#endif
