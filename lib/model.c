/* model.c: building the host model, its forward, backward and regulariser. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "adapted_layer.h"
#include "ada_error.h"
#include "ada_internal.h"
#include "rng.h"

ada_model_config ada_model_defaults(void) {
    ada_model_config c;
    memset(&c, 0, sizeof c);
    c.form = ADA_FORM_SVD;
    c.r0 = 12;
    c.alpha = 8.0;
    c.scale_eps = 0.0;
    c.init_std = 0.02;
    c.loss = ADA_LOSS_MSE;
    c.max_batch = 32;
    return c;
}

/* ---------------------------------------------------------------- checks */

static ada_status check_module(const ada_module_spec *s, int k, const ada_module_spec *prev) {
    static const char fn[] = "ada_model_create";
    if (s->d_in < 1 || s->d_out < 1)
        return ada_fail(ADA_ERR_DIM, "%s: module %d has d_in = %d, d_out = %d, both must be >= 1",
                        fn, k, s->d_in, s->d_out);
    if (!ada_activation_name(s->act))
        return ada_fail(ADA_ERR_RANGE,
                        "%s: module %d activation = %d, allowed: 0 identity, 1 relu, 2 gelu, 3 tanh",
                        fn, k, (int)s->act);
    if (!prev && s->chain != 0)
        return ada_fail(ADA_ERR_RANGE, "%s: module 0 chain = %d, must be 0 (chains are numbered "
                        "in module order)", fn, s->chain);
    if (prev && s->chain != prev->chain && s->chain != prev->chain + 1)
        return ada_fail(ADA_ERR_RANGE, "%s: module %d chain = %d, allowed: %d or %d (chains are "
                        "numbered in module order)", fn, k, s->chain, prev->chain, prev->chain + 1);
    if (prev && s->chain == prev->chain && s->d_in != prev->d_out)
        return ada_fail(ADA_ERR_DIM, "%s: module %d d_in = %d, must equal module %d d_out = %d",
                        fn, k, s->d_in, k - 1, prev->d_out);
    return ADA_OK;
}

static ada_status check_config(const ada_model_config *c) {
    static const char fn[] = "ada_model_create";
    /* No adapted module is a model only when a host's own parameters are what
     * trains (the classification head of a head-only baseline). */
    const int head_only = c->external_host == 1 && c->host_params > 0;
    if (c->n_modules < 0 || (c->n_modules == 0 && !head_only))
        return ada_fail(ADA_ERR_DIM, "%s: n_modules = %d, allowed: >= 1, or 0 with external_host = 1 "
                        "and host_params > 0 (only the host's own parameters train)", fn, c->n_modules);
    if (c->n_modules > 0) ADA_REQUIRE_PTR(c->modules, fn);
    if (c->form != ADA_FORM_SVD && c->form != ADA_FORM_LORA)
        return ada_fail(ADA_ERR_RANGE, "%s: form = %d, allowed: 0 (svd), 1 (lora)", fn, (int)c->form);
    if (c->r0 < 1) return ada_fail(ADA_ERR_RANGE, "%s: r0 = %d, must be >= 1", fn, c->r0);
    if (c->max_batch < 1)
        return ada_fail(ADA_ERR_DIM, "%s: max_batch = %d, must be >= 1", fn, c->max_batch);
    if (!isfinite(c->alpha) || !isfinite(c->scale_eps) || !isfinite(c->init_std))
        return ada_fail(ADA_ERR_NONFINITE, "%s: alpha, scale_eps or init_std is NaN or Inf", fn);
    if (c->scale_eps < 0 || c->init_std < 0)
        return ada_fail(ADA_ERR_RANGE, "%s: scale_eps = %g, init_std = %g, both must be >= 0",
                        fn, c->scale_eps, c->init_std);
    if (c->loss != ADA_LOSS_MSE && c->loss != ADA_LOSS_SSE && c->loss != ADA_LOSS_CROSS_ENTROPY)
        return ada_fail(ADA_ERR_RANGE, "%s: loss = %d, allowed: 0 (mse), 1 (sse), 2 (cross-entropy)",
                        fn, (int)c->loss);
    if (c->external_host != 0 && c->external_host != 1)
        return ada_fail(ADA_ERR_RANGE, "%s: external_host = %d, allowed: 0 (MLP chains), 1 (a host "
                        "of its own)", fn, c->external_host);
    if (!c->external_host && c->host_params)
        return ada_fail(ADA_ERR_STATE, "%s: host_params = %zu, allowed only with external_host",
                        fn, c->host_params);
    for (int k = 0; k < c->n_modules; k++) {
        const ada_module_spec *s = &c->modules[k];
        if (c->external_host && (s->d_in < 1 || s->d_out < 1))
            return ada_fail(ADA_ERR_DIM, "%s: module %d has d_in = %d, d_out = %d, both must be >= 1",
                            fn, k, s->d_in, s->d_out);
        ada_status st = c->external_host ? ADA_OK
                                         : check_module(s, k, k ? &c->modules[k - 1] : NULL);
        if (st) return st;
    }
    return ADA_OK;
}

