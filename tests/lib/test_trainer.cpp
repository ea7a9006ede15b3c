// test_trainer.cpp: the training step of trainer.h against docs/SPEC.md,
// sections 2 and 4: determinism, masking (not deletion) with revival, the
// budget schedule, fixed rank, prune-LoRA with hard delete, the end of the
// schedule, and pre- vs post-step sensitivity weights.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "support/test_util.h"
extern "C" {
#include "trainer.h"
}

namespace {

// A one-chain MLP with three adapted matrices: n = 3, r0 = 4, n·r0 = 12 triplets.
const int kR0 = 4;
const long kTriplets = 12;
const int kRows = 16, kBatches = 4, kIn = 8, kOut = 4;

const ada_module_spec kSpecs[3] = {{"l0", 0, kIn, 12, 1, ADA_ACT_TANH},
                                   {"l1", 0, 12, 10, 1, ADA_ACT_TANH},
                                   {"l2", 0, 10, kOut, 1, ADA_ACT_IDENTITY}};

ada_model_config model_config(ada_form form = ADA_FORM_SVD) {
    ada_model_config mc = ada_model_defaults();
    mc.n_modules = 3;
    mc.modules = kSpecs;
    mc.form = form;
    mc.r0 = kR0;
    mc.max_batch = kRows;
    mc.seed = 11;
    return mc;
}

// Paper schedule: warm-up t < 5, decay 5 <= t < 40, final 40..50.
ada_train_config train_config() {
    ada_train_config tc = ada_train_defaults();
    tc.opt.lr = 1e-2;
    tc.schedule.b0 = kTriplets;
    tc.schedule.bT = 4;
    tc.schedule.t_init = 5;
    tc.schedule.t_final = 10;
    tc.schedule.total = 50;
    tc.schedule.delta_t = 1;
    return tc;
}

// Four fixed mini-batches of 16 rows, used in turn.
struct Data {
    test::Vec x, y;
    const real *xp[kBatches];
    const real *yp[kBatches];
    ada_batch b[kBatches];
    explicit Data(uint64_t seed) {
        ada_rng rng;
        ada_rng_seed(&rng, seed);
        x = test::randn(rng, (size_t)kBatches * kRows * kIn);
        y = test::randn(rng, (size_t)kBatches * kRows * kOut, 0.5);
        for (int i = 0; i < kBatches; i++) {
            xp[i] = x.data() + (size_t)i * kRows * kIn;
            yp[i] = y.data() + (size_t)i * kRows * kOut;
            b[i] = ada_batch{kRows, &xp[i], &yp[i], nullptr, nullptr};
        }
    }
    Data(const Data &) = delete;
    Data &operator=(const Data &) = delete;
    const ada_batch *at(long t) const { return &b[t % kBatches]; }
};

// A model and its trainer, freed together.
struct Rig {
    ada_model *m = nullptr;
    ada_trainer *tr = nullptr;
    Rig(const ada_model_config &mc, const ada_train_config &tc) {
        REQUIRE(ada_model_create(&m, &mc) == ADA_OK);
        REQUIRE(ada_trainer_create(&tr, m, &tc) == ADA_OK);
    }
    ~Rig() {
        ada_trainer_free(tr);
        ada_model_free(m);
    }
    Rig(const Rig &) = delete;
    Rig &operator=(const Rig &) = delete;
    ada_adapter_view view(real *arena, long triplet) const {
        return ada_model_view(m, arena, (int)(triplet / kR0));
    }
    const ada_module &module_of(long triplet) const { return m->modules[triplet / kR0]; }
    // Column i of P (B) of the triplet's module.
    std::vector<real> p_col(real *arena, long j) const {
        const ada_module &mod = module_of(j);
        ada_adapter_view v = view(arena, j);
        std::vector<real> out((size_t)mod.d_out);
        for (int row = 0; row < mod.d_out; row++) out[row] = v.P[(size_t)row * kR0 + j % kR0];
        return out;
    }
    // Row i of Q (A).
    std::vector<real> q_row(real *arena, long j) const {
        const ada_module &mod = module_of(j);
        ada_adapter_view v = view(arena, j);
        const real *q = v.Q + (size_t)(j % kR0) * mod.d_in;
        return std::vector<real>(q, q + mod.d_in);
    }
    real lam(long j) const { return view(m->params, j).lam[j % kR0]; }
    std::vector<uint8_t> keep() const { return std::vector<uint8_t>(m->keep, m->keep + kTriplets); }
    long kept() const {
        long k = 0;
        for (long j = 0; j < kTriplets; j++) k += m->keep[j] != 0;
        return k;
    }
    std::vector<real> arena(const real *a) const { return std::vector<real>(a, a + m->n_params); }
};

bool all_zero(const std::vector<real> &v) {
    for (real x : v)
        if (x != 0) return false;
    return true;
}

double sq_norm(const std::vector<real> &v) {
    double s = 0;
    for (real x : v) s += (double)x * x;
    return s;
}

// Eq. 14 with the paper's rounding (nearest), worked out independently.
long expected_budget(long t, const ada_schedule &s) {
    if (t < s.t_init) return s.b0;
    if (t >= s.total - s.t_final) return s.bT;
    double frac = 1.0 - (double)(t - s.t_init) / (double)(s.total - s.t_init - s.t_final);
    return std::lround((double)s.bT + (double)(s.b0 - s.bT) * frac * frac * frac);
}

// One step as its three parts (what ada_trainer_step does).
void step_parts(Rig &rig, const Data &d, ada_step_info *info) {
    REQUIRE(ada_trainer_gradients(rig.tr, d.at(rig.tr->completed), info) == ADA_OK);
    REQUIRE(ada_trainer_update(rig.tr, info) == ADA_OK);
    REQUIRE(ada_trainer_allocate(rig.tr, info) == ADA_OK);
}

}  // namespace

