/* adapted_layer.c: forward and backward of the adapted linear layer.
 * Both forms share one low-rank kernel; they differ only in the per-rank
 * coefficient c_i = s · λ_i · m_i (SVD form) or s · m_i (LoRA form). */
#include <math.h>
#include <string.h>

#include "adapted_layer.h"
#include "ada_error.h"

/* c_i = s · λ_i · m_i, with λ = 1 when lam is NULL and m = 1 when keep is NULL. */
static real rank_coefficient(real scale, const real *lam, const uint8_t *keep, int i) {
    real c = scale;
    if (lam) c *= lam[i];
    if (keep && !keep[i]) c = 0;
    return c;
}

static ada_status check_dims(const char *fn, ada_layer_dims d, int ldx, int ldw,
                             int ldp, int ldq, int ldh) {
    ADA_REQUIRE_POS(d.n, fn);
    ADA_REQUIRE_POS(d.d_in, fn);
    ADA_REQUIRE_POS(d.d_out, fn);
    ADA_REQUIRE_POS(d.r, fn);
    ADA_REQUIRE_LD(ldx, d.d_in, fn);
    ADA_REQUIRE_LD(ldw, d.d_in, fn);
    ADA_REQUIRE_LD(ldp, d.r, fn);
    ADA_REQUIRE_LD(ldq, d.d_in, fn);
    ADA_REQUIRE_LD(ldh, d.r, fn);
    return ADA_OK;
}

static ada_status check_values(const char *fn, const real *X, int ldx, const real *lam,
                               real scale, ada_layer_dims d) {
    if (!isfinite(scale))
        return ada_fail(ADA_ERR_NONFINITE, "%s: scale is not finite", fn);
    if (lam && !ada_all_finite(lam, (size_t)d.r))
        return ada_fail(ADA_ERR_NONFINITE, "%s: lambda holds NaN or Inf", fn);
    if (!ada_matrix_finite(X, d.n, d.d_in, ldx))
        return ada_fail(ADA_ERR_NONFINITE, "%s: X holds NaN or Inf", fn);
    return ADA_OK;
}

/* Y = X W0ᵀ + b + G Pᵀ with H = X Qᵀ and G = H ⊙ c (c from rank_coefficient). */
static void lowrank_forward(real *Y, int ldy, real *H, real *G, int ldh, const real *X,
                            int ldx, const real *W0, int ldw, const real *bias,
                            const real *P, int ldp, const real *lam, const uint8_t *keep,
                            const real *Q, int ldq, real scale, ada_layer_dims d) {
    /* H (N x r) = X (N x d2) Qᵀ (d2 x r) */
    ADA_GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, d.n, d.r, d.d_in, 1, X, ldx, Q,
             ldq, 0, H, ldh);
    for (int b = 0; b < d.n; b++) {
        const real *h = H + (size_t)b * ldh;
        real *g = G + (size_t)b * ldh;
        for (int i = 0; i < d.r; i++) g[i] = h[i] * rank_coefficient(scale, lam, keep, i);
    }
    /* Y (N x d1) = b, then += X W0ᵀ, then += G (N x r) Pᵀ (r x d1) */
    for (int b = 0; b < d.n; b++) {
        real *y = Y + (size_t)b * ldy;
        if (bias) memcpy(y, bias, sizeof(real) * (size_t)d.d_out);
        else memset(y, 0, sizeof(real) * (size_t)d.d_out);
    }
    ADA_GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, d.n, d.d_out, d.d_in, 1, X, ldx,
             W0, ldw, 1, Y, ldy);
    ADA_GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, d.n, d.d_out, d.r, 1, G, ldh, P,
             ldp, 1, Y, ldy);
}

