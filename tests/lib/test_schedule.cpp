// test_schedule.cpp: the budget schedule of Eq. 14 (Appendix A, corrected) and
// the mask timing of the conventions table (rows 4-6, 8), against hand numbers.
//
// The setting used throughout: b(0) = 120, b(T) = 48, t_i = 10, t_f = 20,
// T = 100, so the decay runs over D = T - t_i - t_f = 70 steps and the cubic
// drops b(0) - b(T) = 72 triplets.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "support/test_util.h"
extern "C" {
#include "schedule.h"
}

namespace {

ada_schedule setting(ada_sched_convention conv, ada_final_phase fin = ADA_FINAL_FREEZE,
                     long delta_t = 3) {
    ada_schedule s;
    s.b0 = 120;
    s.bT = 48;
    s.t_init = 10;
    s.t_final = 20;
    s.total = 100;
    s.delta_t = delta_t;
    ada_schedule_set_convention(&s, conv);
    s.final_phase = fin;
    return s;
}

struct BudgetPoint {
    long step;
    long budget;
    ada_phase phase;
};

void check_points(const ada_schedule &s, const std::vector<BudgetPoint> &pts) {
    for (const BudgetPoint &p : pts) {
        CAPTURE(p.step);
        long b = -1;
        ada_phase ph = (ada_phase)-1;
        REQUIRE(ada_budget_at(&b, &ph, p.step, &s) == ADA_OK);
        CHECK(b == p.budget);
        CHECK(ph == p.phase);
    }
}

long budget(long step, const ada_schedule &s) {
    long b = -1;
    REQUIRE(ada_budget_at(&b, nullptr, step, &s) == ADA_OK);
    return b;
}

// The mask action of every step 0..T, compared with the hand-written sets.
void check_actions(const ada_schedule &s, const std::vector<long> &mask,
                   const std::vector<long> &reapply) {
    for (long t = 0; t <= s.total; t++) {
        CAPTURE(t);
        ada_mask_action expect = ADA_ACTION_NONE;
        for (long m : mask)
            if (m == t) expect = ADA_ACTION_MASK;
        for (long r : reapply)
            if (r == t) expect = ADA_ACTION_REAPPLY;
        ada_mask_action a = (ada_mask_action)-1;
        REQUIRE(ada_mask_action_at(&a, t, &s) == ADA_OK);
        CHECK(a == expect);
    }
}

std::vector<long> range(long from, long to) {  // from..to inclusive
    std::vector<long> v;
    for (long t = from; t <= to; t++) v.push_back(t);
    return v;
}

}  // namespace

TEST_CASE("schedule: paper convention, Eq. 14 budgets and phases by hand (round to nearest)") {
    const ada_schedule s = setting(ADA_SCHED_PAPER);
    // Paper: warm-up t < t_i = 10; decay 10 <= t < T - t_f = 80; final t >= 80.
    // Cubic: b(t) = 48 + 72 (1 - (t - 10)/70)^3.
    check_points(s, {
        {0, 120, ADA_PHASE_WARMUP},   // t < t_i: b(0)
        {1, 120, ADA_PHASE_WARMUP},
        {9, 120, ADA_PHASE_WARMUP},   // t_i - 1
        {10, 120, ADA_PHASE_DECAY},   // t_i: 48 + 72 * 1^3 = 120
        {11, 117, ADA_PHASE_DECAY},   // 48 + 72 (69/70)^3 = 48 + 23652648/343000 = 116.958 -> 117
        {20, 93, ADA_PHASE_DECAY},    // 48 + 72 (6/7)^3 = 48 + 15552/343 = 93.341 -> 93
        {30, 74, ADA_PHASE_DECAY},    // 48 + 72 (5/7)^3 = 48 + 9000/343 = 74.239 -> 74
        {45, 57, ADA_PHASE_DECAY},    // middle: 48 + 72 (1/2)^3 = 48 + 9 = 57
        {50, 54, ADA_PHASE_DECAY},    // 48 + 72 (3/7)^3 = 48 + 1944/343 = 53.668 -> 54
        {79, 48, ADA_PHASE_DECAY},    // T - t_f - 1: 48 + 72/343000 = 48.0002 -> 48
        {80, 48, ADA_PHASE_FINAL},    // T - t_f: b(T)
        {99, 48, ADA_PHASE_FINAL},    // T - 1
        {100, 48, ADA_PHASE_FINAL},   // T
    });
}

