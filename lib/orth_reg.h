/* orth_reg.h: the orthogonal regulariser of Eq. 4,
 *   R(P, Q) = ||PᵀP − I_r||_F² + ||Q Qᵀ − I_r||_F²,  L = C + γ Σ_k R(P_k, Q_k),
 * with the two conventions of the conventions table (docs/SPEC.md §4, rows 1 and 2) as switches:
 *   norm:   squared Frobenius (paper) or plain Frobenius (PEFT, original);
 *   reduce: γ · sum over the 2n factors (paper) or γ · mean (PEFT, original).
 * Dimension letters: d rows of P (= d1) or columns of Q (= d2), r rank r0.
 * The identity is r x r: pruned triplets stay regularised. */
#ifndef ADA_ORTH_REG_H
#define ADA_ORTH_REG_H

#include "ada_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { ADA_ORTH_SQUARED = 0, ADA_ORTH_PLAIN = 1 } ada_orth_norm;
typedef enum { ADA_ORTH_SUM = 0, ADA_ORTH_MEAN = 1 } ada_orth_reduce;

/* The check of a norm choice (fn names the caller in the message). */
ada_status ada_check_orth_norm(const char *fn, ada_orth_norm norm);

/* Eq. 4, left factor: *value = ||PᵀP − I||_F² (or ||·||_F), and, when dP is not
 * NULL, dP += weight · ∂value/∂P, where ∂||PᵀP − I||²/∂P = 4 P (PᵀP − I) and
 * ∂||PᵀP − I||/∂P = 2 P (PᵀP − I) / ||PᵀP − I|| (0 where the norm is 0).
 * P: d x r (ldp); dP: d x r (lddp); work: r x r scratch. */
ada_status ada_orth_left(double *value, real *dP, int lddp, const real *P, int ldp,
                         int d, int r, ada_orth_norm norm, real weight, real *work);

/* Eq. 4, right factor: the same for ||Q Qᵀ − I||, Q: r x d (ldq), with
 * ∂||QQᵀ − I||²/∂Q = 4 (QQᵀ − I) Q. */
ada_status ada_orth_right(double *value, real *dQ, int lddq, const real *Q, int ldq,
                          int r, int d, ada_orth_norm norm, real weight, real *work);

/* Eq. 4, reduction: the factor each R term carries in L: γ (sum) or
 * γ / n_factors (mean over the 2n factors). n_factors = 0 (a model without
 * adapters): there is no term, the sum is empty, and the mean's weight is 0. */
ada_status ada_orth_term_weight(double *weight, double gamma, ada_orth_reduce reduce,
                                int n_factors);

#ifdef __cplusplus
}
#endif
#endif
