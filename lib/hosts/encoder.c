/* encoder.c: the BERT-family encoder host (encoder.h): buffers, forward,
 * backward. Every product goes through BLAS inside the ops (linear.h,
 * adapted_layer.h, attention.h); this file only wires them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoder.h"
#include "activation.h"
#include "adapted_layer.h"
#include "ada_error.h"
#include "ada_internal.h"
#include "attention.h"
#include "embedding.h"
#include "layernorm.h"
#include "linear.h"
#include "loss.h"

static const char *const matrix_names[ADA_ENC_MATRICES] = {
    "query", "key", "value", "attention.output.dense", "intermediate.dense", "output.dense"};

const char *ada_encoder_matrix_name(int t) {
    return t >= 0 && t < ADA_ENC_MATRICES ? matrix_names[t] : NULL;
}

/* What one layer's forward keeps for its backward (N rows allocated for
 * max_batch · max_seq; views use the rows of the last forward). */
typedef struct {
    real *q, *k, *v;        /* N x C */
    real *att;              /* B·H·T·T probabilities */
    real *ctx;              /* N x C: attention output */
    real *r1, *y1;          /* N x C: residual sum and LayerNorm after attention */
    real *mean1, *rstd1;    /* N */
    real *z, *a;            /* N x I: FFN pre-activation and GELU */
    real *r2;               /* N x C: residual sum after the FFN (LayerNorm: X[l+1]) */
    real *mean2, *rstd2;    /* N */
    real *drop1, *drop2;    /* N x C dropout scales, NULL without dropout */
} layer_acts;

struct ada_encoder {
    ada_encoder_config cfg;
    ada_model *model;
    ada_encoder_weights w;
    int (*module_of)[ADA_ENC_MATRICES];   /* L x 6: adapter module index or -1 */
    int *layer_of, *type_of;               /* per module */
    real *cache_h, *cache_g;               /* per module N x r0 each, module after module */
    /* activations */
    real *emb, *emb_mean, *emb_rstd;       /* N x C, N, N */
    real **X;                              /* L + 1 views of N x C: layer inputs/outputs */
    layer_acts *acts;                      /* L */
    real *pz, *pooled, *pdrop, *pd;        /* B x C (pdrop NULL without dropout) */
    real *logits;                          /* B x K */
    /* backward scratch */
    real *g_x, *g_r, *g_y1, *g_ctx, *g_q, *g_k, *g_v;  /* N x C */
    real *g_a, *g_z;                       /* N x I */
    real *g_att, *g_dg;                    /* T x T, N x r0 */
    real *g_logits, *g_pd, *g_pz;          /* B x K, B x C, B x C */
    ada_rng drop_rng;
    int B, T;                              /* of the last forward; B = 0: none */
    void *weights_mem, *acts_mem, *index_mem;
};

/* ---------------------------------------------------------------- checks */

static ada_status check_config(const ada_encoder_config *c) {
    static const char fn[] = "ada_encoder_create";
    const struct { const char *name; int value; } dims[] = {
        {"vocab", c->vocab}, {"max_positions", c->max_positions}, {"type_vocab", c->type_vocab},
        {"hidden", c->hidden}, {"layers", c->layers}, {"heads", c->heads},
        {"intermediate", c->intermediate}, {"n_outputs", c->n_outputs},
        {"max_batch", c->max_batch}, {"max_seq", c->max_seq}};
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++)
        if (dims[i].value < 1)
            return ada_fail(ADA_ERR_DIM, "%s: %s = %d, must be >= 1", fn, dims[i].name, dims[i].value);
    if (c->hidden % c->heads)
        return ada_fail(ADA_ERR_DIM, "%s: hidden = %d is not a multiple of heads = %d", fn,
                        c->hidden, c->heads);
    if (c->max_seq > c->max_positions)
        return ada_fail(ADA_ERR_DIM, "%s: max_seq = %d, allowed: 1..%d (max_positions)", fn,
                        c->max_seq, c->max_positions);
    if (!(c->ln_eps > 0) || !isfinite(c->ln_eps))
        return ada_fail(ADA_ERR_RANGE, "%s: ln_eps = %g, must be a finite value > 0", fn, c->ln_eps);
    if (c->loss != ADA_LOSS_CROSS_ENTROPY && c->loss != ADA_LOSS_MSE)
        return ada_fail(ADA_ERR_RANGE, "%s: loss = %d, allowed: 0 (mse), 2 (cross-entropy)", fn,
                        (int)c->loss);
    if (c->loss == ADA_LOSS_CROSS_ENTROPY && c->n_outputs < 2)
        return ada_fail(ADA_ERR_DIM, "%s: n_outputs = %d, a classifier needs >= 2", fn, c->n_outputs);
    if (c->targets >= (1u << ADA_ENC_MATRICES))
        return ada_fail(ADA_ERR_RANGE, "%s: targets = %u, allowed: 0..63 (a mask of the six matrix "
                        "types, bits 0..5; 0: no adapter, the head alone trains)", fn, c->targets);
    if (c->layers < 64 && (c->layer_mask >> c->layers) != 0)
        return ada_fail(ADA_ERR_RANGE, "%s: layer_mask = %#llx, allowed: 0 (every layer) or a mask of "
                        "layers 0..%d", fn, (unsigned long long)c->layer_mask, c->layers - 1);
    if (!(c->dropout >= 0 && c->dropout < 1))
        return ada_fail(ADA_ERR_RANGE, "%s: dropout = %g, allowed: [0, 1)", fn, c->dropout);
    return ADA_OK;
}