TEST_CASE("schedule: peft convention, Eq. 14 budgets and phases by hand (warm-up step <= tinit, floor)") {
    const ada_schedule s = setting(ADA_SCHED_PEFT);
    // PEFT: 0-based, warm-up step <= tinit = 10; decay 11..79; final from 80.
    // Same cubic 48 + 72 (1 - (t - 10)/70)^3, truncated by int().
    check_points(s, {
        {0, 120, ADA_PHASE_WARMUP},
        {9, 120, ADA_PHASE_WARMUP},   // t_i - 1
        {10, 120, ADA_PHASE_WARMUP},  // t_i is still warm-up in PEFT (step <= tinit)
        {11, 116, ADA_PHASE_DECAY},   // 116.958 floored -> 116 (paper rounds to 117)
        {20, 93, ADA_PHASE_DECAY},    // 93.341 -> 93
        {30, 74, ADA_PHASE_DECAY},    // 74.239 -> 74
        {45, 57, ADA_PHASE_DECAY},    // middle: exactly 57
        {50, 53, ADA_PHASE_DECAY},    // 53.668 floored -> 53 (paper: 54)
        {79, 48, ADA_PHASE_DECAY},    // T - t_f - 1: 48.0002 -> 48
        {80, 48, ADA_PHASE_FINAL},    // T - t_f
        {99, 48, ADA_PHASE_FINAL},    // T - 1 (PEFT's last step)
    });
}

TEST_CASE("schedule: peft rounding is PEFT's own expression, bit for bit, where the exact budget is whole") {
    // Values from CPython evaluating PEFT's budget_schedule expression,
    // int((b0 - bT) * (1 - (step - ti)/(T - tf - ti)) ** 3 + bT); `exact` is
    // the rational value. PEFT lands below a whole number where its floats
    // round down, and cubic_budget's order (bT + (b0 - bT) r r r) need not.
    struct Case {
        long b0, bT, ti, tf, T, step, peft, exact;
    };
    const Case cases[] = {
        {2304, 576, 196, 132, 1000, 252, 1906, 1907},  // the 144 matrices, r0 16 -> 4: 1728 (11/12)^3 = 1331
        {130, 5, 4, 6, 15, 8, 5, 6},                   // (b0 - bT) (2/5)^3 = 8 exactly; floats give 5.999...
        {130, 5, 4, 6, 15, 6, 31, 32},                 // (4/5)^3: 31.999...
        {221, 5, 4, 6, 16, 9, 5, 6},                   // (1/6)^3 * 216
    };
    for (const Case &c : cases) {
        ada_schedule s{};
        s.b0 = c.b0; s.bT = c.bT; s.t_init = c.ti; s.t_final = c.tf; s.total = c.T; s.delta_t = 1;
        s.final_phase = ADA_FINAL_FREEZE;
        ada_schedule_set_convention(&s, ADA_SCHED_PEFT);
        long b = -1;
        REQUIRE(ada_budget_at(&b, nullptr, c.step, &s) == ADA_OK);
        CAPTURE(c.b0); CAPTURE(c.step); CAPTURE(c.exact);
        CHECK(b == c.peft);
    }
}

TEST_CASE("schedule: rows 4-6 are independent switches (each alone on top of the paper's)") {
    ada_schedule floor_only = setting(ADA_SCHED_PAPER), warm_only = setting(ADA_SCHED_PAPER);
    floor_only.rounding = ADA_ROUND_FLOOR;            // row 6 alone: t_i = 10 still decays
    check_points(floor_only, {{10, 120, ADA_PHASE_DECAY}, {11, 116, ADA_PHASE_DECAY}, {50, 53, ADA_PHASE_DECAY}});
    warm_only.warmup_end = ADA_WARMUP_THROUGH_TINIT;  // row 5 alone: rounding stays nearest
    check_points(warm_only, {{10, 120, ADA_PHASE_WARMUP}, {11, 117, ADA_PHASE_DECAY}, {50, 54, ADA_PHASE_DECAY}});
    ada_mask_action a;
    REQUIRE(ada_mask_action_at(&a, 9, &warm_only) == ADA_OK);  // on the ΔT grid, in warm-up: no mask
    CHECK(a == ADA_ACTION_NONE);
    ada_schedule base0 = setting(ADA_SCHED_PAPER);  // row 4 alone: only the numbering moves
    base0.step_base = 0;
    CHECK(ada_schedule_step_number(0, &base0) == 0);
    check_points(base0, {{10, 120, ADA_PHASE_DECAY}, {11, 117, ADA_PHASE_DECAY}});
}