/* Gradients of lowrank_forward, accumulated. dlam may be NULL (LoRA form). */
static void lowrank_backward(real *dX, int lddx, real *dP, real *dlam, real *dQ,
                             real *dG, const real *dY, int lddy, const real *X, int ldx,
                             const real *W0, int ldw, const real *P, int ldp,
                             const real *lam, const uint8_t *keep, const real *Q,
                             int ldq, const real *H, const real *G, int ldh, real scale,
                             ada_layer_dims d) {
    /* dP (d1 x r) += dYᵀ (d1 x N) G (N x r) */
    ADA_GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, d.d_out, d.r, d.n, 1, dY, lddy, G,
             ldh, 1, dP, ldp);
    /* dG (N x r) = dY (N x d1) P (d1 x r) */
    ADA_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, d.n, d.r, d.d_out, 1, dY, lddy,
             P, ldp, 0, dG, ldh);
    /* dλ_i += s m_i Σ_b dG_bi H_bi, then dG becomes dH = dG ⊙ c in place */
    if (dlam) {
        for (int i = 0; i < d.r; i++) {
            if (keep && !keep[i]) continue;
            real acc = 0;
            for (int b = 0; b < d.n; b++)
                acc += dG[(size_t)b * ldh + i] * H[(size_t)b * ldh + i];
            dlam[i] += scale * acc;
        }
    }
    for (int b = 0; b < d.n; b++) {
        real *g = dG + (size_t)b * ldh;
        for (int i = 0; i < d.r; i++) g[i] *= rank_coefficient(scale, lam, keep, i);
    }
    /* dQ (r x d2) += dHᵀ (r x N) X (N x d2) */
    ADA_GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, d.r, d.d_in, d.n, 1, dG, ldh, X,
             ldx, 1, dQ, ldq);
    if (dX) {
        /* dX (N x d2) += dY (N x d1) W0 (d1 x d2) + dH (N x r) Q (r x d2) */
        ADA_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, d.n, d.d_in, d.d_out, 1, dY,
                 lddy, W0, ldw, 1, dX, lddx);
        ADA_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, d.n, d.d_in, d.r, 1, dG, ldh,
                 Q, ldq, 1, dX, lddx);
    }
}

/* Eq. 3: W = W0 + s P diag(λ ⊙ m) Q, applied to a batch. */
ada_status ada_svd_layer_forward(real *Y, int ldy, real *H, real *G, int ldh,
                                 const real *X, int ldx, const real *W0, int ldw,
                                 const real *bias, const real *P, int ldp,
                                 const real *lam, const uint8_t *keep, const real *Q,
                                 int ldq, real scale, ada_layer_dims dims) {
    static const char fn[] = "ada_svd_layer_forward";
    ADA_REQUIRE_PTR(Y, fn); ADA_REQUIRE_PTR(H, fn); ADA_REQUIRE_PTR(G, fn);
    ADA_REQUIRE_PTR(X, fn); ADA_REQUIRE_PTR(W0, fn); ADA_REQUIRE_PTR(P, fn);
    ADA_REQUIRE_PTR(lam, fn); ADA_REQUIRE_PTR(Q, fn);
    ada_status st = check_dims(fn, dims, ldx, ldw, ldp, ldq, ldh);
    if (st) return st;
    ADA_REQUIRE_LD(ldy, dims.d_out, fn);
    if ((st = check_values(fn, X, ldx, lam, scale, dims))) return st;
    lowrank_forward(Y, ldy, H, G, ldh, X, ldx, W0, ldw, bias, P, ldp, lam, keep, Q, ldq,
                    scale, dims);
    return ADA_OK;
}

/* Eq. 3, backward: ∂/∂P, ∂/∂λ, ∂/∂Q and ∂/∂X of the SVD-form layer. */
ada_status ada_svd_layer_backward(real *dX, int lddx, real *dP, real *dlam, real *dQ,
                                  real *dG, const real *dY, int lddy, const real *X,
                                  int ldx, const real *W0, int ldw, const real *P,
                                  int ldp, const real *lam, const uint8_t *keep,
                                  const real *Q, int ldq, const real *H, const real *G,
                                  int ldh, real scale, ada_layer_dims dims) {
    static const char fn[] = "ada_svd_layer_backward";
    ADA_REQUIRE_PTR(dP, fn); ADA_REQUIRE_PTR(dlam, fn); ADA_REQUIRE_PTR(dQ, fn);
    ADA_REQUIRE_PTR(dG, fn); ADA_REQUIRE_PTR(dY, fn); ADA_REQUIRE_PTR(X, fn);
    ADA_REQUIRE_PTR(W0, fn); ADA_REQUIRE_PTR(P, fn); ADA_REQUIRE_PTR(lam, fn);
    ADA_REQUIRE_PTR(Q, fn); ADA_REQUIRE_PTR(H, fn); ADA_REQUIRE_PTR(G, fn);
    ada_status st = check_dims(fn, dims, ldx, ldw, ldp, ldq, ldh);
    if (st) return st;
    ADA_REQUIRE_LD(lddy, dims.d_out, fn);
    if (dX) ADA_REQUIRE_LD(lddx, dims.d_in, fn);
    if ((st = check_values(fn, X, ldx, lam, scale, dims))) return st;
    if (!ada_matrix_finite(dY, dims.n, dims.d_out, lddy))
        return ada_fail(ADA_ERR_NONFINITE, "%s: dY holds NaN or Inf", fn);
    lowrank_backward(dX, lddx, dP, dlam, dQ, dG, dY, lddy, X, ldx, W0, ldw, P, ldp, lam,
                     keep, Q, ldq, H, G, ldh, scale, dims);
    return ADA_OK;
}

