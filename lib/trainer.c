/* trainer.c: one training step through the library, in the order of docs/SPEC.md §2. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */
#include <math.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "trainer.h"
#include "ada_error.h"
#include "ada_internal.h"

ada_train_config ada_train_defaults(void) {
    ada_train_config c;
    memset(&c, 0, sizeof c);
    c.opt = ada_optimizer_defaults();
    c.opt.weight_decay = 0.0;
    c.clip = 0.0;
    c.gamma = 0.1;
    c.orth_norm = ADA_ORTH_SQUARED;
    c.orth_reduce = ADA_ORTH_SUM;
    c.prune = 1;
    c.importance = ADA_IMPORTANCE_SENS_UNC;
    c.beta1 = c.beta2 = 0.85;
    c.sens_weights = ADA_SENS_PRE_STEP;
    c.ties = ADA_TIES_EXACT;
    c.schedule.delta_t = 1;
    ada_schedule_set_convention(&c.schedule, ADA_SCHED_PAPER);
    c.schedule.final_phase = ADA_FINAL_FREEZE;
    return c;
}

/* ---------------------------------------------------------------- checks */

static ada_status check_config(const ada_train_config *c, const ada_model *m, double *orth_weight) {
    static const char fn[] = "ada_trainer_create";
    ada_status st = ada_optimizer_check(&c->opt);
    if (st) return st;
    if (!isfinite(c->clip))
        return ada_fail(ADA_ERR_NONFINITE, "%s: clip is %g", fn, c->clip);
    if (c->clip < 0)
        return ada_fail(ADA_ERR_RANGE, "%s: clip = %g, allowed: 0 (off) or a finite value > 0", fn,
                        c->clip);
    if ((st = ada_orth_term_weight(orth_weight, c->gamma, c->orth_reduce, 2 * m->n_modules)))
        return st;
    if ((st = ada_check_orth_norm(fn, c->orth_norm))) return st;
    if (c->sens_weights != ADA_SENS_PRE_STEP && c->sens_weights != ADA_SENS_POST_STEP)
        return ada_fail(ADA_ERR_RANGE, "%s: sens_weights = %d, allowed: 0 (pre-step), 1 (post-step)",
                        fn, (int)c->sens_weights);
    if ((st = ada_check_importance_kind(fn, c->importance, m->config.form))) return st;
    if ((st = ada_check_ema_rate(fn, "beta1", c->beta1))) return st;
    if ((st = ada_check_ema_rate(fn, "beta2", c->beta2))) return st;
    if ((st = ada_check_ties(fn, c->ties))) return st;
    if (c->final_emas != ADA_FINAL_EMAS_KEEP && c->final_emas != ADA_FINAL_EMAS_RESET)
        return ada_fail(ADA_ERR_RANGE, "%s: final_emas = %d, allowed: 0 (keep), 1 (reset)", fn,
                        (int)c->final_emas);
    if (c->final_emas == ADA_FINAL_EMAS_RESET && c->schedule.final_phase == ADA_FINAL_RECOMPUTE)
        return ada_fail(ADA_ERR_RANGE, "%s: final_emas = 1 (reset) with final_phase = 1 (recompute): "
                                       "the final masks would be chosen from emptied EMAs; allowed: keep", fn);
    return ada_schedule_check(&c->schedule, m->n_triplets);
}

ada_status ada_trainer_create(ada_trainer **out, ada_model *model, const ada_train_config *cfg) {
    static const char fn[] = "ada_trainer_create";
    ADA_REQUIRE_PTR(out, fn);
    ADA_REQUIRE_PTR(model, fn);
    ADA_REQUIRE_PTR(cfg, fn);
    double orth_weight;
    ada_status st = check_config(cfg, model, &orth_weight);
    if (st) return st;
    /* nt is 0 for a model without adapters (only the host's parameters train):
     * at least one element each, as calloc(0) may return NULL. */
    const size_t n = model->n_params, nt = (size_t)model->n_triplets, nt_alloc = nt ? nt : 1;
    ada_trainer *tr = calloc(1, sizeof *tr);
    /* m1, m2, ibar, ubar, scores, then the int32 selection scratch */
    void *memory = calloc(4 * n + nt_alloc, sizeof(real));
    int32_t *work = calloc(nt_alloc, sizeof(int32_t));
    uint8_t *prev_keep = calloc(nt_alloc, 1);
    if (!tr || !memory || !work || !prev_keep) {
        free(tr); free(memory); free(work); free(prev_keep);
        return ada_fail(ADA_ERR_NOMEM, "%s: cannot allocate optimizer and importance state", fn);
    }
    real *arena = memory;
    tr->model = model;
    tr->config = *cfg;
    tr->m1 = arena;
    tr->m2 = arena + n;
    tr->ibar = arena + 2 * n;
    tr->ubar = arena + 3 * n;
    tr->scores = arena + 4 * n;
    tr->select_work = work;
    tr->prev_keep = prev_keep;
    tr->orth_weight = orth_weight;
    tr->memory = memory;
    tr->updates = 0;
    *out = tr;
    return ADA_OK;
}