TEST_CASE("schedule: b(t) is non-increasing over 0..T and spans b(0)..b(T)") {
    struct Case {
        long b0, bT, ti, tf, T;
    };
    const Case cases[] = {{120, 48, 10, 20, 100}, {96, 64, 0, 0, 37}, {12, 0, 3, 5, 9},
                          {50, 50, 4, 4, 20},     {7, 1, 0, 10, 1000}};
    for (const Case &c : cases)
        for (ada_sched_convention conv : {ADA_SCHED_PAPER, ADA_SCHED_PEFT}) {
            CAPTURE(c.b0); CAPTURE(c.bT); CAPTURE(c.T); CAPTURE((int)conv);
            ada_schedule s = setting(conv);
            s.b0 = c.b0; s.bT = c.bT; s.t_init = c.ti; s.t_final = c.tf; s.total = c.T;
            long prev = budget(0, s);
            CHECK(prev == c.b0);
            for (long t = 1; t <= c.T; t++) {
                CAPTURE(t);
                long b = budget(t, s);
                CHECK(b <= prev);
                CHECK(b >= c.bT);
                CHECK(b <= c.b0);
                prev = b;
            }
            CHECK(prev == c.bT);
        }
}

TEST_CASE("schedule: the paper's typo'd cubic (docs/SPEC.md §2) jumps at t_i and T - t_f; the corrected one does not") {
    const ada_schedule s = setting(ADA_SCHED_PAPER);
    const double b0 = 120, bT = 48, ti = 10, tf = 20, T = 100, D = T - ti - tf;  // D = 70
    auto typo = [&](double t) {  // the paper's text (docs/SPEC.md §2, the schedule's typo): (t - t_i - t_f)
        double x = 1 - (t - ti - tf) / D;
        return bT + (b0 - bT) * x * x * x;
    };
    auto fixed = [&](double t) {  // docs/SPEC.md §2 and both implementations: (t - t_i)
        double x = 1 - (t - ti) / D;
        return bT + (b0 - bT) * x * x * x;
    };
    // Typo at t_i = 10: x = 1 + 20/70 = 9/7, 72 * 729/343 = 52488/343 = 153.026 -> 201.026.
    CHECK(typo(10) == doctest::Approx(48 + 52488.0 / 343).epsilon(1e-12));
    CHECK(typo(10) == doctest::Approx(201.0262).epsilon(1e-6));
    CHECK(typo(10) != doctest::Approx(b0));
    // b(t_i - 1) = b(0) = 120: the typo would jump up by 81 triplets at t_i,
    // past b(0) (more triplets than exist).
    CHECK(budget(9, s) == 120);
    CHECK(std::fabs(typo(10) - (double)budget(9, s)) > 80);
    // Typo at T - t_f = 80: x = 1 - 50/70 = 2/7, 72 * 8/343 = 576/343 -> 49.679, not b(T).
    CHECK(typo(80) == doctest::Approx(48 + 576.0 / 343).epsilon(1e-12));
    CHECK(typo(80) != doctest::Approx(bT));
    // At T - t_f - 1 = 79: x = 1 - 49/70 = 3/10, 72 * 0.027 = 1.944 -> 49.944,
    // then the third branch says 48: a drop of 1.944 (2 triplets after rounding).
    CHECK(typo(79) == doctest::Approx(49.944).epsilon(1e-12));
    CHECK(std::lround(typo(79)) - budget(80, s) == 2);

    // The corrected cubic meets both flat branches exactly.
    CHECK(fixed(10) == doctest::Approx(b0).epsilon(1e-12));  // x = 1
    CHECK(fixed(80) == doctest::Approx(bT).epsilon(1e-12));  // x = 0
    // 79: 48 + 72/343000 = 48.00021
    CHECK(fixed(79) - bT == doctest::Approx(72.0 / 343000).epsilon(1e-9));
    // The library's budgets are continuous at both ends, in both conventions.
    for (ada_sched_convention conv : {ADA_SCHED_PAPER, ADA_SCHED_PEFT}) {
        CAPTURE((int)conv);
        ada_schedule c = setting(conv);
        CHECK(std::labs(budget(10, c) - budget(9, c)) <= 1);
        CHECK(std::labs(budget(11, c) - budget(10, c)) <= 4);  // slope at t_i: 3*72/70 = 3.09
        CHECK(std::labs(budget(79, c) - budget(80, c)) <= 1);
        // And never above b(0): the typo would give 201 at t_i.
        CHECK(budget(10, c) == 120);
    }
}