/* ---------------------------------------------------------------- creation */

static int matrix_rows(const ada_encoder_config *c, int t) {  /* d1 */
    return t == ADA_ENC_FFN_IN ? c->intermediate : c->hidden;
}
static int matrix_cols(const ada_encoder_config *c, int t) {  /* d2 */
    return t == ADA_ENC_FFN_OUT ? c->intermediate : c->hidden;
}

/* Carves buffers off one block: with base NULL it only counts, so the same
 * function sizes the block and then lays it out. */
typedef struct {
    real *base;
    size_t used;
} carver;

static real *take(carver *cv, size_t n) {
    real *p = cv->base ? cv->base + cv->used : NULL;
    cv->used += n;
    return p;
}

static void carve_weights(ada_encoder *e, carver *cv) {
    const ada_encoder_config *c = &e->cfg;
    const size_t C = (size_t)c->hidden;
    e->w.word = take(cv, (size_t)c->vocab * C);
    e->w.pos = take(cv, (size_t)c->max_positions * C);
    e->w.type = take(cv, (size_t)c->type_vocab * C);
    e->w.emb_ln_g = take(cv, C);
    e->w.emb_ln_b = take(cv, C);
    for (int l = 0; l < c->layers; l++) {
        ada_encoder_layer_weights *lw = &e->w.layer[l];
        for (int t = 0; t < ADA_ENC_MATRICES; t++) {
            lw->W[t] = take(cv, (size_t)matrix_rows(c, t) * matrix_cols(c, t));
            lw->b[t] = take(cv, (size_t)matrix_rows(c, t));
        }
        lw->ln1_g = take(cv, C);
        lw->ln1_b = take(cv, C);
        lw->ln2_g = take(cv, C);
        lw->ln2_b = take(cv, C);
    }
    e->w.pool_W = take(cv, C * C);
    e->w.pool_b = take(cv, C);
}

static void carve_acts(ada_encoder *e, carver *cv) {
    const ada_encoder_config *c = &e->cfg;
    const size_t B = (size_t)c->max_batch, T = (size_t)c->max_seq, N = B * T,
                 C = (size_t)c->hidden, FF = (size_t)c->intermediate, K = (size_t)c->n_outputs,
                 r = (size_t)c->adapters.r0, n_mod = (size_t)e->model->n_modules;
    const int drop = c->dropout > 0;
    e->cache_h = take(cv, n_mod * N * r);
    e->cache_g = take(cv, n_mod * N * r);
    e->emb = take(cv, N * C);
    e->emb_mean = take(cv, N);
    e->emb_rstd = take(cv, N);
    for (int l = 0; l <= c->layers; l++) e->X[l] = take(cv, N * C);
    for (int l = 0; l < c->layers; l++) {
        layer_acts *a = &e->acts[l];
        a->q = take(cv, N * C);
        a->k = take(cv, N * C);
        a->v = take(cv, N * C);
        a->att = take(cv, B * (size_t)c->heads * T * T);
        a->ctx = take(cv, N * C);
        a->r1 = take(cv, N * C);
        a->y1 = take(cv, N * C);
        a->mean1 = take(cv, N);
        a->rstd1 = take(cv, N);
        a->z = take(cv, N * FF);
        a->a = take(cv, N * FF);
        a->r2 = take(cv, N * C);
        a->mean2 = take(cv, N);
        a->rstd2 = take(cv, N);
        a->drop1 = drop ? take(cv, N * C) : NULL;
        a->drop2 = drop ? take(cv, N * C) : NULL;
    }
    e->pz = take(cv, B * C);
    e->pooled = take(cv, B * C);
    e->pdrop = drop ? take(cv, B * C) : NULL;
    e->pd = take(cv, B * C);
    e->logits = take(cv, B * K);
    e->g_x = take(cv, N * C);
    e->g_r = take(cv, N * C);
    e->g_y1 = take(cv, N * C);
    e->g_ctx = take(cv, N * C);
    e->g_q = take(cv, N * C);
    e->g_k = take(cv, N * C);
    e->g_v = take(cv, N * C);
    e->g_a = take(cv, N * FF);
    e->g_z = take(cv, N * FF);
    e->g_att = take(cv, T * T);
    e->g_dg = take(cv, N * r);
    e->g_logits = take(cv, B * K);
    e->g_pd = take(cv, B * C);
    e->g_pz = take(cv, B * C);
}