/* ---------------------------------------------------------------- creation */

static size_t adapter_size(ada_form form, int d_in, int d_out, int r) {
    return (size_t)r * (size_t)(d_in + d_out) + (form == ADA_FORM_SVD ? (size_t)r : 0);
}

/* Activation floats of one module for `rows` rows: z, da, h, g, plus a and dz
 * unless the activation is the identity (then they alias z and da). */
static size_t activation_size(const ada_module_spec *s, int rows, int r) {
    size_t out = (size_t)rows * s->d_out;
    return (s->act == ADA_ACT_IDENTITY ? 2 : 4) * out + 2 * (size_t)rows * r;
}

static void carve_activations(ada_module *mod, real **cursor, int rows, int r) {
    size_t out = (size_t)rows * mod->d_out;
    real *p = *cursor;
    mod->z = p; p += out;
    mod->da = p; p += out;
    if (mod->act == ADA_ACT_IDENTITY) {
        mod->a = mod->z;
        mod->dz = mod->da;
    } else {
        mod->a = p; p += out;
        mod->dz = p; p += out;
    }
    mod->h = p; p += (size_t)rows * r;
    mod->g = p; p += (size_t)rows * r;
    *cursor = p;
}

/* Base weights (MLP chains only), then every adapter from a stream of its own. */
static void init_weights(ada_model *m) {
    ada_rng base, adapter;
    ada_rng_seed(&base, m->config.seed);
    ada_rng_seed(&adapter, m->config.seed ^ 0x5eedada10aULL); /* own stream: base stays */
    const double std = m->config.init_std;
    for (int k = 0; k < m->n_modules; k++) {
        ada_module *mod = &m->modules[k];
        if (mod->W0)
            ada_rng_fill_normal(&base, mod->W0, (size_t)mod->d_out * mod->d_in, 0.0,
                                1.0 / sqrt((double)mod->d_in));
        if (mod->bias) ada_rng_fill_normal(&base, mod->bias, (size_t)mod->d_out, 0.0, 0.1);
        ada_adapter_view v = ada_model_view(m, m->params, k);
        size_t p_size = (size_t)mod->d_out * m->config.r0, q_size = (size_t)m->config.r0 * mod->d_in;
        if (m->config.form == ADA_FORM_SVD) {
            ada_rng_fill_normal(&adapter, v.P, p_size, 0.0, std);
            memset(v.lam, 0, sizeof(real) * (size_t)m->config.r0);
        } else {
            memset(v.P, 0, sizeof(real) * p_size);
        }
        ada_rng_fill_normal(&adapter, v.Q, q_size, 0.0, std);
    }
}

static ada_status mlp_forward(void *self, const ada_batch *batch, double *loss, int seed_grad);
static ada_status mlp_backward(void *self);
static int mlp_first_nonfinite_output(const void *self, int rows);