// ------------------------------------------------------------------ (a)

TEST_CASE("trainer: two runs from the same seed and data are bitwise equal (with pruning)") {
    ada_model_config mc = model_config();
    ada_train_config tc = train_config();
    tc.clip = 1.0;  // the clipping path too
    std::vector<double> loss_a, loss_b;
    std::vector<long> kept_a, kept_b;
    Data da(5), db(5);
    Rig a(mc, tc), b(mc, tc);
    ada_step_info ia, ib;
    for (long t = 0; t < tc.schedule.total; t++) {
        REQUIRE(ada_trainer_step(a.tr, da.at(t), &ia) == ADA_OK);
        loss_a.push_back(ia.loss);
        kept_a.push_back(ia.kept);
    }
    // The second run starts only after the first has finished.
    for (long t = 0; t < tc.schedule.total; t++) {
        REQUIRE(ada_trainer_step(b.tr, db.at(t), &ib) == ADA_OK);
        loss_b.push_back(ib.loss);
        kept_b.push_back(ib.kept);
    }
    // Pruning really happened, so the comparison covers the masking path.
    CHECK(ia.kept == tc.schedule.bT);
    CHECK(a.kept() == tc.schedule.bT);
    REQUIRE(a.m->n_params == b.m->n_params);
    const size_t bytes = sizeof(real) * a.m->n_params;
    CHECK(std::memcmp(a.m->params, b.m->params, bytes) == 0);
    CHECK(std::memcmp(a.m->grads, b.m->grads, bytes) == 0);
    CHECK(std::memcmp(a.m->keep, b.m->keep, (size_t)kTriplets) == 0);
    CHECK(std::memcmp(a.tr->m1, b.tr->m1, bytes) == 0);
    CHECK(std::memcmp(a.tr->m2, b.tr->m2, bytes) == 0);
    CHECK(std::memcmp(a.tr->ibar, b.tr->ibar, bytes) == 0);
    CHECK(std::memcmp(a.tr->ubar, b.tr->ubar, bytes) == 0);
    CHECK(std::memcmp(a.tr->scores, b.tr->scores, sizeof(real) * kTriplets) == 0);
    CHECK(loss_a.size() == loss_b.size());
    CHECK(std::memcmp(loss_a.data(), loss_b.data(), sizeof(double) * loss_a.size()) == 0);
    CHECK(kept_a == kept_b);
}

// ------------------------------------------------------------------ (b)

TEST_CASE("trainer: a masked triplet's P column and Q row keep training, its λ is 0 after each mask") {
    ada_model_config mc = model_config();
    ada_train_config tc = train_config();
    REQUIRE(tc.gamma > 0);
    Rig rig(mc, tc);
    Data d(7);
    ada_step_info info;
    int checked_grad = 0, checked_move = 0, checked_lambda = 0;
    for (long t = 0; t < tc.schedule.total; t++) {
        std::vector<uint8_t> keep_before = rig.keep();
        std::vector<real> params_before = rig.arena(rig.m->params);
        REQUIRE(ada_trainer_gradients(rig.tr, d.at(t), &info) == ADA_OK);
        for (long j = 0; j < kTriplets; j++) {
            if (keep_before[j]) continue;
            // Masked (λ_j = 0 in this forward): the task gives P[:, i] and Q[i, :]
            // no gradient; the orthogonal regulariser (identity r0 x r0) does.
            CHECK(rig.lam(j) == 0);
            CHECK(sq_norm(rig.p_col(rig.m->grads, j)) > 0);
            CHECK(sq_norm(rig.q_row(rig.m->grads, j)) > 0);
            checked_grad++;
        }
        REQUIRE(ada_trainer_update(rig.tr, &info) == ADA_OK);
        REQUIRE(ada_trainer_allocate(rig.tr, &info) == ADA_OK);
        for (long j = 0; j < kTriplets; j++) {
            if (keep_before[j]) continue;
            // P column and Q row of a triplet masked during this whole step moved.
            CHECK(rig.p_col(rig.m->params, j) != rig.p_col(params_before.data(), j));
            CHECK(rig.q_row(rig.m->params, j) != rig.q_row(params_before.data(), j));
            checked_move++;
        }
        if (info.action != ADA_ACTION_NONE) {
            for (long j = 0; j < kTriplets; j++) {
                if (rig.m->keep[j]) continue;
                CHECK(rig.lam(j) == 0);
                checked_lambda++;
            }
        }
    }
    CHECK(rig.kept() == tc.schedule.bT);
    // Enough masked triplet-steps were seen for the checks to mean something.
    CHECK(checked_grad >= 50);
    CHECK(checked_move >= 50);
    CHECK(checked_lambda >= 50);
}

TEST_CASE("trainer: with γ = 0 a masked triplet's P column and Q row get exactly zero gradient") {
    // The contrast of the previous case: it is the regulariser that trains them.
    ada_model_config mc = model_config();
    ada_train_config tc = train_config();
    tc.gamma = 0;
    Rig rig(mc, tc);
    Data d(7);
    ada_step_info info;
    int seen = 0;
    for (long t = 0; t < tc.schedule.total; t++) {
        std::vector<uint8_t> keep_before = rig.keep();
        REQUIRE(ada_trainer_gradients(rig.tr, d.at(t), &info) == ADA_OK);
        CHECK(std::isnan(info.orth_raw));
        CHECK(info.orth_term == 0);
        for (long j = 0; j < kTriplets; j++) {
            if (keep_before[j]) continue;
            CHECK(all_zero(rig.p_col(rig.m->grads, j)));
            CHECK(all_zero(rig.q_row(rig.m->grads, j)));
            seen++;
        }
        REQUIRE(ada_trainer_update(rig.tr, &info) == ADA_OK);
        REQUIRE(ada_trainer_allocate(rig.tr, &info) == ADA_OK);
    }
    CHECK(seen >= 50);
}

