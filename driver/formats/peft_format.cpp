// peft_format.cpp: run adapter <-> PEFT AdaLoRA adapter.
#include "formats/peft_format.h"
#include "base/util.h"


#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>

#include "base/read_file.h"
#include "base/errors.h"
#include "config/options.h"

extern "C" {
#include "encoder.h"
}

namespace adalora {

namespace {

const std::string kPrefix = "base_model.model.";
const char *const kParts[] = {"lora_A", "lora_B", "lora_E"};
// The AdaLoraConfig hyper-parameters a run records under the same names.
const char *const kHyper[] = {"target_r", "tinit", "tfinal", "deltaT", "beta1", "beta2",
                              "orth_reg_weight", "lora_alpha", "total_step"};
// A PEFT file may not make import allocate beyond this (hostile shapes).
constexpr uint64_t kMaxImportBytes = uint64_t(1) << 31;

// Slices of a row-major [rows, cols] tensor along `axis` (0: rows, 1:
// columns): slice from[i] of src goes to slice to[i] of a new tensor with
// dst_n slices along that axis, the others zero. Copies bytes, so values
// survive bit for bit in any dtype.
Tensor move_slices(const Tensor &src, int64_t rows, int64_t cols, int axis, const std::vector<int> &from,
                   const std::vector<int> &to, int64_t dst_n, const std::string &name,
                   const std::vector<int64_t> &shape) {
    const size_t es = dtype_size(src.dtype);
    const int64_t dst_rows = axis == 0 ? dst_n : rows, dst_cols = axis == 0 ? cols : dst_n;
    Tensor t;
    t.name = name;
    t.dtype = src.dtype;
    t.shape = shape;
    t.bytes.assign((size_t)(dst_rows * dst_cols) * es, '\0');
    for (size_t i = 0; i < from.size(); i++) {
        if (axis == 0) {
            std::copy_n(src.bytes.data() + (size_t)from[i] * cols * es, cols * es, &t.bytes[(size_t)to[i] * cols * es]);
        } else {
            for (int64_t r = 0; r < rows; r++)
                std::copy_n(src.bytes.data() + ((size_t)r * cols + from[i]) * es, es,
                            &t.bytes[((size_t)r * dst_cols + to[i]) * es]);
        }
    }
    return t;
}

std::vector<int> first_n(size_t n) {
    std::vector<int> v(n);
    std::iota(v.begin(), v.end(), 0);
    return v;
}

// One module of a PEFT adapter as found in its file.
struct PeftModule {
    std::vector<bool> pattern;
    const Tensor *part[3] = {nullptr, nullptr, nullptr};  // lora_A, lora_B, lora_E
};

const std::string kEncoderPrefix = "bert.encoder.layer.";
// The head's tensors: ours, and PEFT's names of BertForSequenceClassification's classifier.
const char *const kHeadNames[2][2] = {{kHeadWeightName, "classifier.weight"}, {kHeadBiasName, "classifier.bias"}};

bool is_encoder_module(const std::string &module) {
    int layer;
    size_t type;
    return split_encoder_module(module, &layer, &type);
}

// PEFT's target_modules of an encoder run: its matrix types, which PEFT
// matches as suffixes of module paths, when the run is ours and adapts every
// layer of the checkpoint (a sentence task's run without
// --layers-to-transform) and "output.dense" does not come without
// "attention.output.dense" (whose path it is a suffix of); otherwise the
// exact paths.
nlohmann::ordered_json encoder_target_modules(const RunAdapter &run) {
    std::vector<bool> has(kEncoderTargets.size(), false);
    for (const std::string &m : run.modules) {
        int layer;
        size_t type;
        split_encoder_module(m, &layer, &type);
        has[type] = true;
    }
    const nlohmann::json &task = run.config.value("task", nlohmann::json());
    const nlohmann::json &layers = run.config.value("layers_to_transform", nlohmann::json("all"));
    const bool ours = task.is_string() && is_encoder_task(task.get<std::string>()) && layers == "all";
    if (ours && !(has[ADA_ENC_FFN_OUT] && !has[ADA_ENC_ATTN_OUT])) {
        nlohmann::ordered_json types = nlohmann::ordered_json::array();
        for (size_t t = 0; t < has.size(); t++)
            if (has[t]) types.push_back(kEncoderTargets[t]);
        return types;
    }
    nlohmann::ordered_json paths = nlohmann::ordered_json::array();
    for (const std::string &m : run.modules) paths.push_back(encoder_module_path(m));
    return paths;
}

// base_model_name_or_path of an encoder run: its --model, else the default checkpoint's hub name.
nlohmann::ordered_json base_model_name(const RunAdapter &run) {
    const nlohmann::json &model = run.config.value("model", nlohmann::json());
    if (model.is_string() && !model.get<std::string>().empty()) return model.get<std::string>();
    return kDefaultBaseModel;
}

}  // namespace

std::string encoder_module_path(const std::string &module) {
    int layer;
    size_t type;
    if (!split_encoder_module(module, &layer, &type))
        throw UsageError("module '" + module + "' is not an encoder module (allowed: L.type, type one of " +
                         join(kEncoderTargets, ", ") + ")");
    const bool qkv = type <= ADA_ENC_VALUE;
    return kEncoderPrefix + std::to_string(layer) + "." + (qkv ? "attention.self." : "") + kEncoderTargets[type];
}

std::string encoder_module_of(const std::string &path) {
    if (path.rfind(kEncoderPrefix, 0) != 0) return "";
    const size_t dot = path.find('.', kEncoderPrefix.size());
    if (dot == std::string::npos) return "";
    const std::string layer = path.substr(kEncoderPrefix.size(), dot - kEncoderPrefix.size());
    for (const std::string &type : kEncoderTargets) {
        const std::string module = layer + "." + type;
        if (is_encoder_module(module) && encoder_module_path(module) == path) return module;
    }
    return "";
}

PeftAdapter peft_from_run(const RunAdapter &run) {
    if (run.form != "svd")
        throw UsageError(run.path + ": a LoRA-form run (method " + run.config.value("method", nlohmann::json()).dump() +
                         ") has no λ; only SVD-form runs (adalora, svd-lora) export as PEFT's AdaLoRA");
    const bool encoder = std::all_of(run.modules.begin(), run.modules.end(), is_encoder_module);
    if (encoder && !run.has_head())
        throw UsageError(run.path + ": an encoder run's adapter without '" + kHeadWeightName + "' and '" + kHeadBiasName +
                         "' (the classifier PEFT needs; written by runs of this adalora on): train the run again");
    PeftAdapter p;
    p.weights.metadata = {{"format", "pt"}};
    nlohmann::ordered_json pattern = nlohmann::ordered_json::object();
    const int64_t r0 = run.r0;
    for (const std::string &m : run.modules) {
        const Tensor &P = run.tensor(m, "P"), &lam = run.tensor(m, "lambda"), &Q = run.tensor(m, "Q");
        if (P.dtype != Q.dtype || P.dtype != lam.dtype)
            throw UsageError(run.path + ": module '" + m + "' mixes dtypes in P, lambda and Q");
        const std::vector<int> kept = run.kept(m);
        const int64_t k = (int64_t)kept.size(), d_out = P.shape[0], d_in = Q.shape[1];
        const std::vector<int> first = first_n(kept.size());
        const std::string path = encoder ? encoder_module_path(m) : m;
        const std::string key = kPrefix + path + ".";
        p.weights.tensors.push_back(move_slices(Q, r0, d_in, 0, kept, first, k, key + "lora_A", {k, d_in}));
        p.weights.tensors.push_back(move_slices(P, d_out, r0, 1, kept, first, k, key + "lora_B", {d_out, k}));
        p.weights.tensors.push_back(move_slices(lam, r0, 1, 0, kept, first, k, key + "lora_E", {k, 1}));
        std::vector<bool> flags((size_t)r0, false);
        for (int i : kept) flags[(size_t)i] = true;
        pattern[path + ".lora_E"] = flags;
    }
    if (encoder)
        for (const auto &names : kHeadNames) {
            Tensor t = *run.file.find(names[0]);
            t.name = kPrefix + names[1];
            p.weights.tensors.push_back(std::move(t));
        }
    // AdaLoraConfig.to_dict() as save_pretrained writes it (LoraConfig's
    // fields that matter here at their defaults, then AdaLoRA's).
    auto hyper = [&](const char *key) { return run.config.value(key, nlohmann::ordered_json()); };
    const nlohmann::ordered_json none;
    p.config = {{"peft_type", "ADALORA"}, {"task_type", encoder ? nlohmann::ordered_json("SEQ_CLS") : none},
                {"auto_mapping", nullptr}, {"base_model_name_or_path", encoder ? base_model_name(run) : none},
                {"revision", nullptr}, {"inference_mode", true},
                {"r", 8},  // LoraConfig's default; AdaLoRA ignores r and warns when it differs
                {"target_modules", encoder ? encoder_target_modules(run) : nlohmann::ordered_json(run.modules)},
                {"exclude_modules", nullptr}, {"lora_alpha", hyper("lora_alpha")},
                {"lora_dropout", 0.0}, {"fan_in_fan_out", false}, {"bias", "none"}, {"use_rslora", false},
                {"modules_to_save", encoder ? nlohmann::ordered_json::array({"classifier"}) : none},
                {"init_lora_weights", true}, {"layers_to_transform", nullptr},
                {"layers_pattern", nullptr}, {"alpha_pattern", nlohmann::ordered_json::object()}, {"use_dora", false},
                {"init_r", r0}};
    nlohmann::ordered_json &c = p.config;
    for (const char *key : kHyper)
        if (std::string(key) != "lora_alpha") c[key] = hyper(key);
    c["rank_pattern"] = pattern;
    return p;
}

namespace {

// The AdaLoraConfig hyper-parameters the import carries over, checked by the
// command line's own rules: each value of its option's type (a string "8" or
// "x" is not a number), then validate() on the run they describe (0 < beta
// < 1, lora_alpha > 0, total_step >= 1, tinit + tfinal < total_step, ...).
// A null or absent key keeps the default; when total_step is absent the
// schedule's sum is not checked against it.
void check_hyper(const nlohmann::ordered_json &cfg, int64_t r0, const std::string &config_path) {
    RunConfig run;
    CLI::App app;
    add_train_options(&app, run);
    std::vector<std::string> args = {"--init_r=" + std::to_string(r0), "--out=import"};
    for (const char *key : kHyper) {
        const nlohmann::json value = nlohmann::json::parse(cfg.value(key, nlohmann::ordered_json()).dump());
        if (value.is_null()) continue;
        check_config_value(app.get_option(std::string("--") + key), key, value, config_path);
        args.push_back(std::string("--") + key + "=" + config_value_text(value, key));
    }
    std::reverse(args.begin(), args.end());  // CLI11 parses a vector from its back
    try {
        app.parse(args);
    } catch (const CLI::ParseError &e) {
        throw UsageError(config_path + ": " + e.what());
    }
    if (!cfg.contains("total_step") || cfg["total_step"].is_null())
        run.total_step = std::max(run.total_step, run.tinit + run.tfinal + 1);
    try {
        validate(run);
    } catch (const UsageError &e) {
        throw UsageError(config_path + ": " + e.what());
    }
}

// adapter_config.json, checked: a JSON object with peft_type "ADALORA", an
// init_r in 1..1000000, a rank_pattern that is an object or null, and the
// hyper-parameters (check_hyper).
struct PeftConfig {
    nlohmann::ordered_json json;
    int64_t r0 = 0;
    nlohmann::ordered_json pattern;  // null: saved before any mask step
};

PeftConfig read_peft_config(const std::string &config_path) {
    PeftConfig c;
    c.json = nlohmann::ordered_json::parse(read_file(config_path, kTextFileLimit), nullptr, false);
    auto bad = [&](const std::string &what) { return UsageError(config_path + ": " + what); };
    const nlohmann::ordered_json &cfg = c.json;
    if (cfg.is_discarded() || !cfg.is_object()) throw bad("not a JSON object");
    if (cfg.value("peft_type", nlohmann::ordered_json()) != "ADALORA")
        throw bad("peft_type is " + cfg.value("peft_type", nlohmann::ordered_json()).dump() + " (allowed: \"ADALORA\")");
    const auto &init = cfg.value("init_r", nlohmann::ordered_json());
    if (!init.is_number_integer() || init.get<int64_t>() < 1 || init.get<int64_t>() > 1000000)
        throw bad("init_r is " + init.dump() + " (allowed: an integer 1..1000000)");
    c.r0 = init.get<int64_t>();
    c.pattern = cfg.value("rank_pattern", nlohmann::ordered_json());
    if (!c.pattern.is_null() && !c.pattern.is_object()) throw bad("rank_pattern must be an object or null");
    check_hyper(cfg, c.r0, config_path);
    return c;
}

// The adapter's modules: their tensors by name, and the order they are
// written in (rank_pattern's order, else the file's).
struct PeftModules {
    std::map<std::string, PeftModule> found;
    std::vector<std::string> order;
    const Tensor *head[2] = {nullptr, nullptr};  // base_model.model.classifier.weight, .bias
};

PeftModules group_peft_tensors(const Safetensors &file, const std::string &weights_path, bool order_from_file) {
    PeftModules g;
    for (const Tensor &t : file.tensors) {
        int part = -1, head = -1;
        for (int j = 0; j < 3; j++)
            if (ends_with(t.name, std::string(".") + kParts[j])) part = j;
        for (int j = 0; j < 2; j++)
            if (t.name == kPrefix + kHeadNames[j][1]) head = j;
        if (head >= 0) {
            g.head[head] = &t;
            continue;
        }
        if (part < 0 || t.name.rfind(kPrefix, 0) != 0 || t.name.size() <= kPrefix.size() + 7)
            throw UsageError(weights_path + ": unexpected tensor '" + t.name +
                             "' (allowed: base_model.model.PATH.lora_A, .lora_B, .lora_E, base_model.model.classifier.weight, .bias)");
        const std::string module = t.name.substr(kPrefix.size(), t.name.size() - kPrefix.size() - 7);
        if (!g.found.count(module) && order_from_file) g.order.push_back(module);
        g.found[module].part[part] = &t;
    }
    return g;
}

// Our module names of the modules in g.order: an adapter of
// BertForSequenceClassification (a module path under "bert.")
// gets the encoder's names "L.type", every path checked, in layer then type
// order (g.order is rearranged so); another keeps its paths. A classifier
// comes only with the encoder's modules.
std::vector<std::string> run_module_names(PeftModules &g, const std::string &weights_path) {
    const bool encoder =
        std::any_of(g.order.begin(), g.order.end(), [](const std::string &p) { return p.rfind("bert.", 0) == 0; });
    if (!encoder) {
        if (g.head[0] || g.head[1])
            throw UsageError(weights_path + ": a classifier without BertForSequenceClassification's modules (bert.encoder.layer.L....)");
        return g.order;
    }
    std::vector<std::pair<std::pair<int, size_t>, std::string>> keyed;  // (layer, type), PEFT's path
    for (const std::string &path : g.order) {
        const std::string module = encoder_module_of(path);
        if (module.empty())
            throw UsageError(weights_path + ": module '" + path + "' is not an adaptable matrix of BertForSequenceClassification "
                             "(allowed: bert.encoder.layer.L.attention.self.query, .key, .value, .attention.output.dense, "
                             ".intermediate.dense, .output.dense)");
        int layer;
        size_t type;
        split_encoder_module(module, &layer, &type);  // a name encoder_module_of returned
        keyed.push_back({{layer, type}, path});
    }
    std::sort(keyed.begin(), keyed.end());
    std::vector<std::string> names;
    g.order.clear();
    for (const auto &k : keyed) {
        g.order.push_back(k.second);
        names.push_back(encoder_module_of(k.second));
    }
    return names;
}

// The classifier as head.weight [K, C] and head.bias [K], when PEFT saved it.
void append_head(const PeftModules &g, const std::string &weights_path, Safetensors &run) {
    if (!g.head[0] && !g.head[1]) return;
    for (int j = 0; j < 2; j++)
        if (!g.head[j]) throw UsageError(weights_path + ": the tensor '" + kPrefix + kHeadNames[j][1] + "' is missing");
    const Tensor &W = *g.head[0], &b = *g.head[1];
    if (W.shape.size() != 2 || W.shape[0] < 1 || W.shape[1] < 1 || b.shape != std::vector<int64_t>{W.shape[0]})
        throw UsageError(weights_path + ": the classifier has weight " + shape_text(W.shape) + " and bias " +
                         shape_text(b.shape) + " (expected [K, C] and [K], K, C >= 1)");
    for (int j = 0; j < 2; j++) {
        run.tensors.push_back(*g.head[j]);
        run.tensors.back().name = kHeadNames[j][0];
    }
}

// Each module's kept flags from rank_pattern (every triplet kept when it is
// null), refusing a pattern that names missing modules or misses present ones.
void apply_rank_pattern(const PeftConfig &c, const std::string &config_path, const std::string &weights_path,
                        PeftModules &g) {
    if (c.pattern.is_null()) {
        for (const std::string &m : g.order) g.found[m].pattern.assign((size_t)c.r0, true);
        return;
    }
    auto bad = [&](const std::string &what) { return UsageError(config_path + ": " + what); };
    for (const auto &[key, flags] : c.pattern.items()) {
        if (!ends_with(key, ".lora_E") || key.size() == 7) throw bad("rank_pattern key '" + key + "' (allowed: PATH.lora_E)");
        const std::string module = key.substr(0, key.size() - 7);
        if (!flags.is_array() || flags.size() != (size_t)c.r0)
            throw bad("rank_pattern '" + key + "' must be a list of init_r = " + std::to_string(c.r0) + " booleans");
        auto it = g.found.find(module);
        if (it == g.found.end()) throw UsageError(weights_path + ": the tensors of module '" + module + "' are missing");
        for (const auto &f : flags) {
            if (!f.is_boolean()) throw bad("rank_pattern '" + key + "' holds " + f.dump() + " (allowed: true, false)");
            it->second.pattern.push_back(f.get<bool>());
        }
        g.order.push_back(module);
    }
    for (const auto &[module, m] : g.found)
        if (m.pattern.empty())
            throw UsageError(weights_path + ": extra tensors of module '" + module + "', which rank_pattern does not list");
}

// MODULE.keep: 1 for a kept triplet, 0 for a pruned one, in `dtype`.
Tensor keep_tensor(const std::string &module, const std::vector<bool> &pattern, Dtype dtype) {
    Tensor keep;
    keep.name = module + ".keep";
    keep.dtype = dtype;
    keep.shape = {(int64_t)pattern.size()};
    for (bool f : pattern) {
        const float one_f = f ? 1.0f : 0.0f;
        const double one_d = f ? 1.0 : 0.0;
        keep.bytes.append(dtype == Dtype::F32 ? reinterpret_cast<const char *>(&one_f)
                                              : reinterpret_cast<const char *>(&one_d),
                          dtype_size(dtype));
    }
    return keep;
}

// One module (PEFT's path `module`) back at full init_r as NAME.P, .lambda,
// .Q: lora_B, lora_E, lora_A's kept slices put at their triplet indices (the
// rest zero), then its keep flags NAME.keep. `total` counts the bytes so far against kMaxImportBytes.
void append_run_module(const std::string &module, const std::string &name, const PeftModule &m, int64_t r0,
                       const std::string &weights_path, uint64_t &total, Safetensors &run) {
    for (int j = 0; j < 3; j++)
        if (!m.part[j]) throw UsageError(weights_path + ": the tensor '" + kPrefix + module + "." + kParts[j] + "' is missing");
    const Tensor &A = *m.part[0], &B = *m.part[1], &E = *m.part[2];
    std::vector<int> kept;
    for (size_t i = 0; i < m.pattern.size(); i++)
        if (m.pattern[i]) kept.push_back((int)i);
    const int64_t k = (int64_t)kept.size();
    if (A.shape.size() != 2 || A.shape[0] != k || B.shape.size() != 2 || B.shape[1] != k || E.shape != std::vector<int64_t>{k, 1})
        throw UsageError(weights_path + ": module '" + module + "' has lora_A " + shape_text(A.shape) + ", lora_B " +
                         shape_text(B.shape) + ", lora_E " + shape_text(E.shape) + "; its rank_pattern keeps " +
                         std::to_string(k) + " of " + std::to_string(r0) + " (expected [" + std::to_string(k) +
                         ", d_in], [d_out, " + std::to_string(k) + "], [" + std::to_string(k) + ", 1])");
    if (A.dtype != B.dtype || A.dtype != E.dtype)
        throw UsageError(weights_path + ": module '" + module + "' mixes dtypes in lora_A, lora_B and lora_E");
    const int64_t d_in = A.shape[1], d_out = B.shape[0];
    total += (uint64_t)(d_out + d_in + 2) * (uint64_t)r0 * dtype_size(A.dtype);
    if (total > kMaxImportBytes)
        throw UsageError(weights_path + ": the adapter at full init_r would exceed 2 GiB (shapes too large)");
    const std::vector<int> first = first_n(kept.size());
    run.tensors.push_back(move_slices(B, d_out, k, 1, first, kept, r0, name + ".P", {d_out, r0}));
    run.tensors.push_back(move_slices(E, k, 1, 0, first, kept, r0, name + ".lambda", {r0}));
    run.tensors.push_back(move_slices(A, k, d_in, 0, first, kept, r0, name + ".Q", {r0, d_in}));
    run.tensors.push_back(keep_tensor(name, m.pattern, A.dtype));
}

}  // namespace

Safetensors run_from_peft(const std::string &dir) {
    const std::string config_path = dir + "/" + kPeftConfigName, weights_path = dir + "/" + kPeftWeightsName;
    const PeftConfig cfg = read_peft_config(config_path);
    const Safetensors file = read_safetensors(weights_path);
    for (const Tensor &t : file.tensors)
        for (real v : tensor_values(t))
            if (!std::isfinite(v)) throw UsageError(weights_path + ": tensor '" + t.name + "' holds NaN or Inf");
    PeftModules modules = group_peft_tensors(file, weights_path, cfg.pattern.is_null());
    apply_rank_pattern(cfg, config_path, weights_path, modules);

    if (modules.order.empty()) throw UsageError(weights_path + ": no adapter tensors");
    const std::vector<std::string> names = run_module_names(modules, weights_path);

    Safetensors run;
    uint64_t total = 0;
    for (size_t i = 0; i < names.size(); i++)
        append_run_module(modules.order[i], names[i], modules.found[modules.order[i]], cfg.r0, weights_path, total, run);
    append_head(modules, weights_path, run);
    nlohmann::json config = {{"method", "adalora"}, {"imported_from", "peft"}, {"init_r", cfg.r0}};
    for (const char *key : kHyper)
        if (cfg.json.contains(key)) config[key] = nlohmann::json::parse(cfg.json[key].dump());
    for (const char *key : {"task_type", "base_model_name_or_path"})
        if (cfg.json.contains(key) && cfg.json[key].is_string()) config[key] = cfg.json[key].get<std::string>();
    run.metadata = run_adapter_metadata("svd", (int)cfg.r0, names, config);
    // PEFT's s = lora_alpha / (ranknum + 1e-5), ranknum = init_r (LoraConfig's default lora_alpha 8).
    const nlohmann::ordered_json alpha = cfg.json.value("lora_alpha", nlohmann::ordered_json());
    run.metadata["scale"] = number_text((alpha.is_number() ? alpha.get<double>() : 8.0) / ((double)cfg.r0 + 1e-5));
    return run;
}

}  // namespace adalora