ada_status ada_model_create(ada_model **out, const ada_model_config *cfg) {
    static const char fn[] = "ada_model_create";
    ADA_REQUIRE_PTR(out, fn);
    ADA_REQUIRE_PTR(cfg, fn);
    ada_status st = check_config(cfg);
    if (st) return st;
    const int n = cfg->n_modules, r = cfg->r0, rows = cfg->max_batch, mlp = !cfg->external_host;
    size_t n_params = 0, n_frozen = 0, n_act = (size_t)rows * r + (size_t)r * r;
    for (int k = 0; k < n; k++) {
        const ada_module_spec *s = &cfg->modules[k];
        n_params += adapter_size(cfg->form, s->d_in, s->d_out, r);
        if (!mlp) continue;
        n_frozen += (size_t)s->d_out * s->d_in + (s->has_bias ? (size_t)s->d_out : 0);
        n_act += activation_size(s, rows, r);
    }
    const size_t adapter_params = n_params;
    n_params += cfg->host_params;
    ada_model *m = calloc(1, sizeof *m);
    /* n may be 0 (a head-only host): at least one element, as calloc(0) may be NULL. */
    const size_t n_alloc = n > 0 ? (size_t)n : 1;
    ada_module *mods = m ? calloc(n_alloc, sizeof *mods) : NULL;
    real *arena = calloc(2 * n_params + n_frozen + n_act, sizeof(real));
    uint8_t *keep = calloc(n_alloc * (size_t)r, 1);
    if (!m || !mods || !arena || !keep) {
        free(m); free(mods); free(arena); free(keep);
        return ada_fail(ADA_ERR_NOMEM, "%s: cannot allocate %zu parameters and activations", fn,
                        2 * n_params + n_frozen + n_act);
    }
    m->config = *cfg;
    m->config.modules = NULL;
    m->n_modules = n;
    m->modules = mods;
    m->scale = (real)(cfg->alpha / (r + cfg->scale_eps));
    m->n_params = n_params;
    m->adapter_params = adapter_params;
    m->n_triplets = (long)n * r;
    m->params = arena;
    m->grads = arena + n_params;
    m->keep = keep;
    memset(keep, 1, (size_t)n * r);
    m->memory[0] = mods; m->memory[1] = arena; m->memory[2] = keep;
    real *cursor = arena + 2 * n_params;
    size_t offset = 0;
    for (int k = 0; k < n; k++) {
        const ada_module_spec *s = &cfg->modules[k];
        ada_module *mod = &mods[k];
        if (s->name) snprintf(mod->name, sizeof mod->name, "%s", s->name);
        else snprintf(mod->name, sizeof mod->name, "m%d", k);
        mod->chain = mlp ? s->chain : 0;
        mod->d_in = s->d_in;
        mod->d_out = s->d_out;
        mod->has_bias = mlp ? s->has_bias : 0;
        mod->act = mlp ? s->act : ADA_ACT_IDENTITY;
        mod->offset = offset;
        mod->size = adapter_size(cfg->form, s->d_in, s->d_out, r);
        offset += mod->size;
        mod->keep = keep + (size_t)k * r;
        if (!mlp) continue;
        mod->W0 = cursor; cursor += (size_t)s->d_out * s->d_in;
        if (s->has_bias) { mod->bias = cursor; cursor += s->d_out; }
        carve_activations(mod, &cursor, rows, r);
        if (s->chain + 1 > m->n_chains) m->n_chains = s->chain + 1;
    }
    if (!mlp) m->n_chains = 1;
    m->dg = cursor; cursor += (size_t)rows * r;
    m->orth_work = cursor;
    init_weights(m);
    if (mlp) {
        ada_host host = {m, mlp_forward, mlp_backward, mlp_first_nonfinite_output, NULL};
        m->host = host;
    }
    *out = m;
    return ADA_OK;
}