static ada_status encoder_forward(void *self, const ada_batch *batch, double *loss, int seed_grad);
static ada_status encoder_backward(void *self);
static ada_cmat encoder_outputs(const void *self) { return ada_encoder_logits(self); }

int ada_encoder_adapts(unsigned targets, uint64_t layer_mask, int layer, int type) {
    return ((targets >> type) & 1u) && (layer_mask == 0 || ((layer_mask >> layer) & 1u));
}

/* The adapter model: one module per adapted matrix, layer by layer. */
static ada_status create_adapters(ada_encoder *e) {
    const ada_encoder_config *c = &e->cfg;
    int n = 0;
    for (int l = 0; l < c->layers; l++)
        for (int t = 0; t < ADA_ENC_MATRICES; t++) n += ada_encoder_adapts(c->targets, c->layer_mask, l, t);
    /* n = 0 (targets 0: the head alone trains): one element, as calloc(0) may be NULL */
    const size_t n_alloc = n > 0 ? (size_t)n : 1;
    ada_module_spec *specs = calloc(n_alloc, sizeof *specs);
    char (*names)[32] = calloc(n_alloc, sizeof *names);
    if (!specs || !names) {
        free(specs); free(names);
        return ada_fail(ADA_ERR_NOMEM, "ada_encoder_create: cannot allocate %d module specs", n);
    }
    int k = 0;
    for (int l = 0; l < c->layers; l++)
        for (int t = 0; t < ADA_ENC_MATRICES; t++) {
            e->module_of[l][t] = -1;
            if (!ada_encoder_adapts(c->targets, c->layer_mask, l, t)) continue;
            snprintf(names[k], sizeof names[k], "%d.%s", l, matrix_names[t]);
            specs[k].name = names[k];
            specs[k].d_in = matrix_cols(c, t);
            specs[k].d_out = matrix_rows(c, t);
            e->module_of[l][t] = k;
            e->layer_of[k] = l;
            e->type_of[k] = t;
            k++;
        }
    ada_model_config mc = c->adapters;
    mc.n_modules = n;
    mc.modules = specs;
    mc.loss = c->loss;
    mc.max_batch = c->max_batch;   /* the rows a forward takes (evaluation chunks) */
    mc.external_host = 1;
    mc.host_params = (size_t)c->n_outputs * c->hidden + (size_t)c->n_outputs;
    ada_status st = ada_model_create(&e->model, &mc);
    free(specs);
    free(names);
    if (st) return st;
    ada_host host = {e, encoder_forward, encoder_backward, NULL, encoder_outputs};
    e->model->host = host;
    return ADA_OK;
}

