// encoder_step.cpp: `adalora encoder-step` (encoder_step.h).
#include "cli/encoder_step.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/errors.h"
#include "base/lib_status.h"
#include "base/util.h"
#include "formats/adapter_file.h"
#include "formats/npy.h"
#include "formats/staged_dir.h"
#include "train/run_setup.h"

extern "C" {
#include "encoder.h"
#include "rng.h"
}

namespace adalora {

namespace {

using Files = std::vector<std::pair<std::string, std::string>>;

void add_reals(Files &files, const std::string &name, const real *v, std::vector<uint64_t> shape) {
    files.emplace_back(name + ".npy", npy_bytes(npy_array(v, std::move(shape))));
}

// Every adapter tensor and the head, with its gradient.
void add_parameters(Files &files, ada_encoder *enc, nlohmann::json &modules) {
    ada_model *m = ada_encoder_model(enc);
    const uint64_t r = (uint64_t)m->config.r0;
    const bool svd = m->config.form == ADA_FORM_SVD;
    for (int k = 0; k < m->n_modules; k++) {
        const ada_module &mod = m->modules[k];
        int layer, type;
        ada_encoder_module_at(enc, k, &layer, &type);
        modules.push_back({{"name", mod.name}, {"layer", layer}, {"type", ada_encoder_matrix_name(type)},
                           {"d_in", mod.d_in}, {"d_out", mod.d_out}});
        for (const char *prefix : {"", "grad."}) {
            ada_adapter_view v = ada_model_view(m, *prefix ? m->grads : m->params, k);
            const std::string name = std::string(prefix) + mod.name;
            add_reals(files, name + (svd ? ".P" : ".B"), v.P, {(uint64_t)mod.d_out, r});
            if (svd) add_reals(files, name + ".lambda", v.lam, {r});
            add_reals(files, name + (svd ? ".Q" : ".A"), v.Q, {r, (uint64_t)mod.d_in});
        }
    }
    const ada_encoder_config &c = *ada_encoder_config_of(enc);
    for (const char *prefix : {"", "grad."}) {
        ada_encoder_head h = ada_encoder_head_of(enc, *prefix ? m->grads : m->params);
        add_reals(files, std::string(prefix) + "classifier.weight", h.W, {(uint64_t)c.n_outputs, (uint64_t)c.hidden});
        add_reals(files, std::string(prefix) + "classifier.bias", h.b, {(uint64_t)c.n_outputs});
    }
}

// The values of FILE's tensor MODULE.part (shape checked) into `to`.
void load_tensor(const RunAdapter &a, const std::string &module, const std::string &part,
                 const std::vector<int64_t> &shape, real *to) {
    const Tensor &t = a.tensor(module, part);
    require_shape(t, shape, a.path);
    const std::vector<real> v = tensor_values(t);
    for (real x : v)
        if (!std::isfinite(x)) throw UsageError(a.path + ": tensor '" + t.name + "' holds NaN or Inf");
    std::copy(v.begin(), v.end(), to);
}

// --adapter: FILE's adapters, keep flags and head into the run's model
// (encoder_step.h says what must fit).
void load_adapter(ada_encoder *enc, const RunAdapter &a, const std::string &method) {
    ada_model *m = ada_encoder_model(enc);
    const int64_t r = m->config.r0;
    const bool svd = m->config.form == ADA_FORM_SVD;
    if (a.form != (svd ? "svd" : "lora"))
        throw UsageError(a.path + ": the adapter is " + a.form + "-form, but --method " + method + " is " +
                         (svd ? "svd" : "lora") + "-form");
    if (a.r0 != r)
        throw UsageError(a.path + ": r0 = " + std::to_string(a.r0) + ", but the run's is " + std::to_string(r) +
                         " (--init_r, or --lora_r for LoRA-form methods)");
    std::vector<std::string> ours;
    for (int k = 0; k < m->n_modules; k++) ours.push_back(m->modules[k].name);
    for (const std::string &name : a.modules)
        if (std::find(ours.begin(), ours.end(), name) == ours.end())
            throw UsageError(a.path + ": module '" + name + "' is not adapted in this run (--target-modules; the run's: " +
                             join(ours, ", ") + ")");
    if (a.modules.size() != ours.size())
        throw UsageError(a.path + ": " + std::to_string(a.modules.size()) + " modules, but the run adapts " +
                         std::to_string(ours.size()) + " (" + join(ours, ", ") + ")");
    auto scale = a.file.metadata.find("scale");
    if (scale != a.file.metadata.end()) {
        const double s = std::strtod(scale->second.c_str(), nullptr);
        if (!(std::fabs(s - (double)m->scale) <= 1e-6 * std::fabs((double)m->scale)))
            throw UsageError(a.path + ": scale s = " + scale->second + ", but the run's is " + number_text(m->scale) +
                             " (--lora_alpha, --init_r and --convention / the scale-eps row must match the adapter's)");
    }
    if (!a.has_head())
        throw UsageError(a.path + ": no '" + std::string(kHeadWeightName) + "' and '" + kHeadBiasName +
                         "' (the classification head the logits need)");
    for (int k = 0; k < m->n_modules; k++) {
        const ada_module &mod = m->modules[k];
        ada_adapter_view v = ada_model_view(m, m->params, k);
        load_tensor(a, mod.name, svd ? "P" : "B", {mod.d_out, r}, v.P);
        if (svd) load_tensor(a, mod.name, "lambda", {r}, v.lam);
        load_tensor(a, mod.name, svd ? "Q" : "A", {r, mod.d_in}, v.Q);
        const std::vector<int> kept = a.kept(mod.name);
        std::fill(mod.keep, mod.keep + r, 0);
        for (int i : kept) mod.keep[i] = 1;
    }
    ada_model_apply_keep(m);  // a pruned triplet's λ_i (or B column and A row) is 0, as after training
    const ada_encoder_config &c = *ada_encoder_config_of(enc);
    ada_encoder_head h = ada_encoder_head_of(enc, m->params);
    // head.weight and head.bias (kHeadWeightName, kHeadBiasName) as parts of a module "head".
    load_tensor(a, "head", "weight", {c.n_outputs, c.hidden}, h.W);
    load_tensor(a, "head", "bias", {c.n_outputs}, h.b);
}

}  // namespace

int cmd_encoder_step(const RunConfig &cfg, const EncoderStepArgs &args) {
    validate(cfg);
    if (!is_encoder_task(cfg.task))
        throw UsageError("--task " + cfg.task + ": encoder-step needs a sentence task (" + join(kEncoderTasks, ", ") + ")");
    if (cfg.task_opt.dropout != 0)
        throw UsageError("--dropout = " + number_text(cfg.task_opt.dropout) +
                         ": encoder-step compares gradients, so dropout must be 0");
    if (!(std::isfinite(args.perturb) && args.perturb >= 0))
        throw UsageError("--perturb = " + number_text(args.perturb) + ": must be finite and >= 0");
    if (args.rows < 1 || args.rows > cfg.batch)
        throw UsageError("--rows = " + std::to_string(args.rows) + ": allowed 1..--batch = " + std::to_string(cfg.batch));
    check_output_dir(cfg.out);
    const RunAdapter adapter = args.adapter.empty() ? RunAdapter() : read_run_adapter(args.adapter);
    RunSetup run(cfg);
    ada_model *m = run.model;
    if (!args.adapter.empty()) {
        load_adapter(run.encoder.get(), adapter, cfg.method);
    } else if (args.perturb > 0) {
        ada_rng rng;
        ada_rng_seed(&rng, cfg.seed + 1);
        ada_rng_fill_normal(&rng, m->params, m->n_params, 0.0, args.perturb);
    }

    const TokenData &train = run.task.train.tokens;
    const int rows = std::min(args.rows, run.task.train.rows);
    TokenBatch tokens;
    tokens.reserve(rows, train.seq);
    tokens.gather(train, rows, [](int i) { return (size_t)i; }, true);
    ada_batch batch{};
    batch.n = rows;
    batch.host = tokens.host();
    ada_step_info info{};
    check(ada_trainer_gradients(run.tr, &batch, &info), "encoder step");

    ada_encoder *enc = run.encoder.get();
    const ada_encoder_batch *b = tokens.host();
    const uint64_t n = (uint64_t)rows, T = (uint64_t)b->T;
    Files files;
    files.emplace_back("ids.npy", npy_bytes(npy_array(b->ids, {n, T})));
    files.emplace_back("mask.npy", npy_bytes(npy_array(b->mask, {n, T})));
    if (b->labels) files.emplace_back("labels.npy", npy_bytes(npy_array(b->labels, {n})));
    if (b->targets) add_reals(files, "targets", b->targets, {n, 1});
    const ada_encoder_config &c = *ada_encoder_config_of(enc);
    for (int l = 0; l <= c.layers; l++) {
        const ada_cmat h = ada_encoder_hidden(enc, l);
        add_reals(files, "hidden_" + std::to_string(l), h.data, {(uint64_t)h.rows, (uint64_t)h.cols});
    }
    const ada_cmat lg = ada_encoder_logits(enc);
    add_reals(files, "logits", lg.data, {(uint64_t)lg.rows, (uint64_t)lg.cols});
    nlohmann::json modules = nlohmann::json::array();
    add_parameters(files, enc, modules);
    const ada_train_config &tc = run.method.train;
    nlohmann::json index = {{"format", "adalora-encoder-step"},
                            {"precision", ADA_PRECISION_NAME},
                            {"task", cfg.task},
                            {"model_dir", run.task.encoder->checkpoint.dir},
                            {"form", m->config.form == ADA_FORM_SVD ? "svd" : "lora"},
                            {"r0", m->config.r0},
                            {"scale", (double)m->scale},
                            {"loss", c.loss == ADA_LOSS_MSE ? "mse" : "cross-entropy"},
                            {"orth_weight", tc.gamma > 0 ? run.tr->orth_weight : 0.0},
                            {"orth_norm", tc.orth_norm == ADA_ORTH_SQUARED ? "squared" : "plain"},
                            {"clip", tc.clip},
                            {"task_loss", info.task_loss},
                            {"orth_raw", info.orth_raw},
                            {"loss_total", info.loss},
                            {"rows", rows},
                            {"adapter", args.adapter},
                            {"tokens", b->T},
                            {"modules", modules}};
    files.emplace_back("index.json", index.dump(2) + "\n");
    write_dir_atomic(cfg.out, files);
    std::printf("encoder-step: %s, %d sentences x %d tokens, task loss %.17g, %zu files in %s\n", cfg.task.c_str(), rows,
                b->T, info.task_loss, files.size(), cfg.out.c_str());
    return 0;
}

}  // namespace adalora