void ada_model_free(ada_model *m) {
    if (!m) return;
    for (int i = 0; i < 3; i++) free(m->memory[i]);
    free(m);
}

ada_status ada_model_set_base(ada_model *m, int k, const real *W0, int ldw, const real *bias) {
    static const char fn[] = "ada_model_set_base";
    ADA_REQUIRE_PTR(m, fn);
    ADA_REQUIRE_PTR(W0, fn);
    if (k < 0 || k >= m->n_modules)
        return ada_fail(ADA_ERR_RANGE, "%s: k = %d, allowed: 0..%d", fn, k, m->n_modules - 1);
    ada_module *mod = &m->modules[k];
    if (!mod->W0)
        return ada_fail(ADA_ERR_STATE, "%s: module %d belongs to an external host (its base "
                        "weights live there)", fn, k);
    ADA_REQUIRE_LD(ldw, mod->d_in, fn);
    if (bias && !mod->bias)
        return ada_fail(ADA_ERR_STATE, "%s: module %d was built without a bias", fn, k);
    if (!ada_matrix_finite(W0, mod->d_out, mod->d_in, ldw) ||
        (bias && !ada_all_finite(bias, (size_t)mod->d_out)))
        return ada_fail(ADA_ERR_NONFINITE, "%s: module %d base holds NaN or Inf", fn, k);
    for (int i = 0; i < mod->d_out; i++)
        memcpy(mod->W0 + (size_t)i * mod->d_in, W0 + (size_t)i * ldw, sizeof(real) * (size_t)mod->d_in);
    if (bias) memcpy(mod->bias, bias, sizeof(real) * (size_t)mod->d_out);
    return ADA_OK;
}

ada_adapter_view ada_model_view(const ada_model *m, real *arena, int k) {
    const ada_module *mod = &m->modules[k];
    const size_t r = (size_t)m->config.r0;
    ada_adapter_view v;
    v.P = arena + mod->offset;
    if (m->config.form == ADA_FORM_SVD) {
        v.lam = v.P + (size_t)mod->d_out * r;
        v.Q = v.lam + r;
    } else {
        v.lam = NULL;
        v.Q = v.P + (size_t)mod->d_out * r;
    }
    return v;
}

/* ---------------------------------------------------------------- forward */

ada_adapter ada_model_adapter_unchecked(const ada_model *m, int k) {
    const ada_module *mod = &m->modules[k];
    const int r = m->config.r0;
    ada_adapter_view v = ada_model_view(m, m->params, k);
    ada_adapter ad = {m->config.form, ada_cmat_of(v.P, mod->d_out, r, r), v.lam, NULL,
                      ada_cmat_of(v.Q, r, mod->d_in, mod->d_in), m->scale};
    return ad;
}

ada_layer_grads ada_model_grads_unchecked(ada_model *m, int k, ada_mat dX) {
    const ada_module *mod = &m->modules[k];
    const int r = m->config.r0;
    ada_adapter_view g = ada_model_view(m, m->grads, k);
    ada_layer_grads grads = {dX, ada_mat_of(g.P, mod->d_out, r, r), g.lam, ada_mat_of(g.Q, r, mod->d_in, mod->d_in)};
    return grads;
}

/* The saved H and G of module mod for `rows` rows. */
static ada_layer_cache cache_of(const ada_model *m, const ada_module *mod, int rows) {
    const int r = m->config.r0;
    ada_layer_cache c = {ada_mat_of(mod->h, rows, r, r), ada_mat_of(mod->g, rows, r, r)};
    return c;
}

