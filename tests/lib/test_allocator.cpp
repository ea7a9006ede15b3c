// test_allocator.cpp: the global top-b selection of Eq. 8 (ada_select_top_budget)
// against hand-worked examples, a full sort, and a two-module model.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "support/test_util.h"
extern "C" {
#include "allocator.h"
#include "trainer.h"
}

namespace {

using Keep = std::vector<uint8_t>;

struct Selection {
    ada_status status;
    Keep keep;
    real threshold;
};

Selection run_select(const std::vector<real> &scores, long budget, ada_ties ties) {
    Selection s;
    s.keep.assign(scores.size(), 9);  // sentinel: every entry must be written
    s.threshold = (real)12345;
    std::vector<int32_t> work(scores.size() + 1);
    s.status = ada_select_top_budget(s.keep.data(), &s.threshold, scores.data(),
                                     (long)scores.size(), budget, ties, work.data());
    return s;
}

long count_kept(const Keep &k) {
    long c = 0;
    for (uint8_t v : k) c += v != 0;
    return c;
}

const real NEG_INF = -std::numeric_limits<real>::infinity();

}  // namespace

TEST_CASE("allocator: ties {3,1,2,2,2,5}, budget 3, exact vs kthvalue by hand") {
    const std::vector<real> scores = {3, 1, 2, 2, 2, 5};
    // Ranking (higher score first, equal scores by lower index): 5, 0, 2, 3, 4, 1.
    SUBCASE("exact keeps exactly 3, ties broken by lower index") {
        Selection s = run_select(scores, 3, ADA_TIES_EXACT);
        REQUIRE(s.status == ADA_OK);
        // Top 3: index 5 (score 5), 0 (3), 2 (first of the three 2s).
        CHECK(s.keep == Keep{1, 0, 1, 0, 0, 1});
        CHECK(count_kept(s.keep) == 3);
        // Largest pruned score: index 3's 2.
        CHECK(s.threshold == (real)2);
    }
    SUBCASE("kthvalue prunes every score <= the (n - b)-th smallest") {
        Selection s = run_select(scores, 3, ADA_TIES_KTHVALUE);
        REQUIRE(s.status == ADA_OK);
        // k = 6 - 3 = 3; sorted ascending 1, 2, 2, 2, 3, 5: 3rd smallest = 2.
        // Every score <= 2 is pruned (indices 1, 2, 3, 4): only 0 and 5 survive.
        CHECK(s.keep == Keep{1, 0, 0, 0, 0, 1});
        CHECK(count_kept(s.keep) == 2);  // fewer than b = 3
        CHECK(s.threshold == (real)2);
    }
}

TEST_CASE("allocator: every budget 0..n of the tie example, both modes, by hand") {
    const std::vector<real> scores = {3, 1, 2, 2, 2, 5};
    // exact: top-b of the order 5, 0, 2, 3, 4, 1; threshold = score at rank b.
    // kthvalue: sorted 1, 2, 2, 2, 3, 5; threshold = (6 - b)-th smallest;
    //           keep = score > threshold.
    struct Row {
        long b;
        Keep exact;
        real exact_thr;
        Keep kth;
        real kth_thr;
    };
    const Row rows[] = {
        {0, {0, 0, 0, 0, 0, 0}, 5, {0, 0, 0, 0, 0, 0}, 5},         // k = 6: max = 5
        {1, {0, 0, 0, 0, 0, 1}, 3, {0, 0, 0, 0, 0, 1}, 3},         // k = 5: 3
        {2, {1, 0, 0, 0, 0, 1}, 2, {1, 0, 0, 0, 0, 1}, 2},         // k = 4: 2
        {3, {1, 0, 1, 0, 0, 1}, 2, {1, 0, 0, 0, 0, 1}, 2},         // k = 3: 2
        {4, {1, 0, 1, 1, 0, 1}, 2, {1, 0, 0, 0, 0, 1}, 2},         // k = 2: 2
        {5, {1, 0, 1, 1, 1, 1}, 1, {1, 0, 1, 1, 1, 1}, 1},         // k = 1: 1
        {6, {1, 1, 1, 1, 1, 1}, NEG_INF, {1, 1, 1, 1, 1, 1}, NEG_INF},  // k = 0: nothing
    };
    for (const Row &r : rows) {
        CAPTURE(r.b);
        Selection e = run_select(scores, r.b, ADA_TIES_EXACT);
        REQUIRE(e.status == ADA_OK);
        CHECK(e.keep == r.exact);
        CHECK(count_kept(e.keep) == r.b);
        CHECK(e.threshold == r.exact_thr);
        Selection k = run_select(scores, r.b, ADA_TIES_KTHVALUE);
        REQUIRE(k.status == ADA_OK);
        CHECK(k.keep == r.kth);
        CHECK(k.threshold == r.kth_thr);
    }
}

