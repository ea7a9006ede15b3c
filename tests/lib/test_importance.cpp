// test_importance.cpp: Eqs. 9-13 (sensitivity, its EMAs, entry importance and
// the triplet score) against numbers worked out by hand.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "support/test_util.h"
extern "C" {
#include "importance.h"
}

namespace {

// Relative tolerance: the hand numbers are exact decimals; float rounds them.
const double EPS = sizeof(real) == sizeof(float) ? 2e-6 : 1e-13;

doctest::Approx near(double v) { return doctest::Approx(v).epsilon(EPS); }

}  // namespace

TEST_CASE("importance: Eq. 10 sensitivity I = |w * g|") {
    CHECK(ada_sensitivity((real)-0.5, (real)3) == near(1.5));    // |-1.5|
    CHECK(ada_sensitivity((real)2, (real)0.25) == near(0.5));    // |0.5|
    CHECK(ada_sensitivity((real)-2, (real)-1.5) == near(3.0));   // |3|
    CHECK(ada_sensitivity((real)0, (real)5) == 0);               // w = 0: insensitive
    CHECK(ada_sensitivity((real)4, (real)0) == 0);               // g = 0
    CHECK(ada_sensitivity((real)0.1, (real)-0.3) == near(0.03));
}

TEST_CASE("importance: Eq. 11 smoothed sensitivity") {
    // 0.85 * 0.4 + 0.15 * 1.5 = 0.34 + 0.225 = 0.565
    CHECK(ada_smoothed_sensitivity((real)0.4, (real)1.5, (real)0.85) == near(0.565));
    // β1 weighs the past: 0.25 * 2 + 0.75 * 6 = 0.5 + 4.5 = 5
    CHECK(ada_smoothed_sensitivity((real)2, (real)6, (real)0.25) == near(5.0));
    // from 0: (1 - 0.8) * 2 = 0.4 (no bias correction, which would give 2)
    CHECK(ada_smoothed_sensitivity((real)0, (real)2, (real)0.8) == near(0.4));
}

TEST_CASE("importance: Eq. 12 uncertainty") {
    // 0.85 * 0.2 + 0.15 * |1.5 - 0.565| = 0.17 + 0.14025 = 0.31025
    CHECK(ada_uncertainty((real)0.2, (real)1.5, (real)0.565, (real)0.85) == near(0.31025));
    // |I - Ī| is an absolute value: Ī above I. 0.5 * 1 + 0.5 * |1 - 3| = 1.5
    CHECK(ada_uncertainty((real)1, (real)1, (real)3, (real)0.5) == near(1.5));
    // β2 weighs the past: 0.25 * 4 + 0.75 * |2 - 1| = 1 + 0.75 = 1.75
    CHECK(ada_uncertainty((real)4, (real)2, (real)1, (real)0.25) == near(1.75));
}

TEST_CASE("importance: Eq. 13 entry importance s = Ī * Ū (or Ī for SENS)") {
    // 0.565 * 0.31025 = 0.17529125
    CHECK(ada_entry_importance((real)0.565, (real)0.31025, ADA_IMPORTANCE_SENS_UNC) ==
          near(0.17529125));
    CHECK(ada_entry_importance((real)0.565, (real)0.31025, ADA_IMPORTANCE_SENS) == near(0.565));
    CHECK(ada_entry_importance((real)3, (real)0, ADA_IMPORTANCE_SENS_UNC) == 0);
    CHECK(ada_entry_importance((real)3, (real)0, ADA_IMPORTANCE_SENS) == near(3));
}

