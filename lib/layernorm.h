/* layernorm.h: LayerNorm of each row (BERT puts one after every residual sum):
 *
 *   y = (x − μ) / sqrt(σ² + eps) ⊙ γ + β      (torch.nn.LayerNorm over the last dim)
 *
 * μ and σ² are the row's mean and biased variance, summed in double whatever
 * `real` is. Dimension letters: N rows, C columns, read off x (N = x.rows,
 * C = x.cols). Shapes: x, y, dy, dx (N x C, each its own ld); gamma, beta,
 * dgamma, dbeta (C); mean, rstd (N): μ and 1/sqrt(σ² + eps), which the
 * forward saves for the backward. y must not be x (the backward reads x).
 * eps must be finite and > 0. The backward ACCUMULATES (+=) into dx, dgamma
 * and dbeta; dgamma, dbeta NULL = frozen. */
#ifndef ADA_LAYERNORM_H
#define ADA_LAYERNORM_H

#include "ada_common.h"
#include "matrix.h"

#ifdef __cplusplus
extern "C" {
#endif

/* y (N x C), mean (N), rstd (N) from x (N x C), gamma (C), beta (C). */
ada_status ada_layernorm_forward(ada_mat y, real *mean, real *rstd, ada_cmat x,
                                 const real *gamma, const real *beta, double eps);

/* dx (N x C), dgamma (C), dbeta (C) += the gradients from dy (N x C), with
 * the forward's mean and rstd of the same x. */
ada_status ada_layernorm_backward(ada_mat dx, real *dgamma, real *dbeta, ada_cmat dy, ada_cmat x,
                                  const real *gamma, const real *mean, const real *rstd);

#ifdef __cplusplus
}
#endif
#endif