TEST_CASE("allocator: exact keeps exactly b of random scores, all above every pruned one") {
    std::mt19937 gen(11);
    std::normal_distribution<double> nd(0.0, 1.0);
    for (int trial = 0; trial < 50; trial++) {
        const long n = 1 + (long)(gen() % 300);
        std::vector<real> scores(n);
        for (real &v : scores) v = (real)nd(gen);
        const long b = (long)(gen() % (unsigned)(n + 1));
        CAPTURE(n); CAPTURE(b);
        Selection s = run_select(scores, b, ADA_TIES_EXACT);
        REQUIRE(s.status == ADA_OK);
        CHECK(count_kept(s.keep) == b);
        real min_kept = std::numeric_limits<real>::infinity(), max_pruned = NEG_INF;
        for (long i = 0; i < n; i++) {
            CHECK((s.keep[i] == 0 || s.keep[i] == 1));
            if (s.keep[i]) min_kept = std::min(min_kept, scores[i]);
            else max_pruned = std::max(max_pruned, scores[i]);
        }
        if (b > 0 && b < n) CHECK(min_kept >= max_pruned);
        CHECK(s.threshold == max_pruned);  // -inf when nothing is pruned
    }
}

TEST_CASE("allocator: b = n prunes nothing and b = 0 prunes everything, both modes") {
    const std::vector<real> scores = {0.5, -2, 7, 7, 0};
    for (ada_ties ties : {ADA_TIES_EXACT, ADA_TIES_KTHVALUE}) {
        CAPTURE((int)ties);
        // b = n: an ordinary case (PEFT's kthvalue(k = 0) would raise here).
        Selection all = run_select(scores, 5, ties);
        REQUIRE(all.status == ADA_OK);
        CHECK(all.keep == Keep{1, 1, 1, 1, 1});
        CHECK(std::isinf(all.threshold));
        CHECK(all.threshold < 0);
        // b = 0: all pruned, the largest pruned score is max = 7.
        Selection none = run_select(scores, 0, ties);
        REQUIRE(none.status == ADA_OK);
        CHECK(none.keep == Keep{0, 0, 0, 0, 0});
        CHECK(none.threshold == (real)7);
        // n = 1.
        Selection one = run_select({4}, 1, ties);
        REQUIRE(one.status == ADA_OK);
        CHECK(one.keep == Keep{1});
        Selection zero = run_select({4}, 0, ties);
        REQUIRE(zero.status == ADA_OK);
        CHECK(zero.keep == Keep{0});
        CHECK(zero.threshold == (real)4);
    }
}

TEST_CASE("allocator: -INFINITY scores rank last") {
    const std::vector<real> scores = {NEG_INF, (real)0.5, NEG_INF, -1};
    // Order: 1 (0.5), 3 (-1), 0 (-inf), 2 (-inf).
    Selection e2 = run_select(scores, 2, ADA_TIES_EXACT);
    REQUIRE(e2.status == ADA_OK);
    CHECK(e2.keep == Keep{0, 1, 0, 1});
    CHECK(e2.threshold == NEG_INF);  // the largest pruned score is itself -inf
    Selection e3 = run_select(scores, 3, ADA_TIES_EXACT);
    REQUIRE(e3.status == ADA_OK);
    CHECK(e3.keep == Keep{1, 1, 0, 1});  // the -inf tie goes to the lower index 0
    Selection e1 = run_select(scores, 1, ADA_TIES_EXACT);
    REQUIRE(e1.status == ADA_OK);
    CHECK(e1.keep == Keep{0, 1, 0, 0});
    CHECK(e1.threshold == (real)-1);
    // kthvalue, b = 2: k = 2, sorted -inf, -inf, -1, 0.5: 2nd smallest = -inf;
    // prune <= -inf: indices 0, 2.
    Selection k2 = run_select(scores, 2, ADA_TIES_KTHVALUE);
    REQUIRE(k2.status == ADA_OK);
    CHECK(k2.keep == Keep{0, 1, 0, 1});
    // b = 3: k = 1, threshold -inf, both -inf pruned: 2 survive.
    Selection k3 = run_select(scores, 3, ADA_TIES_KTHVALUE);
    REQUIRE(k3.status == ADA_OK);
    CHECK(k3.keep == Keep{0, 1, 0, 1});
    CHECK(k3.threshold == NEG_INF);
    // Big finite negative scores still beat -inf.
    const std::vector<real> low = {NEG_INF, -std::numeric_limits<real>::max(), NEG_INF};
    Selection l = run_select(low, 1, ADA_TIES_EXACT);
    REQUIRE(l.status == ADA_OK);
    CHECK(l.keep == Keep{0, 1, 0});
}