// ------------------------------------------------------------------ (c)

namespace {

// Steps until a mask step has pruned something; returns a pruned triplet.
long step_until_pruned(Rig &rig, const Data &d, ada_step_info *info) {
    while (rig.tr->completed < rig.tr->config.schedule.total) {
        step_parts(rig, d, info);
        for (long j = 0; j < kTriplets; j++)
            if (!rig.m->keep[j]) return j;
    }
    return -1;
}

// The next step, with the EMAs of triplet j's entries (P column, λ, Q row)
// raised far above every other triplet's just before the allocation.
void step_with_boost(Rig &rig, const Data &d, long j, ada_step_info *info, real *lam_after_update) {
    REQUIRE(ada_trainer_gradients(rig.tr, d.at(rig.tr->completed), info) == ADA_OK);
    REQUIRE(ada_trainer_update(rig.tr, info) == ADA_OK);
    *lam_after_update = rig.lam(j);
    const ada_module &mod = rig.module_of(j);
    const int i = (int)(j % kR0);
    for (real *arena : {rig.tr->ibar, rig.tr->ubar}) {
        ada_adapter_view v = rig.view(arena, j);
        for (int row = 0; row < mod.d_out; row++) v.P[(size_t)row * kR0 + i] = 1000;
        v.lam[i] = 1000;
        for (int col = 0; col < mod.d_in; col++) v.Q[(size_t)i * mod.d_in + col] = 1000;
    }
    REQUIRE(ada_trainer_allocate(rig.tr, info) == ADA_OK);
}

}  // namespace

TEST_CASE("trainer: a masked λ comes back when its score rises (and not with hard_delete)") {
    ada_model_config mc = model_config();
    ada_step_info info;
    SUBCASE("masking: the triplet revives with λ = λ̃") {
        ada_train_config tc = train_config();
        tc.hard_delete = 0;
        Rig rig(mc, tc);
        Data d(9);
        long j = step_until_pruned(rig, d, &info);
        REQUIRE(j >= 0);
        REQUIRE(info.phase == ADA_PHASE_DECAY);
        CHECK(rig.lam(j) == 0);
        real lam_tilde;
        step_with_boost(rig, d, j, &info, &lam_tilde);
        REQUIRE(info.action == ADA_ACTION_MASK);
        CHECK(rig.m->keep[j] == 1);
        // Eq. 8: a kept triplet keeps λ̃, the value the optimizer left.
        CHECK(lam_tilde != 0);
        CHECK(rig.lam(j) == lam_tilde);
        // Exactly b(t) kept: another triplet made room.
        CHECK(info.kept == info.budget);
        CHECK(info.budget < kTriplets);
        // Its score is the highest of all.
        for (long k = 0; k < kTriplets; k++)
            if (k != j) CHECK(rig.tr->scores[k] < rig.tr->scores[j]);
        // The step reports the revival and the pruning that made room, counted
        // against the pattern before the mask step.
        long revived = 0, pruned = 0;
        for (long k = 0; k < kTriplets; k++) {
            revived += !rig.tr->prev_keep[k] && rig.m->keep[k];
            pruned += rig.tr->prev_keep[k] && !rig.m->keep[k];
        }
        CHECK(rig.tr->prev_keep[j] == 0);
        CHECK(info.revived >= 1);
        CHECK(info.revived == revived);
        CHECK(info.pruned == pruned);
        CHECK(info.kept == info.budget);
    }
    SUBCASE("hard_delete: the same boost does not bring it back") {
        ada_train_config tc = train_config();
        tc.hard_delete = 1;
        Rig rig(mc, tc);
        Data d(9);
        long j = step_until_pruned(rig, d, &info);
        REQUIRE(j >= 0);
        real lam_tilde;
        step_with_boost(rig, d, j, &info, &lam_tilde);
        REQUIRE(info.action == ADA_ACTION_MASK);
        CHECK(rig.m->keep[j] == 0);
        CHECK(rig.lam(j) == 0);
        CHECK(info.kept == info.budget);
        // And it stays pruned to the end, whatever its EMAs say.
        while (rig.tr->completed < tc.schedule.total) {
            step_parts(rig, d, &info);
            CHECK(rig.m->keep[j] == 0);
            CHECK(rig.lam(j) == 0);
        }
    }
}

// ------------------------------------------------------------------ (d), (f)

TEST_CASE("trainer: b(t) = n·r0 throughout prunes nothing and equals the fixed-rank run") {
    ada_model_config mc = model_config();
    ada_train_config full = train_config();
    full.schedule.b0 = full.schedule.bT = kTriplets;
    ada_train_config fixed = train_config();
    fixed.prune = 0;
    Rig a(mc, full), b(mc, fixed);
    Data da(13), db(13);
    ada_step_info ia, ib;
    int masks = 0;
    for (long t = 0; t < full.schedule.total; t++) {
        REQUIRE(ada_trainer_step(a.tr, da.at(t), &ia) == ADA_OK);
        REQUIRE(ada_trainer_step(b.tr, db.at(t), &ib) == ADA_OK);
        CHECK(ia.budget == kTriplets);
        CHECK(ia.kept == kTriplets);
        CHECK(a.kept() == kTriplets);
        if (ia.action == ADA_ACTION_MASK) {
            masks++;
            CHECK(ia.threshold == -INFINITY);  // nothing pruned
        }
        CHECK(ia.loss == ib.loss);
    }
    CHECK(masks > 0);  // the allocation ran; it just kept everything
    CHECK(std::memcmp(a.m->params, b.m->params, sizeof(real) * a.m->n_params) == 0);
}

