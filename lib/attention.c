/* attention.c: forward and backward of multi-head scaled dot-product
 * self-attention with a key padding mask (attention.h). */
#include <limits.h>
#include <math.h>

#include "attention.h"
#include "ada_error.h"
#include "op_common.h"

/* The letters B, T, H checked and D = C / H read off q; q, k, v checked. */
static ada_status check_heads(const char *fn, int *D, ada_cmat q, ada_cmat k, ada_cmat v, int B,
                              int T, int H) {
    ADA_REQUIRE_POS(B, fn);
    ADA_REQUIRE_POS(T, fn);
    ADA_REQUIRE_POS(H, fn);
    if (B > INT_MAX / T)
        return ada_fail(ADA_ERR_DIM, "%s: B·T = %d·%d overflows int, must be <= %d", fn, B, T, INT_MAX);
    const int C = q.cols;
    ADA_REQUIRE_POS(C, fn);
    if (C % H != 0)
        return ada_fail(ADA_ERR_DIM, "%s: q.cols = C = %d, must be a multiple of H = %d", fn, C, H);
    *D = C / H;
    ADA_CHECK_VIEW(fn, "q", q, B * T, C);
    ADA_CHECK_VIEW(fn, "k", k, B * T, C);
    ADA_CHECK_VIEW(fn, "v", v, B * T, C);
    return ADA_OK;
}

/* Every entry 0 or 1, and at least one 1 per sequence. */
static ada_status check_mask(const char *fn, const uint8_t *key_mask, int B, int T) {
    for (int b = 0; b < B; b++) {
        int real_tokens = 0;
        for (int t = 0; t < T; t++) {
            const uint8_t m = key_mask[(size_t)b * T + t];
            if (m > 1)
                return ada_fail(ADA_ERR_RANGE,
                                "%s: key_mask[%d] = %d (sequence %d, token %d), allowed: 0 (padding), 1 (real)",
                                fn, b * T + t, (int)m, b, t);
            real_tokens += m;
        }
        if (!real_tokens)
            return ada_fail(ADA_ERR_RANGE,
                            "%s: sequence %d has no real token (key_mask all 0), needs at least one 1",
                            fn, b);
    }
    return ADA_OK;
}

/* One row of scores s (T) becomes softmax over the real keys (mask NULL: all
 * real), 0 at the padded ones; max-subtracted, exp and sum in double. */
static void masked_softmax_row(real *s, const uint8_t *mask, int T) {
    double top = -INFINITY, sum = 0;
    for (int j = 0; j < T; j++)
        if ((!mask || mask[j]) && s[j] > top) top = s[j];
    for (int j = 0; j < T; j++) {
        const double e = !mask || mask[j] ? exp((double)s[j] - top) : 0.0;
        sum += e;
        s[j] = (real)e;
    }
    const double inv = 1.0 / sum;
    for (int j = 0; j < T; j++) s[j] = (real)(s[j] * inv);
}

/* Head h of sequence b in a (B·T) x C view: a T x D block at ld v.ld. */
static const real *head(ada_cmat v, int b, int h, int T, int D) {
    return v.data + (size_t)b * T * v.ld + (size_t)h * D;
}
static real *head_w(ada_mat v, int b, int h, int T, int D) {
    return v.data + (size_t)b * T * v.ld + (size_t)h * D;
}

/* A_bh = softmax(Q_bh K_bhᵀ / sqrt(D), masked), O_bh = A_bh V_bh for every (b, h):
 * out ((B·T) x C), att (B·H·T·T), q, k, v ((B·T) x C), key_mask (B x T or NULL). */