void ada_trainer_free(ada_trainer *tr) {
    if (!tr) return;
    free(tr->memory);
    free(tr->select_work);
    free(tr->prev_keep);
    free(tr);
}

/* Monotonic wall clock in milliseconds, for the per-phase split of a step. */
static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static long step_number(const ada_trainer *tr) {
    return ada_schedule_step_number(tr->completed, &tr->config.schedule);
}

ada_status ada_trainer_schedule_now(const ada_trainer *tr, long *budget, ada_phase *phase,
                                    ada_mask_action *action) {
    static const char fn[] = "ada_trainer_schedule_now";
    ADA_REQUIRE_PTR(tr, fn);
    ADA_REQUIRE_PTR(budget, fn);
    const long t = step_number(tr);
    ada_phase ph;
    ada_mask_action act;
    ada_status st = ada_budget_at(budget, &ph, t, &tr->config.schedule);
    if (!st) st = ada_mask_action_at(&act, t, &tr->config.schedule);
    if (st) return st;
    if (phase) *phase = ph;
    if (action) *action = act;
    return ADA_OK;
}

static ada_status check_running(const ada_trainer *tr, const ada_step_info *info, const char *fn) {
    ADA_REQUIRE_PTR(tr, fn);
    ADA_REQUIRE_PTR(info, fn);
    if (tr->completed >= tr->config.schedule.total)
        return ada_fail(ADA_ERR_STATE, "%s: all %ld steps are done", fn, tr->config.schedule.total);
    return ADA_OK;
}

/* ---------------------------------------------------------------- guard */

/* Fails with ADA_ERR_NONFINITE naming the step, the module and the tensor
 * entry of the first non-finite value of a parameter-shaped arena (`what`:
 * "gradient" or "parameter"). Called only when ada_all_finite said no. */
static ada_status fail_nonfinite_arena(const ada_trainer *tr, real *arena, const char *what) {
    const ada_model *m = tr->model;
    const int r = m->config.r0, svd = m->config.form == ADA_FORM_SVD;
    for (int k = 0; k < m->n_modules; k++) {
        const ada_module *mod = &m->modules[k];
        if (ada_all_finite(arena + mod->offset, mod->size)) continue;
        ada_adapter_view v = ada_model_view(m, arena, k);
        const struct { const char *name; const real *x; int rows, cols; } tensors[3] = {
            {svd ? "P" : "B", v.P, mod->d_out, r},
            {"lambda", v.lam, v.lam ? 1 : 0, r},
            {svd ? "Q" : "A", v.Q, r, mod->d_in}};
        for (int t = 0; t < 3; t++)
            for (int i = 0; i < tensors[t].rows * tensors[t].cols; i++) {
                double x = tensors[t].x[i];
                if (isfinite(x)) continue;
                return ada_fail(ADA_ERR_NONFINITE,
                                "step %ld: non-finite %s, module %s, tensor %s[%d,%d] = %g",
                                tr->completed + 1, what, mod->name, tensors[t].name,
                                i / tensors[t].cols, i % tensors[t].cols, x);
            }
    }
    for (size_t i = m->adapter_params; i < m->n_params; i++)
        if (!isfinite(arena[i]))
            return ada_fail(ADA_ERR_NONFINITE, "step %ld: non-finite %s, module host, tensor "
                            "host_params[%zu] = %g", tr->completed + 1, what,
                            i - m->adapter_params, (double)arena[i]);
    return ada_fail(ADA_ERR_NONFINITE, "step %ld: non-finite %s", tr->completed + 1, what);
}

/* The first module, in forward order, whose output of the last forward
 * (`rows` rows) holds a non-finite value; -1 if none does or the host cannot tell. */
static int first_nonfinite_output(const ada_model *m, int rows) {
    const ada_host *h = &m->host;
    return h->first_nonfinite_output ? h->first_nonfinite_output(h->self, rows) : -1;
}

/* A non-finite forward or loss: the step, what went non-finite, and the first
 * module whose output z did (the layers refuse a non-finite input, so a
 * forward stops at the module after it). */