static ada_status check_batch(const ada_model *m, const ada_batch *b, int need_targets) {
    static const char fn[] = "ada_model_forward";
    ADA_REQUIRE_PTR(b, fn);
    ADA_REQUIRE_PTR(b->x, fn);
    if (b->n < 1 || b->n > m->config.max_batch)
        return ada_fail(ADA_ERR_DIM, "%s: batch rows = %d, allowed: 1..%d (max_batch)", fn, b->n,
                        m->config.max_batch);
    for (int k = 0; k < m->n_modules; k++) {
        const ada_module *mod = &m->modules[k];
        int c = mod->chain;
        int first = k == 0 || m->modules[k - 1].chain != c;
        int last = k == m->n_modules - 1 || m->modules[k + 1].chain != c;
        if (first) {
            if (!b->x[c]) return ada_fail(ADA_ERR_NULL, "%s: input of chain %d is NULL", fn, c);
            if (!ada_all_finite(b->x[c], (size_t)b->n * mod->d_in))
                return ada_fail(ADA_ERR_NONFINITE, "%s: input of chain %d holds NaN or Inf", fn, c);
        }
        if (last && need_targets) {
            if (m->config.loss == ADA_LOSS_CROSS_ENTROPY ? (!b->labels || !b->labels[c])
                                                         : (!b->y || !b->y[c]))
                return ada_fail(ADA_ERR_NULL, "%s: targets of chain %d are NULL", fn, c);
            /* Checked here, before any activation is written, so a refused batch
             * leaves the last forward intact for the backward. */
            if (m->config.loss == ADA_LOSS_CROSS_ENTROPY) {
                for (int i = 0; i < b->n; i++)
                    if (b->labels[c][i] < 0 || b->labels[c][i] >= mod->d_out)
                        return ada_fail(ADA_ERR_RANGE, "%s: label %d of row %d of chain %d, "
                                        "allowed: 0..%d", fn, b->labels[c][i], i, c,
                                        mod->d_out - 1);
            } else if (!ada_all_finite(b->y[c], (size_t)b->n * mod->d_out)) {
                return ada_fail(ADA_ERR_NONFINITE, "%s: targets of chain %d hold NaN or Inf", fn, c);
            }
        }
    }
    return ADA_OK;
}

static ada_status chain_loss(const ada_model *m, const ada_module *last, const ada_batch *b,
                             double *loss, int seed_grad) {
    real *dY = seed_grad ? last->da : NULL;
    int c = last->chain, d = last->d_out;
    if (m->config.loss == ADA_LOSS_CROSS_ENTROPY)
        return ada_cross_entropy_loss(loss, dY, last->a, b->labels[c], b->n, d, d);
    return ada_squared_error_loss(loss, dY, last->a, b->y[c], b->n, d, d, m->config.loss);
}

ada_status ada_model_forward(ada_model *m, const ada_batch *batch, double *loss, int seed_grad) {
    static const char fn[] = "ada_model_forward";
    ADA_REQUIRE_PTR(m, fn);
    if (!m->host.forward) return ada_fail(ADA_ERR_STATE, "%s: no host is installed", fn);
    return m->host.forward(m->host.self, batch, loss, seed_grad);
}

ada_status ada_model_backward(ada_model *m) {
    static const char fn[] = "ada_model_backward";
    ADA_REQUIRE_PTR(m, fn);
    if (!m->host.backward) return ada_fail(ADA_ERR_STATE, "%s: no host is installed", fn);
    return m->host.backward(m->host.self);
}

/* The MLP host: every chain forward (Eq. 3 in each layer), then its loss. */
static ada_status mlp_forward(void *self, const ada_batch *batch, double *loss, int seed_grad) {
    ada_model *m = self;
    ada_status st = check_batch(m, batch, loss != NULL);
    if (st) return st;
    const int rows = batch->n;
    double total = 0;
    for (int k = 0; k < m->n_modules; k++) {
        ada_module *mod = &m->modules[k];
        int first = k == 0 || m->modules[k - 1].chain != mod->chain;
        mod->x = first ? batch->x[mod->chain] : m->modules[k - 1].a;
        ada_adapter ad = ada_model_adapter_unchecked(m, k);
        ada_layer_cache cache = cache_of(m, mod, rows);
        st = ada_layer_forward(ada_mat_of(mod->z, rows, mod->d_out, mod->d_out), &cache,
                               ada_cmat_of(mod->x, rows, mod->d_in, mod->d_in),
                               ada_cmat_of(mod->W0, mod->d_out, mod->d_in, mod->d_in), mod->bias,
                               &ad);
        if (st) return st;
        if (mod->act != ADA_ACT_IDENTITY)
            ada_activation_forward(mod->a, mod->z, (size_t)rows * mod->d_out, mod->act);
        int last = k == m->n_modules - 1 || m->modules[k + 1].chain != mod->chain;
        if (last && loss) {
            double chain_value;
            if ((st = chain_loss(m, mod, batch, &chain_value, seed_grad))) return st;
            total += chain_value;
        }
    }
    m->last_rows = rows;
    if (loss) *loss = total;
    return ADA_OK;
}

