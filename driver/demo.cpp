// demo.cpp: `adalora demo`, the main job of `make run`: AdaLoRA on the
// planted-rank MLP task, printing the loss, the budget b(t) and every
// layer's kept rank as training goes.
#include "demo.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "planted_mlp.h"

extern "C" {
#include "rng.h"
#include "trainer.h"
}

namespace adalora {

namespace {

void check(ada_status st, const char *what) {
    if (st != ADA_OK) throw std::runtime_error(std::string(what) + ": " + ada_last_error());
}

const char *phase_name(ada_phase p) {
    return p == ADA_PHASE_WARMUP ? "warm-up" : p == ADA_PHASE_DECAY ? "decay" : "final";
}

std::string ranks_of(const ada_model *m) {
    std::string s;
    for (int k = 0; k < m->n_modules; k++)
        s += (k ? " " : "") + std::to_string(ada_model_kept_rank(m, k));
    return s;
}

}  // namespace

int run_demo(const DemoOptions &o) {
    PlantedMlpOptions task_opt;
    PlantedMlp task = make_planted_mlp(task_opt, o.seed);

    ada_model_config mc = ada_model_defaults();
    mc.n_modules = (int)task.specs.size();
    mc.modules = task.specs.data();
    mc.r0 = o.init_r;
    mc.max_batch = o.batch;
    mc.seed = o.seed;
    ada_model *model = nullptr;
    check(ada_model_create(&model, &mc), "model");

    ada_train_config tc = ada_train_defaults();
    tc.opt.lr = o.lr;
    tc.gamma = o.orth_reg_weight;
    tc.schedule.b0 = model->n_triplets;
    tc.schedule.bT = (long)o.target_r * model->n_modules;
    tc.schedule.t_init = o.tinit;
    tc.schedule.t_final = o.tfinal;
    tc.schedule.total = o.total_step;
    tc.schedule.delta_t = o.delta_t;
    ada_trainer *tr = nullptr;
    check(ada_trainer_create(&tr, model, &tc), "trainer");

    std::printf("adalora demo: planted-rank MLP regression, %d layers, widths", model->n_modules);
    for (const auto &s : task.specs) std::printf(" %d", s.d_in);
    std::printf(" %d (%s build)\n", task.specs.back().d_out, ADA_PRECISION_NAME);
    std::printf("planted ranks r*: ");
    for (size_t k = 0; k < task.planted_rank.size(); k++)
        std::printf("%s%d", k ? " " : "", task.planted_rank[k]);
    std::printf("   r0 = %d, b(0) = %ld, b(T) = %ld, t_i = %ld, t_f = %ld, T = %ld, gamma = %g\n",
                mc.r0, tc.schedule.b0, tc.schedule.bT, o.tinit, o.tfinal, o.total_step, tc.gamma);
    std::printf("initial test loss %.6f, trainable parameters %zu\n\n", dataset_loss(model, task.test),
                ada_model_param_count(model, 0));
    std::printf("%6s  %-8s %11s %11s %11s %6s  %s\n", "step", "phase", "loss", "task", "orth",
                "b(t)", "kept rank per layer");

    // Mini-batches are drawn with replacement from the training rows.
    ada_rng rng;
    ada_rng_seed(&rng, o.seed ^ 0xba7c4ULL);
    const Dataset &train = task.train;
    std::vector<real> bx((size_t)o.batch * train.d_in), by((size_t)o.batch * train.d_out);
    const real *xs[1] = {bx.data()};
    const real *ys[1] = {by.data()};
    ada_batch batch = {o.batch, xs, ys, nullptr};
    ada_step_info info{};
    for (long t = 1; t <= o.total_step; t++) {
        for (int b = 0; b < o.batch; b++) {
            size_t row = (size_t)ada_rng_below(&rng, (uint64_t)train.rows);
            std::copy_n(&train.x[row * train.d_in], train.d_in, &bx[(size_t)b * train.d_in]);
            std::copy_n(&train.y[row * train.d_out], train.d_out, &by[(size_t)b * train.d_out]);
        }
        check(ada_trainer_step(tr, &batch, &info), "training step");
        if (t == 1 || t % o.print_every == 0 || t == o.total_step)
            std::printf("%6ld  %-8s %11.6f %11.6f %11.3e %6ld  %s\n", info.step,
                        phase_name(info.phase), info.loss, info.task_loss, info.orth_raw,
                        info.budget, ranks_of(model).c_str());
    }
    std::printf("\nfinal test loss %.6f, trainable parameters kept %zu of %zu\n",
                dataset_loss(model, task.test), ada_model_param_count(model, 1),
                ada_model_param_count(model, 0));
    std::printf("kept ranks %s against planted ranks", ranks_of(model).c_str());
    for (int r : task.planted_rank) std::printf(" %d", r);
    std::printf("\n");
    ada_trainer_free(tr);
    ada_model_free(model);
    return 0;
}

}  // namespace adalora
