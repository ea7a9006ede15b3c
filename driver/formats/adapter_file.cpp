// adapter_file.cpp: RUN_DIR/adapter.safetensors.
#include "formats/adapter_file.h"
#include "base/util.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "base/errors.h"

namespace adalora {

namespace {


int metadata_int(const std::map<std::string, std::string> &meta, const std::string &key, const std::string &file) {
    auto it = meta.find(key);
    if (it == meta.end()) throw UsageError(file + ": __metadata__ lacks '" + key + "' (not an adalora run adapter?)");
    try {
        size_t used = 0;
        int v = std::stoi(it->second, &used);
        if (used == it->second.size() && v >= 1) return v;
    } catch (const std::exception &) {
    }
    throw UsageError(file + ": __metadata__ '" + key + "' = '" + it->second + "' (allowed: an integer >= 1)");
}

nlohmann::json metadata_json(const std::map<std::string, std::string> &meta, const std::string &key,
                             const std::string &file) {
    auto it = meta.find(key);
    if (it == meta.end()) throw UsageError(file + ": __metadata__ lacks '" + key + "' (not an adalora run adapter?)");
    nlohmann::json j = nlohmann::json::parse(it->second, nullptr, false);
    if (j.is_discarded()) throw UsageError(file + ": __metadata__ '" + key + "' is not valid JSON");
    return j;
}

}  // namespace

std::map<std::string, std::string> run_adapter_metadata(const std::string &form, int r0,
                                                        const std::vector<std::string> &modules,
                                                        const nlohmann::json &config) {
    return {{"format", "adalora-run"}, {"form", form},           {"r0", std::to_string(r0)},
            {"modules", nlohmann::json(modules).dump()},         {"config", config.dump()}};
}

Safetensors run_adapter_tensors(const ada_model *m, const nlohmann::json &config, int head_outputs) {
    const int64_t r = m->config.r0;
    const bool svd = m->config.form == ADA_FORM_SVD;
    Safetensors file;
    std::vector<std::string> names;
    std::vector<real> keep((size_t)r);
    for (int k = 0; k < m->n_modules; k++) {
        const ada_module &mod = m->modules[k];
        const std::string name = mod.name;
        names.push_back(name);
        ada_adapter_view v = ada_model_view(m, m->params, k);
        file.tensors.push_back(make_tensor(name + (svd ? ".P" : ".B"), {mod.d_out, r}, v.P));
        if (svd) file.tensors.push_back(make_tensor(name + ".lambda", {r}, v.lam));
        file.tensors.push_back(make_tensor(name + (svd ? ".Q" : ".A"), {r, mod.d_in}, v.Q));
        for (int64_t i = 0; i < r; i++) keep[(size_t)i] = mod.keep[i] ? 1 : 0;
        file.tensors.push_back(make_tensor(name + ".keep", {r}, keep.data()));
        if (mod.W0) file.tensors.push_back(make_tensor(name + ".W0", {mod.d_out, mod.d_in}, mod.W0));
        if (mod.bias) file.tensors.push_back(make_tensor(name + ".bias", {mod.d_out}, mod.bias));
    }
    // A host's own trained parameters: an encoder's classification head,
    // K x C weights then K biases (hosts/encoder.h, ada_encoder_head).
    const size_t host = m->n_params - m->adapter_params;
    if (host > 0 || head_outputs != 0) {
        const size_t k = head_outputs > 0 ? (size_t)head_outputs : 0;
        if (k == 0 || host % k != 0 || host / k < 2)
            throw std::logic_error("run_adapter_tensors: the host's " + std::to_string(host) +
                                   " own parameters are not a head of " + std::to_string(head_outputs) +
                                   " outputs (K x C weights and K biases)");
        const int64_t c = (int64_t)(host / k) - 1;
        const real *head = m->params + m->adapter_params;
        file.tensors.push_back(make_tensor(kHeadWeightName, {(int64_t)k, c}, head));
        file.tensors.push_back(make_tensor(kHeadBiasName, {(int64_t)k}, head + k * (size_t)c));
    }
    file.metadata = run_adapter_metadata(svd ? "svd" : "lora", (int)r, names, config);
    file.metadata["scale"] = number_text(m->scale);
    return file;
}

void drop_base_tensors(Safetensors &adapter) {
    auto &t = adapter.tensors;
    t.erase(std::remove_if(t.begin(), t.end(), [](const Tensor &x) { return is_base_tensor(x.name); }), t.end());
}

const Tensor &RunAdapter::tensor(const std::string &module, const std::string &part) const {
    const Tensor *t = file.find(module + "." + part);
    if (!t) throw UsageError(path + ": the tensor '" + module + "." + part + "' is missing");
    return *t;
}

std::vector<int> RunAdapter::kept(const std::string &module) const {
    std::vector<real> keep = tensor_values(tensor(module, "keep"));
    std::vector<int> idx;
    for (size_t i = 0; i < keep.size(); i++) {
        if (keep[i] != 0 && keep[i] != 1)
            throw UsageError(path + ": tensor '" + module + ".keep' holds " + number_text(keep[i]) +
                             " (allowed: 0 pruned, 1 kept)");
        if (keep[i] == 1) idx.push_back((int)i);
    }
    return idx;
}

RunAdapter read_run_adapter(const std::string &path) { return run_adapter_from(read_safetensors(path), path); }

RunAdapter run_adapter_from(Safetensors file, const std::string &path) {
    RunAdapter a;
    a.path = path;
    a.file = std::move(file);
    const auto &meta = a.file.metadata;
    auto format = meta.find("format");
    if (format == meta.end() || format->second != "adalora-run")
        throw UsageError(path + ": __metadata__ 'format' is not 'adalora-run' (not an adalora run adapter)");
    auto form = meta.find("form");
    if (form == meta.end() || (form->second != "svd" && form->second != "lora"))
        throw UsageError(path + ": __metadata__ 'form' must be 'svd' or 'lora'");
    a.form = form->second;
    a.r0 = metadata_int(meta, "r0", path);
    nlohmann::json modules = metadata_json(meta, "modules", path);
    if (modules.is_array() && modules.empty())
        throw UsageError(path + ": __metadata__ 'modules' is empty: no adapted matrix, so no adapter (a head-only "
                                "run trains only the classification head)");
    if (!modules.is_array())
        throw UsageError(path + ": __metadata__ 'modules' must be a non-empty JSON list of names");
    for (const auto &m : modules) {
        if (!m.is_string()) throw UsageError(path + ": __metadata__ 'modules' must be a JSON list of names");
        a.modules.push_back(m.get<std::string>());
    }
    a.config = metadata_json(meta, "config", path);
    if (!a.config.is_object()) throw UsageError(path + ": __metadata__ 'config' must be a JSON object");
    const bool svd = a.form == "svd";
    for (const std::string &m : a.modules) {
        const Tensor &left = a.tensor(m, svd ? "P" : "B"), &right = a.tensor(m, svd ? "Q" : "A");
        if (left.shape.size() != 2 || right.shape.size() != 2)
            throw UsageError(path + ": tensors '" + left.name + "' and '" + right.name + "' must be matrices");
        require_shape(left, {left.shape[0], a.r0}, path);
        require_shape(right, {a.r0, right.shape[1]}, path);
        if (svd) require_shape(a.tensor(m, "lambda"), {a.r0}, path);
        require_shape(a.tensor(m, "keep"), {a.r0}, path);
    }
    const Tensor *hw = a.file.find(kHeadWeightName), *hb = a.file.find(kHeadBiasName);
    if (!hw != !hb)
        throw UsageError(path + ": '" + kHeadWeightName + "' and '" + kHeadBiasName + "' come together (one is missing)");
    if (hw) {
        if (hw->shape.size() != 2 || hw->shape[0] < 1 || hw->shape[1] < 1)
            throw UsageError(path + ": tensor '" + kHeadWeightName + "' has shape " + shape_text(hw->shape) +
                             ", expected [K, C] with K, C >= 1");
        require_shape(*hb, {hw->shape[0]}, path);
    }
    return a;
}


void require_shape(const Tensor &t, const std::vector<int64_t> &shape, const std::string &file) {
    if (t.shape != shape)
        throw UsageError(file + ": tensor '" + t.name + "' has shape " + shape_text(t.shape) + ", expected " +
                         shape_text(shape));
}

bool is_base_tensor(const std::string &name) {
    return name != kHeadBiasName && (ends_with(name, ".W0") || ends_with(name, ".bias"));
}

}  // namespace adalora
