/* orth_reg.c: Eq. 4, value and gradient of the orthogonal regulariser. */
#include <math.h>

#include "orth_reg.h"
#include "ada_error.h"
#include "ada_internal.h"

/* M (r x r) -= I; returns Σ M². */
static double subtract_identity(real *M, int r) {
    double sum = 0;
    for (int i = 0; i < r; i++) {
        M[(size_t)i * r + i] -= 1;
        for (int j = 0; j < r; j++) {
            double v = M[(size_t)i * r + j];
            sum += v * v;
        }
    }
    return sum;
}

/* The value for the chosen norm, and the factor c such that the gradient is
 * c · P M (left) or c · M Q (right). */
static double norm_value_and_coef(double sq, ada_orth_norm norm, double *coef) {
    if (norm == ADA_ORTH_SQUARED) {
        *coef = 4.0;
        return sq;
    }
    double v = sqrt(sq);
    *coef = v > 0 ? 2.0 / v : 0.0; /* plain norm: gradient 0 at a zero norm */
    return v;
}

ada_status ada_check_orth_norm(const char *fn, ada_orth_norm norm) {
    if (norm != ADA_ORTH_SQUARED && norm != ADA_ORTH_PLAIN)
        return ada_fail(ADA_ERR_RANGE, "%s: norm = %d, allowed: 0 (squared), 1 (plain)", fn,
                        (int)norm);
    return ADA_OK;
}

/* The arguments of ada_orth_left/right: M is rows x cols (ldm); the gradient,
 * when given, has the same shape with its own ldg. */
static ada_status check_args(const char *fn, const double *value, const real *M,
                             int ldm, int rows, int cols, ada_orth_norm norm,
                             real weight, const real *work, const real *grad, int ldg) {
    ADA_REQUIRE_PTR(value, fn);
    ADA_REQUIRE_PTR(M, fn);
    ADA_REQUIRE_PTR(work, fn);
    ADA_REQUIRE_POS(rows, fn);
    ADA_REQUIRE_POS(cols, fn);
    ADA_REQUIRE_LD(ldm, cols, fn);
    ada_status st = ada_check_orth_norm(fn, norm);
    if (st) return st;
    if (!isfinite(weight)) return ada_fail(ADA_ERR_NONFINITE, "%s: weight is not finite", fn);
    if (!ada_matrix_finite(M, rows, cols, ldm))
        return ada_fail(ADA_ERR_NONFINITE, "%s: input holds NaN or Inf", fn);
    if (grad) ADA_REQUIRE_LD(ldg, cols, fn);
    return ADA_OK;
}

/* Eq. 4: ||PᵀP − I||, gradient 4 P (PᵀP − I) (squared). */
double ada_orth_left_unchecked(real *dP, int lddp, const real *P, int ldp, int d, int r,
                               ada_orth_norm norm, real weight, real *work) {
    /* work (r x r) = Pᵀ (r x d) P (d x r) − I */
    ADA_GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, r, r, d, 1, P, ldp, P, ldp, 0,
             work, r);
    double coef;
    double value = norm_value_and_coef(subtract_identity(work, r), norm, &coef);
    if (dP && coef != 0)
        ADA_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, d, r, r, (real)(weight * coef),
                 P, ldp, work, r, 1, dP, lddp);
    return value;
}

/* Eq. 4: ||QQᵀ − I||, gradient 4 (QQᵀ − I) Q (squared). */
double ada_orth_right_unchecked(real *dQ, int lddq, const real *Q, int ldq, int r, int d,
                                ada_orth_norm norm, real weight, real *work) {
    /* work (r x r) = Q (r x d) Qᵀ (d x r) − I */
    ADA_GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, r, r, d, 1, Q, ldq, Q, ldq, 0,
             work, r);
    double coef;
    double value = norm_value_and_coef(subtract_identity(work, r), norm, &coef);
    if (dQ && coef != 0)
        ADA_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, r, d, r, (real)(weight * coef),
                 work, r, Q, ldq, 1, dQ, lddq);
    return value;
}

ada_status ada_orth_left(double *value, real *dP, int lddp, const real *P, int ldp,
                         int d, int r, ada_orth_norm norm, real weight, real *work) {
    ada_status st = check_args("ada_orth_left", value, P, ldp, d, r, norm, weight, work, dP, lddp);
    if (!st) *value = ada_orth_left_unchecked(dP, lddp, P, ldp, d, r, norm, weight, work);
    return st;
}

ada_status ada_orth_right(double *value, real *dQ, int lddq, const real *Q, int ldq,
                          int r, int d, ada_orth_norm norm, real weight, real *work) {
    ada_status st = check_args("ada_orth_right", value, Q, ldq, r, d, norm, weight, work, dQ, lddq);
    if (!st) *value = ada_orth_right_unchecked(dQ, lddq, Q, ldq, r, d, norm, weight, work);
    return st;
}

/* Eq. 4, the γ Σ_k in L = C + γ Σ_k R(P_k, Q_k), or PEFT's γ · mean. */
ada_status ada_orth_term_weight(double *weight, double gamma, ada_orth_reduce reduce,
                                int n_factors) {
    static const char fn[] = "ada_orth_term_weight";
    ADA_REQUIRE_PTR(weight, fn);
    if (n_factors < 0)
        return ada_fail(ADA_ERR_DIM, "%s: n_factors = %d, must be >= 0 (0: no adapters, no term)",
                        fn, n_factors);
    if (!isfinite(gamma)) return ada_fail(ADA_ERR_NONFINITE, "%s: gamma is not finite", fn);
    if (gamma < 0) return ada_fail(ADA_ERR_RANGE, "%s: gamma = %g, must be >= 0", fn, gamma);
    if (reduce == ADA_ORTH_SUM) *weight = gamma;
    else if (reduce == ADA_ORTH_MEAN) *weight = n_factors ? gamma / n_factors : 0.0;
    else
        return ada_fail(ADA_ERR_RANGE, "%s: reduce = %d, allowed: 0 (sum), 1 (mean)", fn,
                        (int)reduce);
    return ADA_OK;
}