TEST_CASE("importance: ada_importance_update for 3 steps, EMAs from 0, no bias correction") {
    // β1 = 0.8, β2 = 0.5 (different, so swapping them shows).
    // Entry 0: w = 1,  g = 2, -1, 4   -> I = 2, 1, 4
    // Entry 1: w = -2, g = 0.5 x 3    -> I = 1, 1, 1
    // Entry 2: w = 0.5, g = 0, -6, 2  -> I = 0, 3, 1
    // Entry 3: w changes: (3, 1), (-1, 0.5), (0, 9) -> I = 3, 0.5, 0
    const real w[3][4] = {{1, -2, 0.5, 3}, {1, -2, 0.5, -1}, {1, -2, 0.5, 0}};
    const real g[3][4] = {{2, 0.5, 0, 1}, {-1, 0.5, -6, 0.5}, {4, 0.5, 2, 9}};
    // Hand values, Ī(t) = 0.8 Ī(t-1) + 0.2 I(t), Ū(t) = 0.5 Ū(t-1) + 0.5 |I(t) - Ī(t)|:
    // Entry 0: t1 Ī = 0.2*2 = 0.4,            Ū = 0.5*|2 - 0.4| = 0.8
    //          t2 Ī = 0.32 + 0.2 = 0.52,      Ū = 0.4 + 0.5*|1 - 0.52| = 0.64
    //          t3 Ī = 0.416 + 0.8 = 1.216,    Ū = 0.32 + 0.5*|4 - 1.216| = 1.712
    // Entry 1: t1 Ī = 0.2,                    Ū = 0.5*0.8 = 0.4
    //          t2 Ī = 0.16 + 0.2 = 0.36,      Ū = 0.2 + 0.5*0.64 = 0.52
    //          t3 Ī = 0.288 + 0.2 = 0.488,    Ū = 0.26 + 0.5*0.512 = 0.516
    // Entry 2: t1 Ī = 0,                      Ū = 0
    //          t2 Ī = 0.6,                    Ū = 0.5*|3 - 0.6| = 1.2
    //          t3 Ī = 0.48 + 0.2 = 0.68,      Ū = 0.6 + 0.5*|1 - 0.68| = 0.76
    // Entry 3: t1 Ī = 0.6,                    Ū = 0.5*|3 - 0.6| = 1.2
    //          t2 Ī = 0.48 + 0.1 = 0.58,      Ū = 0.6 + 0.5*|0.5 - 0.58| = 0.64
    //          t3 Ī = 0.464,                  Ū = 0.32 + 0.5*0.464 = 0.552
    const double want_i[3][4] = {{0.4, 0.2, 0, 0.6}, {0.52, 0.36, 0.6, 0.58},
                                 {1.216, 0.488, 0.68, 0.464}};
    const double want_u[3][4] = {{0.8, 0.4, 0, 1.2}, {0.64, 0.52, 1.2, 0.64},
                                 {1.712, 0.516, 0.76, 0.552}};
    real ibar[4] = {0, 0, 0, 0}, ubar[4] = {0, 0, 0, 0};  // both EMAs start at 0
    for (int t = 0; t < 3; t++) {
        REQUIRE(ada_importance_update(ibar, ubar, w[t], g[t], 4, (real)0.8, (real)0.5) == ADA_OK);
        for (int e = 0; e < 4; e++) {
            CAPTURE(t); CAPTURE(e);
            CHECK(ibar[e] == near(want_i[t][e]));
            CHECK(ubar[e] == near(want_u[t][e]));
        }
    }
    // With bias correction Ī(1) of entry 0 would be 0.4 / (1 - 0.8) = 2; it is 0.4.
    // Eq. 13 at t = 3, entry 0: 1.216 * 1.712 = 2.081792.
    CHECK(ada_entry_importance(ibar[0], ubar[0], ADA_IMPORTANCE_SENS_UNC) == near(2.081792));
}