TEST_CASE("trainer: prune = 0 (fixed rank) never masks, whatever the schedule says") {
    ada_model_config mc = model_config();
    ada_train_config tc = train_config();
    tc.prune = 0;
    tc.schedule.bT = 1;
    Rig rig(mc, tc);
    Data d(3);
    ada_step_info info;
    for (long t = 0; t < tc.schedule.total; t++) {
        REQUIRE(ada_trainer_step(rig.tr, d.at(t), &info) == ADA_OK);
        CHECK(info.action == ADA_ACTION_NONE);
        CHECK(info.kept == kTriplets);
        CHECK(rig.kept() == kTriplets);
    }
    // λ trained freely: no entry was forced to zero.
    for (long j = 0; j < kTriplets; j++) CHECK(rig.lam(j) != 0);
}

// ------------------------------------------------------------------ (e)

TEST_CASE("trainer: the kept count follows the cubic schedule, then the pattern freezes") {
    ada_model_config mc = model_config();
    for (long delta : {1L, 4L}) {
        CAPTURE(delta);
        ada_train_config tc = train_config();
        tc.schedule.delta_t = delta;
        const ada_schedule &s = tc.schedule;
        Rig rig(mc, tc);
        Data d(21);
        ada_step_info info;
        std::vector<long> budgets;
        std::vector<uint8_t> frozen, prev_keep = rig.keep();
        std::vector<real> ibar_frozen;
        int decay_masks = 0, final_steps = 0;
        for (long t = 1; t <= s.total; t++) {
            CAPTURE(t);
            REQUIRE(ada_trainer_step(rig.tr, d.at(t - 1), &info) == ADA_OK);
            CHECK(info.step == t);
            CHECK(info.schedule_step == t);  // paper: t = 1..T
            CHECK(info.budget == expected_budget(t, s));
            budgets.push_back(info.budget);
            CHECK(info.kept == rig.kept());
            if (t < s.t_init) CHECK(info.phase == ADA_PHASE_WARMUP);
            else if (t < s.total - s.t_final) CHECK(info.phase == ADA_PHASE_DECAY);
            else CHECK(info.phase == ADA_PHASE_FINAL);
            if (info.phase == ADA_PHASE_DECAY) {
                if (t % delta == 0) {
                    CHECK(info.action == ADA_ACTION_MASK);
                    CHECK(info.kept == info.budget);  // ADA_TIES_EXACT
                    decay_masks++;
                } else {
                    CHECK(info.action == ADA_ACTION_NONE);
                    CHECK(rig.keep() == prev_keep);
                }
            }
            if (t == s.total - s.t_final) {
                // forced mask at b(T), then the pattern is frozen
                CHECK(info.action == ADA_ACTION_MASK);
                CHECK(info.kept == s.bT);
                frozen = rig.keep();
                ibar_frozen = rig.arena(rig.tr->ibar);
            } else if (t > s.total - s.t_final) {
                final_steps++;
                CHECK(info.action == ADA_ACTION_REAPPLY);
                CHECK(info.kept == s.bT);
                CHECK(rig.keep() == frozen);
                // EMAs are no longer updated in the final phase.
                CHECK(rig.arena(rig.tr->ibar) == ibar_frozen);
                for (long j = 0; j < kTriplets; j++)
                    if (!rig.m->keep[j]) CHECK(rig.lam(j) == 0);
            }
            prev_keep = rig.keep();
        }
        CHECK(decay_masks >= 8);
        CHECK(final_steps == s.t_final);  // steps T − t_f + 1 .. T
        // b(t) falls from b0 to bT, never rises.
        CHECK(budgets.front() == s.b0);
        CHECK(budgets.back() == s.bT);
        for (size_t i = 1; i < budgets.size(); i++) CHECK(budgets[i] <= budgets[i - 1]);
        // ... and really passes through intermediate values.
        std::set<long> distinct(budgets.begin(), budgets.end());
        CHECK(distinct.size() >= 6);
    }
}

TEST_CASE("trainer: final_emas RESET empties Ī and Ū at the forced mask (PEFT's reset_ipt) and changes nothing else") {
    ada_model_config mc = model_config();
    ada_train_config keep_cfg = train_config(), reset_cfg = train_config();
    reset_cfg.final_emas = ADA_FINAL_EMAS_RESET;
    Rig keep(mc, keep_cfg), reset(mc, reset_cfg);
    Data d(23);
    ada_step_info a, b;
    const long forced = keep_cfg.schedule.total - keep_cfg.schedule.t_final;
    for (long t = 1; t <= keep_cfg.schedule.total; t++) {
        CAPTURE(t);
        REQUIRE(ada_trainer_step(keep.tr, d.at(t - 1), &a) == ADA_OK);
        REQUIRE(ada_trainer_step(reset.tr, d.at(t - 1), &b) == ADA_OK);
        // Nothing reads the EMAs after the forced mask: the runs stay equal.
        CHECK(keep.arena(keep.m->params) == reset.arena(reset.m->params));
        CHECK(keep.keep() == reset.keep());
        CHECK(a.budget == b.budget);
        if (t < forced) {
            CHECK(keep.arena(keep.tr->ibar) == reset.arena(reset.tr->ibar));
        } else {
            CHECK(!all_zero(keep.arena(keep.tr->ibar)));
            CHECK(all_zero(reset.arena(reset.tr->ibar)));
            CHECK(all_zero(reset.arena(reset.tr->ubar)));
        }
    }
    // With the authors' recomputed final masks the EMAs are read every final step: refused.
    ada_train_config bad = train_config();
    bad.final_emas = ADA_FINAL_EMAS_RESET;
    bad.schedule.final_phase = ADA_FINAL_RECOMPUTE;
    ada_trainer *tr = nullptr;
    CHECK(ada_trainer_create(&tr, keep.m, &bad) == ADA_ERR_RANGE);
    CHECK(std::string(ada_last_error()).find("final_emas") != std::string::npos);
    bad.final_emas = (ada_final_emas)7;
    bad.schedule.final_phase = ADA_FINAL_FREEZE;
    CHECK(ada_trainer_create(&tr, keep.m, &bad) == ADA_ERR_RANGE);
    CHECK(tr == nullptr);
}

