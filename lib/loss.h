/* loss.h: the task losses C of the host model. Each writes the mean loss and,
 * when dY is not NULL, overwrites dY with ∂loss/∂Y (the seed of the backward).
 *   MSE            (1/(N·d)) Σ (y − t)²      (torch.nn.MSELoss, mean)
 *   SSE            (1/N) Σ_b ||y_b − t_b||²  (sum over outputs, mean over the
 *                  batch: every output counts alike, as Eckart–Young needs)
 *   CROSS_ENTROPY  (1/N) Σ_b −log softmax(y_b)[label_b]
 * Dimension letters: N rows, d outputs (classes). Y, T, dY: N x d, leading dim ld. */
#ifndef ADA_LOSS_H
#define ADA_LOSS_H

#include "ada_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { ADA_LOSS_MSE = 0, ADA_LOSS_SSE = 1, ADA_LOSS_CROSS_ENTROPY = 2 } ada_loss_kind;

ada_status ada_squared_error_loss(double *loss, real *dY, const real *Y, const real *T,
                                  int n, int d, int ld, ada_loss_kind kind);

ada_status ada_cross_entropy_loss(double *loss, real *dY, const real *Y,
                                  const int32_t *labels, int n, int d, int ld);

#ifdef __cplusplus
}
#endif
#endif
