/* importance.c: Eqs. 10–12 as one flat pass, and the triplet score of Eq. 9. */
#include "importance.h"
#include "ada_error.h"
#include "ada_internal.h"

ada_status ada_check_importance_kind(const char *fn, ada_importance_kind kind, ada_form form) {
    if (kind != ADA_IMPORTANCE_SENS_UNC && kind != ADA_IMPORTANCE_SENS &&
        kind != ADA_IMPORTANCE_MAGNITUDE)
        return ada_fail(ADA_ERR_RANGE,
                        "%s: importance = %d, allowed: 0 (sens-unc), 1 (sens), 2 (magnitude)", fn,
                        (int)kind);
    if (kind == ADA_IMPORTANCE_MAGNITUDE && form == ADA_FORM_LORA)
        return ada_fail(ADA_ERR_RANGE, "%s: importance = magnitude needs the SVD form (LoRA has no λ)",
                        fn);
    return ADA_OK;
}

ada_status ada_check_ema_rate(const char *fn, const char *name, double beta) {
    if (!isfinite(beta)) return ada_fail(ADA_ERR_NONFINITE, "%s: %s is not finite", fn, name);
    if (!(beta > 0 && beta < 1))
        return ada_fail(ADA_ERR_RANGE, "%s: %s = %g, allowed: 0 < %s < 1", fn, name, beta,
                        name);
    return ADA_OK;
}

/* Eqs. 10, 11, 12 for every entry, in the order of docs/SPEC.md §2 (Ū uses the new Ī). */
void ada_importance_update_unchecked(real *ibar, real *ubar, const real *w, const real *g,
                                     size_t n, real beta1, real beta2) {
    for (size_t i = 0; i < n; i++) {
        real sens = ada_sensitivity(w[i], g[i]);
        ibar[i] = ada_smoothed_sensitivity(ibar[i], sens, beta1);
        ubar[i] = ada_uncertainty(ubar[i], sens, ibar[i], beta2);
    }
}

ada_status ada_importance_update(real *ibar, real *ubar, const real *w, const real *g,
                                 size_t n, real beta1, real beta2) {
    static const char fn[] = "ada_importance_update";
    ADA_REQUIRE_PTR(ibar, fn); ADA_REQUIRE_PTR(ubar, fn);
    ADA_REQUIRE_PTR(w, fn); ADA_REQUIRE_PTR(g, fn);
    ada_status st;
    if ((st = ada_check_ema_rate(fn, "beta1", beta1))) return st;
    if ((st = ada_check_ema_rate(fn, "beta2", beta2))) return st;
    if (!ada_all_finite(w, n) || !ada_all_finite(g, n))
        return ada_fail(ADA_ERR_NONFINITE, "%s: weights or gradients hold NaN or Inf", fn);
    ada_importance_update_unchecked(ibar, ubar, w, g, n, beta1, beta2);
    return ADA_OK;
}

/* (1/count) Σ s over `count` entries spaced `stride` apart. */
static double mean_importance(const real *ibar, const real *ubar, size_t stride, int count,
                              ada_importance_kind kind) {
    double sum = 0;
    for (int j = 0; j < count; j++) {
        size_t at = (size_t)j * stride;
        sum += ada_entry_importance(ibar[at], ubar ? ubar[at] : 0, kind);
    }
    return sum / count;
}

/* Eq. 9: S_i = s(λ_i) + mean_j s(P_ji) + mean_j s(Q_ij) (no λ term for a LoRA
 * doublet). Unchecked: the caller validated form, kind and the views. */
