/* model.h: the host model, a set of MLP chains whose every linear layer is an
 * adapted layer (adapted_layer.h), with the trainable adapter parameters of
 * all layers in one contiguous arena (llm.c style).
 *
 * A chain is a stack of modules fed by its own input; an ordinary MLP is one
 * chain, and n independent linear modules (the planted-linear task) are n
 * chains of one module each. The task loss is the sum of the chains' losses.
 *
 * Arena layout, module after module (N = batch rows, r = r0):
 *   SVD form:  P (d1 x r) | λ (r) | Q (r x d2)
 *   LoRA form: B (d1 x r) | A (r x d2)          (B in the P view, A in Q)
 * Every parameter-shaped arena (gradients here; optimizer moments and the
 * importance EMAs in the trainer) uses the same offsets, so per-parameter
 * passes are flat loops and ada_model_view() carves named views out of any.
 * The keep flags of all modules form one array of n·r0 entries in the same
 * module order: the global triplet index of Eq. 8 is k·r0 + i. */
#ifndef ADA_MODEL_H
#define ADA_MODEL_H

#include "ada_common.h"
#include "activation.h"
#include "loss.h"
#include "matrix.h"
#include "orth_reg.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *name;   /* for logs and outputs (copied; NULL gives "m<k>") */
    int chain;          /* chains are numbered 0, 1, ... in module order */
    int d_in, d_out;    /* d2, d1 */
    int has_bias;
    ada_activation act; /* applied to this module's output */
} ada_module_spec;

typedef struct {
    /* >= 1; or 0 with external_host = 1 and host_params > 0: a host whose own
     * parameters are all that trains (a head-only baseline; modules may be NULL). */
    int n_modules;
    const ada_module_spec *modules;
    ada_form form;
    int r0;             /* initial rank of every module */
    double alpha;       /* scale s = alpha / (r0 + scale_eps) */
    double scale_eps;   /* 0 (paper) or 1e-5 (PEFT, original): docs/SPEC.md §4, row 10 */
    double init_std;    /* Gaussian std of P and Q (SVD), of A (LoRA): row 11 */
    ada_loss_kind loss;
    int max_batch;      /* activations are allocated once for this many rows */
    uint64_t seed;      /* base weights and adapter initialisation */
    /* 1: the modules are the adapted matrices of a host outside this file
     * (hosts/encoder.h): only their adapters are allocated (no base weights,
     * no activations; chain, act and has_bias are ignored), and the host
     * installs m->host. 0: the MLP chains of this file. */
    int external_host;
    /* Trainable parameters of the host itself (a classification head that
     * trains in full, PEFT's modules_to_save), appended to every arena after
     * the adapters: optimised and clipped with them, never scored or masked. */
    size_t host_params;
} ada_model_config;

/* Named views into one parameter-shaped arena for one module. */
typedef struct {
    real *P;    /* d1 x r0, ld r0 (B in LoRA form) */
    real *lam;  /* r0; NULL in LoRA form */
    real *Q;    /* r0 x d2, ld d2 (A in LoRA form) */
} ada_adapter_view;

typedef struct {
    char name[32];
    int chain, d_in, d_out, has_bias;
    ada_activation act;
    size_t offset, size;    /* this module's slice of every arena */
    real *W0;               /* frozen base, d1 x d2 */
    real *bias;             /* frozen, d1, or NULL */
    uint8_t *keep;          /* r0 keep flags, a slice of the model's keep array */
    /* activations of the last forward, for at most max_batch rows */
    const real *x;          /* input: the batch or the previous module's a */
    real *z, *a;            /* pre-/post-activation output, N x d1 (a == z for identity) */
    real *h, *g;            /* N x r0: X Qᵀ and its scaled copy */
    real *dz, *da;          /* gradients of z and a, N x d1 (dz == da for identity) */
} ada_module;

typedef struct ada_batch ada_batch;

/* The host interface: the network the adapted matrices live in. The trainer
 * reaches the network only through these calls (ada_model_forward and
 * ada_model_backward dispatch to them); the MLP chains of this file are one
 * implementation, installed by ada_model_create, the BERT encoder
 * (hosts/encoder.h) another. */
