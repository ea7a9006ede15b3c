/* attention.h: multi-head scaled dot-product self-attention without the
 * projections (the core of HF's BertSelfAttention). For each sequence b and
 * head h:
 *
 *   A_bh = softmax(Q_bh K_bhᵀ / sqrt(D), padded keys excluded),   O_bh = A_bh V_bh
 *
 * Dimension letters: B sequences, T tokens, H heads, C = H·D width (read off
 * q.cols), D head size. Activations are token-major: sequence b token t is
 * row b·T + t. q, k, v, out, dq, dk, dv, dout: (B·T) x C views (each its own
 * ld), head h = columns h·D .. h·D + D − 1. key_mask: B x T bytes, 1 = real
 * token, 0 = padding (its probability is exactly 0, as HF's additive finfo.min
 * mask gives after exp underflows); NULL = every token real; other values and
 * a sequence with no real token are refused (ADA_ERR_RANGE). att: B·H·T·T
 * probabilities, [b][h][i][j] contiguous, written by the forward and read by
 * the backward. datt: T·T scratch. The softmax subtracts the row maximum and
 * takes exp and the row sum in double. Every product is one GEMM per (b, h) on
 * the views in place (no copies). The backward ACCUMULATES (+=) into dq, dk, dv. */
#ifndef ADA_ATTENTION_H
#define ADA_ATTENTION_H

#include "ada_common.h"
#include "matrix.h"

#ifdef __cplusplus
extern "C" {
#endif

/* out ((B·T) x C), att (B·H·T·T) from q, k, v ((B·T) x C) and key_mask (B x T). */
ada_status ada_attention_forward(ada_mat out, real *att, ada_cmat q, ada_cmat k, ada_cmat v,
                                 const uint8_t *key_mask, int B, int T, int H);

/* dq, dk, dv ((B·T) x C) += the gradients from dout ((B·T) x C), with the
 * forward's att of the same q, k, v; datt: T·T scratch. */
ada_status ada_attention_backward(ada_mat dq, ada_mat dk, ada_mat dv, real *datt,
                                  ada_cmat dout, ada_cmat q, ada_cmat k, ada_cmat v,
                                  const real *att, int B, int T, int H);

#ifdef __cplusplus
}
#endif
#endif