TEST_CASE("allocator: NaN or +Inf scores are refused and keep is untouched") {
    const real nan = std::numeric_limits<real>::quiet_NaN();
    const real inf = std::numeric_limits<real>::infinity();
    const std::vector<std::vector<real>> bad = {
        {1, nan, 2}, {nan}, {1, 2, inf}, {inf, NEG_INF}, {0, 0, 0, 0, nan}};
    for (const auto &scores : bad)
        for (ada_ties ties : {ADA_TIES_EXACT, ADA_TIES_KTHVALUE})
            for (long b : {0L, 1L, (long)scores.size()}) {
                CAPTURE(scores.size()); CAPTURE(b); CAPTURE((int)ties);
                Selection s = run_select(scores, b, ties);
                CHECK(s.status == ADA_ERR_NONFINITE);
                CHECK(s.keep == Keep(scores.size(), 9));
                CHECK(s.threshold == (real)12345);
            }
}

TEST_CASE("allocator: budget, n, ties and pointers out of range are refused") {
    const std::vector<real> scores = {1, 2, 3};
    for (ada_ties ties : {ADA_TIES_EXACT, ADA_TIES_KTHVALUE}) {
        for (long b : {-1L, 4L, 1000L}) {
            CAPTURE(b);
            Selection s = run_select(scores, b, ties);
            CHECK(s.status == ADA_ERR_RANGE);
            CHECK(s.keep == Keep(3, 9));
            CHECK(s.threshold == (real)12345);
        }
    }
    Selection s = run_select(scores, 1, (ada_ties)2);
    CHECK(s.status == ADA_ERR_RANGE);
    CHECK(s.keep == Keep(3, 9));
    uint8_t keep[3] = {9, 9, 9};
    real thr = 5;
    int32_t work[3];
    CHECK(ada_select_top_budget(keep, &thr, scores.data(), 0, 0, ADA_TIES_EXACT, work) == ADA_ERR_DIM);
    CHECK(ada_select_top_budget(nullptr, &thr, scores.data(), 3, 1, ADA_TIES_EXACT, work) == ADA_ERR_NULL);
    CHECK(ada_select_top_budget(keep, nullptr, scores.data(), 3, 1, ADA_TIES_EXACT, work) == ADA_ERR_NULL);
    CHECK(ada_select_top_budget(keep, &thr, nullptr, 3, 1, ADA_TIES_EXACT, work) == ADA_ERR_NULL);
    CHECK(ada_select_top_budget(keep, &thr, scores.data(), 3, 1, ADA_TIES_EXACT, nullptr) == ADA_ERR_NULL);
    CHECK(keep[0] == 9); CHECK(keep[1] == 9); CHECK(keep[2] == 9);
    CHECK(thr == (real)5);
}