ada_status ada_encoder_create(ada_encoder **out, const ada_encoder_config *cfg) {
    static const char fn[] = "ada_encoder_create";
    ADA_REQUIRE_PTR(out, fn);
    ADA_REQUIRE_PTR(cfg, fn);
    ada_status st = check_config(cfg);
    if (st) return st;
    const int L = cfg->layers;
    ada_encoder *e = calloc(1, sizeof *e);
    if (!e) return ada_fail(ADA_ERR_NOMEM, "%s: cannot allocate the encoder", fn);
    e->cfg = *cfg;
    e->cfg.adapters.modules = NULL;
    /* index arrays: module_of, layer_of and type_of (at most 6L modules), layer
     * weight views, X views, layer activations */
    const size_t n_max = (size_t)ADA_ENC_MATRICES * L;
    e->module_of = calloc((size_t)L, sizeof *e->module_of);
    e->layer_of = calloc(2 * n_max, sizeof(int));
    e->w.layer = calloc((size_t)L, sizeof *e->w.layer);
    e->X = calloc((size_t)L + 1, sizeof *e->X);
    e->acts = calloc((size_t)L, sizeof *e->acts);
    if (!e->module_of || !e->layer_of || !e->w.layer || !e->X || !e->acts) {
        ada_encoder_free(e);
        return ada_fail(ADA_ERR_NOMEM, "%s: cannot allocate the layer tables", fn);
    }
    e->type_of = e->layer_of + n_max;
    if ((st = create_adapters(e))) {
        ada_encoder_free(e);
        return st;
    }
    carver cw = {NULL, 0}, ca = {NULL, 0};
    carve_weights(e, &cw);
    carve_acts(e, &ca);
    e->weights_mem = calloc(cw.used, sizeof(real));
    e->acts_mem = calloc(ca.used, sizeof(real));
    if (!e->weights_mem || !e->acts_mem) {
        size_t total = cw.used + ca.used;
        ada_encoder_free(e);
        return ada_fail(ADA_ERR_NOMEM, "%s: cannot allocate %zu weights and activations", fn, total);
    }
    cw.base = e->weights_mem, cw.used = 0;
    ca.base = e->acts_mem, ca.used = 0;
    carve_weights(e, &cw);
    carve_acts(e, &ca);
    /* The head: HF's _init_weights (normal, std initializer_range 0.02; bias 0). */
    ada_rng head_rng;
    ada_rng_seed(&head_rng, cfg->adapters.seed ^ 0x4ead4ead4eadULL);
    ada_encoder_head h = ada_encoder_head_of(e, e->model->params);
    ada_rng_fill_normal(&head_rng, h.W, (size_t)cfg->n_outputs * cfg->hidden, 0.0, 0.02);
    ada_rng_seed(&e->drop_rng, cfg->dropout_seed);
    *out = e;
    return ADA_OK;
}

void ada_encoder_free(ada_encoder *e) {
    if (!e) return;
    ada_model_free(e->model);
    free(e->module_of);
    free(e->layer_of);
    free(e->w.layer);
    free(e->X);
    free(e->acts);
    free(e->weights_mem);
    free(e->acts_mem);
    free(e);
}

ada_encoder_weights *ada_encoder_weights_of(ada_encoder *e) { return &e->w; }
ada_model *ada_encoder_model(ada_encoder *e) { return e->model; }
const ada_encoder_config *ada_encoder_config_of(const ada_encoder *e) { return &e->cfg; }

ada_encoder_head ada_encoder_head_of(ada_encoder *e, real *arena) {
    ada_encoder_head h;
    h.W = arena + e->model->adapter_params;
    h.b = h.W + (size_t)e->cfg.n_outputs * e->cfg.hidden;
    return h;
}

void ada_encoder_module_at(const ada_encoder *e, int k, int *layer, int *type) {
    *layer = e->layer_of[k];
    *type = e->type_of[k];
}

ada_cmat ada_encoder_logits(const ada_encoder *e) {
    const int K = e->cfg.n_outputs;
    return ada_cmat_of(e->logits, e->B, K, K);
}

ada_cmat ada_encoder_hidden(const ada_encoder *e, int l) {
    const int C = e->cfg.hidden;
    return ada_cmat_of(e->X[l], e->B * e->T, C, C);
}

/* ---------------------------------------------------------------- matrices */

static ada_layer_cache cache_of(const ada_encoder *e, int k, int rows) {
    const int r = e->cfg.adapters.r0;
    const size_t slot = (size_t)e->cfg.max_batch * e->cfg.max_seq * r;
    ada_layer_cache c = {ada_mat_of(e->cache_h + (size_t)k * slot, rows, r, r),
                         ada_mat_of(e->cache_g + (size_t)k * slot, rows, r, r)};
    return c;
}

static ada_cmat weight_of(const ada_encoder *e, int l, int t) {
    const int d1 = matrix_rows(&e->cfg, t), d2 = matrix_cols(&e->cfg, t);
    return ada_cmat_of(e->w.layer[l].W[t], d1, d2, d2);
}

