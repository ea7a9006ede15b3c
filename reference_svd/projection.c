/* projection.c: the svd-proj allocation step (exact SVD, global top-b,
 * balanced re-factoring, moment reset). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "projection.h"
#include "allocator.h"
#include "ada_error.h"

ada_status ref_projection_create(ref_projection **out, const ada_model *m) {
    static const char fn[] = "ref_projection_create";
    ADA_REQUIRE_PTR(out, fn);
    ADA_REQUIRE_PTR(m, fn);
    if (m->config.form != ADA_FORM_LORA)
        return ada_fail(ADA_ERR_STATE, "%s: the model is in SVD form; svd-proj needs the LoRA "
                        "form (B, A)", fn);
    if (m->n_triplets > INT32_MAX)
        return ada_fail(ADA_ERR_DIM, "%s: n·r0 = %ld exceeds the selection's limit %ld", fn,
                        m->n_triplets, (long)INT32_MAX);
    int max_d1 = 1, max_d2 = 1;
    for (int k = 0; k < m->n_modules; k++) {
        if (m->modules[k].d_out > max_d1) max_d1 = m->modules[k].d_out;
        if (m->modules[k].d_in > max_d2) max_d2 = m->modules[k].d_in;
    }
    ref_svd_workspace *svd = NULL;
    ada_status st = ref_svd_workspace_create(&svd, max_d1, max_d2, m->config.r0);
    if (st) return st;
    const size_t nt = (size_t)m->n_triplets;
    ref_projection *p = calloc(1, sizeof *p);
    real *reals = calloc(m->n_params + 2 * nt, sizeof(real));
    uint8_t *keep = calloc(nt, 1);
    int32_t *work = calloc(nt, sizeof(int32_t));
    if (!p || !reals || !keep || !work) {
        free(p); free(reals); free(keep); free(work);
        ref_svd_workspace_free(svd);
        return ada_fail(ADA_ERR_NOMEM, "%s: cannot allocate %zu reals", fn, m->n_params + 2 * nt);
    }
    p->n_modules = m->n_modules;
    p->r0 = m->config.r0;
    p->n_params = m->n_params;
    p->n_triplets = m->n_triplets;
    p->svd = svd;
    p->factors = reals;
    p->sigma = reals + m->n_params;
    p->scores = p->sigma + nt;
    p->keep = keep;
    p->select_work = work;
    p->memory[0] = reals; p->memory[1] = keep; p->memory[2] = work;
    *out = p;
    return ADA_OK;
}

void ref_projection_free(ref_projection *p) {
    if (!p) return;
    ref_svd_workspace_free(p->svd);
    for (int i = 0; i < 3; i++) free(p->memory[i]);
    free(p);
}

static ada_status check_project(const ref_projection *p, const ada_model *m,
                                const ada_trainer *tr, long budget, ref_svd_method method,
                                const char *fn) {
    ADA_REQUIRE_PTR(p, fn);
    ADA_REQUIRE_PTR(m, fn);
    ADA_REQUIRE_PTR(tr, fn);
    if (m->config.form != ADA_FORM_LORA)
        return ada_fail(ADA_ERR_STATE, "%s: the model is in SVD form; svd-proj needs the LoRA "
                        "form (B, A)", fn);
    if (tr->model != m)
        return ada_fail(ADA_ERR_STATE, "%s: the trainer belongs to another model", fn);
    if (p->n_modules != m->n_modules || p->r0 != m->config.r0 || p->n_params != m->n_params ||
        p->n_triplets != m->n_triplets)
        return ada_fail(ADA_ERR_STATE, "%s: the projection was created for another model "
                        "(%d modules, r0 = %d, %zu parameters; this one: %d, %d, %zu)", fn,
                        p->n_modules, p->r0, p->n_params, m->n_modules, m->config.r0,
                        m->n_params);
    if (budget < 0 || budget > m->n_triplets)
        return ada_fail(ADA_ERR_RANGE, "%s: budget = %ld, allowed: 0..%ld (n·r0)", fn, budget,
                        m->n_triplets);
    if (!ref_svd_method_name(method))
        return ada_fail(ADA_ERR_RANGE, "%s: method = %d, allowed: 0 (full), 1 (qr)", fn,
                        (int)method);
    return ADA_OK;
}

ada_status ref_svd_project(ref_projection *p, ada_model *m, ada_trainer *tr, long budget,
                           ref_svd_method method, ref_projection_info *info) {
    static const char fn[] = "ref_svd_project";
    ada_status st = check_project(p, m, tr, budget, method, fn);
    if (st) return st;
    const int r0 = m->config.r0;
    const double abs_scale = fabs((double)m->scale);
    /* 1. The SVD of every B_k A_k into p's buffers; the model is not written
     *    before all of them (and the selection) succeeded. */
    for (int k = 0; k < m->n_modules; k++) {
        const ada_module *mod = &m->modules[k];
        ada_adapter_view w = ada_model_view(m, m->params, k);
        ada_adapter_view f = ada_model_view(m, p->factors, k);
        real *sigma = p->sigma + (size_t)k * r0;
        st = ref_lowrank_svd(f.P, r0, sigma, f.Q, mod->d_in, w.P, r0, w.Q, mod->d_in,
                             mod->d_out, mod->d_in, r0, method, p->svd);
        if (st) {
            /* name the module, keep the SVD's reason */
            char reason[400];
            snprintf(reason, sizeof reason, "%s", ada_last_error());
            return ada_fail(st, "%s: module %d (%s): %s", fn, k, mod->name, reason);
        }
        /* σ(s·B A) = |s|·σ(B A): the ranking is on the singular values of ΔW. */
        for (int i = 0; i < r0; i++) p->scores[(size_t)k * r0 + i] = (real)(abs_scale * sigma[i]);
    }
    /* 2. Global top-b over all n·r0 singular values (Eq. 8's rule, exact ties). */
    real threshold;
    st = ada_select_top_budget(p->keep, &threshold, p->scores, m->n_triplets, budget,
                               ADA_TIES_EXACT, p->select_work);
    if (st) return st;
    /* 3.–5. Re-factor, set the flags, reset the moments. */
    long kept = 0, kept_nonzero = 0;
    double kept_sq = 0, dropped_sq = 0;
    for (int k = 0; k < m->n_modules; k++) {
        const ada_module *mod = &m->modules[k];
        const int d1 = mod->d_out, d2 = mod->d_in;
        ada_adapter_view w = ada_model_view(m, m->params, k);
        ada_adapter_view f = ada_model_view(m, p->factors, k);
        const real *sigma = p->sigma + (size_t)k * r0;
        const uint8_t *sel = p->keep + (size_t)k * r0;
        for (int i = 0; i < r0; i++) {
            /* sqrt(σ(B A)) = sqrt(Σ/s) for s > 0; a dropped component gets an
             * exact zero (not a tiny σ), so it is really removed. */
            const real c = sel[i] ? (real)sqrt((double)sigma[i]) : 0;
            for (int row = 0; row < d1; row++)
                w.P[(size_t)row * r0 + i] = c * f.P[(size_t)row * r0 + i];
            for (int col = 0; col < d2; col++)
                w.Q[(size_t)i * d2 + col] = c * f.Q[(size_t)i * d2 + col];
            const double s2 = (double)p->scores[(size_t)k * r0 + i] * p->scores[(size_t)k * r0 + i];
            if (sel[i]) {
                kept++;
                kept_nonzero += sigma[i] > 0;
                kept_sq += s2;
            } else {
                dropped_sq += s2;
            }
        }
        memcpy(mod->keep, sel, (size_t)r0);
        memset(tr->m1 + mod->offset, 0, sizeof(real) * mod->size);
        memset(tr->m2 + mod->offset, 0, sizeof(real) * mod->size);
    }
    if (info) {
        info->budget = budget;
        info->kept = kept;
        info->kept_nonzero = kept_nonzero;
        info->threshold = (double)threshold;
        info->kept_sq = kept_sq;
        info->dropped_sq = dropped_sq;
    }
    return ADA_OK;
}