TEST_CASE("allocator: selection agrees with a full sort on random inputs, sizes 1..2000") {
    std::mt19937 gen(2024);
    long checked = 0;
    for (long n = 1; n <= 2000; n++) {
        // Six kinds of input: few distinct values {0,1,2,3} (many ties), all
        // equal, continuous, continuous with some -inf, -0 mixed with +0 (equal
        // scores), and values that differ only in their last bits (in double:
        // below the upper 32 bits the selection keys on first).
        const int kind = (int)(n % 6);
        std::vector<real> scores(n);
        for (long i = 0; i < n; i++) {
            switch (kind) {
            case 0: scores[i] = (real)(gen() % 4); break;
            case 1: scores[i] = (real)(n < 1000 ? 1.5 : (gen() % 2)); break;
            case 2: scores[i] = (real)std::ldexp((double)(gen() % 100000), -10); break;
            case 3: scores[i] = gen() % 5 == 0 ? NEG_INF : (real)(gen() % 7); break;
            case 4: scores[i] = (real)(gen() % 3 == 0 ? -0.0 : gen() % 3 == 0 ? 0.0 : -(double)(gen() % 3)); break;
            default: scores[i] = (real)(1.0 + std::ldexp((double)(gen() % 8), -45) * (gen() % 2 ? 1 : -1)); break;
            }
        }
        // Reference: stable order by (score descending, index ascending).
        std::vector<int32_t> order(n);
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
            return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
        });
        std::vector<real> asc(scores);
        std::sort(asc.begin(), asc.end());
        long budgets[3] = {(long)(gen() % (unsigned)(n + 1)), n / 2, n - 1};
        for (long b : budgets) {
            CAPTURE(n); CAPTURE(b); CAPTURE(kind);
            Keep want_exact(n, 0);
            for (long j = 0; j < b; j++) want_exact[order[j]] = 1;
            const real want_thr = b < n ? scores[order[b]] : NEG_INF;
            Selection e = run_select(scores, b, ADA_TIES_EXACT);
            REQUIRE(e.status == ADA_OK);
            CHECK(e.keep == want_exact);
            CHECK(e.threshold == want_thr);
            // kthvalue: threshold = (n - b)-th smallest, prune every score <= it.
            const long k = n - b;
            Keep want_kth(n, 1);
            real kth = NEG_INF;
            if (k > 0) {
                kth = asc[k - 1];
                for (long i = 0; i < n; i++) want_kth[i] = scores[i] > kth;
            }
            Selection kv = run_select(scores, b, ADA_TIES_KTHVALUE);
            REQUIRE(kv.status == ADA_OK);
            CHECK(kv.keep == want_kth);
            CHECK(kv.threshold == kth);
            CHECK(count_kept(kv.keep) <= b);
            checked++;
        }
    }
    CHECK(checked == 6000);
}

TEST_CASE("allocator: the budget is allocated globally over all matrices (Eq. 8)") {
    // Two modules 8 -> 8 in two chains, r0 = 4: 8 triplets, global index k*4 + i.
    ada_module_spec specs[2] = {{"a", 0, 8, 8, 0, ADA_ACT_IDENTITY},
                                {"b", 1, 8, 8, 0, ADA_ACT_IDENTITY}};
    ada_model_config mc = ada_model_defaults();
    mc.n_modules = 2; mc.modules = specs; mc.r0 = 4; mc.max_batch = 4; mc.seed = 5;
    ada_model *m = nullptr;
    REQUIRE(ada_model_create(&m, &mc) == ADA_OK);
    REQUIRE(m->n_triplets == 8);
    ada_train_config tc = ada_train_defaults();
    // Paper numbering, T = 2, t_f = 1: step 1 = T - t_f is the forced mask at b(T) = 4.
    tc.schedule.b0 = 8; tc.schedule.bT = 4; tc.schedule.t_init = 0; tc.schedule.t_final = 1;
    tc.schedule.total = 2;
    ada_trainer *tr = nullptr;
    REQUIRE(ada_trainer_create(&tr, m, &tc) == ADA_OK);

    // Hand-set EMAs (d1 = d_out = 8, d2 = d_in = 8):
    //  module 0: Ī(λ_i) = 10 + i, Ū(λ_i) = 1        -> s = 10 + i
    //            P column i: Ī = 1, Ū = 2            -> mean s = 2
    //            Q row i:    Ī = 3, Ū = 1            -> mean s = 3
    //            S_0i = 15 + i = 15, 16, 17, 18
    //  module 1: Ī(λ_i) = i, Ū(λ_i) = 1             -> s = i
    //            P: Ī = 0.5, Ū = 2 -> 1; Q: Ī = 1, Ū = 1 -> 1
    //            S_1i = 2 + i = 2, 3, 4, 5
    const real lamP[2] = {1, 0.5}, uP[2] = {2, 2}, lamQ[2] = {3, 1}, uQ[2] = {1, 1};
    const real base[2] = {10, 0};
    for (int k = 0; k < 2; k++) {
        ada_adapter_view ib = ada_model_view(m, tr->ibar, k), ub = ada_model_view(m, tr->ubar, k);
        for (int j = 0; j < 8 * 4; j++) { ib.P[j] = lamP[k]; ub.P[j] = uP[k]; }
        for (int j = 0; j < 4 * 8; j++) { ib.Q[j] = lamQ[k]; ub.Q[j] = uQ[k]; }
        for (int i = 0; i < 4; i++) { ib.lam[i] = base[k] + i; ub.lam[i] = 1; }
        // Non-zero λ so that masking is visible.
        ada_adapter_view w = ada_model_view(m, m->params, k);
        for (int i = 0; i < 4; i++) w.lam[i] = (real)(0.25 * (i + 1));
    }
    REQUIRE(ada_trainer_scores(tr) == ADA_OK);
    const real want[8] = {15, 16, 17, 18, 2, 3, 4, 5};
    for (int i = 0; i < 8; i++) {
        CAPTURE(i);
        CHECK(tr->scores[i] == doctest::Approx(want[i]).epsilon(1e-6));
    }
    for (ada_ties ties : {ADA_TIES_EXACT, ADA_TIES_KTHVALUE}) {
        CAPTURE((int)ties);
        Keep keep(8, 9);
        real thr = 0;
        REQUIRE(ada_select_top_budget(keep.data(), &thr, tr->scores, 8, 4, ties,
                                      tr->select_work) == ADA_OK);
        // Global: all 4 kept are module 0's (a per-matrix split would keep 2 + 2).
        CHECK(keep == Keep{1, 1, 1, 1, 0, 0, 0, 0});
        CHECK(thr == doctest::Approx(5).epsilon(1e-6));  // best pruned: S_13 = 5
    }

    // The same through the trainer's allocation step (forced mask at step 1).
    ada_step_info info;
    std::memset(&info, 0, sizeof info);
    REQUIRE(ada_trainer_allocate(tr, &info) == ADA_OK);
    CHECK(info.action == ADA_ACTION_MASK);
    CHECK(info.budget == 4);
    CHECK(info.kept == 4);
    CHECK(ada_model_kept_rank(m, 0) == 4);
    CHECK(ada_model_kept_rank(m, 1) == 0);
    ada_adapter_view w0 = ada_model_view(m, m->params, 0), w1 = ada_model_view(m, m->params, 1);
    for (int i = 0; i < 4; i++) {
        CAPTURE(i);
        CHECK(w0.lam[i] == doctest::Approx(0.25 * (i + 1)));  // kept: untouched
        CHECK(w1.lam[i] == 0);                                // masked: zero
    }
    ada_trainer_free(tr);
    ada_model_free(m);
}