typedef struct {
    void *self;
    /* The task loss of the batch (sum over the host's outputs) into *loss
     * (loss NULL: forward only); with seed_grad, its gradient is seeded for
     * the backward. Refuses a bad batch before writing anything. */
    ada_status (*forward)(void *self, const ada_batch *batch, double *loss, int seed_grad);
    /* The backward of the last forward: accumulates into the model's grads
     * (adapters and host parameters). */
    ada_status (*backward)(void *self);
    /* For the trainer's non-finite messages: the first adapted module whose
     * output of the last forward (rows rows) is not finite, -1 if none;
     * NULL when the host cannot tell. */
    int (*first_nonfinite_output)(const void *self, int rows);
    /* The network's outputs of the last forward (rows x outputs: a
     * classifier's logits), or NULL: the MLP's are its chains' last modules. */
    ada_cmat (*outputs)(const void *self);
} ada_host;

typedef struct {
    ada_model_config config;  /* config.modules is NULL after creation */
    int n_modules, n_chains;
    ada_module *modules;
    real scale;               /* s of Eq. 3 */
    size_t n_params;          /* length of every parameter-shaped arena */
    size_t adapter_params;    /* the adapters' part of it; the host's params follow */
    ada_host host;
    long n_triplets;          /* n · r0 */
    real *params, *grads;     /* the arenas */
    uint8_t *keep;            /* n · r0 keep flags (1 = kept) */
    real *dg;                 /* backward scratch, max_batch x r0 */
    real *orth_work;          /* r0 x r0 */
    int last_rows;            /* rows of the last forward */
    void *memory[3];          /* owned blocks */
} ada_model;

/* One mini-batch: x[c] (n x d_in of chain c's first module), and y[c]
 * (n x d_out of its last module) for squared-error losses or labels[c] (n)
 * for cross-entropy. Row-major, leading dimension = the column count. */
struct ada_batch {
    int n;
    const real *const *x;
    const real *const *y;
    const int32_t *const *labels;
    const void *host;   /* the batch of a host other than the MLP chains (its own type) */
};

/* The config's defaults: SVD form, r0 12, alpha 8, scale_eps 0, init_std
 * 0.02, MSE, max_batch 32, seed 0 (modules still to be given). */
ada_model_config ada_model_defaults(void);

/* Validates cfg, allocates every buffer once, and initialises: W0 ~ N(0, 1/d_in),
 * bias ~ N(0, 0.1²), then P, Q ~ N(0, init_std²), λ = 0 (SVD) or
 * B = 0, A ~ N(0, init_std²) (LoRA), every triplet kept. */
ada_status ada_model_create(ada_model **out, const ada_model_config *cfg);
void ada_model_free(ada_model *m);

/* Replaces module k's frozen base (W0: d1 x d2, ldw) and bias (NULL = none;
 * refused if the module has no bias). */
ada_status ada_model_set_base(ada_model *m, int k, const real *W0, int ldw, const real *bias);

/* The views of module k in an arena laid out like m->params. */
ada_adapter_view ada_model_view(const ada_model *m, real *arena, int k);

/* The host's forward (m->host.forward). For the MLP chains: every chain
 * (Eq. 3 in each layer); with loss != NULL also the task loss (sum over
 * chains) and, when seed_grad, its gradient into the last modules' da. */
ada_status ada_model_forward(ada_model *m, const ada_batch *batch, double *loss,
                             int seed_grad);

/* The host's backward of the last forward (m->host.backward): accumulates
 * into m->grads. */
ada_status ada_model_backward(ada_model *m);

/* Eq. 4 over all modules: *raw = Σ_k R(P_k, Q_k) (norm as chosen) and, with
 * weight != 0, grads += weight · ∂R/∂(P, Q). */
ada_status ada_model_orth(ada_model *m, double *raw, ada_orth_norm norm, real weight);

/* Trainable adapter parameters: every triplet (kept_only = 0) or the kept
 * ones; a rank-1 component of a d1 x d2 matrix costs d1 + d2, plus 1 for λ.
 * The host's own parameters (config.host_params: an encoder's head, K·C + K,
 * trained in full by every method) are not counted, as the paper's "# params"
 * counts the adapters alone. */
size_t ada_model_param_count(const ada_model *m, int kept_only);

/* Kept triplets of module k. */
int ada_model_kept_rank(const ada_model *m, int k);

/* The keep pattern written into the parameters (Eq. 8's mask lives there:
 * the forward is unmasked): λ_i of every pruned triplet (SVD form), or its
 * B column and A row (LoRA form), set to 0. The trainer calls it at mask and
 * re-apply steps; a loader calls it after setting keep flags. No checks. */
void ada_model_apply_keep(ada_model *m);

/* Module k's update ΔW = s P diag(λ) Q (SVD form) or s B A (LoRA form) as a
 * d1 x d2 matrix (ld >= d2): what the adapter adds to W0. */
ada_status ada_model_delta_weight(const ada_model *m, int k, real *delta, int ld);

#ifdef __cplusplus
}
#endif
#endif
