// run_index.cpp: the header of the --dump-init and --trace indexes.
#include "train/run_index.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "base/read_file.h"

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
    if (m->config.external_host) {  // an encoder matrix "L.type" (hosts/encoder.h): no chain, bias or activation here
        const std::string name = mod.name;
        const size_t dot = name.find('.');
        return {{"name", name},       {"index", k},          {"layer", std::stoi(name.substr(0, dot))},
                {"type", name.substr(dot + 1)}, {"d_in", mod.d_in}, {"d_out", mod.d_out}};
    }
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
    const std::string weights = task.checkpoint.dir + "/model.safetensors";
    return {{"model", model},
            {"model_sha256", sha256_hex(read_file(weights, kDataFileLimit))},
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

namespace {

// FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube
// roots of the first 64 primes.
constexpr uint32_t kSha256K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

// FIPS 180-4 §6.2.2: one 64-byte block into the hash state h.
void sha256_block(uint32_t h[8], const unsigned char *block) {
    uint32_t w[64];
    for (int t = 0; t < 16; t++)
        w[t] = (uint32_t)block[4 * t] << 24 | (uint32_t)block[4 * t + 1] << 16 | (uint32_t)block[4 * t + 2] << 8 |
               (uint32_t)block[4 * t + 3];
    for (int t = 16; t < 64; t++) {
        const uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
        const uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    uint32_t v[8];
    std::copy_n(h, 8, v);
    for (int t = 0; t < 64; t++) {
        const uint32_t e = v[4], a = v[0];
        const uint32_t t1 = v[7] + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & v[5]) ^ (~e & v[6])) + kSha256K[t] + w[t];
        const uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & v[1]) ^ (a & v[2]) ^ (v[1] & v[2]));
        std::copy_backward(v, v + 7, v + 8);  // h = g, g = f, ..., b = a
        v[4] += t1;
        v[0] = t1 + t2;
    }
    for (int i = 0; i < 8; i++) h[i] += v[i];
}

}  // namespace

std::string sha256_hex(const std::string &bytes) {
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    const size_t whole = bytes.size() / 64 * 64;
    for (size_t at = 0; at < whole; at += 64) sha256_block(h, reinterpret_cast<const unsigned char *>(bytes.data() + at));
    // The padding (§5.1.1): 0x80, zeros, the message length in bits as 64 bits big-endian.
    std::string tail = bytes.substr(whole) + '\x80';
    tail.resize(tail.size() <= 56 ? 64 : 128, '\0');
    const uint64_t bits = (uint64_t)bytes.size() * 8;
    for (int i = 0; i < 8; i++) tail[tail.size() - 1 - i] = (char)(bits >> (8 * i));
    for (size_t at = 0; at < tail.size(); at += 64) sha256_block(h, reinterpret_cast<const unsigned char *>(tail.data() + at));
    char hex[65];
    for (int i = 0; i < 8; i++) std::snprintf(hex + 8 * i, 9, "%08x", h[i]);
    return std::string(hex, 64);
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