TEST_CASE("schedule: mask actions with dT = 3, paper convention, final phase frozen") {
    const ada_schedule s = setting(ADA_SCHED_PAPER, ADA_FINAL_FREEZE, 3);
    // Warm-up (t < 10) and decay (10..79) mask at t % 3 == 0; 80 = T - t_f gets
    // the forced mask at b(T) although 80 % 3 = 2; 81..100 re-apply the pattern.
    check_actions(s,
                  {0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33, 36, 39, 42, 45, 48, 51, 54, 57,
                   60, 63, 66, 69, 72, 75, 78, 80},
                  range(81, 100));
}

TEST_CASE("schedule: mask actions with dT = 3, peft convention never masks in warm-up") {
    const ada_schedule s = setting(ADA_SCHED_PEFT, ADA_FINAL_FREEZE, 3);
    // Warm-up 0..10: never (not at 0, 3, 6, 9). Decay 11..79: 12, 15, ..., 78.
    // Forced mask at 80, then REAPPLY every step.
    check_actions(s,
                  {12, 15, 18, 21, 24, 27, 30, 33, 36, 39, 42, 45, 48, 51, 54, 57, 60, 63, 66,
                   69, 72, 75, 78, 80},
                  range(81, 100));
    // ΔT = 1: PEFT still does not mask in warm-up, masks every decay step.
    const ada_schedule s1 = setting(ADA_SCHED_PEFT, ADA_FINAL_FREEZE, 1);
    std::vector<long> every = range(11, 80);
    check_actions(s1, every, range(81, 100));
}

TEST_CASE("schedule: mask actions, final phase recomputed (authors' code)") {
    // t_f = 20: T - t_f = 80 is off the ΔT = 3 grid (80 % 3 = 2), so no mask
    // there; from 81 on the mask is recomputed every step.
    {
        const ada_schedule s = setting(ADA_SCHED_PAPER, ADA_FINAL_RECOMPUTE, 3);
        std::vector<long> mask = {0,  3,  6,  9,  12, 15, 18, 21, 24, 27, 30, 33, 36, 39,
                                  42, 45, 48, 51, 54, 57, 60, 63, 66, 69, 72, 75, 78};
        for (long t : range(81, 100)) mask.push_back(t);
        check_actions(s, mask, {});
    }
    // t_f = 19: T - t_f = 81 = 27 * 3 is on the grid: mask at 81 and every step after.
    {
        ada_schedule s = setting(ADA_SCHED_PAPER, ADA_FINAL_RECOMPUTE, 3);
        s.t_final = 19;
        std::vector<long> mask = {0,  3,  6,  9,  12, 15, 18, 21, 24, 27, 30, 33, 36, 39,
                                  42, 45, 48, 51, 54, 57, 60, 63, 66, 69, 72, 75, 78};
        for (long t : range(81, 100)) mask.push_back(t);
        check_actions(s, mask, {});
        // 79 and 80 are decay steps off the grid: NONE.
        ada_mask_action a;
        REQUIRE(ada_mask_action_at(&a, 80, &s) == ADA_OK);
        CHECK(a == ADA_ACTION_NONE);
    }
    // PEFT numbering with RECOMPUTE: still no warm-up masks.
    {
        const ada_schedule s = setting(ADA_SCHED_PEFT, ADA_FINAL_RECOMPUTE, 3);
        std::vector<long> mask = {12, 15, 18, 21, 24, 27, 30, 33, 36, 39, 42, 45, 48,
                                  51, 54, 57, 60, 63, 66, 69, 72, 75, 78};
        for (long t : range(81, 100)) mask.push_back(t);
        check_actions(s, mask, {});
    }
}

TEST_CASE("schedule: step numbering and out-of-range steps") {
    const ada_schedule s = setting(ADA_SCHED_PAPER), p = setting(ADA_SCHED_PEFT);
    CHECK(ada_schedule_step_number(0, &s) == 1);   // paper t = 1..T
    CHECK(ada_schedule_step_number(0, &p) == 0);   // PEFT global_step 0..T-1
    CHECK(ada_schedule_step_number(99, &s) == 100);
    CHECK(ada_schedule_step_number(99, &p) == 99);
    long b = 777;
    ada_mask_action a = (ada_mask_action)77;
    CHECK(ada_budget_at(&b, nullptr, -1, &s) == ADA_ERR_RANGE);
    CHECK(ada_budget_at(&b, nullptr, 101, &s) == ADA_ERR_RANGE);
    CHECK(b == 777);
    CHECK(ada_mask_action_at(&a, 101, &s) == ADA_ERR_RANGE);
    CHECK(ada_mask_action_at(&a, -1, &s) == ADA_ERR_RANGE);
    CHECK(a == (ada_mask_action)77);
    CHECK(ada_budget_at(nullptr, nullptr, 5, &s) == ADA_ERR_NULL);
    CHECK(ada_budget_at(&b, nullptr, 5, nullptr) == ADA_ERR_NULL);
    CHECK(ada_mask_action_at(nullptr, 5, &s) == ADA_ERR_NULL);
    // An invalid schedule is refused by the pure functions too.
    ada_schedule bad = s;
    bad.bT = 121;
    CHECK(ada_budget_at(&b, nullptr, 5, &bad) == ADA_ERR_RANGE);
    CHECK(ada_mask_action_at(&a, 5, &bad) == ADA_ERR_RANGE);
    CHECK(b == 777);
}

