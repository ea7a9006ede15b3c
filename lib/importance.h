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
#include "matrix.h"

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

/* The importance EMAs of one matrix's adapter: Ī and Ū of P (d1 x r), of λ
 * (r; SVD triplets only, NULL for LoRA doublets) and of Q (r x d2). */
typedef struct {
    ada_cmat ibar_P, ubar_P;
    const real *ibar_lam, *ubar_lam;
    ada_cmat ibar_Q, ubar_Q;
} ada_triplet_emas;

/* Eq. 9: scores S (r) of the triplets of one matrix, in the given form and
 * kind, each mode explicit:
 *   SVD form   S_i = s(λ_i) + mean_j s(P_ji) + mean_j s(Q_ij)   (λ EMAs required)
 *   LoRA form  S_i = mean over the B column + mean over the A row (λ EMAs NULL)
 *   SENS_UNC reads Ī and Ū; SENS reads Ī only (the Ū views are ignored);
 *   MAGNITUDE reads lam (r) only: S_i = |λ_i|, SVD form only (emas may be NULL).
 * r = ibar_P.cols (= lam's length for MAGNITUDE, given by r). */
ada_status ada_triplet_scores(real *S, int r, ada_form form, ada_importance_kind kind,
                              const ada_triplet_emas *emas, const real *lam);

/* The check of an importance kind in a form (MAGNITUDE needs the SVD form's λ);
 * fn names the caller in the message. */
ada_status ada_check_importance_kind(const char *fn, ada_importance_kind kind, ada_form form);

/* The check both EMA rates share: 0 < beta < 1 and finite. */
ada_status ada_check_ema_rate(const char *fn, const char *name, double beta);

#ifdef __cplusplus
}
#endif
#endif
