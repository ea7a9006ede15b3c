/* optimizer.c: AdamW, SGD and global-norm clipping as flat loops. */
#include <math.h>

#include "optimizer.h"
#include "ada_error.h"
#include "ada_internal.h"

ada_optimizer_config ada_optimizer_defaults(void) {
    ada_optimizer_config c = {ADA_OPT_ADAMW, 1e-3, 0.9, 0.999, 1e-8, 0.01};
    return c;
}

ada_status ada_optimizer_check(const ada_optimizer_config *c) {
    static const char fn[] = "ada_optimizer_check";
    ADA_REQUIRE_PTR(c, fn);
    if (c->kind != ADA_OPT_ADAMW && c->kind != ADA_OPT_SGD)
        return ada_fail(ADA_ERR_RANGE, "%s: kind = %d, allowed: 0 (adamw), 1 (sgd)", fn,
                        (int)c->kind);
    if (!isfinite(c->lr) || !isfinite(c->weight_decay) || !isfinite(c->beta1) ||
        !isfinite(c->beta2) || !isfinite(c->eps))
        return ada_fail(ADA_ERR_NONFINITE, "%s: a hyper-parameter is NaN or Inf", fn);
    if (c->lr < 0) return ada_fail(ADA_ERR_RANGE, "%s: lr = %g, must be >= 0", fn, c->lr);
    if (c->weight_decay < 0)
        return ada_fail(ADA_ERR_RANGE, "%s: weight_decay = %g, must be >= 0", fn,
                        c->weight_decay);
    if (c->kind == ADA_OPT_ADAMW) {
        if (!(c->beta1 >= 0 && c->beta1 < 1) || !(c->beta2 >= 0 && c->beta2 < 1))
            return ada_fail(ADA_ERR_RANGE,
                            "%s: adam betas = (%g, %g), allowed: 0 <= beta < 1", fn,
                            c->beta1, c->beta2);
        if (!(c->eps > 0)) return ada_fail(ADA_ERR_RANGE, "%s: eps = %g, must be > 0", fn, c->eps);
    }
    return ADA_OK;
}

/* torch.optim.AdamW's step over a flat arena; c validated by ada_optimizer_check. */
void ada_adamw_update_unchecked(real *w, real *m, real *v, const real *g, size_t n,
                                const ada_optimizer_config *c, long t) {
    const real decay = (real)(1.0 - c->lr * c->weight_decay);
    const real one_minus_b1 = (real)(1.0 - c->beta1);
    const real b2 = (real)c->beta2, one_minus_b2 = (real)(1.0 - c->beta2);
    const double bias1 = 1.0 - pow(c->beta1, (double)t);
    const real step_size = (real)(c->lr / bias1);
    const real bias2_sqrt = (real)sqrt(1.0 - pow(c->beta2, (double)t));
    const real eps = (real)c->eps;
    for (size_t i = 0; i < n; i++) {
        w[i] *= decay;                                 /* decoupled weight decay */
        m[i] += one_minus_b1 * (g[i] - m[i]);          /* torch: exp_avg.lerp_(g, 1 − β1) */
        v[i] = v[i] * b2 + one_minus_b2 * g[i] * g[i]; /* exp_avg_sq.mul_(β2).addcmul_ */
        real denom = (real)sqrt((double)v[i]) / bias2_sqrt + eps;
        w[i] -= step_size * (m[i] / denom);
    }
}

ada_status ada_adamw_update(real *w, real *m, real *v, const real *g, size_t n,
                            const ada_optimizer_config *c, long t) {
    static const char fn[] = "ada_adamw_update";
    ADA_REQUIRE_PTR(w, fn); ADA_REQUIRE_PTR(m, fn); ADA_REQUIRE_PTR(v, fn);
    ADA_REQUIRE_PTR(g, fn);
    ada_status st = ada_optimizer_check(c);
    if (st) return st;
    if (t < 1) return ada_fail(ADA_ERR_RANGE, "%s: t = %ld, must be >= 1", fn, t);
    ada_adamw_update_unchecked(w, m, v, g, n, c, t);
    return ADA_OK;
}

void ada_sgd_update_unchecked(real *w, const real *g, size_t n, const ada_optimizer_config *c) {
    const real lr = (real)c->lr, wd = (real)c->weight_decay;
    for (size_t i = 0; i < n; i++) w[i] -= lr * (g[i] + wd * w[i]);
}

ada_status ada_sgd_update(real *w, const real *g, size_t n, const ada_optimizer_config *c) {
    static const char fn[] = "ada_sgd_update";
    ADA_REQUIRE_PTR(w, fn); ADA_REQUIRE_PTR(g, fn);
    ada_status st = ada_optimizer_check(c);
    if (st) return st;
    ada_sgd_update_unchecked(w, g, n, c);
    return ADA_OK;
}

ada_status ada_clip_grad_norm(double *total_norm, real *g, size_t n, double max_norm) {
    static const char fn[] = "ada_clip_grad_norm";
    ADA_REQUIRE_PTR(total_norm, fn); ADA_REQUIRE_PTR(g, fn);
    if (!isfinite(max_norm))
        return ada_fail(ADA_ERR_NONFINITE, "%s: max_norm is %g", fn, max_norm);
    if (!(max_norm > 0))
        return ada_fail(ADA_ERR_RANGE, "%s: max_norm = %g, must be > 0", fn, max_norm);
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += (double)g[i] * g[i];
    double norm = sqrt(sum);
    if (!isfinite(norm)) return ada_fail(ADA_ERR_NONFINITE, "%s: gradient norm is %g", fn, norm);
    double coef = max_norm / (norm + 1e-6);
    if (coef < 1.0) {
        const real c = (real)coef;
        for (size_t i = 0; i < n; i++) g[i] *= c;
    }
    *total_norm = norm;
    return ADA_OK;
}