TEST_CASE("allocator: trainer scores use d1 = d_out for P and d2 = d_in for Q") {
    // One module 3 -> 5 (d2 = 3, d1 = 5), r0 = 2: P is 5 x 2, Q is 2 x 3.
    ada_module_spec specs[1] = {{"a", 0, 3, 5, 0, ADA_ACT_IDENTITY}};
    ada_model_config mc = ada_model_defaults();
    mc.n_modules = 1; mc.modules = specs; mc.r0 = 2; mc.max_batch = 2;
    ada_model *m = nullptr;
    REQUIRE(ada_model_create(&m, &mc) == ADA_OK);
    ada_train_config tc = ada_train_defaults();
    tc.schedule.b0 = 2; tc.schedule.bT = 1; tc.schedule.total = 10;
    ada_trainer *tr = nullptr;
    REQUIRE(ada_trainer_create(&tr, m, &tc) == ADA_OK);
    ada_adapter_view ib = ada_model_view(m, tr->ibar, 0), ub = ada_model_view(m, tr->ubar, 0);
    // P (5 x 2, ld 2): column 0 Ī = 1..5, Ū = 1 -> mean (1+2+3+4+5)/5 = 3;
    //                  column 1 Ī = 2, Ū = 0.5  -> mean 1.
    for (int j = 0; j < 5; j++) {
        ib.P[j * 2 + 0] = (real)(j + 1); ub.P[j * 2 + 0] = 1;
        ib.P[j * 2 + 1] = 2; ub.P[j * 2 + 1] = 0.5;
    }
    // λ: s = 0.5 * 2 = 1 and 0 * 7 = 0.
    ib.lam[0] = 0.5; ub.lam[0] = 2; ib.lam[1] = 0; ub.lam[1] = 7;
    // Q (2 x 3, ld 3): row 0 s = 3, 0, 6 -> mean 3; row 1 s = 1, 1, 1 -> mean 1.
    const real iq[6] = {3, 0, 2, 1, 1, 1}, uq[6] = {1, 5, 3, 1, 1, 1};
    for (int j = 0; j < 6; j++) { ib.Q[j] = iq[j]; ub.Q[j] = uq[j]; }
    REQUIRE(ada_trainer_scores(tr) == ADA_OK);
    CHECK(tr->scores[0] == doctest::Approx(1 + 3 + 3).epsilon(1e-6));  // 7
    CHECK(tr->scores[1] == doctest::Approx(0 + 1 + 1).epsilon(1e-6));  // 2
    ada_trainer_free(tr);
    ada_model_free(m);
}
