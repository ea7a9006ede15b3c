// run_index.cpp: the header of the --dump-init and --trace indexes.
#include "train/run_index.h"

#include <cmath>


#include "formats/npy.h"
#include "train/run.h"

namespace adalora {

namespace {

const char *loss_name(ada_loss_kind k) {
    return k == ADA_LOSS_MSE ? "mse" : k == ADA_LOSS_SSE ? "sse" : "cross-entropy";
}

// lib/loss.c, stated so another implementation normalises the same way.
const char *loss_formula(ada_loss_kind k) {
    if (k == ADA_LOSS_MSE) return "(1/(B*d_out)) * sum over rows b and outputs j of (y_bj - t_bj)^2";
    if (k == ADA_LOSS_SSE) return "(1/B) * sum over rows b of ||y_b - t_b||^2 (sum over outputs, mean over batch rows)";
    return "(1/B) * sum over rows b of -log softmax(y_b)[label_b]";
}

nlohmann::json module_json(const ada_model *m, int k) {
    const ada_module &mod = m->modules[k];
    int layer;
    size_t type;
    if (m->config.external_host && split_encoder_module(mod.name, &layer, &type))  // no chain, bias or activation here
        return {{"name", mod.name}, {"index", k},          {"layer", layer},
                {"type", kEncoderTargets[type]}, {"d_in", mod.d_in}, {"d_out", mod.d_out}};
    int position = 0;
    for (int j = 0; j < k; j++) position += m->modules[j].chain == mod.chain;
    return {{"name", mod.name},       {"index", k},          {"chain", mod.chain},
            {"position", position},   {"d_in", mod.d_in},    {"d_out", mod.d_out},
            {"has_bias", mod.has_bias != 0}, {"activation", ada_activation_name(mod.act)}};
}

}  // namespace

const char *real_descr() { return sizeof(real) == 8 ? "<f8" : "<f4"; }

nlohmann::json json_number(double v) {
    if (std::isnan(v)) return nullptr;
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    return v;
}

nlohmann::json run_index_header(const RunConfig &cfg, const MethodSetup &setup, const ada_model *m,
                                const std::string &format) {
    const ada_train_config &t = setup.train;
    const ada_model_config &mc = m->config;
    nlohmann::json h;
    h["format"] = format;
    h["version"] = 1;
    h["host"] = m->config.external_host ? "encoder" : "mlp";
    h["precision"] = ADA_PRECISION_NAME;
    h["dtype"] = real_descr();
    h["task"] = cfg.task;
    h["method"] = cfg.method;
    h["seed"] = cfg.seed;
    h["form"] = mc.form == ADA_FORM_SVD ? "svd" : "lora";
    h["r0"] = mc.r0;
    h["alpha"] = mc.alpha;
    h["scale_eps"] = mc.scale_eps;
    h["init_std"] = mc.init_std;
    h["scale"] = (double)m->scale;
    // The forward applies no mask: a mask step writes zeros into lam (SVD) or
    // into B's columns and A's rows (LoRA), and between mask steps a pruned
    // entry trains like any other (README, Algorithm 1's T(lam, S)).
    h["layer"] = mc.form == ADA_FORM_SVD
                     ? "y = x W0^T + bias + scale * ((x Q^T) * lam) P^T (no mask in the forward: masking writes zeros into lam)"
                     : "y = x W0^T + bias + scale * (x A^T) B^T (no mask in the forward: masking zeroes B columns and A rows)";
    nlohmann::json modules = nlohmann::json::array();
    for (int k = 0; k < m->n_modules; k++) modules.push_back(module_json(m, k));
    h["modules"] = modules;
    if (!m->config.external_host)
        h["chain_rule"] = "a chain's first module reads the chain's x, each next module the previous module's "
                          "activated output; the task loss is the sum over chains of each chain's loss";
    h["loss"] = {{"kind", loss_name(mc.loss)}, {"formula", loss_formula(mc.loss)}};
    h["batch_rows"] = cfg.batch;
    h["total_step"] = cfg.total_step;
    h["optimizer"] = {{"kind", t.opt.kind == ADA_OPT_ADAMW ? "adamw" : "sgd"},
                      {"lr", t.opt.lr},
                      {"beta1", t.opt.beta1},
                      {"beta2", t.opt.beta2},
                      {"eps", t.opt.eps},
                      {"weight_decay", t.opt.weight_decay},
                      {"clip", t.clip}};
    double weight = 0;
    ada_orth_term_weight(&weight, t.gamma, t.orth_reduce, 2 * m->n_modules);
    h["regulariser"] = {{"gamma", t.gamma},
                        {"orth_norm", t.orth_norm == ADA_ORTH_PLAIN ? "plain" : "squared"},
                        {"orth_reduce", t.orth_reduce == ADA_ORTH_MEAN ? "mean" : "sum"},
                        {"weight", weight}};
    h["allocation"] = {{"prune", t.prune != 0},
                       {"hard_delete", t.hard_delete != 0},
                       {"svd_proj", setup.svd_proj},
                       {"importance", cfg.importance},
                       {"beta1", t.beta1},
                       {"beta2", t.beta2},
                       {"sensitivity_weights", t.sens_weights == ADA_SENS_POST_STEP ? "post-step" : "pre-step"},
                       {"ties", t.ties == ADA_TIES_KTHVALUE ? "kthvalue" : "exact"}};
    h["schedule"] = {{"b0", t.schedule.b0},           {"bT", t.schedule.bT},
                     {"tinit", t.schedule.t_init},    {"tfinal", t.schedule.t_final},
                     {"total_step", t.schedule.total}, {"deltaT", t.schedule.delta_t}};
    h["conventions"] = conventions_json(cfg);
    h["config"] = config_json(cfg);
    return h;
}

nlohmann::json encoder_index_json(const RunConfig &cfg, const EncoderTask &task) {
    const BertConfig &bc = task.checkpoint.config;
    const std::string &model = cfg.task_opt.model_dir.empty() ? task.checkpoint.dir : cfg.task_opt.model_dir;
    return {{"model", model},
            {"model_sha256", checkpoint_sha256(task.checkpoint)},
            {"layers", bc.num_layers},
            {"hidden", bc.hidden_size},
            {"heads", bc.num_heads},
            {"intermediate", bc.intermediate_size},
            {"vocab", bc.vocab_size},
            {"max_seq", task.max_seq},
            {"dropout", task.dropout},
            {"classes", task.n_outputs},
            {"loss", task.n_outputs == 1 ? "mse" : "cross-entropy"}};
}

std::string json_first_difference(const nlohmann::json &a, const nlohmann::json &b, const std::string &path) {
    if (a.is_object() && b.is_object()) {
        for (auto &[key, value] : a.items()) {
            std::string sub = path.empty() ? key : path + "." + key;
            if (!b.contains(key)) return sub;
            std::string d = json_first_difference(value, b.at(key), sub);
            if (!d.empty()) return d;
        }
        for (auto &[key, value] : b.items())
            if (!a.contains(key)) return path.empty() ? key : path + "." + key;
        return "";
    }
    if (a.is_array() && b.is_array()) {
        if (a.size() != b.size()) return path + " (length)";
        for (size_t i = 0; i < a.size(); i++) {
            std::string d = json_first_difference(a[i], b[i], path + "[" + std::to_string(i) + "]");
            if (!d.empty()) return d;
        }
        return "";
    }
    return a == b ? "" : (path.empty() ? "(top level)" : path);
}

}  // namespace adalora