// ------------------------------------------------------------------ (g)

TEST_CASE("trainer: prune-LoRA with hard_delete keeps a pruned doublet's B column and A row at 0") {
    ada_model_config mc = model_config(ADA_FORM_LORA);
    ada_train_config tc = train_config();
    tc.hard_delete = 1;
    tc.schedule.delta_t = 3;  // steps between mask steps must keep the zeros too
    Rig rig(mc, tc);
    Data d(17);
    ada_step_info info;
    std::vector<uint8_t> prev = rig.keep();
    int zero_checks = 0, off_grid_checks = 0;
    for (long t = 0; t < tc.schedule.total; t++) {
        REQUIRE(ada_trainer_step(rig.tr, d.at(t), &info) == ADA_OK);
        for (long j = 0; j < kTriplets; j++) {
            // hard delete: once pruned, pruned for good
            if (!prev[j]) CHECK(rig.m->keep[j] == 0);
            if (rig.m->keep[j]) continue;
            CHECK(all_zero(rig.p_col(rig.m->params, j)));
            CHECK(all_zero(rig.q_row(rig.m->params, j)));
            zero_checks++;
            if (info.action == ADA_ACTION_NONE) off_grid_checks++;
        }
        if (info.action == ADA_ACTION_MASK && info.phase == ADA_PHASE_DECAY)
            CHECK(info.kept == info.budget);
        prev = rig.keep();
    }
    CHECK(rig.kept() == tc.schedule.bT);
    CHECK(zero_checks >= 50);
    CHECK(off_grid_checks >= 10);
}

// ------------------------------------------------------------------ (h)

TEST_CASE("trainer: a step past schedule.total is refused with ADA_ERR_STATE and changes nothing") {
    ada_model_config mc = model_config();
    ada_train_config tc = train_config();
    tc.schedule.b0 = kTriplets;
    tc.schedule.bT = 6;
    tc.schedule.t_init = 2;
    tc.schedule.t_final = 2;
    tc.schedule.total = 8;
    Rig rig(mc, tc);
    Data d(1);
    ada_step_info info;
    for (long t = 0; t < 8; t++) REQUIRE(ada_trainer_step(rig.tr, d.at(t), &info) == ADA_OK);
    CHECK(info.step == 8);
    CHECK(rig.tr->completed == 8);
    std::vector<real> params = rig.arena(rig.m->params), grads = rig.arena(rig.m->grads);
    std::vector<real> m1 = rig.arena(rig.tr->m1), ibar = rig.arena(rig.tr->ibar);
    std::vector<uint8_t> keep = rig.keep();
    ada_step_info sentinel;
    std::memset(&sentinel, 0x5a, sizeof sentinel);
    for (int which = 0; which < 4; which++) {
        CAPTURE(which);
        ada_step_info got;
        std::memcpy(&got, &sentinel, sizeof got);
        ada_status st = ADA_OK;
        switch (which) {
        case 0: st = ada_trainer_step(rig.tr, d.at(0), &got); break;
        case 1: st = ada_trainer_gradients(rig.tr, d.at(0), &got); break;
        case 2: st = ada_trainer_update(rig.tr, &got); break;
        case 3: st = ada_trainer_allocate(rig.tr, &got); break;
        }
        CHECK(st == ADA_ERR_STATE);
        CHECK(std::strlen(ada_last_error()) > 0);
        CHECK(std::memcmp(&got, &sentinel, sizeof got) == 0);
        CHECK(rig.tr->completed == 8);
        CHECK(rig.arena(rig.m->params) == params);
        CHECK(rig.arena(rig.m->grads) == grads);
        CHECK(rig.arena(rig.tr->m1) == m1);
        CHECK(rig.arena(rig.tr->ibar) == ibar);
        CHECK(rig.keep() == keep);
    }
}

// ------------------------------------------------------------------ (i)