static ada_status fail_nonfinite_loss(const ada_trainer *tr, int rows, const char *what,
                                      const char *tensor, double value) {
    const ada_model *m = tr->model;
    int k = first_nonfinite_output(m, rows);
    if (k < 0)
        return ada_fail(ADA_ERR_NONFINITE, "step %ld: non-finite %s (%g), module -, tensor %s",
                        tr->completed + 1, what, value, tensor);
    return ada_fail(ADA_ERR_NONFINITE, "step %ld: non-finite %s (%g), module %s, tensor output z",
                    tr->completed + 1, what, value, m->modules[k].name);
}

/* ---------------------------------------------------------------- gradients */

ada_status ada_trainer_gradients(ada_trainer *tr, const ada_batch *batch, ada_step_info *info) {
    static const char fn[] = "ada_trainer_gradients";
    ada_status st = check_running(tr, info, fn);
    if (st) return st;
    ada_model *m = tr->model;
    double task = NAN, t0 = now_ms();
    if ((st = ada_model_forward(m, batch, &task, 1))) {
        /* The batch was checked first: a non-finite value now is the model's. */
        if (st == ADA_ERR_NONFINITE && batch->n >= 1 && batch->n <= m->config.max_batch &&
            first_nonfinite_output(m, batch->n) >= 0)
            return fail_nonfinite_loss(tr, batch->n, "forward output", "z", NAN);
        return st;
    }
    double t1 = now_ms();
    if (!isfinite(task)) return fail_nonfinite_loss(tr, batch->n, "task loss", "loss", task);
    memset(m->grads, 0, sizeof(real) * m->n_params);
    if ((st = ada_model_backward(m))) return st;
    double raw = NAN, term = 0;
    if (tr->config.gamma > 0) {
        /* L = C + γ Σ_k R: each R term's gradient enters with the same factor. */
        if ((st = ada_model_orth_unchecked(m, &raw, tr->config.orth_norm, (real)tr->orth_weight)))
            return st;
        term = tr->orth_weight * raw;
        if (!isfinite(term))
            return fail_nonfinite_loss(tr, batch->n, "orthogonality term", "orth (Eq. 4)", term);
    }
    if (!ada_all_finite(m->grads, m->n_params))
        return fail_nonfinite_arena(tr, m->grads, "gradient");
    double norm = NAN;
    if (tr->config.clip > 0 &&
        (st = ada_clip_grad_norm(&norm, m->grads, m->n_params, tr->config.clip)))
        return st;
    memset(info, 0, sizeof *info);
    info->step = tr->completed + 1;
    info->schedule_step = step_number(tr);
    info->task_loss = task;
    info->orth_raw = raw;
    info->orth_term = term;
    info->loss = task + term;
    info->grad_norm = norm;
    info->threshold = NAN;
    info->ms[ADA_TIME_FORWARD] = t1 - t0;
    info->ms[ADA_TIME_BACKWARD] = now_ms() - t1;
    return ADA_OK;
}

/* ---------------------------------------------------------------- update */

/* Eqs. 10–12 run while the allocation is still open (not in the final t_f
 * steps, row 9), and only when a score needs them. */
static int tracks_importance(const ada_trainer *tr, ada_phase phase) {
    return tr->config.prune && tr->config.importance != ADA_IMPORTANCE_MAGNITUDE &&
           phase != ADA_PHASE_FINAL;
}

ada_status ada_trainer_update(ada_trainer *tr, ada_step_info *info) {
    static const char fn[] = "ada_trainer_update";
    ada_status st = check_running(tr, info, fn);
    if (st) return st;
    ada_model *m = tr->model;
    const ada_train_config *c = &tr->config;
    ada_phase phase;
    long budget;
    if ((st = ada_trainer_schedule_now(tr, &budget, &phase, NULL))) return st;
    int importance = tracks_importance(tr, phase);
    real b1 = (real)c->beta1, b2 = (real)c->beta2;
    double t0 = now_ms();
    if (importance && c->sens_weights == ADA_SENS_PRE_STEP)
        ada_importance_update_unchecked(tr->ibar, tr->ubar, m->params, m->grads, m->n_params, b1, b2);
    double t1 = now_ms();
    if (c->opt.kind == ADA_OPT_ADAMW) /* c->opt was validated by ada_trainer_create */
        ada_adamw_update_unchecked(m->params, tr->m1, tr->m2, m->grads, m->n_params, &c->opt,
                                   tr->updates + 1);
    else
        ada_sgd_update_unchecked(m->params, m->grads, m->n_params, &c->opt);
    tr->updates++;
    if (!ada_all_finite(m->params, m->n_params))
        return fail_nonfinite_arena(tr, m->params, "parameter");
    double t2 = now_ms();
    if (importance && c->sens_weights == ADA_SENS_POST_STEP)
        ada_importance_update_unchecked(tr->ibar, tr->ubar, m->params, m->grads, m->n_params, b1, b2);
    info->phase = phase;
    info->ms[ADA_TIME_OPTIMIZER] = t2 - t1;
    info->ms[ADA_TIME_IMPORTANCE] = (t1 - t0) + (now_ms() - t2);
    return ADA_OK;
}

