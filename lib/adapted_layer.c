/* adapted_layer.c: forward and backward of the adapted linear layer.
 * Both forms share one low-rank kernel; they differ only in the per-rank
 * coefficient c_i = s · λ_i · m_i (SVD form) or s · m_i (LoRA form). */
#include <math.h>
#include <string.h>

#include "adapted_layer.h"
#include "op_common.h"
#include "ada_error.h"

/* The dimension letters, read off the views (adapted_layer.h). */
typedef struct {
    int n, d_in, d_out, r;
} layer_dims;

/* c_i = s · λ_i · m_i, with λ = 1 when lam is NULL (LoRA) and m = 1 when keep is NULL. */
static real rank_coefficient(real scale, const real *lam, const uint8_t *keep, int i) {
    real c = scale;
    if (lam) c *= lam[i];
    if (keep && !keep[i]) c = 0;
    return c;
}

/* λ present exactly in the SVD form (likewise dλ: `what` names which). */
static ada_status check_form_vector(const char *fn, const char *what, ada_form form,
                                    const real *v) {
    if (form == ADA_FORM_SVD && !v)
        return ada_fail(ADA_ERR_NULL, "%s: %s is NULL, required in the SVD form", fn, what);
    if (form == ADA_FORM_LORA && v)
        return ada_fail(ADA_ERR_RANGE, "%s: %s is set, must be NULL in the LoRA form", fn, what);
    return ADA_OK;
}

/* The adapter, X, W0 and the cache against each other; *d gets the letters. */
static ada_status check_layer(const char *fn, layer_dims *d, ada_cmat X, ada_cmat W0,
                              const ada_adapter *ad, const ada_layer_cache *cache) {
    ADA_REQUIRE_PTR(ad, fn);
    ADA_REQUIRE_PTR(cache, fn);
    if (ad->form != ADA_FORM_SVD && ad->form != ADA_FORM_LORA)
        return ada_fail(ADA_ERR_RANGE, "%s: form = %d, allowed: 0 (svd), 1 (lora)", fn,
                        (int)ad->form);
    ada_status st = check_form_vector(fn, "lam", ad->form, ad->lam);
    if (st) return st;
    d->n = X.rows, d->d_in = X.cols, d->d_out = W0.rows, d->r = ad->P.cols;
    ADA_REQUIRE_POS(d->n, fn);
    ADA_REQUIRE_POS(d->d_in, fn);
    ADA_REQUIRE_POS(d->d_out, fn);
    ADA_REQUIRE_POS(d->r, fn);
    ADA_CHECK_VIEW(fn, "X", X, d->n, d->d_in);
    ADA_CHECK_VIEW(fn, "W0", W0, d->d_out, d->d_in);
    ADA_CHECK_VIEW(fn, "P", ad->P, d->d_out, d->r);
    ADA_CHECK_VIEW(fn, "Q", ad->Q, d->r, d->d_in);
    ADA_CHECK_VIEW(fn, "H", cache->H, d->n, d->r);
    ADA_CHECK_VIEW(fn, "G", cache->G, d->n, d->r);
    if (!isfinite(ad->scale))
        return ada_fail(ADA_ERR_NONFINITE, "%s: scale is not finite", fn);
    if (ad->lam && !ada_all_finite(ad->lam, (size_t)d->r))
        return ada_fail(ADA_ERR_NONFINITE, "%s: lambda holds NaN or Inf", fn);
    if (!ada_matrix_finite(X.data, d->n, d->d_in, X.ld))
        return ada_fail(ADA_ERR_NONFINITE, "%s: X holds NaN or Inf", fn);
    return ADA_OK;
}

/* Y = X W0ᵀ + b + G Pᵀ with H = X Qᵀ and G = H ⊙ c (c from rank_coefficient). */
static void lowrank_forward(ada_mat Y, const ada_layer_cache *c, ada_cmat X, ada_cmat W0,
                            const real *bias, const ada_adapter *ad, layer_dims d) {
    real *H = c->H.data, *G = c->G.data;
    /* H (N x r) = X (N x d2) Qᵀ (d2 x r) */
    ADA_GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, d.n, d.r, d.d_in, 1, X.data, X.ld,
             ad->Q.data, ad->Q.ld, 0, H, c->H.ld);
    for (int b = 0; b < d.n; b++) {
        const real *h = H + (size_t)b * c->H.ld;
        real *g = G + (size_t)b * c->G.ld;
        for (int i = 0; i < d.r; i++)
            g[i] = h[i] * rank_coefficient(ad->scale, ad->lam, ad->keep, i);
    }
    /* Y (N x d1) = b, then += X W0ᵀ, then += G (N x r) Pᵀ (r x d1) */
    for (int b = 0; b < d.n; b++) {
        real *y = Y.data + (size_t)b * Y.ld;
        if (bias) memcpy(y, bias, sizeof(real) * (size_t)d.d_out);
        else memset(y, 0, sizeof(real) * (size_t)d.d_out);
    }
    ADA_GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, d.n, d.d_out, d.d_in, 1, X.data, X.ld,
             W0.data, W0.ld, 1, Y.data, Y.ld);
    ADA_GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, d.n, d.d_out, d.r, 1, G, c->G.ld,
             ad->P.data, ad->P.ld, 1, Y.data, Y.ld);
}

