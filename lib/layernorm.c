/* layernorm.c: forward and backward of LayerNorm over each row (layernorm.h). */
#include <math.h>

#include "layernorm.h"
#include "ada_error.h"
#include "op_common.h"

/* Columns per block of the dγ, dβ sums (double accumulators on the stack). */
enum { PARAM_BLOCK = 64 };

/* x and the row statistics; N and C read off x. */
static ada_status check_norm(const char *fn, int *N, int *C, ada_cmat x, const real *gamma,
                             const real *mean, const real *rstd) {
    *N = x.rows, *C = x.cols;
    ADA_REQUIRE_POS(*N, fn);
    ADA_REQUIRE_POS(*C, fn);
    ADA_CHECK_VIEW(fn, "x", x, *N, *C);
    ADA_REQUIRE_PTR(gamma, fn);
    ADA_REQUIRE_PTR(mean, fn);
    ADA_REQUIRE_PTR(rstd, fn);
    return ADA_OK;
}

/* Eq. y = (x − μ) rstd ⊙ γ + β, rstd = 1/sqrt(σ² + eps), row by row:
 * y (N x C), mean (N), rstd (N), x (N x C), gamma (C), beta (C). */
ada_status ada_layernorm_forward(ada_mat y, real *mean, real *rstd, ada_cmat x,
                                 const real *gamma, const real *beta, double eps) {
    static const char fn[] = "ada_layernorm_forward";
    int N, C;
    ada_status st = check_norm(fn, &N, &C, x, gamma, mean, rstd);
    if (st) return st;
    ADA_REQUIRE_PTR(beta, fn);
    ADA_CHECK_VIEW(fn, "y", y, N, C);
    if (y.data == x.data) return ada_fail(ADA_ERR_RANGE, "%s: y is x, must be a separate buffer", fn);
    if (!(eps > 0) || !isfinite(eps))
        return ada_fail(ADA_ERR_RANGE, "%s: eps = %g, must be finite and > 0", fn, eps);
    ADA_CHECK_FINITE(fn, "x", x);
    for (int n = 0; n < N; n++) {
        const real *xr = x.data + (size_t)n * x.ld;
        real *yr = y.data + (size_t)n * y.ld;
        double sum = 0, sq = 0;
        for (int j = 0; j < C; j++) sum += xr[j];
        const double mu = sum / C;
        for (int j = 0; j < C; j++) sq += ((double)xr[j] - mu) * ((double)xr[j] - mu);
        const double r = 1.0 / sqrt(sq / C + eps);
        for (int j = 0; j < C; j++) yr[j] = (real)(((double)xr[j] - mu) * r * gamma[j] + beta[j]);
        mean[n] = (real)mu;
        rstd[n] = (real)r;
    }
    return ADA_OK;
}

/* dγ_j += Σ_n dy_nj x̂_nj, dβ_j += Σ_n dy_nj, x̂ = (x − μ) rstd; in double,
 * in column blocks so the rows are read in order. */
static void param_grads(real *dgamma, real *dbeta, ada_cmat dy, ada_cmat x, const real *mean,
                        const real *rstd) {
    for (int j0 = 0; dgamma && j0 < x.cols; j0 += PARAM_BLOCK) {
        const int w = x.cols - j0 < PARAM_BLOCK ? x.cols - j0 : PARAM_BLOCK;
        double g[PARAM_BLOCK] = {0};
        for (int n = 0; n < x.rows; n++) {
            const real *xr = x.data + (size_t)n * x.ld + j0, *dr = dy.data + (size_t)n * dy.ld + j0;
            for (int j = 0; j < w; j++) g[j] += (double)dr[j] * (((double)xr[j] - mean[n]) * rstd[n]);
        }
        for (int j = 0; j < w; j++) dgamma[j0 + j] += (real)g[j];
    }
    if (dbeta) ada_add_column_sums(dbeta, dy);
}

/* Backward of LayerNorm, per row with g = dy ⊙ γ and x̂ = (x − μ) rstd:
 *   dx += rstd (g − mean(g) − x̂ mean(g ⊙ x̂)),  dγ += Σ_n dy ⊙ x̂,  dβ += Σ_n dy.
 * dx, dy, x: N x C; dgamma, dbeta, gamma: C; mean, rstd: N. */
ada_status ada_layernorm_backward(ada_mat dx, real *dgamma, real *dbeta, ada_cmat dy, ada_cmat x,
                                  const real *gamma, const real *mean, const real *rstd) {
    static const char fn[] = "ada_layernorm_backward";
    int N, C;
    ada_status st = check_norm(fn, &N, &C, x, gamma, mean, rstd);
    if (st) return st;
    ADA_CHECK_VIEW(fn, "dy", dy, N, C);
    ADA_CHECK_VIEW(fn, "dx", dx, N, C);
    ADA_CHECK_FINITE(fn, "dy", dy);
    for (int n = 0; n < N; n++) {
        const real *xr = x.data + (size_t)n * x.ld, *dr = dy.data + (size_t)n * dy.ld;
        real *gr = dx.data + (size_t)n * dx.ld;
        const double mu = mean[n], r = rstd[n];
        double s_g = 0, s_gx = 0;
        for (int j = 0; j < C; j++) {
            const double g = (double)dr[j] * gamma[j];
            s_g += g;
            s_gx += g * ((xr[j] - mu) * r);
        }
        s_g /= C, s_gx /= C;
        for (int j = 0; j < C; j++)
            gr[j] += (real)(r * ((double)dr[j] * gamma[j] - s_g - ((xr[j] - mu) * r) * s_gx));
    }
    param_grads(dgamma, dbeta, dy, x, mean, rstd);
    return ADA_OK;
}