TEST_CASE("trainer: post-step sensitivity weights give other EMAs than pre-step (Eqs. 10-12 by hand)") {
    ada_model_config mc = model_config();
    ada_train_config pre_cfg = train_config(), post_cfg = train_config();
    pre_cfg.sens_weights = ADA_SENS_PRE_STEP;
    post_cfg.sens_weights = ADA_SENS_POST_STEP;
    Rig pre(mc, pre_cfg), post(mc, post_cfg);
    Data d(4);
    ada_step_info info;
    const size_t n = pre.m->n_params;
    REQUIRE(ada_trainer_gradients(pre.tr, d.at(0), &info) == ADA_OK);
    REQUIRE(ada_trainer_gradients(post.tr, d.at(0), &info) == ADA_OK);
    // Same start: same weights, same gradients.
    REQUIRE(std::memcmp(pre.m->params, post.m->params, sizeof(real) * n) == 0);
    REQUIRE(std::memcmp(pre.m->grads, post.m->grads, sizeof(real) * n) == 0);
    std::vector<real> w0 = pre.arena(pre.m->params), g = pre.arena(pre.m->grads);
    REQUIRE(ada_trainer_update(pre.tr, &info) == ADA_OK);
    REQUIRE(ada_trainer_update(post.tr, &info) == ADA_OK);
    // The optimizer step does not depend on the switch.
    REQUIRE(std::memcmp(pre.m->params, post.m->params, sizeof(real) * n) == 0);
    std::vector<real> w1 = pre.arena(pre.m->params);
    CHECK(std::memcmp(pre.tr->ibar, post.tr->ibar, sizeof(real) * n) != 0);
    CHECK(std::memcmp(pre.tr->ubar, post.tr->ubar, sizeof(real) * n) != 0);
    // Both EMAs start at 0: Ī = (1 − β1) I, Ū = (1 − β2) |I − Ī|, with
    // I = |w g| for w = w(t) (pre) or w(t+1) (post), g the pre-step gradient.
    const double b1 = pre_cfg.beta1, b2 = pre_cfg.beta2;
    const double tol = 1e-5;
    size_t differ = 0;
    for (size_t i = 0; i < n; i++) {
        double i_pre = std::fabs((double)w0[i] * g[i]), i_post = std::fabs((double)w1[i] * g[i]);
        double ib_pre = (1 - b1) * i_pre, ib_post = (1 - b1) * i_post;
        double ub_pre = (1 - b2) * std::fabs(i_pre - ib_pre);
        double ub_post = (1 - b2) * std::fabs(i_post - ib_post);
        CHECK((double)pre.tr->ibar[i] == doctest::Approx(ib_pre).epsilon(tol).scale(1e-30));
        CHECK((double)pre.tr->ubar[i] == doctest::Approx(ub_pre).epsilon(tol).scale(1e-30));
        CHECK((double)post.tr->ibar[i] == doctest::Approx(ib_post).epsilon(tol).scale(1e-30));
        CHECK((double)post.tr->ubar[i] == doctest::Approx(ub_post).epsilon(tol).scale(1e-30));
        differ += pre.tr->ibar[i] != post.tr->ibar[i];
    }
    CHECK(differ > n / 2);
    // λ = 0 at step 1: pre-step sensitivity of every λ is exactly 0, post-step is not.
    for (long j = 0; j < kTriplets; j++) {
        ada_adapter_view vp = pre.view(pre.tr->ibar, j), vq = post.view(post.tr->ibar, j);
        CHECK(vp.lam[j % kR0] == 0);
        CHECK(vq.lam[j % kR0] > 0);
    }
}

TEST_CASE("trainer: ada_trainer_schedule_now is the schedule at the step in progress") {
    ada_module_spec specs[1] = {{"m", 0, 6, 5, 0, ADA_ACT_IDENTITY}};
    ada_model_config mc = ada_model_defaults();
    mc.n_modules = 1; mc.modules = specs; mc.r0 = 4; mc.max_batch = 4;
    ada_model *m = nullptr;
    REQUIRE(ada_model_create(&m, &mc) == ADA_OK);
    ada_train_config tc = ada_train_defaults();
    tc.prune = 0;  // the schedule is reported even when this trainer does not prune
    tc.schedule.b0 = 4; tc.schedule.bT = 1; tc.schedule.t_init = 2; tc.schedule.t_final = 2;
    tc.schedule.total = 10; tc.schedule.delta_t = 3;
    ada_trainer *tr = nullptr;
    REQUIRE(ada_trainer_create(&tr, m, &tc) == ADA_OK);
    ada_rng rng; ada_rng_seed(&rng, 2);
    test::Vec x = test::randn(rng, 4 * 6), y = test::randn(rng, 4 * 5);
    const real *xs[1] = {x.data()}; const real *ys[1] = {y.data()};
    ada_batch b = {4, xs, ys, nullptr, nullptr};
    ada_step_info info;
    for (long done = 0; done < 10; done++) {
        long t = done + 1, budget, want_budget;  // paper numbering: the step in progress is t
        ada_phase phase, want_phase;
        ada_mask_action action, want_action;
        REQUIRE(ada_trainer_schedule_now(tr, &budget, &phase, &action) == ADA_OK);
        REQUIRE(ada_budget_at(&want_budget, &want_phase, t, &tc.schedule) == ADA_OK);
        REQUIRE(ada_mask_action_at(&want_action, t, &tc.schedule) == ADA_OK);
        CHECK(budget == want_budget);
        CHECK(phase == want_phase);
        CHECK(action == want_action);
        REQUIRE(ada_trainer_step(tr, &b, &info) == ADA_OK);
        CHECK(info.budget == 4);  // a fixed-rank trainer keeps everything
    }
    long budget;
    CHECK(ada_trainer_schedule_now(nullptr, &budget, nullptr, nullptr) == ADA_ERR_NULL);
    CHECK(ada_trainer_schedule_now(tr, nullptr, nullptr, nullptr) == ADA_ERR_NULL);
    ada_trainer_free(tr);
    ada_model_free(m);
}