/* dλ_i += s m_i Σ_b dG_bi H_bi, then dG becomes dH = dG ⊙ c in place. */
static void rank_backward(real *dlam, ada_mat dG, ada_cmat H, const ada_adapter *ad,
                          layer_dims d) {
    if (dlam) {
        for (int i = 0; i < d.r; i++) {
            if (ad->keep && !ad->keep[i]) continue;
            real acc = 0;
            for (int b = 0; b < d.n; b++)
                acc += dG.data[(size_t)b * dG.ld + i] * H.data[(size_t)b * H.ld + i];
            dlam[i] += ad->scale * acc;
        }
    }
    for (int b = 0; b < d.n; b++) {
        real *g = dG.data + (size_t)b * dG.ld;
        for (int i = 0; i < d.r; i++) g[i] *= rank_coefficient(ad->scale, ad->lam, ad->keep, i);
    }
}

/* Gradients of lowrank_forward, accumulated. dlam is NULL in the LoRA form. */
static void lowrank_backward(const ada_layer_grads *gr, ada_mat dG, ada_cmat dY, ada_cmat X,
                             ada_cmat W0, const ada_adapter *ad, const ada_layer_cache *c,
                             layer_dims d) {
    /* dP (d1 x r) += dYᵀ (d1 x N) G (N x r) */
    ADA_GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, d.d_out, d.r, d.n, 1, dY.data, dY.ld,
             c->G.data, c->G.ld, 1, gr->dP.data, gr->dP.ld);
    /* dG (N x r) = dY (N x d1) P (d1 x r) */
    ADA_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, d.n, d.r, d.d_out, 1, dY.data, dY.ld,
             ad->P.data, ad->P.ld, 0, dG.data, dG.ld);
    rank_backward(gr->dlam, dG, ada_cmat_from(c->H), ad, d);
    /* dQ (r x d2) += dHᵀ (r x N) X (N x d2) */
    ADA_GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, d.r, d.d_in, d.n, 1, dG.data, dG.ld,
             X.data, X.ld, 1, gr->dQ.data, gr->dQ.ld);
    if (gr->dX.data) {
        /* dX (N x d2) += dY (N x d1) W0 (d1 x d2) + dH (N x r) Q (r x d2) */
        ADA_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, d.n, d.d_in, d.d_out, 1, dY.data,
                 dY.ld, W0.data, W0.ld, 1, gr->dX.data, gr->dX.ld);
        ADA_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, d.n, d.d_in, d.r, 1, dG.data,
                 dG.ld, ad->Q.data, ad->Q.ld, 1, gr->dX.data, gr->dX.ld);
    }
}

/* Eq. 3: W = W0 + s P diag(λ ⊙ m) Q (or W0 + s B diag(m) A), applied to a batch. */
ada_status ada_layer_forward(ada_mat Y, const ada_layer_cache *cache, ada_cmat X,
                             ada_cmat W0, const real *bias, const ada_adapter *ad) {
    static const char fn[] = "ada_layer_forward";
    layer_dims d;
    ada_status st = check_layer(fn, &d, X, W0, ad, cache);
    if (st) return st;
    ADA_CHECK_VIEW(fn, "Y", Y, d.n, d.d_out);
    lowrank_forward(Y, cache, X, W0, bias, ad, d);
    return ADA_OK;
}

/* Eq. 3, backward: ∂/∂P, ∂/∂λ, ∂/∂Q and ∂/∂X of the adapted layer. */
ada_status ada_layer_backward(const ada_layer_grads *grads, ada_mat dG, ada_cmat dY,
                              ada_cmat X, ada_cmat W0, const ada_adapter *ad,
                              const ada_layer_cache *cache) {
    static const char fn[] = "ada_layer_backward";
    ADA_REQUIRE_PTR(grads, fn);
    layer_dims d;
    ada_status st = check_layer(fn, &d, X, W0, ad, cache);
    if (st) return st;
    if ((st = check_form_vector(fn, "dlam", ad->form, grads->dlam))) return st;
    ADA_CHECK_VIEW(fn, "dY", dY, d.n, d.d_out);
    ADA_CHECK_VIEW(fn, "dG", dG, d.n, d.r);
    ADA_CHECK_VIEW(fn, "dP", grads->dP, d.d_out, d.r);
    ADA_CHECK_VIEW(fn, "dQ", grads->dQ, d.r, d.d_in);
    if (grads->dX.data) ADA_CHECK_VIEW(fn, "dX", grads->dX, d.n, d.d_in);
    if (!ada_matrix_finite(dY.data, d.n, d.d_out, dY.ld))
        return ada_fail(ADA_ERR_NONFINITE, "%s: dY holds NaN or Inf", fn);
    lowrank_backward(grads, dG, dY, X, W0, ad, cache, d);
    return ADA_OK;
}
