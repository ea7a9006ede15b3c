/* activation.h: element-wise activations of the host MLP.
 * Forward A = f(Z); backward dZ += dA ⊙ f'(Z). n entries, contiguous.
 * GELU is the exact erf form (torch.nn.GELU's default). */
#ifndef ADA_ACTIVATION_H
#define ADA_ACTIVATION_H

#include "ada_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    ADA_ACT_IDENTITY = 0,
    ADA_ACT_RELU = 1,
    ADA_ACT_GELU = 2,
    ADA_ACT_TANH = 3
} ada_activation;

/* Name for logs ("identity", "relu", "gelu", "tanh"); NULL for an unknown value. */
const char *ada_activation_name(ada_activation act);

ada_status ada_activation_forward(real *A, const real *Z, size_t n, ada_activation act);
/* Backward dZ += dA ⊙ f'(Z). A is the forward's output f(Z), or NULL: with it
 * GELU's Φ(z) is A/z, so the backward computes no erf (the GELU backward's
 * costliest part); its slope stays within a unit of rounding of `real`,
 * absolutely (the slopes are of order 1). */
ada_status ada_activation_backward(real *dZ, const real *dA, const real *Z, const real *A,
                                   size_t n, ada_activation act);

#ifdef __cplusplus
}
#endif
#endif