TEST_CASE("schedule: ada_schedule_check accepts valid settings and rejects invalid ones") {
    const long n = 120;  // n·r0
    const ada_schedule ok = setting(ADA_SCHED_PAPER);
    CHECK(ada_schedule_check(&ok, n) == ADA_OK);
    CHECK(ada_schedule_check(nullptr, n) == ADA_ERR_NULL);

    auto with = [&](auto edit) {
        ada_schedule s = ok;
        edit(s);
        return ada_schedule_check(&s, n);
    };
    // Edge cases that are allowed.
    CHECK(with([](ada_schedule &s) { s.bT = s.b0; }) == ADA_OK);               // bT = b0
    CHECK(with([](ada_schedule &s) { s.bT = 0; }) == ADA_OK);                  // bT = 0
    CHECK(with([](ada_schedule &s) { s.t_init = 0; s.t_final = 0; }) == ADA_OK);
    CHECK(with([](ada_schedule &s) { s.total = 31; }) == ADA_OK);              // 31 > 10 + 20
    CHECK(with([](ada_schedule &s) { s.delta_t = 1; }) == ADA_OK);
    CHECK(with([](ada_schedule &s) { ada_schedule_set_convention(&s, ADA_SCHED_PEFT); s.final_phase = ADA_FINAL_RECOMPUTE; }) == ADA_OK);
    // bT > b0
    CHECK(with([](ada_schedule &s) { s.bT = 121; }) == ADA_ERR_RANGE);
    CHECK(with([](ada_schedule &s) { s.b0 = 60; s.bT = 61; }) == ADA_ERR_RANGE);
    CHECK(with([](ada_schedule &s) { s.bT = -1; }) == ADA_ERR_RANGE);
    // b0 > n_triplets
    CHECK(with([](ada_schedule &s) { s.b0 = 121; }) == ADA_ERR_RANGE);
    CHECK(ada_schedule_check(&ok, 119) == ADA_ERR_RANGE);
    // T <= t_i + t_f
    CHECK(with([](ada_schedule &s) { s.total = 30; }) == ADA_ERR_RANGE);
    CHECK(with([](ada_schedule &s) { s.total = 29; }) == ADA_ERR_RANGE);
    CHECK(with([](ada_schedule &s) { s.t_init = 0; s.t_final = 0; s.total = 0; }) == ADA_ERR_RANGE);
    // ΔT < 1
    CHECK(with([](ada_schedule &s) { s.delta_t = 0; }) == ADA_ERR_RANGE);
    CHECK(with([](ada_schedule &s) { s.delta_t = -3; }) == ADA_ERR_RANGE);
    // negative t_i, t_f
    CHECK(with([](ada_schedule &s) { s.t_init = -1; }) == ADA_ERR_RANGE);
    CHECK(with([](ada_schedule &s) { s.t_final = -1; }) == ADA_ERR_RANGE);
    // bad enums
    CHECK(with([](ada_schedule &s) { s.step_base = 2; }) == ADA_ERR_RANGE);
    CHECK(with([](ada_schedule &s) { s.step_base = -1; }) == ADA_ERR_RANGE);
    CHECK(with([](ada_schedule &s) { s.warmup_end = (ada_warmup_end)2; }) == ADA_ERR_RANGE);
    CHECK(with([](ada_schedule &s) { s.rounding = (ada_budget_rounding)-1; }) == ADA_ERR_RANGE);
    CHECK(with([](ada_schedule &s) { s.final_phase = (ada_final_phase)2; }) == ADA_ERR_RANGE);
    CHECK(with([](ada_schedule &s) { s.final_phase = (ada_final_phase)-1; }) == ADA_ERR_RANGE);
}