/* Y (rows x d1) = X W_tᵀ + b_t, plus the adapter's Eq. 3 term when adapted. */
static ada_status matrix_forward(ada_encoder *e, int l, int t, ada_mat Y, ada_cmat X) {
    const int k = e->module_of[l][t];
    const real *b = e->w.layer[l].b[t];
    if (k < 0) return ada_linear_forward(Y, X, weight_of(e, l, t), b);
    ada_adapter ad = ada_model_adapter_unchecked(e->model, k);
    ada_layer_cache cache = cache_of(e, k, X.rows);
    return ada_layer_forward(Y, &cache, X, weight_of(e, l, t), b, &ad);
}

/* dX += dY W_tᵀ-path (dX.data NULL: not needed); the adapter's gradients
 * accumulate into the model's grads. */
static ada_status matrix_backward(ada_encoder *e, int l, int t, ada_mat dX, ada_cmat dY,
                                  ada_cmat X) {
    const int k = e->module_of[l][t];
    if (k < 0) return ada_linear_backward(dX, ada_mat_of(NULL, 0, 0, 0), NULL, dY, X, weight_of(e, l, t));
    const int r = e->model->config.r0;
    ada_adapter ad = ada_model_adapter_unchecked(e->model, k);
    ada_layer_cache cache = cache_of(e, k, X.rows);
    ada_layer_grads grads = ada_model_grads_unchecked(e->model, k, dX);
    return ada_layer_backward(&grads, ada_mat_of(e->g_dg, X.rows, r, r), dY, X,
                              weight_of(e, l, t), &ad, &cache);
}

/* ---------------------------------------------------------------- dropout */

/* Inverted dropout: scale[i] = 0 with probability p, else 1/(1 − p); x ⊙= scale. */
static void dropout_forward(real *x, real *scale, size_t n, double p, ada_rng *rng) {
    const real keep = (real)(1.0 / (1.0 - p));
    for (size_t i = 0; i < n; i++) {
        scale[i] = ada_rng_uniform(rng) < p ? 0 : keep;
        x[i] *= scale[i];
    }
}

static void scale_by(real *x, const real *scale, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] *= scale[i];
}

static void add_into(real *y, const real *x, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] += x[i];
}

/* ---------------------------------------------------------------- forward */

static ada_status check_batch(const ada_encoder *e, const ada_batch *batch, int need_targets) {
    static const char fn[] = "ada_model_forward (encoder)";
    ADA_REQUIRE_PTR(batch, fn);
    const ada_encoder_batch *b = batch->host;
    ADA_REQUIRE_PTR(b, fn);
    ADA_REQUIRE_PTR(b->ids, fn);
    ADA_REQUIRE_PTR(b->mask, fn);
    const ada_encoder_config *c = &e->cfg;
    if (batch->n < 1 || batch->n > c->max_batch)
        return ada_fail(ADA_ERR_DIM, "%s: batch sequences = %d, allowed: 1..%d (max_batch)", fn,
                        batch->n, c->max_batch);
    if (b->T < 1 || b->T > c->max_seq)
        return ada_fail(ADA_ERR_DIM, "%s: T = %d tokens, allowed: 1..%d (max_seq)", fn, b->T,
                        c->max_seq);
    const size_t n = (size_t)batch->n * b->T;
    for (size_t i = 0; i < n; i++) {
        if (b->ids[i] < 0 || b->ids[i] >= c->vocab)
            return ada_fail(ADA_ERR_RANGE, "%s: token id %d at sequence %zu position %zu, allowed: "
                            "0..%d", fn, b->ids[i], i / b->T, i % b->T, c->vocab - 1);
        if (b->type_ids && (b->type_ids[i] < 0 || b->type_ids[i] >= c->type_vocab))
            return ada_fail(ADA_ERR_RANGE, "%s: token type %d at sequence %zu position %zu, "
                            "allowed: 0..%d", fn, b->type_ids[i], i / b->T, i % b->T,
                            c->type_vocab - 1);
    }
    for (int s = 0; s < batch->n; s++)
        if (!b->mask[(size_t)s * b->T])
            return ada_fail(ADA_ERR_RANGE, "%s: sequence %d starts with padding (mask 0); token 0 "
                            "([CLS]) must be real", fn, s);
    if (!need_targets) return ADA_OK;
    if (c->loss == ADA_LOSS_CROSS_ENTROPY) {
        ADA_REQUIRE_PTR(b->labels, fn);
        for (int s = 0; s < batch->n; s++)
            if (b->labels[s] < 0 || b->labels[s] >= c->n_outputs)
                return ada_fail(ADA_ERR_RANGE, "%s: label %d of sequence %d, allowed: 0..%d", fn,
                                b->labels[s], s, c->n_outputs - 1);
    } else {
        ADA_REQUIRE_PTR(b->targets, fn);
        if (!ada_all_finite(b->targets, (size_t)batch->n * c->n_outputs))
            return ada_fail(ADA_ERR_NONFINITE, "%s: targets hold NaN or Inf", fn);
    }
    return ADA_OK;
}

