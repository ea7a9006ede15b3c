/* importance.h: the importance of every trainable entry (Eqs. 10–13) and the
 * score of every triplet (Eq. 9).
 *
 * Per entry w with gradient g = ∂L/∂w (L includes γ·R):
 *   Eq. 10  I(t)  = |w · g|
 *   Eq. 11  Ī(t)  = β1 Ī(t−1) + (1 − β1) I(t)
 *   Eq. 12  Ū(t)  = β2 Ū(t−1) + (1 − β2) |I(t) − Ī(t)|   (Ī(t) already updated)
 *   Eq. 13  s(t)  = Ī(t) · Ū(t)
 * Both EMAs start at 0, with no bias correction. The per-entry equations are
 * static inline so the flat pass over the arena inlines them and a test can
 * call each one alone.
 *
 * Triplet i of a matrix with P (d1 x r), λ (r), Q (r x d2):
 *   Eq. 9   S_i = s(λ_i) + (1/d1) Σ_j s(P_ji) + (1/d2) Σ_j s(Q_ij)
 * Ablations of the paper's Table 4 (ada_importance_kind):
 *   SENS_UNC   s = Ī · Ū (the paper)
 *   SENS       s = Ī     (sensitivity only)
 *   MAGNITUDE  S_i = |λ_i| (singular-value magnitude only) */
#ifndef ADA_IMPORTANCE_H
#define ADA_IMPORTANCE_H

#include <math.h>

#include "ada_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    ADA_IMPORTANCE_SENS_UNC = 0,
    ADA_IMPORTANCE_SENS = 1,
    ADA_IMPORTANCE_MAGNITUDE = 2
} ada_importance_kind;

/* Eq. 10: sensitivity I(w) = |w · ∂L/∂w|. */
static inline real ada_sensitivity(real w, real g) { return (real)fabs((double)(w * g)); }

/* Eq. 11: smoothed sensitivity Ī(t) = β1 Ī(t−1) + (1 − β1) I(t). */
static inline real ada_smoothed_sensitivity(real ibar_prev, real sens, real beta1) {
    return beta1 * ibar_prev + (1 - beta1) * sens;
}

/* Eq. 12: uncertainty Ū(t) = β2 Ū(t−1) + (1 − β2) |I(t) − Ī(t)|. */
static inline real ada_uncertainty(real ubar_prev, real sens, real ibar_now, real beta2) {
    return beta2 * ubar_prev + (1 - beta2) * (real)fabs((double)(sens - ibar_now));
}

/* Eq. 13: importance of one entry, s = Ī · Ū (or Ī alone for the SENS ablation). */
static inline real ada_entry_importance(real ibar, real ubar, ada_importance_kind kind) {
    return kind == ADA_IMPORTANCE_SENS ? ibar : ibar * ubar;
}

/* Eqs. 10–12 over n entries of a flat arena: updates Ī and Ū in place from the
 * weights w and their gradients g. */
ada_status ada_importance_update(real *ibar, real *ubar, const real *w, const real *g,
                                 size_t n, real beta1, real beta2);

/* Eq. 9: scores S (r) of the triplets of one matrix. ibar_X and ubar_X are the EMA
 * views of P (d1 x r, ldp), λ (r) and Q (r x d2, ldq). For a LoRA doublet
 * (prune-lora) pass ibar_lam = ubar_lam = NULL: S_i is then the mean over the
 * B column plus the mean over the A row. the ubar_X may be NULL for SENS; lam is
 * read only by MAGNITUDE, which needs nothing else. */
ada_status ada_triplet_scores(real *S, const real *ibar_P, const real *ubar_P, int ldp,
                              const real *ibar_lam, const real *ubar_lam,
                              const real *ibar_Q, const real *ubar_Q, int ldq,
                              const real *lam, int d1, int d2, int r,
                              ada_importance_kind kind);

/* The check both EMA rates share: 0 < beta < 1 and finite. */
ada_status ada_check_ema_rate(const char *fn, const char *name, double beta);

#ifdef __cplusplus
}
#endif
#endif