ada_status ada_attention_forward(ada_mat out, real *att, ada_cmat q, ada_cmat k, ada_cmat v,
                                 const uint8_t *key_mask, int B, int T, int H) {
    static const char fn[] = "ada_attention_forward";
    int D;
    ada_status st = check_heads(fn, &D, q, k, v, B, T, H);
    if (st) return st;
    ADA_CHECK_VIEW(fn, "out", out, B * T, q.cols);
    ADA_REQUIRE_PTR(att, fn);
    if (key_mask && (st = check_mask(fn, key_mask, B, T))) return st;
    ADA_CHECK_FINITE(fn, "q", q);
    ADA_CHECK_FINITE(fn, "k", k);
    ADA_CHECK_FINITE(fn, "v", v);
    const real scale = (real)(1.0 / sqrt((double)D));
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            real *A = att + ((size_t)b * H + h) * T * T;
            /* A (T x T) = scale · Q_bh (T x D) K_bhᵀ (D x T), then the masked softmax by rows */
            ADA_GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, D, scale, head(q, b, h, T, D),
                     q.ld, head(k, b, h, T, D), k.ld, 0, A, T);
            for (int i = 0; i < T; i++)
                masked_softmax_row(A + (size_t)i * T, key_mask ? key_mask + (size_t)b * T : NULL, T);
            /* O_bh (T x D) = A (T x T) V_bh (T x D) */
            ADA_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, D, T, 1, A, T,
                     head(v, b, h, T, D), v.ld, 0, head_w(out, b, h, T, D), out.ld);
        }
    return ADA_OK;
}

/* Backward of attention, for every (b, h), with dA = dO Vᵀ and the softmax's
 *   dS_ij = A_ij (dA_ij − Σ_k A_ik dA_ik):
 *   dV += Aᵀ dO,  dQ += dS K / sqrt(D),  dK += dSᵀ Q / sqrt(D).
 * dq, dk, dv, dout, q, k, v: (B·T) x C; att: B·H·T·T; datt: T·T scratch (dA, then dS). */
ada_status ada_attention_backward(ada_mat dq, ada_mat dk, ada_mat dv, real *datt,
                                  ada_cmat dout, ada_cmat q, ada_cmat k, ada_cmat v,
                                  const real *att, int B, int T, int H) {
    static const char fn[] = "ada_attention_backward";
    int D;
    ada_status st = check_heads(fn, &D, q, k, v, B, T, H);
    if (st) return st;
    const int N = B * T, C = q.cols;
    ADA_CHECK_VIEW(fn, "dout", dout, N, C);
    ADA_CHECK_VIEW(fn, "dq", dq, N, C);
    ADA_CHECK_VIEW(fn, "dk", dk, N, C);
    ADA_CHECK_VIEW(fn, "dv", dv, N, C);
    ADA_REQUIRE_PTR(att, fn);
    ADA_REQUIRE_PTR(datt, fn);
    ADA_CHECK_FINITE(fn, "dout", dout);
    const real scale = (real)(1.0 / sqrt((double)D));
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            const real *A = att + ((size_t)b * H + h) * T * T, *dO = head(dout, b, h, T, D);
            /* dV_bh (T x D) += Aᵀ (T x T) dO_bh (T x D) */
            ADA_GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, T, D, T, 1, A, T, dO, dout.ld, 1,
                     head_w(dv, b, h, T, D), dv.ld);
            /* dA (T x T) = dO_bh (T x D) V_bhᵀ (D x T) */
            ADA_GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, D, 1, dO, dout.ld,
                     head(v, b, h, T, D), v.ld, 0, datt, T);
            /* dS = A ⊙ (dA − rowsum(A ⊙ dA)), in place */
            for (int i = 0; i < T; i++) {
                const real *a = A + (size_t)i * T;
                real *g = datt + (size_t)i * T;
                double dot = 0;
                for (int j = 0; j < T; j++) dot += (double)a[j] * g[j];
                for (int j = 0; j < T; j++) g[j] = (real)(a[j] * (g[j] - dot));
            }
            /* dQ_bh (T x D) += scale · dS (T x T) K_bh (T x D);  dK_bh += scale · dSᵀ Q_bh */
            ADA_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, D, T, scale, datt, T,
                     head(k, b, h, T, D), k.ld, 1, head_w(dq, b, h, T, D), dq.ld);
            ADA_GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, T, D, T, scale, datt, T,
                     head(q, b, h, T, D), q.ld, 1, head_w(dk, b, h, T, D), dk.ld);
        }
    return ADA_OK;
}
