/* adapted_layer.h: a frozen linear layer plus a trainable low-rank update, in
 * the two forms the project compares.
 *
 *   SVD form (AdaLoRA, Eq. 3):  Y = X W0ᵀ + b + s · ((X Qᵀ) ⊙ (λ ⊙ m)) Pᵀ
 *   LoRA form (baselines):      Y = X W0ᵀ + b + s · ((X Aᵀ) ⊙ m) Bᵀ
 *
 * Dimension letters: N batch rows, d2 inputs, d1 outputs, r rank (r0).
 * Shapes (row-major, every matrix with its own leading dimension):
 *   X (N x d2, ldx)  W0 (d1 x d2, ldw)  b (d1, may be NULL)  Y (N x d1, ldy)
 *   P, B (d1 x r, ldp)  λ (r)  Q, A (r x d2, ldq)  m (r keep flags, NULL = all kept)
 *   H (N x r, ldh) saves X Qᵀ; G (N x r, ldh) saves H scaled by s·λ⊙m.
 * Forward writes Y, H and G. Backward reads them and ACCUMULATES (+=) into
 * dX, dP, dλ and dQ (llm.c convention: the caller zeroes gradients once per
 * step); dX may be NULL when the input needs no gradient. dG (N x r, ldh) is
 * scratch. W0 and b are frozen: no gradient. */
#ifndef ADA_ADAPTED_LAYER_H
#define ADA_ADAPTED_LAYER_H

#include "ada_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int n;      /* batch rows */
    int d_in;   /* d2 */
    int d_out;  /* d1 */
    int r;      /* rank r0: columns of P, rows of Q */
} ada_layer_dims;

/* Eq. 3: forward of the SVD-form adapted layer. */
ada_status ada_svd_layer_forward(real *Y, int ldy, real *H, real *G, int ldh,
                                 const real *X, int ldx, const real *W0, int ldw,
                                 const real *bias, const real *P, int ldp,
                                 const real *lam, const uint8_t *keep,
                                 const real *Q, int ldq, real scale,
                                 ada_layer_dims dims);

/* Eq. 3: backward of the SVD-form layer: dX, dP, dλ, dQ from dY. */
ada_status ada_svd_layer_backward(real *dX, int lddx, real *dP, real *dlam,
                                  real *dQ, real *dG, const real *dY, int lddy,
                                  const real *X, int ldx, const real *W0, int ldw,
                                  const real *P, int ldp, const real *lam,
                                  const uint8_t *keep, const real *Q, int ldq,
                                  const real *H, const real *G, int ldh,
                                  real scale, ada_layer_dims dims);

/* LoRA: forward of ΔW = s · B A (B in the P slot, A in the Q slot). */
ada_status ada_lora_layer_forward(real *Y, int ldy, real *H, real *G, int ldh,
                                  const real *X, int ldx, const real *W0, int ldw,
                                  const real *bias, const real *B, int ldb,
                                  const uint8_t *keep, const real *A, int lda,
                                  real scale, ada_layer_dims dims);

/* LoRA: backward giving dX, dB, dA. */
ada_status ada_lora_layer_backward(real *dX, int lddx, real *dB, real *dA,
                                   real *dG, const real *dY, int lddy,
                                   const real *X, int ldx, const real *W0, int ldw,
                                   const real *B, int ldb, const uint8_t *keep,
                                   const real *A, int lda, const real *H,
                                   const real *G, int ldh, real scale,
                                   ada_layer_dims dims);

#ifdef __cplusplus
}
#endif
#endif