/* ---------------------------------------------------------------- allocate */

ada_status ada_trainer_scores(ada_trainer *tr) {
    static const char fn[] = "ada_trainer_scores";
    ADA_REQUIRE_PTR(tr, fn);
    ada_model *m = tr->model;
    const int r = m->config.r0;
    for (int k = 0; k < m->n_modules; k++) {
        const ada_module *mod = &m->modules[k];
        ada_adapter_view w = ada_model_view(m, m->params, k);
        ada_adapter_view ib = ada_model_view(m, tr->ibar, k);
        ada_adapter_view ub = ada_model_view(m, tr->ubar, k);
        const ada_triplet_emas e = {
            ada_cmat_of(ib.P, mod->d_out, r, r), ada_cmat_of(ub.P, mod->d_out, r, r), ib.lam,
            ub.lam, ada_cmat_of(ib.Q, r, mod->d_in, mod->d_in),
            ada_cmat_of(ub.Q, r, mod->d_in, mod->d_in)};
        /* form and importance kind were validated by ada_trainer_create */
        ada_triplet_scores_unchecked(tr->scores + (size_t)k * r, r, m->config.form,
                                     tr->config.importance, &e, w.lam);
    }
    return ADA_OK;
}

/* A NaN or +Inf score (from non-finite EMAs) fails like every other
 * non-finite value of a step: naming the step, the module and the triplet. */
static ada_status check_scores(const ada_trainer *tr) {
    const ada_model *m = tr->model;
    const int r = m->config.r0;
    for (long i = 0; i < m->n_triplets; i++) {
        const real s = tr->scores[i];
        if (!isnan(s) && s != (real)INFINITY) continue;
        return ada_fail(ADA_ERR_NONFINITE, "step %ld: non-finite importance score, module %s, tensor score[%ld] = %g",
                        tr->completed + 1, m->modules[i / r].name, i % r, (double)s);
    }
    return ADA_OK;
}

/* Eq. 8 over all n·r0 triplets. With hard_delete a pruned triplet scores -inf,
 * so it ranks below every live one, and stays pruned even when the budget
 * reaches past the live ones. */
static ada_status mask_to_budget(ada_trainer *tr, long budget, real *threshold) {
    ada_model *m = tr->model;
    const long nt = m->n_triplets;
    ada_status st = ada_trainer_scores(tr);
    if (!st) st = check_scores(tr);
    if (st) return st;
    memcpy(tr->prev_keep, m->keep, (size_t)nt);
    const int hard = tr->config.hard_delete;
    if (hard)
        for (long i = 0; i < nt; i++)
            if (!m->keep[i]) tr->scores[i] = (real)-INFINITY;
    if ((st = ada_select_top_budget_unchecked(m->keep, threshold, tr->scores, nt, budget,
                                              tr->config.ties, tr->select_work)))
        return st;
    if (hard)
        for (long i = 0; i < nt; i++)
            if (tr->scores[i] == (real)-INFINITY) m->keep[i] = 0;
    return ADA_OK;
}

/* The trainer's own allocation at the end of a step: Eq. 8 to the budget at a
 * mask step, then the pattern's zeros; a fixed-rank trainer keeps everything. */
static ada_status own_allocation(ada_trainer *tr, long *budget, ada_phase phase,
                                 ada_mask_action *action, real *threshold) {
    ada_model *m = tr->model;
    const ada_train_config *c = &tr->config;
    if (!c->prune) { /* fixed rank: everything is kept */
        *budget = m->n_triplets;
        *action = ADA_ACTION_NONE;
        return ADA_OK;
    }
    ada_status st;
    if (*action == ADA_ACTION_MASK && (st = mask_to_budget(tr, *budget, threshold))) return st;
    /* Row 9: PEFT empties its EMAs right after the forced final mask. */
    if (*action == ADA_ACTION_MASK && phase == ADA_PHASE_FINAL && c->final_emas == ADA_FINAL_EMAS_RESET) {
        memset(tr->ibar, 0, sizeof(real) * m->n_params);
        memset(tr->ubar, 0, sizeof(real) * m->n_params);
    }
    if (*action != ADA_ACTION_NONE || c->hard_delete) ada_model_apply_keep(m);
    return ADA_OK;
}