TEST_CASE("importance: Eq. 12 order, U(t) uses the already-updated I(t)") {
    // One entry, β1 = 0.8, β2 = 0.5, I = 2, 1, 4 (w = 1, g = 2, -1, 4).
    const real w[1] = {1};
    const real gs[3] = {2, -1, 4};
    real ibar[1] = {0}, ubar[1] = {0};
    // docs/SPEC.md order (Eq. 12):  Ū(1) = 0.5*0 + 0.5*|2 - Ī(1) = 0.4| = 0.8.
    // Old-Ī order: Ū(1) = 0.5*0 + 0.5*|2 - Ī(0) = 0|   = 1.0.
    // t2: spec 0.4 + 0.5*|1 - 0.52| = 0.64;  old Ī: 0.4 + 0.5*|1 - 0.4| = 0.7.
    // t3: spec 0.32 + 0.5*|4 - 1.216| = 1.712; old Ī: 0.32 + 0.5*|4 - 0.52| = 2.06.
    const double spec[3] = {0.8, 0.64, 1.712}, old_order[3] = {1.0, 0.7, 2.06};
    for (int t = 0; t < 3; t++) {
        CAPTURE(t);
        const real g[1] = {gs[t]};
        const double ibar_prev = ibar[0], ubar_prev = ubar[0];
        // The wrong order, computed here from the same previous state.
        const double sens = std::fabs((double)gs[t]);
        const double wrong = 0.5 * ubar_prev + 0.5 * std::fabs(sens - ibar_prev);
        CHECK(wrong == near(old_order[t]));
        REQUIRE(ada_importance_update(ibar, ubar, w, g, 1, (real)0.8, (real)0.5) == ADA_OK);
        CHECK(ubar[0] == near(spec[t]));
        CHECK(std::fabs((double)ubar[0] - wrong) > 0.05);
    }
    // The per-entry function gives the same when fed the updated Ī.
    CHECK(ada_uncertainty((real)0, (real)2, ada_smoothed_sensitivity(0, 2, (real)0.8), (real)0.5) ==
          near(0.8));
}

TEST_CASE("importance: ada_importance_update refuses bad rates and non-finite input, untouched") {
    real ibar[2] = {0.25, 0.5}, ubar[2] = {0.75, 1};
    const real w[2] = {1, 2}, g[2] = {3, 4};
    const real nan = std::numeric_limits<real>::quiet_NaN();
    const real gbad[2] = {3, nan}, wbad[2] = {std::numeric_limits<real>::infinity(), 2};
    CHECK(ada_importance_update(ibar, ubar, w, g, 2, (real)0, (real)0.5) == ADA_ERR_RANGE);
    CHECK(ada_importance_update(ibar, ubar, w, g, 2, (real)1, (real)0.5) == ADA_ERR_RANGE);
    CHECK(ada_importance_update(ibar, ubar, w, g, 2, (real)0.5, (real)1.5) == ADA_ERR_RANGE);
    CHECK(ada_importance_update(ibar, ubar, w, g, 2, (real)0.5, (real)-0.1) == ADA_ERR_RANGE);
    CHECK(ada_importance_update(ibar, ubar, w, g, 2, nan, (real)0.5) == ADA_ERR_NONFINITE);
    CHECK(ada_importance_update(ibar, ubar, w, gbad, 2, (real)0.5, (real)0.5) == ADA_ERR_NONFINITE);
    CHECK(ada_importance_update(ibar, ubar, wbad, g, 2, (real)0.5, (real)0.5) == ADA_ERR_NONFINITE);
    CHECK(ada_importance_update(nullptr, ubar, w, g, 2, (real)0.5, (real)0.5) == ADA_ERR_NULL);
    CHECK(ada_importance_update(ibar, ubar, nullptr, g, 2, (real)0.5, (real)0.5) == ADA_ERR_NULL);
    CHECK(ibar[0] == (real)0.25); CHECK(ibar[1] == (real)0.5);
    CHECK(ubar[0] == (real)0.75); CHECK(ubar[1] == (real)1);
}