/* LoRA: W = W0 + s B diag(m) A. */
ada_status ada_lora_layer_forward(real *Y, int ldy, real *H, real *G, int ldh,
                                  const real *X, int ldx, const real *W0, int ldw,
                                  const real *bias, const real *B, int ldb,
                                  const uint8_t *keep, const real *A, int lda,
                                  real scale, ada_layer_dims dims) {
    static const char fn[] = "ada_lora_layer_forward";
    ADA_REQUIRE_PTR(Y, fn); ADA_REQUIRE_PTR(H, fn); ADA_REQUIRE_PTR(G, fn);
    ADA_REQUIRE_PTR(X, fn); ADA_REQUIRE_PTR(W0, fn); ADA_REQUIRE_PTR(B, fn);
    ADA_REQUIRE_PTR(A, fn);
    ada_status st = check_dims(fn, dims, ldx, ldw, ldb, lda, ldh);
    if (st) return st;
    ADA_REQUIRE_LD(ldy, dims.d_out, fn);
    if ((st = check_values(fn, X, ldx, NULL, scale, dims))) return st;
    lowrank_forward(Y, ldy, H, G, ldh, X, ldx, W0, ldw, bias, B, ldb, NULL, keep, A, lda,
                    scale, dims);
    return ADA_OK;
}

/* LoRA backward: ∂/∂B, ∂/∂A and ∂/∂X. */
ada_status ada_lora_layer_backward(real *dX, int lddx, real *dB, real *dA, real *dG,
                                   const real *dY, int lddy, const real *X, int ldx,
                                   const real *W0, int ldw, const real *B, int ldb,
                                   const uint8_t *keep, const real *A, int lda,
                                   const real *H, const real *G, int ldh, real scale,
                                   ada_layer_dims dims) {
    static const char fn[] = "ada_lora_layer_backward";
    ADA_REQUIRE_PTR(dB, fn); ADA_REQUIRE_PTR(dA, fn); ADA_REQUIRE_PTR(dG, fn);
    ADA_REQUIRE_PTR(dY, fn); ADA_REQUIRE_PTR(X, fn); ADA_REQUIRE_PTR(W0, fn);
    ADA_REQUIRE_PTR(B, fn); ADA_REQUIRE_PTR(A, fn); ADA_REQUIRE_PTR(H, fn);
    ADA_REQUIRE_PTR(G, fn);
    ada_status st = check_dims(fn, dims, ldx, ldw, ldb, lda, ldh);
    if (st) return st;
    ADA_REQUIRE_LD(lddy, dims.d_out, fn);
    if (dX) ADA_REQUIRE_LD(lddx, dims.d_in, fn);
    if ((st = check_values(fn, X, ldx, NULL, scale, dims))) return st;
    if (!ada_matrix_finite(dY, dims.n, dims.d_out, lddy))
        return ada_fail(ADA_ERR_NONFINITE, "%s: dY holds NaN or Inf", fn);
    lowrank_backward(dX, lddx, dB, NULL, dA, dG, dY, lddy, X, ldx, W0, ldw, B, ldb, NULL,
                     keep, A, lda, H, G, ldh, scale, dims);
    return ADA_OK;
}
