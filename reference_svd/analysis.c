/* analysis.c: true singular values, orthogonality errors and principal
 * angles of trained adapters. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "analysis.h"
#include "ref_lapack.h"
#include "ada_error.h"
#include "orth_reg.h"

#ifdef ADA_DOUBLE
#define REF_EPS DBL_EPSILON
#else
#define REF_EPS FLT_EPSILON
#endif

static int imin(int a, int b) { return a < b ? a : b; }
static int imax(int a, int b) { return a > b ? a : b; }

/* ---------------------------------------------------------------- σ of P Λ Q */

ada_status ref_adapter_singular_values(real *sigma, real *U, int ldu, real *Vt, int ldvt,
                                       const real *P, int ldp, const real *lam,
                                       const uint8_t *keep, const real *Q, int ldq, int d1,
                                       int d2, int r, ref_svd_workspace *ws) {
    static const char fn[] = "ref_adapter_singular_values";
    ADA_REQUIRE_PTR(sigma, fn);
    ADA_REQUIRE_PTR(P, fn);
    ADA_REQUIRE_PTR(lam, fn);
    ADA_REQUIRE_PTR(Q, fn);
    ADA_REQUIRE_PTR(ws, fn);
    ada_status st = ref_check_factor_sizes(fn, ws, d1, d2, r, ldp, ldq, U, ldu, Vt, ldvt);
    if (st) return st;
    if (!ada_matrix_finite(P, d1, r, ldp) || !ada_matrix_finite(Q, r, d2, ldq) ||
        !ada_all_finite(lam, (size_t)r))
        return ada_fail(ADA_ERR_NONFINITE, "%s: P, λ or Q holds NaN or Inf", fn);
    return ref_lowrank_svd_qr_scaled(U, ldu, sigma, Vt, ldvt, P, ldp, lam, keep, Q, ldq, d1,
                                     d2, r, ws, fn);
}

/* ---------------------------------------------------------------- orthogonality */

ada_status ref_orth_errors(double *p_err, double *q_err, const real *P, int ldp,
                           const real *Q, int ldq, int d1, int d2, int r, real *work) {
    static const char fn[] = "ref_orth_errors";
    ADA_REQUIRE_PTR(p_err, fn);
    ADA_REQUIRE_PTR(q_err, fn);
    /* Both values land in locals first: if the Q term fails, *p_err must
     * stay untouched too. lib/orth_reg validates the rest (its messages name
     * ada_orth_left/right). weight 0 and no gradient: value only. */
    double pv, qv;
    ada_status st = ada_orth_left(&pv, NULL, 0, P, ldp, d1, r, ADA_ORTH_PLAIN, 0, work);
    if (st) return st;
    if ((st = ada_orth_right(&qv, NULL, 0, Q, ldq, r, d2, ADA_ORTH_PLAIN, 0, work))) return st;
    *p_err = pv;
    *q_err = qv;
    return ADA_OK;
}

/* ---------------------------------------------------------------- principal angles */

/* Q (column-major n x p, ld n, in buf) with span(Q) = span(X); refuses X
 * whose R has a diagonal entry below n·ε·||X||_F (dependent columns). */
static ada_status orthonormal_basis(real *buf, real *tau, const real *X, int ldx, int n,
                                    int p, const char *name, ref_svd_workspace *ws,
                                    const char *fn) {
    double fro = 0;
    for (int j = 0; j < p; j++)
        for (int i = 0; i < n; i++) {
            real v = X[(size_t)i * ldx + j];
            buf[(size_t)j * n + i] = v;
            fro += (double)v * v;
        }
    lapack_int info = REF_GEQRF(LAPACK_COL_MAJOR, n, p, buf, n, tau, ws->work, ws->lwork);
    if (info) return ref_lapack_fail(fn, "geqrf", info);
    const double tol = n * REF_EPS * sqrt(fro);
    for (int j = 0; j < p; j++)
        if (!(fabs((double)buf[(size_t)j * n + j]) > tol))
            return ada_fail(ADA_ERR_RANGE, "%s: %s has linearly dependent columns (|R[%d][%d]| "
                            "= %g <= %g): its column space has dimension < %d", fn, name, j, j,
                            fabs((double)buf[(size_t)j * n + j]), tol, p);
    info = REF_ORGQR(LAPACK_COL_MAJOR, n, p, p, buf, n, tau, ws->work, ws->lwork);
    if (info) return ref_lapack_fail(fn, "orgqr", info);
    return ADA_OK;
}

ada_status ref_principal_cosines(real *cosines, const real *X, int ldx, int p,
                                 const real *Y, int ldy, int q, int n,
                                 ref_svd_workspace *ws) {
    static const char fn[] = "ref_principal_cosines";
    ADA_REQUIRE_PTR(cosines, fn);
    ADA_REQUIRE_PTR(X, fn);
    ADA_REQUIRE_PTR(Y, fn);
    ADA_REQUIRE_PTR(ws, fn);
    ADA_REQUIRE_POS(n, fn);
    ADA_REQUIRE_POS(p, fn);
    ADA_REQUIRE_POS(q, fn);
    if (p > n || q > n)
        return ada_fail(ADA_ERR_DIM, "%s: p = %d, q = %d, both must be <= n = %d", fn, p, q, n);
    if (n > imax(ws->max_d1, ws->max_d2) || p > ws->max_r || q > ws->max_r)
        return ada_fail(ADA_ERR_DIM, "%s: n = %d, p = %d, q = %d exceed the workspace's "
                        "max(max_d1, max_d2) = %d, max_r = %d", fn, n, p, q,
                        imax(ws->max_d1, ws->max_d2), ws->max_r);
    ADA_REQUIRE_LD(ldx, p, fn);
    ADA_REQUIRE_LD(ldy, q, fn);
    if (!ada_matrix_finite(X, n, p, ldx) || !ada_matrix_finite(Y, n, q, ldy))
        return ada_fail(ADA_ERR_NONFINITE, "%s: X or Y holds NaN or Inf", fn);
    ada_status st = orthonormal_basis(ws->qb, ws->tau_b, X, ldx, n, p, "X", ws, fn);
    if (st) return st;
    if ((st = orthonormal_basis(ws->qa, ws->tau_a, Y, ldy, n, q, "Y", ws, fn))) return st;
    /* core (p x q, column-major, ld p) = Q_Xᵀ Q_Y */
    ADA_GEMM(CblasColMajor, CblasTrans, CblasNoTrans, p, q, n, 1, ws->qb, n, ws->qa, n, 0,
             ws->core, p);
    lapack_int info = REF_GESDD(LAPACK_COL_MAJOR, 'N', p, q, ws->core, p, ws->core_s,
                                ws->core_u, 1, ws->core_vt, 1, ws->work, ws->lwork, ws->iwork);
    if (info) return ref_lapack_fail(fn, "gesdd", info);
    /* Rounding can push a cosine of an angle ~0 just above 1; clamp so that
     * acos() of the result is always defined. */
    const int k = imin(p, q);
    for (int i = 0; i < k; i++) cosines[i] = ws->core_s[i] > 1 ? 1 : ws->core_s[i];
    return ADA_OK;
}