void ada_triplet_scores_unchecked(real *S, int r, ada_form form, ada_importance_kind kind,
                                  const ada_triplet_emas *e, const real *lam) {
    if (kind == ADA_IMPORTANCE_MAGNITUDE) {
        for (int i = 0; i < r; i++) S[i] = (real)fabs((double)lam[i]);
        return;
    }
    const int unc = kind == ADA_IMPORTANCE_SENS_UNC;
    const int d1 = e->ibar_P.rows, d2 = e->ibar_Q.cols;
    for (int i = 0; i < r; i++) {
        double score =
            mean_importance(e->ibar_P.data + i, unc ? e->ubar_P.data + i : NULL,
                            (size_t)e->ibar_P.ld, d1, kind) +
            mean_importance(e->ibar_Q.data + (size_t)i * e->ibar_Q.ld,
                            unc ? e->ubar_Q.data + (size_t)i * e->ubar_Q.ld : NULL, 1, d2, kind);
        if (form == ADA_FORM_SVD)
            score += ada_entry_importance(e->ibar_lam[i], unc ? e->ubar_lam[i] : 0, kind);
        S[i] = (real)score;
    }
}

/* One EMA view: set, `want_rows` x `want_cols` (a negative want: any), ld >= cols. */
static ada_status check_ema(const char *fn, const char *name, ada_cmat v, int want_rows,
                            int want_cols) {
    if (!v.data) return ada_fail(ADA_ERR_NULL, "%s: %s is NULL", fn, name);
    if (v.rows < 1 || v.cols < 1 || (want_rows >= 0 && v.rows != want_rows) ||
        (want_cols >= 0 && v.cols != want_cols))
        return ada_fail(ADA_ERR_DIM, "%s: %s is %d x %d, must be d1 x r (P) or r x d2 (Q), "
                        "r = %d", fn, name, v.rows, v.cols, want_rows >= 0 ? want_rows : want_cols);
    if (v.ld < v.cols)
        return ada_fail(ADA_ERR_DIM, "%s: %s.ld = %d, must be >= its %d columns", fn, name, v.ld,
                        v.cols);
    return ADA_OK;
}

/* The views a SENS or SENS_UNC score reads, and the λ EMAs' presence by form. */
static ada_status check_emas(const char *fn, int r, ada_form form, int unc,
                             const ada_triplet_emas *e) {
    ADA_REQUIRE_PTR(e, fn);
    ada_status st;
    if ((st = check_ema(fn, "ibar_P", e->ibar_P, -1, r))) return st;
    if ((st = check_ema(fn, "ibar_Q", e->ibar_Q, r, -1))) return st;
    if (unc && (st = check_ema(fn, "ubar_P", e->ubar_P, e->ibar_P.rows, r))) return st;
    if (unc && (st = check_ema(fn, "ubar_Q", e->ubar_Q, r, e->ibar_Q.cols))) return st;
    if (form == ADA_FORM_LORA && (e->ibar_lam || e->ubar_lam))
        return ada_fail(ADA_ERR_RANGE, "%s: lambda EMAs are set, must be NULL in the LoRA form",
                        fn);
    if (form == ADA_FORM_SVD) {
        if (!e->ibar_lam) return ada_fail(ADA_ERR_NULL, "%s: ibar_lam is NULL (SVD form)", fn);
        if (unc && !e->ubar_lam) return ada_fail(ADA_ERR_NULL, "%s: ubar_lam is NULL (SVD form)", fn);
    }
    return ADA_OK;
}

ada_status ada_triplet_scores(real *S, int r, ada_form form, ada_importance_kind kind,
                              const ada_triplet_emas *emas, const real *lam) {
    static const char fn[] = "ada_triplet_scores";
    ADA_REQUIRE_PTR(S, fn);
    ADA_REQUIRE_POS(r, fn);
    if (form != ADA_FORM_SVD && form != ADA_FORM_LORA)
        return ada_fail(ADA_ERR_RANGE, "%s: form = %d, allowed: 0 (svd), 1 (lora)", fn, (int)form);
    ada_status st = ada_check_importance_kind(fn, kind, form);
    if (st) return st;
    if (kind == ADA_IMPORTANCE_MAGNITUDE) {
        ADA_REQUIRE_PTR(lam, fn);
        if (!ada_all_finite(lam, (size_t)r))
            return ada_fail(ADA_ERR_NONFINITE, "%s: lambda holds NaN or Inf", fn);
    } else if ((st = check_emas(fn, r, form, kind == ADA_IMPORTANCE_SENS_UNC, emas))) {
        return st;
    }
    ada_triplet_scores_unchecked(S, r, form, kind, emas, lam);
    return ADA_OK;
}
