// planted_mlp.cpp: the planted-rank MLP regression task.
#include "planted_mlp.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

extern "C" {
#include "rng.h"
}

namespace adalora {

namespace {

void check(ada_status st, const char *what) {
    if (st != ADA_OK) throw std::runtime_error(std::string(what) + ": " + ada_last_error());
}

// Δ = Σ_j σ_j u_j v_jᵀ with unit Gaussian directions u (d_out), v (d_in).
std::vector<real> planted_update(ada_rng &rng, int d_out, int d_in, int rank, double sigma,
                                 double decay) {
    std::vector<real> delta((size_t)d_out * d_in, 0);
    std::vector<double> u(d_out), v(d_in);
    for (int j = 0; j < rank; j++, sigma *= decay) {
        double nu = 0, nv = 0;
        for (auto &e : u) { e = ada_rng_normal(&rng); nu += e * e; }
        for (auto &e : v) { e = ada_rng_normal(&rng); nv += e * e; }
        double c = sigma / std::sqrt(nu * nv);
        for (int a = 0; a < d_out; a++)
            for (int b = 0; b < d_in; b++) delta[(size_t)a * d_in + b] += (real)(c * u[a] * v[b]);
    }
    return delta;
}

// Teacher outputs for `rows` inputs, computed max_batch rows at a time.
void label(ada_model *teacher, Dataset &data, ada_rng &rng, double noise) {
    const int chunk = teacher->config.max_batch;
    const ada_module &last = teacher->modules[teacher->n_modules - 1];
    for (int at = 0; at < data.rows; at += chunk) {
        int n = std::min(chunk, data.rows - at);
        const real *xs[1] = {data.x.data() + (size_t)at * data.d_in};
        ada_batch batch = {n, xs, nullptr, nullptr};
        check(ada_model_forward(teacher, &batch, nullptr, 0), "teacher forward");
        std::copy(last.a, last.a + (size_t)n * data.d_out, data.y.begin() + (size_t)at * data.d_out);
    }
    for (auto &y : data.y) y += (real)(noise * ada_rng_normal(&rng));
}

Dataset inputs(ada_rng &rng, int rows, int d_in, int d_out) {
    Dataset d;
    d.rows = rows; d.d_in = d_in; d.d_out = d_out;
    d.x.resize((size_t)rows * d_in);
    d.y.resize((size_t)rows * d_out);
    ada_rng_fill_normal(&rng, d.x.data(), d.x.size(), 0.0, 1.0);
    return d;
}

}  // namespace

PlantedMlp make_planted_mlp(const PlantedMlpOptions &opt, uint64_t seed) {
    const int layers = (int)opt.widths.size() - 1;
    if (layers < 1 || (int)opt.planted_rank.size() != layers)
        throw std::runtime_error("planted-mlp: need one planted rank per layer (" +
                                 std::to_string(layers) + ")");
    PlantedMlp task;
    task.planted_rank = opt.planted_rank;
    for (int k = 0; k < layers; k++) task.names.push_back("l" + std::to_string(k));
    for (int k = 0; k < layers; k++)
        task.specs.push_back({task.names[k].c_str(), 0, opt.widths[k], opt.widths[k + 1], 1,
                              k + 1 < layers ? ADA_ACT_GELU : ADA_ACT_IDENTITY});
    ada_model_config cfg = ada_model_defaults();
    cfg.n_modules = layers;
    cfg.modules = task.specs.data();
    cfg.r0 = 1;
    cfg.max_batch = 256;
    cfg.seed = seed;
    ada_model *teacher = nullptr;
    check(ada_model_create(&teacher, &cfg), "teacher");
    ada_rng rng;
    ada_rng_seed(&rng, seed ^ 0x7eac4e7ULL);
    for (int k = 0; k < layers; k++) {
        const ada_module &mod = teacher->modules[k];
        std::vector<real> w = planted_update(rng, mod.d_out, mod.d_in, opt.planted_rank[k],
                                             opt.top_singular_value, opt.spectrum_decay);
        for (size_t i = 0; i < w.size(); i++) w[i] += mod.W0[i];
        check(ada_model_set_base(teacher, k, w.data(), mod.d_in, nullptr), "teacher base");
    }
    task.train = inputs(rng, opt.train_rows, opt.widths.front(), opt.widths.back());
    task.test = inputs(rng, opt.test_rows, opt.widths.front(), opt.widths.back());
    label(teacher, task.train, rng, opt.noise_std);
    label(teacher, task.test, rng, 0.0);
    ada_model_free(teacher);
    return task;
}

double dataset_loss(ada_model *m, const Dataset &data) {
    const int chunk = m->config.max_batch;
    double total = 0;
    for (int at = 0; at < data.rows; at += chunk) {
        int n = std::min(chunk, data.rows - at);
        const real *xs[1] = {data.x.data() + (size_t)at * data.d_in};
        const real *ys[1] = {data.y.data() + (size_t)at * data.d_out};
        ada_batch batch = {n, xs, ys, nullptr};
        double loss;
        check(ada_model_forward(m, &batch, &loss, 0), "evaluation");
        total += loss * n;
    }
    return total / data.rows;
}

}  // namespace adalora
