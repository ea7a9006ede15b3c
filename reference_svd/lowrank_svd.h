/* lowrank_svd.h: the exact SVD of a low-rank product B A, the "true SVD" the
 * comparison methods build on (the svd-proj baseline in projection.h, the
 * analysis of trained adapters in analysis.h). The paper argues that an exact
 * SVD of every ΔW is O(min(d1, d2)·d1·d2) and too slow; the two methods here
 * let the experiments measure that cost and the O((d1 + d2)·r²) alternative
 * that exploits the factored form.
 *
 * Dimension letters: d1 rows of B (outputs), d2 columns of A (inputs), r the
 * inner rank, k = min(d1, d2, r) the number of singular values that can be
 * nonzero.
 * Shapes (row-major, every matrix with its own leading dimension):
 *   B (d1 x r, ldb)   A (r x d2, lda)
 *   U (d1 x r, ldu)   σ (r)   Vt (r x d2, ldvt)
 * Result: B A = U diag(σ) Vt, σ descending, the top-r triplets. The first k
 * columns of U and rows of Vt are orthonormal, also when B A is rank
 * deficient (the vectors of zero singular values are then some orthonormal
 * completion; the product U diag(σ) Vt is unique, the vectors are not). When
 * r > min(d1, d2) the triplets k..r-1 are padding: σ = 0, U column and Vt row
 * exactly zero (so U diag(σ) Vt = B A still holds, and the shapes stay those
 * of the factors).
 *
 * Methods:
 *   FULL  forms B A (d1 x d2) with one GEMM and runs gesdd on it:
 *         O(d1·d2·r + d1·d2·min(d1, d2)) time.
 *   QR    B = Q_B R_B and Aᵀ = Q_A R_A (geqrf; R_B is k1 x r, R_A k2 x r with
 *         k1 = min(d1, r), k2 = min(d2, r)), the k1 x k2 core R_B R_Aᵀ and its
 *         SVD U_c Σ V_cᵀ (gesdd), then U = Q_B U_c, V = Q_A V_c (ormqr):
 *         O((d1 + d2)·r² + r³) time. B A = Q_B (R_B R_Aᵀ) Q_Aᵀ makes the two
 *         mathematically identical.
 *
 * Workspace: ref_svd_workspace_create() allocates every buffer both methods
 * need for d1 <= max_d1, d2 <= max_d2, r <= max_r (the FULL buffers are about
 * 3·max_d1·max_d2 reals, the QR ones O((max_d1 + max_d2)·max_r)), so a call
 * allocates nothing. A workspace serves one call at a time (not thread-safe).
 *
 * Errors as in lib/: ada_status, message via ada_last_error(), outputs
 * untouched on failure. A LAPACK failure (no convergence) is ADA_ERR_STATE. */
#ifndef REF_LOWRANK_SVD_H
#define REF_LOWRANK_SVD_H

#include "ada_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { REF_SVD_FULL = 0, REF_SVD_QR = 1 } ref_svd_method;

/* Every buffer of both methods. Column-major (LAPACK's order) unless noted. */
typedef struct {
    int max_d1, max_d2, max_r;
    /* FULL: the product (row-major d1 x d2), its singular values and vectors */
    real *prod, *full_u, *full_vt, *full_s;
    /* QR: Householder factors of B (d1 x r) and Aᵀ (d2 x r) and their τ.
     * Sized max(max_d1, max_d2) x max_r each, so analysis.h can also run
     * QR on any n x p with n <= max(max_d1, max_d2), p <= max_r. */
    real *qb, *qa, *tau_b, *tau_a;
    /* QR: the core (<= max_r x max_r), its SVD, and Q_B U_c, Q_A V_c */
    real *core, *core_u, *core_vt, *core_s, *ub, *vb;
    real *work;        /* LAPACK workspace of lwork reals */
    int lwork;
    int *iwork;        /* gesdd's 8·min(m, n) integers */
    void *memory[2];
} ref_svd_workspace;

/* Allocates a workspace for every d1 <= max_d1, d2 <= max_d2, r <= max_r. */
ada_status ref_svd_workspace_create(ref_svd_workspace **out, int max_d1, int max_d2,
                                    int max_r);
void ref_svd_workspace_free(ref_svd_workspace *ws);

/* The top-r singular triplets of B A (see above). sigma is required; U and Vt
 * may each be NULL when the vectors are not wanted (QR then skips their
 * ormqr). B and A are read in full before any output is written, so U may be
 * the buffer of B and Vt that of A (in-place re-factoring). */
ada_status ref_lowrank_svd(real *U, int ldu, real *sigma, real *Vt, int ldvt,
                           const real *B, int ldb, const real *A, int lda, int d1, int d2,
                           int r, ref_svd_method method, ref_svd_workspace *ws);

/* "full" or "qr"; NULL for an unknown value. */
const char *ref_svd_method_name(ref_svd_method method);

#ifdef __cplusplus
}
#endif
#endif
