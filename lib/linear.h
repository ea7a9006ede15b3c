/* linear.h: a dense layer, frozen or trainable (the encoder's projections):
 *
 *   y = x Wᵀ + b          (torch.nn.Linear)
 *
 * Dimension letters: N rows, d2 inputs, d1 outputs, read off the views
 * (N = x.rows, d2 = x.cols, d1 = W.rows); every other view must have the
 * shape below (ADA_ERR_DIM). Row-major views (matrix.h), each its own ld:
 *   x (N x d2)  W (d1 x d2)  b (d1, NULL = no bias)  y (N x d1)
 * The backward ACCUMULATES (+=) into dx, dW and db (the caller zeroes
 * gradients once per step); dx.data NULL = no input gradient, dW.data NULL =
 * W frozen, db NULL = b frozen or absent. y must not overlap x or W. */
#ifndef ADA_LINEAR_H
#define ADA_LINEAR_H

#include "ada_common.h"
#include "matrix.h"

#ifdef __cplusplus
extern "C" {
#endif

/* y (N x d1) = x (N x d2) Wᵀ (d2 x d1) + b. */
ada_status ada_linear_forward(ada_mat y, ada_cmat x, ada_cmat W, const real *b);

/* dx (N x d2) += dy W;  dW (d1 x d2) += dyᵀ x;  db (d1) += Σ_n dy_n;  dy: N x d1. */
ada_status ada_linear_backward(ada_mat dx, ada_mat dW, real *db, ada_cmat dy, ada_cmat x, ada_cmat W);

#ifdef __cplusplus
}
#endif
#endif