namespace {

// A small matrix: d1 = 3, r = 2, d2 = 4, stored with ldp = 5 > r and
// ldq = 6 > d2; the padding holds 1000 so reading it shows.
struct Fixture {
    static const int d1 = 3, r = 2, d2 = 4, ldp = 5, ldq = 6;
    std::vector<real> iP, uP, iQ, uQ;
    real ilam[2] = {0.5, 2}, ulam[2] = {4, 0.25};
    real lam[2] = {-0.75, 0.3};
    Fixture() : iP(d1 * ldp, 1000), uP(d1 * ldp, 1000), iQ(r * ldq, 1000), uQ(r * ldq, 1000) {
        // P: column 0 Ī = 1, 2, 3; Ū = 2, 1, 1     -> s = 2, 2, 3
        //    column 1 Ī = 0.5, 0, 4; Ū = 2, 3, 0.25 -> s = 1, 0, 1
        const real ip[3][2] = {{1, 0.5}, {2, 0}, {3, 4}};
        const real up[3][2] = {{2, 2}, {1, 3}, {1, 0.25}};
        for (int j = 0; j < d1; j++)
            for (int i = 0; i < r; i++) {
                iP[j * ldp + i] = ip[j][i];
                uP[j * ldp + i] = up[j][i];
            }
        // Q: row 0 Ī = 1, 1, 2, 0;   Ū = 1, 3, 0.5, 7 -> s = 1, 3, 1, 0
        //    row 1 Ī = 3, 0.5, 1, 2; Ū = 1, 2, 4, 0.5 -> s = 3, 1, 4, 1
        const real iq[2][4] = {{1, 1, 2, 0}, {3, 0.5, 1, 2}};
        const real uq[2][4] = {{1, 3, 0.5, 7}, {1, 2, 4, 0.5}};
        for (int i = 0; i < r; i++)
            for (int j = 0; j < d2; j++) {
                iQ[i * ldq + j] = iq[i][j];
                uQ[i * ldq + j] = uq[i][j];
            }
    }
};

// Eq. 9 through ada_triplet_scores with the EMA views of P (d1 x r, ldp), λ and
// Q (r x d2, ldq) built here.
struct PairLd { const real *ibar, *ubar; int ld; };
struct PairLam { const real *ibar, *ubar; };
ada_status scores(real *S, ada_form form, ada_importance_kind kind, PairLd P, PairLam lam, PairLd Q,
                  const real *magnitude_lam, int d1, int d2, int r) {
    const ada_triplet_emas e = {ada_cmat_of(P.ibar, d1, r, P.ld), ada_cmat_of(P.ubar, d1, r, P.ld), lam.ibar,
                                lam.ubar, ada_cmat_of(Q.ibar, r, d2, Q.ld), ada_cmat_of(Q.ubar, r, d2, Q.ld)};
    return ada_triplet_scores(S, r, form, kind, &e, magnitude_lam);
}

}  // namespace

