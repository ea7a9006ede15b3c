/* adapted_layer.h: a frozen linear layer plus a trainable low-rank update, in
 * the two forms the project compares (ada_form):
 *
 *   SVD form (AdaLoRA, Eq. 3):  Y = X W0ᵀ + b + s · ((X Qᵀ) ⊙ (λ ⊙ m)) Pᵀ
 *   LoRA form (baselines):      Y = X W0ᵀ + b + s · ((X Aᵀ) ⊙ m) Bᵀ
 *
 * Dimension letters: N batch rows, d2 inputs, d1 outputs, r rank (r0).
 * Shapes (row-major views, matrix.h, each with its own leading dimension):
 *   X (N x d2)  W0 (d1 x d2)  b (d1, may be NULL)  Y (N x d1)
 *   P, B (d1 x r)  λ (r)  Q, A (r x d2)  m (r keep flags, NULL = all kept)
 *   cache H (N x r) saves X Qᵀ; cache G (N x r) saves H scaled by s·λ⊙m.
 * The letters come from the views: N = X.rows, d2 = X.cols, d1 = W0.rows,
 * r = P.cols; every other view must have the shape above (ADA_ERR_DIM).
 * Forward writes Y and the cache. Backward reads them and ACCUMULATES (+=)
 * into dX, dP, dλ and dQ (llm.c convention: the caller zeroes gradients once
 * per step); dX.data may be NULL when the input needs no gradient. dG (N x r)
 * is scratch. W0 and b are frozen: no gradient. */
#ifndef ADA_ADAPTED_LAYER_H
#define ADA_ADAPTED_LAYER_H

#include "ada_common.h"
#include "matrix.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The trainable update of one layer. lam is required in the SVD form and
 * must be NULL in the LoRA form (refused otherwise). */
typedef struct {
    ada_form form;
    ada_cmat P;           /* d1 x r: P (SVD) or B (LoRA) */
    const real *lam;      /* r: λ (SVD); NULL (LoRA) */
    const uint8_t *keep;  /* r keep flags m; NULL = all kept */
    ada_cmat Q;           /* r x d2: Q (SVD) or A (LoRA) */
    real scale;           /* s */
} ada_adapter;

/* What the forward saves for the backward. */
typedef struct {
    ada_mat H;  /* N x r: X Qᵀ */
    ada_mat G;  /* N x r: H ⊙ (s · λ ⊙ m) */
} ada_layer_cache;

/* Gradients, accumulated. dlam like lam: required (SVD), NULL (LoRA). */
typedef struct {
    ada_mat dX;   /* N x d2; data NULL = no input gradient */
    ada_mat dP;   /* d1 x r: dP or dB */
    real *dlam;   /* r */
    ada_mat dQ;   /* r x d2: dQ or dA */
} ada_layer_grads;

/* Eq. 3 (SVD form) or ΔW = s B A (LoRA form): Y and the cache from X. */
ada_status ada_layer_forward(ada_mat Y, const ada_layer_cache *cache, ada_cmat X,
                             ada_cmat W0, const real *bias, const ada_adapter *ad);

/* Eq. 3, backward: dX, dP, dλ, dQ (or dX, dB, dA) from dY (N x d1), with the
 * cache of the forward of the same X; dG (N x r) is scratch. */
ada_status ada_layer_backward(const ada_layer_grads *grads, ada_mat dG, ada_cmat dY,
                              ada_cmat X, ada_cmat W0, const ada_adapter *ad,
                              const ada_layer_cache *cache);

#ifdef __cplusplus
}
#endif
#endif
