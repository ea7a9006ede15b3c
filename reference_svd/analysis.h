/* analysis.h: measurements of trained adapters for the driver and the
 * experiments: how far an SVD-form adapter P diag(λ ⊙ m) Q is from a true SVD.
 *
 *   ref_adapter_singular_values  the true singular values (and optionally
 *                                vectors) of P diag(λ ⊙ m) Q, which equal
 *                                |λ ⊙ m| only when P and Q are orthonormal;
 *   ref_orth_errors              ||PᵀP − I||_F and ||QQᵀ − I||_F (plain, not
 *                                squared: Eq. 4's terms are their squares);
 *   ref_principal_cosines        the principal angles between two column
 *                                spaces, e.g. span(P) and the true U.
 *
 * Dimension letters: d1 rows of P (outputs), d2 columns of Q (inputs), r rank
 * r0; for principal angles n the ambient dimension, p and q the two
 * subspaces' dimensions.
 * Shapes (row-major, own leading dimensions):
 *   P (d1 x r, ldp)   λ (r)   m (r keep flags, NULL = all kept)   Q (r x d2, ldq)
 *   σ (r)   U (d1 x r, ldu)   Vt (r x d2, ldvt)
 *   X (n x p, ldx)   Y (n x q, ldy)   cosines (min(p, q))
 * The scale s of Eq. 3 is not applied: the singular values of ΔW = s·P diag(λ ⊙ m) Q
 * are |s| times those returned here.
 * Errors as in lib/: ada_status, outputs untouched on failure. */
#ifndef REF_ANALYSIS_H
#define REF_ANALYSIS_H

#include "ada_common.h"
#include "lowrank_svd.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The top-r singular triplets of P diag(λ ⊙ m) Q, by the QR path of
 * ref_lowrank_svd with B = P diag(λ ⊙ m) (no scaled copy of P is made):
 * σ descending, padded with zeros beyond min(d1, d2, r) as there; a masked
 * triplet (keep[i] == 0) contributes nothing. U and Vt may be NULL. Needs a
 * workspace with max_d1 >= d1, max_d2 >= d2, max_r >= r. */
ada_status ref_adapter_singular_values(real *sigma, real *U, int ldu, real *Vt, int ldvt,
                                       const real *P, int ldp, const real *lam,
                                       const uint8_t *keep, const real *Q, int ldq, int d1,
                                       int d2, int r, ref_svd_workspace *ws);

/* *p_err = ||PᵀP − I_r||_F, *q_err = ||QQᵀ − I_r||_F (plain Frobenius, via
 * lib/orth_reg.h with ADA_ORTH_PLAIN). work: r x r scratch. */
ada_status ref_orth_errors(double *p_err, double *q_err, const real *P, int ldp,
                           const real *Q, int ldq, int d1, int d2, int r, real *work);

/* The cosines of the principal angles between span(X) and span(Y) in R^n,
 * DESCENDING (cosines[0] = cos of the smallest angle; angle_i = acos(cosines[i]),
 * ascending), min(p, q) values in [0, 1]: X and Y are orthonormalised by QR
 * (geqrf + orgqr), then the cosines are the singular values of Q_Xᵀ Q_Y.
 * X and Y need full column rank (p, q <= n): a column space of lower
 * dimension than its column count makes the angles ill-defined and is refused
 * (ADA_ERR_RANGE) when QR finds a diagonal entry of R below
 * n · ε · ||X||_F. Note acos loses accuracy for tiny angles (cos ≈ 1).
 * Needs a workspace with max(max_d1, max_d2) >= n and max_r >= max(p, q). */
ada_status ref_principal_cosines(real *cosines, const real *X, int ldx, int p,
                                 const real *Y, int ldy, int q, int n,
                                 ref_svd_workspace *ws);

#ifdef __cplusplus
}
#endif
#endif
