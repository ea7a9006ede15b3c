/* optimizer.h: flat-arena optimizers and gradient clipping.
 * AdamW follows torch.optim.AdamW exactly (decoupled weight decay applied
 * first, m updated by lerp, bias-corrected step size, eps added outside the
 * square root); SGD is torch.optim.SGD without momentum (weight decay added to
 * the gradient); clipping is torch.nn.utils.clip_grad_norm_ (L2 norm over all
 * gradients, coefficient max_norm / (norm + 1e-6), applied when below 1). */
#ifndef ADA_OPTIMIZER_H
#define ADA_OPTIMIZER_H

#include "ada_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { ADA_OPT_ADAMW = 0, ADA_OPT_SGD = 1 } ada_optimizer_kind;

typedef struct {
    ada_optimizer_kind kind;
    double lr;
    double beta1, beta2, eps; /* AdamW moments (not the importance EMAs) */
    double weight_decay;
} ada_optimizer_config;

/* torch defaults: AdamW, lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0.01. */
ada_optimizer_config ada_optimizer_defaults(void);
ada_status ada_optimizer_check(const ada_optimizer_config *c);

/* One AdamW step over n entries; t >= 1 is the step count after this step. */
ada_status ada_adamw_update(real *w, real *m, real *v, const real *g, size_t n,
                            const ada_optimizer_config *c, long t);

/* One SGD step over n entries. */
ada_status ada_sgd_update(real *w, const real *g, size_t n, const ada_optimizer_config *c);

/* Scales g so its global L2 norm is at most max_norm (> 0); *total_norm gets
 * the norm before clipping. */
ada_status ada_clip_grad_norm(double *total_norm, real *g, size_t n, double max_norm);

#ifdef __cplusplus
}
#endif
#endif