/* ---------------------------------------------------------------- backward */

/* The MLP host's backward, chain by chain from the last module. */
static ada_status mlp_backward(void *self) {
    static const char fn[] = "ada_model_backward";
    ada_model *m = self;
    if (m->last_rows < 1) return ada_fail(ADA_ERR_STATE, "%s: no forward to differentiate", fn);
    const int rows = m->last_rows, r = m->config.r0;
    /* Every da except the chains' last (seeded by the loss) gathers += from below. */
    for (int k = 0; k < m->n_modules; k++) {
        ada_module *mod = &m->modules[k];
        int last = k == m->n_modules - 1 || m->modules[k + 1].chain != mod->chain;
        if (!last) memset(mod->da, 0, sizeof(real) * (size_t)rows * mod->d_out);
    }
    for (int k = m->n_modules - 1; k >= 0; k--) {
        ada_module *mod = &m->modules[k];
        size_t out = (size_t)rows * mod->d_out;
        if (mod->act != ADA_ACT_IDENTITY) {
            memset(mod->dz, 0, sizeof(real) * out);
            ada_activation_backward(mod->dz, mod->da, mod->z, mod->a, out, mod->act);
        }
        int first = k == 0 || m->modules[k - 1].chain != mod->chain;
        real *dX = first ? NULL : m->modules[k - 1].da;
        ada_adapter ad = ada_model_adapter_unchecked(m, k);
        ada_layer_cache cache = cache_of(m, mod, rows);
        ada_layer_grads grads = ada_model_grads_unchecked(m, k, ada_mat_of(dX, rows, mod->d_in, mod->d_in));
        ada_status st = ada_layer_backward(&grads, ada_mat_of(m->dg, rows, r, r),
                                           ada_cmat_of(mod->dz, rows, mod->d_out, mod->d_out),
                                           ada_cmat_of(mod->x, rows, mod->d_in, mod->d_in),
                                           ada_cmat_of(mod->W0, mod->d_out, mod->d_in, mod->d_in),
                                           &ad, &cache);
        if (st) return st;
    }
    return ADA_OK;
}

static int mlp_first_nonfinite_output(const void *self, int rows) {
    const ada_model *m = self;
    for (int k = 0; k < m->n_modules; k++)
        if (!ada_all_finite(m->modules[k].z, (size_t)rows * m->modules[k].d_out)) return k;
    return -1;
}

/* ---------------------------------------------------------------- Eq. 4 */

ada_status ada_model_orth(ada_model *m, double *raw, ada_orth_norm norm, real weight) {
    static const char fn[] = "ada_model_orth";
    ADA_REQUIRE_PTR(m, fn);
    ADA_REQUIRE_PTR(raw, fn);
    ada_status st = ada_check_orth_norm(fn, norm);
    if (st) return st;
    if (!isfinite(weight)) return ada_fail(ADA_ERR_NONFINITE, "%s: weight is not finite", fn);
    return ada_model_orth_unchecked(m, raw, norm, weight);
}

