/* importance.c: Eqs. 10–12 as one flat pass, and the triplet score of Eq. 9. */
#include "importance.h"
#include "ada_error.h"

ada_status ada_check_ema_rate(const char *fn, const char *name, double beta) {
    if (!isfinite(beta)) return ada_fail(ADA_ERR_NONFINITE, "%s: %s is not finite", fn, name);
    if (!(beta > 0 && beta < 1))
        return ada_fail(ADA_ERR_RANGE, "%s: %s = %g, allowed: 0 < %s < 1", fn, name, beta,
                        name);
    return ADA_OK;
}

/* Eqs. 10, 11, 12 for every entry, in the order of docs/SPEC.md §2 (Ū uses the new Ī). */
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
    for (size_t i = 0; i < n; i++) {
        real sens = ada_sensitivity(w[i], g[i]);
        ibar[i] = ada_smoothed_sensitivity(ibar[i], sens, beta1);
        ubar[i] = ada_uncertainty(ubar[i], sens, ibar[i], beta2);
    }
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

/* Eq. 9: S_i = s(λ_i) + mean_j s(P_ji) + mean_j s(Q_ij). */
ada_status ada_triplet_scores(real *S, const real *ibar_P, const real *ubar_P, int ldp,
                              const real *ibar_lam, const real *ubar_lam,
                              const real *ibar_Q, const real *ubar_Q, int ldq,
                              const real *lam, int d1, int d2, int r,
                              ada_importance_kind kind) {
    static const char fn[] = "ada_triplet_scores";
    ADA_REQUIRE_PTR(S, fn);
    ADA_REQUIRE_POS(d1, fn); ADA_REQUIRE_POS(d2, fn); ADA_REQUIRE_POS(r, fn);
    if (kind == ADA_IMPORTANCE_MAGNITUDE) {
        ADA_REQUIRE_PTR(lam, fn);
        if (!ada_all_finite(lam, (size_t)r))
            return ada_fail(ADA_ERR_NONFINITE, "%s: lambda holds NaN or Inf", fn);
        for (int i = 0; i < r; i++) S[i] = (real)fabs((double)lam[i]);
        return ADA_OK;
    }
    if (kind != ADA_IMPORTANCE_SENS_UNC && kind != ADA_IMPORTANCE_SENS)
        return ada_fail(ADA_ERR_RANGE,
                        "%s: kind = %d, allowed: 0 (sens-unc), 1 (sens), 2 (magnitude)", fn,
                        (int)kind);
    ADA_REQUIRE_PTR(ibar_P, fn); ADA_REQUIRE_PTR(ibar_Q, fn);
    if (kind == ADA_IMPORTANCE_SENS_UNC) {
        ADA_REQUIRE_PTR(ubar_P, fn); ADA_REQUIRE_PTR(ubar_Q, fn);
        if (ibar_lam) ADA_REQUIRE_PTR(ubar_lam, fn);
    } else {
        ubar_P = ubar_Q = ubar_lam = NULL;
    }
    ADA_REQUIRE_LD(ldp, r, fn);
    ADA_REQUIRE_LD(ldq, d2, fn);
    for (int i = 0; i < r; i++) {
        double score = mean_importance(ibar_P + i, ubar_P ? ubar_P + i : NULL, (size_t)ldp,
                                       d1, kind) +
                       mean_importance(ibar_Q + (size_t)i * ldq,
                                       ubar_Q ? ubar_Q + (size_t)i * ldq : NULL, 1, d2, kind);
        if (ibar_lam)
            score += ada_entry_importance(ibar_lam[i], ubar_lam ? ubar_lam[i] : 0, kind);
        S[i] = (real)score;
    }
    return ADA_OK;
}
