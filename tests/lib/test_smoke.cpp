// test_smoke.cpp: a model trains end to end and the loss falls.
#include <doctest/doctest.h>

#include "support/test_util.h"
extern "C" {
#include "trainer.h"
}

TEST_CASE("smoke: adalora on a one-chain MLP lowers the loss") {
    ada_module_spec specs[2] = {{"l0", 0, 8, 16, 1, ADA_ACT_TANH}, {"l1", 0, 16, 4, 1, ADA_ACT_IDENTITY}};
    ada_model_config mc = ada_model_defaults();
    mc.n_modules = 2; mc.modules = specs; mc.r0 = 4; mc.max_batch = 16; mc.seed = 3;
    ada_model *m = nullptr;
    REQUIRE(ada_model_create(&m, &mc) == ADA_OK);
    ada_train_config tc = ada_train_defaults();
    tc.opt.lr = 1e-2;
    tc.schedule.b0 = 8; tc.schedule.bT = 4; tc.schedule.t_init = 20; tc.schedule.t_final = 20;
    tc.schedule.total = 200;
    ada_trainer *tr = nullptr;
    REQUIRE(ada_trainer_create(&tr, m, &tc) == ADA_OK);
    ada_rng rng; ada_rng_seed(&rng, 1);
    test::Vec x = test::randn(rng, 16 * 8), y = test::randn(rng, 16 * 4, 0.5);
    const real *xs[1] = {x.data()}; const real *ys[1] = {y.data()};
    ada_batch b = {16, xs, ys, nullptr, nullptr};
    ada_step_info info;
    double first = 0;
    for (int t = 0; t < 200; t++) {
        REQUIRE(ada_trainer_step(tr, &b, &info) == ADA_OK);
        if (t == 0) first = info.task_loss;
    }
    CHECK(info.task_loss < first);
    CHECK(info.kept == 4);
    ada_trainer_free(tr);
    ada_model_free(m);
}