/* kept after the allocation; at a mask step, how many triplets came back and
 * how many went, against the pattern before it. */
static void count_pattern(const ada_trainer *tr, ada_mask_action action, ada_step_info *info) {
    const ada_model *m = tr->model;
    long kept = 0, revived = 0, pruned = 0;
    for (long i = 0; i < m->n_triplets; i++) kept += m->keep[i] != 0;
    if (action == ADA_ACTION_MASK)
        for (long i = 0; i < m->n_triplets; i++) {
            revived += !tr->prev_keep[i] && m->keep[i];
            pruned += tr->prev_keep[i] && !m->keep[i];
        }
    info->revived = revived;
    info->pruned = pruned;
    info->kept = kept;
}

/* The allocation phase; with an allocate hook (prune = 0, checked by the
 * caller) the hook allocates first and the info reports what it did. */
static ada_status allocate(ada_trainer *tr, ada_step_info *info, const ada_step_hooks *h) {
    ada_status st = check_running(tr, info, "ada_trainer_allocate");
    if (st) return st;
    long budget;
    ada_phase phase;
    ada_mask_action action;
    if ((st = ada_trainer_schedule_now(tr, &budget, &phase, &action))) return st;
    ada_allocation ext = {budget, action, 0, NAN};
    const int hooked = h && h->allocate;
    if (hooked && (st = h->allocate(h->ctx, tr, &ext))) return st;
    double t0 = now_ms();
    real threshold = (real)NAN;
    if ((st = own_allocation(tr, &budget, phase, &action, &threshold))) return st;
    count_pattern(tr, action, info);
    info->budget = hooked ? ext.budget : budget;
    info->phase = phase;
    info->action = hooked ? (ext.masked ? ADA_ACTION_MASK : ADA_ACTION_NONE) : action;
    info->threshold = hooked ? ext.threshold : threshold;
    info->ms[ADA_TIME_ALLOCATION] = now_ms() - t0;
    tr->completed++;
    return ADA_OK;
}

ada_status ada_trainer_allocate(ada_trainer *tr, ada_step_info *info) {
    return allocate(tr, info, NULL);
}

ada_status ada_trainer_step_hooked(ada_trainer *tr, const ada_batch *batch, ada_step_info *info,
                                   const ada_step_hooks *h) {
    /* A NULL tr or info is reported by ada_trainer_gradients, as without hooks. */
    if (h && h->allocate && tr && tr->config.prune)
        return ada_fail(ADA_ERR_STATE, "ada_trainer_step_hooked: an allocate hook needs a trainer "
                                       "that does not prune (config.prune = 0)");
    ada_status st = ada_trainer_gradients(tr, batch, info);
    if (!st) st = ada_trainer_update(tr, info);
    if (!st && h && h->before_allocate) st = h->before_allocate(h->ctx, tr, info);
    if (!st) st = allocate(tr, info, h);
    if (!st && h && h->after_step) st = h->after_step(h->ctx, tr, info);
    return st;
}

ada_status ada_trainer_step(ada_trainer *tr, const ada_batch *batch, ada_step_info *info) {
    return ada_trainer_step_hooked(tr, batch, info, NULL);
}

ada_status ada_trainer_skip_step(ada_trainer *tr, ada_step_info *info) {
    static const char fn[] = "ada_trainer_skip_step";
    ada_status st = check_running(tr, info, fn);
    if (st) return st;
    long budget, own_budget;
    ada_phase phase;
    ada_mask_action action;
    if ((st = ada_trainer_schedule_now(tr, &budget, &phase, &action))) return st;
    memset(info, 0, sizeof *info);
    info->step = tr->completed + 1;
    info->schedule_step = step_number(tr);
    info->loss = info->task_loss = info->orth_raw = info->orth_term = NAN;
    info->grad_norm = NAN;
    /* The step's mask action still applies, scored from the stored EMAs: a
     * skipped mask step would otherwise leave more triplets than b(t), and a
     * skipped final one more than b(T). */
    own_budget = budget;
    real threshold = (real)NAN;
    if ((st = own_allocation(tr, &own_budget, phase, &action, &threshold))) return st;
    count_pattern(tr, action, info);
    info->budget = tr->config.prune ? budget : tr->model->n_triplets;
    info->phase = phase;
    info->action = action;
    info->threshold = threshold;
    tr->completed++;
    return ADA_OK;
}