TEST_CASE("trainer: a non-finite gradient or parameter fails the step naming step, module and tensor") {
    Data d(5);
    SUBCASE("gradient: P and Q of l1 at c = max^0.6, λ = 0: the forward is finite, dλ = s·Σ h ⊙ (dY P) ~ c² is not") {
        ada_train_config tc = train_config();
        tc.gamma = 0;  // Eq. 4 of so large a P would overflow first
        Rig rig(model_config(), tc);
        ada_step_info info;
        REQUIRE(ada_trainer_step(rig.tr, d.at(0), &info) == ADA_OK);
        const real c = (real)std::pow((double)std::numeric_limits<real>::max(), 0.6);
        ada_adapter_view v = ada_model_view(rig.m, rig.m->params, 1);
        for (int i = 0; i < kSpecs[1].d_out * kR0; i++) v.P[i] = c;
        for (int i = 0; i < kR0 * kSpecs[1].d_in; i++) v.Q[i] = c;
        for (int i = 0; i < kR0; i++) v.lam[i] = 0;
        std::vector<real> params(rig.m->params, rig.m->params + rig.m->n_params);
        std::vector<real> m1(rig.tr->m1, rig.tr->m1 + rig.m->n_params);
        CHECK(ada_trainer_gradients(rig.tr, d.at(1), &info) == ADA_ERR_NONFINITE);
        CHECK(std::string(ada_last_error()).rfind("step 2: non-finite gradient, module l1, tensor lambda[0,", 0) == 0);
        CHECK(std::memcmp(params.data(), rig.m->params, params.size() * sizeof(real)) == 0);  // untouched
        CHECK(std::memcmp(m1.data(), rig.tr->m1, m1.size() * sizeof(real)) == 0);
        CHECK(rig.tr->completed == 1);
    }
    SUBCASE("parameter: SGD's weight decay doubles P[0,0] of l0 past the largest real") {
        ada_train_config tc = train_config();
        tc.opt.kind = ADA_OPT_SGD;
        tc.opt.lr = 3;
        tc.opt.weight_decay = 1;  // w ← w − 3 (g + w): P's g is 0 while λ = 0, so P[0,0] ← −2 P[0,0]
        tc.gamma = 0;             // Eq. 4 of so large a P would overflow first
        Rig rig(model_config(), tc);
        ada_model_view(rig.m, rig.m->params, 0).P[0] = std::numeric_limits<real>::max() * (real)0.75;
        ada_step_info info;
        REQUIRE(ada_trainer_gradients(rig.tr, d.at(0), &info) == ADA_OK);
        CHECK(ada_trainer_update(rig.tr, &info) == ADA_ERR_NONFINITE);
        CHECK(std::string(ada_last_error()) == "step 1: non-finite parameter, module l0, tensor P[0,0] = -inf");
    }
    SUBCASE("skip: the schedule advances, the optimizer count does not") {
        Rig rig(model_config(), train_config());
        ada_step_info info;
        REQUIRE(ada_trainer_step(rig.tr, d.at(0), &info) == ADA_OK);
        REQUIRE(ada_trainer_skip_step(rig.tr, &info) == ADA_OK);
        CHECK(rig.tr->completed == 2);
        CHECK(rig.tr->updates == 1);
        CHECK(info.step == 2);
        CHECK(std::isnan(info.loss));
        CHECK(info.kept == kTriplets);
    }
}

// ------------------------------------------------------------------ seams

namespace {

// Records the hooks' calls: which, in what order, what each saw.
struct Recorder {
    std::vector<std::string> calls;
    std::vector<long> completed_seen, step_seen;
    ada_status fail_in_before = ADA_OK, fail_in_after = ADA_OK;
    ada_allocation seen_alloc{};
    uint8_t drop = 0;  // allocate: 1 prunes triplet 0 and reports a mask

    static Recorder &of(void *ctx) { return *static_cast<Recorder *>(ctx); }
    void saw(const char *call, const ada_trainer *tr, long step) {
        calls.push_back(call);
        completed_seen.push_back(tr->completed);
        step_seen.push_back(step);
    }
    // A failing hook returns a library call's status (and its message).
    static ada_status fail_with(ada_status want) {
        if (want == ADA_OK) return ADA_OK;
        long budget;
        return ada_trainer_schedule_now(nullptr, &budget, nullptr, nullptr);  // ADA_ERR_NULL
    }
    ada_step_hooks hooks(bool with_allocate) {
        ada_step_hooks h{};
        h.ctx = this;
        h.before_allocate = [](void *ctx, ada_trainer *tr, const ada_step_info *info) {
            of(ctx).saw("before_allocate", tr, info->step);
            return fail_with(of(ctx).fail_in_before);
        };
        if (with_allocate)
            h.allocate = [](void *ctx, ada_trainer *tr, ada_allocation *a) {
                Recorder &r = of(ctx);
                r.saw("allocate", tr, -1);
                r.seen_alloc = *a;
                if (r.drop) {
                    tr->model->keep[0] = 0;
                    a->masked = 1;
                    a->threshold = 0.25;
                }
                return ADA_OK;
            };
        h.after_step = [](void *ctx, ada_trainer *tr, const ada_step_info *info) {
            of(ctx).saw("after_step", tr, info->step);
            return fail_with(of(ctx).fail_in_after);
        };
        return h;
    }
};

}  // namespace

TEST_CASE("trainer seams: hooks run in order with the step's info, and a hooked step equals the plain one") {
    Data d(21);
    Rig plain(model_config(), train_config()), hooked(model_config(), train_config());
    Recorder rec;
    const ada_step_hooks h = rec.hooks(false);
    ada_step_info a, b;
    for (long t = 0; t < 12; t++) {  // warm-up and mask steps of the decay
        REQUIRE(ada_trainer_step(plain.tr, d.at(t), &a) == ADA_OK);
        REQUIRE(ada_trainer_step_hooked(hooked.tr, d.at(t), &b, &h) == ADA_OK);
        CHECK(a.loss == b.loss);
        CHECK(a.kept == b.kept);
        CHECK(a.action == b.action);
    }
    CHECK(plain.arena(plain.m->params) == hooked.arena(hooked.m->params));
    CHECK(plain.keep() == hooked.keep());
    REQUIRE(rec.calls.size() == 24);
    for (size_t i = 0; i < rec.calls.size(); i += 2) {
        const long step = (long)i / 2 + 1;
        CHECK(rec.calls[i] == "before_allocate");
        CHECK(rec.step_seen[i] == step);
        CHECK(rec.completed_seen[i] == step - 1);  // the allocation has not run yet
        CHECK(rec.calls[i + 1] == "after_step");
        CHECK(rec.step_seen[i + 1] == step);
        CHECK(rec.completed_seen[i + 1] == step);  // the step is done
    }
}