/* One transformer layer l: X[l] → X[l+1] (encoder.h). */
static ada_status layer_forward(ada_encoder *e, int l, int B, int T, const uint8_t *mask, int train) {
    const ada_encoder_config *c = &e->cfg;
    const int N = B * T, C = c->hidden, FF = c->intermediate;
    const ada_encoder_layer_weights *lw = &e->w.layer[l];
    layer_acts *a = &e->acts[l];
    const ada_cmat X = ada_cmat_of(e->X[l], N, C, C);
    const int drop = train && c->dropout > 0;
    ada_status st;
    if ((st = matrix_forward(e, l, ADA_ENC_QUERY, ada_mat_of(a->q, N, C, C), X)) ||
        (st = matrix_forward(e, l, ADA_ENC_KEY, ada_mat_of(a->k, N, C, C), X)) ||
        (st = matrix_forward(e, l, ADA_ENC_VALUE, ada_mat_of(a->v, N, C, C), X)) ||
        (st = ada_attention_forward(ada_mat_of(a->ctx, N, C, C), a->att,
                                    ada_cmat_of(a->q, N, C, C), ada_cmat_of(a->k, N, C, C),
                                    ada_cmat_of(a->v, N, C, C), mask, B, T, c->heads)) ||
        (st = matrix_forward(e, l, ADA_ENC_ATTN_OUT, ada_mat_of(a->r1, N, C, C),
                             ada_cmat_of(a->ctx, N, C, C))))
        return st;
    if (drop) dropout_forward(a->r1, a->drop1, (size_t)N * C, c->dropout, &e->drop_rng);
    add_into(a->r1, e->X[l], (size_t)N * C);
    if ((st = ada_layernorm_forward(ada_mat_of(a->y1, N, C, C), a->mean1, a->rstd1,
                                    ada_cmat_of(a->r1, N, C, C), lw->ln1_g, lw->ln1_b, c->ln_eps)) ||
        (st = matrix_forward(e, l, ADA_ENC_FFN_IN, ada_mat_of(a->z, N, FF, FF),
                             ada_cmat_of(a->y1, N, C, C))) ||
        (st = ada_activation_forward(a->a, a->z, (size_t)N * FF, ADA_ACT_GELU)) ||
        (st = matrix_forward(e, l, ADA_ENC_FFN_OUT, ada_mat_of(a->r2, N, C, C),
                             ada_cmat_of(a->a, N, FF, FF))))
        return st;
    if (drop) dropout_forward(a->r2, a->drop2, (size_t)N * C, c->dropout, &e->drop_rng);
    add_into(a->r2, a->y1, (size_t)N * C);
    return ada_layernorm_forward(ada_mat_of(e->X[l + 1], N, C, C), a->mean2, a->rstd2,
                                 ada_cmat_of(a->r2, N, C, C), lw->ln2_g, lw->ln2_b, c->ln_eps);
}

/* Pooler, dropout and classifier on the [CLS] rows of X[L] (ld T·C). */
static ada_status head_forward(ada_encoder *e, int B, int T, int train) {
    const ada_encoder_config *c = &e->cfg;
    const int C = c->hidden, K = c->n_outputs;
    ada_encoder_head h = ada_encoder_head_of(e, e->model->params);
    ada_status st;
    if ((st = ada_linear_forward(ada_mat_of(e->pz, B, C, C),
                                 ada_cmat_of(e->X[c->layers], B, C, T * C),
                                 ada_cmat_of(e->w.pool_W, C, C, C), e->w.pool_b)) ||
        (st = ada_activation_forward(e->pooled, e->pz, (size_t)B * C, ADA_ACT_TANH)))
        return st;
    memcpy(e->pd, e->pooled, sizeof(real) * (size_t)B * C);
    if (train && c->dropout > 0) dropout_forward(e->pd, e->pdrop, (size_t)B * C, c->dropout, &e->drop_rng);
    return ada_linear_forward(ada_mat_of(e->logits, B, K, K), ada_cmat_of(e->pd, B, C, C),
                              ada_cmat_of(h.W, K, C, C), h.b);
}