TEST_CASE("importance: Eq. 9 triplet scores by hand, three kinds, padded ldp and ldq") {
    Fixture f;
    real S[2] = {-1, -1};
    SUBCASE("SENS_UNC: s = Ī * Ū") {
        // S_0 = s(λ_0) + mean P col 0 + mean Q row 0
        //     = 0.5*4 + (2 + 2 + 3)/3 + (1 + 3 + 1 + 0)/4 = 2 + 7/3 + 5/4 = 5.583333...
        // S_1 = 2*0.25 + (1 + 0 + 1)/3 + (3 + 1 + 4 + 1)/4 = 0.5 + 2/3 + 9/4 = 3.416666...
        REQUIRE(scores(S, ADA_FORM_SVD, ADA_IMPORTANCE_SENS_UNC, {f.iP.data(), f.uP.data(), f.ldp},
                       {f.ilam, f.ulam},
                       {f.iQ.data(), f.uQ.data(), f.ldq},
                       f.lam, f.d1, f.d2, f.r) == ADA_OK);
        CHECK(S[0] == near(2.0 + 7.0 / 3 + 5.0 / 4));
        CHECK(S[1] == near(0.5 + 2.0 / 3 + 9.0 / 4));
        CHECK(S[0] == near(5.5833333333333333));
        CHECK(S[1] == near(3.4166666666666667));
    }
    SUBCASE("SENS: s = Ī, Ū ignored (may be NULL)") {
        // S_0 = 0.5 + (1 + 2 + 3)/3 + (1 + 1 + 2 + 0)/4 = 0.5 + 2 + 1 = 3.5
        // S_1 = 2 + (0.5 + 0 + 4)/3 + (3 + 0.5 + 1 + 2)/4 = 2 + 1.5 + 1.625 = 5.125
        REQUIRE(scores(S, ADA_FORM_SVD, ADA_IMPORTANCE_SENS, {f.iP.data(), f.uP.data(), f.ldp},
                       {f.ilam, f.ulam},
                       {f.iQ.data(), f.uQ.data(), f.ldq},
                       f.lam, f.d1, f.d2, f.r) == ADA_OK);
        CHECK(S[0] == near(3.5));
        CHECK(S[1] == near(5.125));
        real S2[2] = {-1, -1};
        REQUIRE(scores(S2, ADA_FORM_SVD, ADA_IMPORTANCE_SENS, {f.iP.data(), nullptr, f.ldp},
                       {f.ilam, nullptr},
                       {f.iQ.data(), nullptr, f.ldq},
                       nullptr, f.d1, f.d2, f.r) == ADA_OK);
        CHECK(S2[0] == near(3.5));
        CHECK(S2[1] == near(5.125));
    }
    SUBCASE("MAGNITUDE: S = |λ|, nothing else read") {
        REQUIRE(scores(S, ADA_FORM_SVD, ADA_IMPORTANCE_MAGNITUDE, {nullptr, nullptr, f.ldp},
                       {nullptr, nullptr},
                       {nullptr, nullptr, f.ldq},
                       f.lam, f.d1, f.d2, f.r) == ADA_OK);
        CHECK(S[0] == near(0.75));
        CHECK(S[1] == near(0.3));
    }
}

TEST_CASE("importance: Eq. 9 for a LoRA doublet (ibar_lam = NULL)") {
    Fixture f;
    real S[2] = {-1, -1};
    // SENS_UNC: mean B column + mean A row only.
    // S_0 = 7/3 + 5/4 = 3.583333..., S_1 = 2/3 + 9/4 = 2.916666...
    REQUIRE(scores(S, ADA_FORM_LORA, ADA_IMPORTANCE_SENS_UNC, {f.iP.data(), f.uP.data(), f.ldp},
                   {nullptr, nullptr},
                   {f.iQ.data(), f.uQ.data(), f.ldq},
                   nullptr, f.d1, f.d2, f.r) == ADA_OK);
    CHECK(S[0] == near(7.0 / 3 + 5.0 / 4));
    CHECK(S[1] == near(2.0 / 3 + 9.0 / 4));
    // SENS: S_0 = 2 + 1 = 3, S_1 = 1.5 + 1.625 = 3.125.
    REQUIRE(scores(S, ADA_FORM_LORA, ADA_IMPORTANCE_SENS, {f.iP.data(), nullptr, f.ldp},
                   {nullptr, nullptr},
                   {f.iQ.data(), nullptr, f.ldq},
                   nullptr, f.d1, f.d2, f.r) == ADA_OK);
    CHECK(S[0] == near(3.0));
    CHECK(S[1] == near(3.125));
}