ada_status ada_model_orth_unchecked(ada_model *m, double *raw, ada_orth_norm norm, real weight) {
    /* Checked here, before any gradient is touched, so a failure changes nothing. */
    if (!ada_all_finite(m->params, m->adapter_params))
        return ada_fail(ADA_ERR_NONFINITE, "ada_model_orth: adapter parameters hold NaN or Inf");
    const int r = m->config.r0;
    double total = 0;
    for (int k = 0; k < m->n_modules; k++) {
        const ada_module *mod = &m->modules[k];
        ada_adapter_view w = ada_model_view(m, m->params, k);
        ada_adapter_view g = ada_model_view(m, m->grads, k);
        double left = ada_orth_left_unchecked(weight != 0 ? g.P : NULL, r, w.P, r, mod->d_out,
                                              r, norm, weight, m->orth_work);
        double right = ada_orth_right_unchecked(weight != 0 ? g.Q : NULL, mod->d_in, w.Q,
                                                mod->d_in, r, mod->d_in, norm, weight,
                                                m->orth_work);
        total += left + right;
    }
    *raw = total;
    return ADA_OK;
}

/* ---------------------------------------------------------------- accounting */

size_t ada_model_param_count(const ada_model *m, int kept_only) {
    size_t total = 0;
    for (int k = 0; k < m->n_modules; k++) {
        const ada_module *mod = &m->modules[k];
        size_t per_rank = (size_t)(mod->d_in + mod->d_out) + (m->config.form == ADA_FORM_SVD);
        size_t ranks = kept_only ? (size_t)ada_model_kept_rank(m, k) : (size_t)m->config.r0;
        total += per_rank * ranks;
    }
    return total;
}

int ada_model_kept_rank(const ada_model *m, int k) {
    int kept = 0;
    for (int i = 0; i < m->config.r0; i++) kept += m->modules[k].keep[i] != 0;
    return kept;
}

ada_status ada_model_delta_weight(const ada_model *m, int k, real *delta, int ld) {
    static const char fn[] = "ada_model_delta_weight";
    ADA_REQUIRE_PTR(m, fn);
    ADA_REQUIRE_PTR(delta, fn);
    if (k < 0 || k >= m->n_modules)
        return ada_fail(ADA_ERR_RANGE, "%s: k = %d, allowed: 0..%d", fn, k, m->n_modules - 1);
    const ada_module *mod = &m->modules[k];
    ADA_REQUIRE_LD(ld, mod->d_in, fn);
    const int r = m->config.r0;
    ada_adapter_view w = ada_model_view(m, m->params, k);
    /* ΔW (d1 x d2) = Σ_j (s λ_j) P[:, j] Q[j, :]: one rank-1 GEMM per triplet,
     * which needs no scratch (this is for analysis, not the training loop). */
    for (int i = 0; i < mod->d_out; i++)
        memset(delta + (size_t)i * ld, 0, sizeof(real) * (size_t)mod->d_in);
    for (int j = 0; j < r; j++) {
        real c = m->scale * (w.lam ? w.lam[j] : 1);
        if (c == 0) continue;
        ADA_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, mod->d_out, mod->d_in, 1, c,
                 w.P + j, r, w.Q + (size_t)j * mod->d_in, mod->d_in, 1, delta, ld);
    }
    return ADA_OK;
}

/* Writes the zeros of the keep pattern: λ_i (SVD form) or the B column and
 * A row (LoRA form) of every pruned triplet. */
void ada_model_apply_keep(ada_model *m) {
    const int r = m->config.r0;
    for (int k = 0; k < m->n_modules; k++) {
        const ada_module *mod = &m->modules[k];
        ada_adapter_view w = ada_model_view(m, m->params, k);
        for (int i = 0; i < r; i++) {
            if (mod->keep[i]) continue;
            if (w.lam) {
                w.lam[i] = 0;
                continue;
            }
            for (int j = 0; j < mod->d_out; j++) w.P[(size_t)j * r + i] = 0;
            memset(w.Q + (size_t)i * mod->d_in, 0, sizeof(real) * (size_t)mod->d_in);
        }
    }
}