static ada_status encoder_forward(void *self, const ada_batch *batch, double *loss, int seed_grad) {
    ada_encoder *e = self;
    ada_status st = check_batch(e, batch, loss != NULL);
    if (st) return st;
    const ada_encoder_config *c = &e->cfg;
    const ada_encoder_batch *b = batch->host;
    const int B = batch->n, T = b->T, N = B * T, C = c->hidden, K = c->n_outputs;
    const int train = loss && seed_grad;
    e->B = 0;   /* no forward to differentiate until this one completes */
    if ((st = ada_embedding_forward(ada_mat_of(e->emb, N, C, C), b->ids, b->type_ids, B, T,
                                    ada_cmat_of(e->w.word, c->vocab, C, C),
                                    ada_cmat_of(e->w.pos, c->max_positions, C, C),
                                    ada_cmat_of(e->w.type, c->type_vocab, C, C))) ||
        (st = ada_layernorm_forward(ada_mat_of(e->X[0], N, C, C), e->emb_mean, e->emb_rstd,
                                    ada_cmat_of(e->emb, N, C, C), e->w.emb_ln_g, e->w.emb_ln_b,
                                    c->ln_eps)))
        return st;
    for (int l = 0; l < c->layers; l++)
        if ((st = layer_forward(e, l, B, T, b->mask, train))) return st;
    if ((st = head_forward(e, B, T, train))) return st;
    e->B = B;
    e->T = T;
    if (!loss) return ADA_OK;
    real *seed = seed_grad ? e->g_logits : NULL;
    if (c->loss == ADA_LOSS_CROSS_ENTROPY)
        return ada_cross_entropy_loss(loss, seed, e->logits, b->labels, B, K, K);
    return ada_squared_error_loss(loss, seed, e->logits, b->targets, B, K, K, ADA_LOSS_MSE);
}

/* ---------------------------------------------------------------- backward */

/* Layer l's backward: from g_x = ∂L/∂X[l+1] to g_x = ∂L/∂X[l] (not formed
 * for layer 0: the embeddings are frozen), the adapters' gradients on the way. */
static ada_status layer_backward(ada_encoder *e, int l, int B, int T) {
    const ada_encoder_config *c = &e->cfg;
    const int N = B * T, C = c->hidden, FF = c->intermediate;
    const size_t NC = (size_t)N * C, NI = (size_t)N * FF;
    const ada_encoder_layer_weights *lw = &e->w.layer[l];
    layer_acts *a = &e->acts[l];
    ada_status st;
    /* X[l+1] = LN2(r2), r2 = drop(FFN(y1)) + y1 */
    memset(e->g_r, 0, sizeof(real) * NC);
    if ((st = ada_layernorm_backward(ada_mat_of(e->g_r, N, C, C), NULL, NULL,
                                     ada_cmat_of(e->g_x, N, C, C), ada_cmat_of(a->r2, N, C, C),
                                     lw->ln2_g, a->mean2, a->rstd2)))
        return st;
    memcpy(e->g_y1, e->g_r, sizeof(real) * NC);
    if (a->drop2 && c->dropout > 0) scale_by(e->g_r, a->drop2, NC);
    memset(e->g_a, 0, sizeof(real) * NI);
    memset(e->g_z, 0, sizeof(real) * NI);
    if ((st = matrix_backward(e, l, ADA_ENC_FFN_OUT, ada_mat_of(e->g_a, N, FF, FF),
                              ada_cmat_of(e->g_r, N, C, C), ada_cmat_of(a->a, N, FF, FF))) ||
        (st = ada_activation_backward(e->g_z, e->g_a, a->z, a->a, NI, ADA_ACT_GELU)) ||
        (st = matrix_backward(e, l, ADA_ENC_FFN_IN, ada_mat_of(e->g_y1, N, C, C),
                              ada_cmat_of(e->g_z, N, FF, FF), ada_cmat_of(a->y1, N, C, C))))
        return st;
    /* y1 = LN1(r1), r1 = drop(attention output) + X[l] */
    memset(e->g_r, 0, sizeof(real) * NC);
    if ((st = ada_layernorm_backward(ada_mat_of(e->g_r, N, C, C), NULL, NULL,
                                     ada_cmat_of(e->g_y1, N, C, C), ada_cmat_of(a->r1, N, C, C),
                                     lw->ln1_g, a->mean1, a->rstd1)))
        return st;
    const int need_dx = l > 0;
    if (need_dx) memcpy(e->g_x, e->g_r, sizeof(real) * NC);
    if (a->drop1 && c->dropout > 0) scale_by(e->g_r, a->drop1, NC);
    memset(e->g_ctx, 0, sizeof(real) * NC);
    memset(e->g_q, 0, sizeof(real) * NC);
    memset(e->g_k, 0, sizeof(real) * NC);
    memset(e->g_v, 0, sizeof(real) * NC);
    const ada_cmat X = ada_cmat_of(e->X[l], N, C, C);
    const ada_mat dX = ada_mat_of(need_dx ? e->g_x : NULL, N, C, C);
    if ((st = matrix_backward(e, l, ADA_ENC_ATTN_OUT, ada_mat_of(e->g_ctx, N, C, C),
                              ada_cmat_of(e->g_r, N, C, C), ada_cmat_of(a->ctx, N, C, C))) ||
        (st = ada_attention_backward(ada_mat_of(e->g_q, N, C, C), ada_mat_of(e->g_k, N, C, C),
                                     ada_mat_of(e->g_v, N, C, C), e->g_att,
                                     ada_cmat_of(e->g_ctx, N, C, C), ada_cmat_of(a->q, N, C, C),
                                     ada_cmat_of(a->k, N, C, C), ada_cmat_of(a->v, N, C, C),
                                     a->att, B, T, c->heads)) ||
        (st = matrix_backward(e, l, ADA_ENC_QUERY, dX, ada_cmat_of(e->g_q, N, C, C), X)) ||
        (st = matrix_backward(e, l, ADA_ENC_KEY, dX, ada_cmat_of(e->g_k, N, C, C), X)) ||
        (st = matrix_backward(e, l, ADA_ENC_VALUE, dX, ada_cmat_of(e->g_v, N, C, C), X)))
        return st;
    return ADA_OK;
}