TEST_CASE("importance: Eq. 9 with tight leading dimensions equals the padded result") {
    // The same numbers packed with ldp = r = 2, ldq = d2 = 4.
    Fixture f;
    std::vector<real> iP(6), uP(6), iQ(8), uQ(8);
    for (int j = 0; j < 3; j++)
        for (int i = 0; i < 2; i++) {
            iP[j * 2 + i] = f.iP[j * f.ldp + i];
            uP[j * 2 + i] = f.uP[j * f.ldp + i];
        }
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 4; j++) {
            iQ[i * 4 + j] = f.iQ[i * f.ldq + j];
            uQ[i * 4 + j] = f.uQ[i * f.ldq + j];
        }
    real S[2];
    REQUIRE(scores(S, ADA_FORM_SVD, ADA_IMPORTANCE_SENS_UNC, {iP.data(), uP.data(), 2},
                   {f.ilam, f.ulam},
                   {iQ.data(), uQ.data(), 4},
                   nullptr, 3, 4, 2) == ADA_OK);
    CHECK(S[0] == near(5.5833333333333333));
    CHECK(S[1] == near(3.4166666666666667));
}

TEST_CASE("importance: Eq. 9 refusals leave S untouched") {
    Fixture f;
    real S[2] = {-7, -7};
    // ldp < r, ldq < d2
    CHECK(scores(S, ADA_FORM_SVD, ADA_IMPORTANCE_SENS_UNC, {f.iP.data(), f.uP.data(), 1},
                 {f.ilam, f.ulam},
                 {f.iQ.data(), f.uQ.data(), f.ldq},
                 f.lam, 3, 4, 2) ==
          ADA_ERR_DIM);
    CHECK(scores(S, ADA_FORM_SVD, ADA_IMPORTANCE_SENS_UNC, {f.iP.data(), f.uP.data(), f.ldp},
                 {f.ilam, f.ulam},
                 {f.iQ.data(), f.uQ.data(), 3},
                 f.lam, 3, 4, 2) ==
          ADA_ERR_DIM);
    // zero sizes
    CHECK(scores(S, ADA_FORM_SVD, ADA_IMPORTANCE_SENS_UNC, {f.iP.data(), f.uP.data(), f.ldp},
                 {f.ilam, f.ulam},
                 {f.iQ.data(), f.uQ.data(), f.ldq},
                 f.lam, 0, 4, 2) ==
          ADA_ERR_DIM);
    // SENS_UNC needs Ū
    CHECK(scores(S, ADA_FORM_SVD, ADA_IMPORTANCE_SENS_UNC, {f.iP.data(), nullptr, f.ldp},
                 {f.ilam, f.ulam},
                 {f.iQ.data(), f.uQ.data(), f.ldq},
                 f.lam, 3, 4, 2) ==
          ADA_ERR_NULL);
    CHECK(scores(S, ADA_FORM_SVD, ADA_IMPORTANCE_SENS_UNC, {f.iP.data(), f.uP.data(), f.ldp},
                 {f.ilam, nullptr},
                 {f.iQ.data(), f.uQ.data(), f.ldq},
                 f.lam, 3, 4, 2) ==
          ADA_ERR_NULL);
    // MAGNITUDE needs λ, finite
    CHECK(scores(S, ADA_FORM_SVD, ADA_IMPORTANCE_MAGNITUDE, {f.iP.data(), f.uP.data(), f.ldp},
                 {f.ilam, f.ulam},
                 {f.iQ.data(), f.uQ.data(), f.ldq},
                 nullptr, 3, 4, 2) ==
          ADA_ERR_NULL);
    real badlam[2] = {1, std::numeric_limits<real>::quiet_NaN()};
    CHECK(scores(S, ADA_FORM_SVD, ADA_IMPORTANCE_MAGNITUDE, {nullptr, nullptr, 2},
                 {nullptr, nullptr},
                 {nullptr, nullptr, 4},
                 badlam, 3, 4, 2) == ADA_ERR_NONFINITE);
    // unknown kind
    CHECK(scores(S, ADA_FORM_SVD, (ada_importance_kind)3, {f.iP.data(), f.uP.data(), f.ldp},
                 {f.ilam, f.ulam},
                 {f.iQ.data(), f.uQ.data(), f.ldq},
                 f.lam, 3, 4, 2) ==
          ADA_ERR_RANGE);
    CHECK(S[0] == (real)-7);
    CHECK(S[1] == (real)-7);
}