TEST_CASE("trainer seams: an allocate hook allocates for a fixed-rank trainer and the info reports what it did") {
    Data d(22);
    ada_train_config tc = train_config();
    tc.prune = 0;
    Rig rig(model_config(), tc);
    Recorder rec;
    const ada_step_hooks h = rec.hooks(true);
    ada_step_info info;
    long budget = 0;
    ada_mask_action action = ADA_ACTION_NONE;
    // Steps where the hook does nothing, up to the first mask step that prunes.
    for (long t = 0; !(action == ADA_ACTION_MASK && budget < kTriplets); t++) {
        REQUIRE(t < 20);
        REQUIRE(ada_trainer_step_hooked(rig.tr, d.at(t), &info, &h) == ADA_OK);
        CHECK(rec.calls.back() == "after_step");
        CHECK(rec.calls[rec.calls.size() - 2] == "allocate");
        CHECK(rec.seen_alloc.masked == 0);
        CHECK(std::isnan(rec.seen_alloc.threshold));
        CHECK(info.action == ADA_ACTION_NONE);  // the hook did not mask
        CHECK(info.budget == rec.seen_alloc.budget);
        CHECK(std::isnan(info.threshold));
        REQUIRE(ada_trainer_schedule_now(rig.tr, &budget, nullptr, &action) == ADA_OK);
    }
    rec.drop = 1;
    const long before = rig.tr->completed;
    REQUIRE(ada_trainer_step_hooked(rig.tr, d.at(before), &info, &h) == ADA_OK);
    CHECK(rec.completed_seen[rec.completed_seen.size() - 2] == before);  // allocate runs inside the step
    CHECK(rec.seen_alloc.budget == budget);
    CHECK(rec.seen_alloc.action == ADA_ACTION_MASK);
    CHECK(info.budget == budget);  // the schedule's, not the fixed rank's n·r0
    CHECK(info.action == ADA_ACTION_MASK);
    CHECK(info.threshold == 0.25);
    CHECK(info.kept == kTriplets - 1);  // counted after the hook
    CHECK(info.revived == 0);
    CHECK(info.pruned == 0);
    CHECK(rig.tr->completed == before + 1);
}

TEST_CASE("trainer seams: a pruning trainer refuses an allocate hook before the step changes anything") {
    Data d(23);
    Rig rig(model_config(), train_config());
    Recorder rec;
    const ada_step_hooks h = rec.hooks(true);
    const std::vector<real> params = rig.arena(rig.m->params);
    ada_step_info info;
    CHECK(ada_trainer_step_hooked(rig.tr, d.at(0), &info, &h) == ADA_ERR_STATE);
    CHECK(std::string(ada_last_error()).find("config.prune = 0") != std::string::npos);
    CHECK(rec.calls.empty());
    CHECK(rig.arena(rig.m->params) == params);
    CHECK(rig.tr->completed == 0);
}

TEST_CASE("trainer seams: a hook's failure ends the step with its status") {
    Data d(24);
    Rig rig(model_config(), train_config());
    Recorder rec;
    const ada_step_hooks h = rec.hooks(false);
    ada_step_info info;
    SUBCASE("before_allocate: the update is written, the allocation and after_step do not run") {
        rec.fail_in_before = ADA_ERR_NULL;
        const std::vector<real> params = rig.arena(rig.m->params);
        CHECK(ada_trainer_step_hooked(rig.tr, d.at(0), &info, &h) == ADA_ERR_NULL);
        CHECK(std::string(ada_last_error()).find("ada_trainer_schedule_now") != std::string::npos);
        CHECK(rec.calls == std::vector<std::string>{"before_allocate"});
        CHECK(rig.arena(rig.m->params) != params);
        CHECK(rig.tr->updates == 1);
        CHECK(rig.tr->completed == 0);
    }
    SUBCASE("after_step: the step is complete") {
        rec.fail_in_after = ADA_ERR_NULL;
        CHECK(ada_trainer_step_hooked(rig.tr, d.at(0), &info, &h) == ADA_ERR_NULL);
        CHECK(rec.calls == std::vector<std::string>{"before_allocate", "after_step"});
        CHECK(rig.tr->completed == 1);
        CHECK(info.step == 1);
        CHECK(info.kept == kTriplets);
    }
}

TEST_CASE("trainer: a NaN importance EMA fails the next mask step naming the step, the module and the triplet") {
    Data d(5);
    Rig rig(model_config(), train_config());
    ada_step_info info;
    REQUIRE(ada_trainer_step(rig.tr, d.at(0), &info) == ADA_OK);
    // Ī of module 1's first λ: the EMA keeps the NaN, the scores inherit it.
    ada_model_view(rig.m, rig.tr->ibar, 1).lam[0] = NAN;
    ada_status st = ADA_OK;
    for (long t = 1; t < rig.tr->config.schedule.total && st == ADA_OK; t++) st = ada_trainer_step(rig.tr, d.at(t), &info);
    CHECK(st == ADA_ERR_NONFINITE);  // before: "ada_select_top_budget: score 4 is nan" (no step, no module)
    const std::string msg = ada_last_error();
    CAPTURE(msg);
    CHECK(msg.rfind("step ", 0) == 0);
    CHECK(msg.find(": non-finite importance score, module l1, tensor score[0] = nan") != std::string::npos);
}