/* The head's backward: the classifier's gradients (trained in full) and,
 * with need_dx, g_x = ∂L/∂X[L], nonzero on the [CLS] rows only. */
static ada_status head_backward(ada_encoder *e, int B, int T, int need_dx) {
    const ada_encoder_config *c = &e->cfg;
    const int C = c->hidden, K = c->n_outputs, N = B * T;
    ada_encoder_head h = ada_encoder_head_of(e, e->model->params);
    ada_encoder_head dh = ada_encoder_head_of(e, e->model->grads);
    ada_status st;
    memset(e->g_pd, 0, sizeof(real) * (size_t)B * C);
    memset(e->g_pz, 0, sizeof(real) * (size_t)B * C);
    memset(e->g_x, 0, sizeof(real) * (size_t)N * C);
    if ((st = ada_linear_backward(ada_mat_of(need_dx ? e->g_pd : NULL, B, C, C), ada_mat_of(dh.W, K, C, C), dh.b,
                                  ada_cmat_of(e->g_logits, B, K, K), ada_cmat_of(e->pd, B, C, C),
                                  ada_cmat_of(h.W, K, C, C))))
        return st;
    if (!need_dx) return ADA_OK;
    if (e->pdrop && c->dropout > 0) scale_by(e->g_pd, e->pdrop, (size_t)B * C);
    if ((st = ada_activation_backward(e->g_pz, e->g_pd, e->pz, e->pooled, (size_t)B * C,
                                      ADA_ACT_TANH)))
        return st;
    return ada_linear_backward(ada_mat_of(e->g_x, B, C, T * C), ada_mat_of(NULL, 0, 0, 0), NULL,
                               ada_cmat_of(e->g_pz, B, C, C),
                               ada_cmat_of(e->X[c->layers], B, C, T * C),
                               ada_cmat_of(e->w.pool_W, C, C, C));
}

/* Without adapters (targets 0) nothing below the head trains: the backward
 * ends at the head's own gradients. */
static ada_status encoder_backward(void *self) {
    ada_encoder *e = self;
    if (e->B < 1)
        return ada_fail(ADA_ERR_STATE, "ada_model_backward (encoder): no forward to differentiate");
    const int adapted = e->model->n_modules > 0;
    ada_status st = head_backward(e, e->B, e->T, adapted);
    for (int l = e->cfg.layers - 1; adapted && l >= 0 && !st; l--) st = layer_backward(e, l, e->B, e->T);
    return st;
}
