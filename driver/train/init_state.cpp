// init_state.cpp: --dump-init and --init-from.
#include "train/init_state.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "base/read_file.h"
#include "formats/npy.h"
#include "train/run_index.h"
#include "formats/staged_dir.h"

namespace adalora {

namespace fs = std::filesystem;

namespace {

bool split_labelled(const Split &split) {
    if (split.has_tokens()) return !split.tokens.labels.empty();
    return !split.chains.empty() && !split.chains[0].labels.empty();
}

// The sentences `rows` of `from`, padded to the longest of them (at least 1 token).
TokenData token_rows(const TokenData &from, const std::vector<size_t> &rows) {
    TokenData d;
    d.seq = 1;
    for (size_t row : rows) d.seq = std::max(d.seq, (int)from.length[row]);
    const size_t S = (size_t)d.seq;
    d.ids.resize(rows.size() * S);
    d.mask.resize(rows.size() * S);
    for (size_t i = 0; i < rows.size(); i++) {
        const size_t row = rows[i];
        std::copy_n(&from.ids[row * from.seq], S, &d.ids[i * S]);
        std::copy_n(&from.mask[row * from.seq], S, &d.mask[i * S]);
        d.length.push_back(from.length[row]);
        if (!from.labels.empty()) d.labels.push_back(from.labels[row]);
        if (!from.targets.empty()) d.targets.push_back(from.targets[row]);
    }
    return d;
}

}  // namespace

BatchSet::BatchSet(const Split &split, long steps, int rows)
    : steps_(steps), rows_(rows), labelled_(split_labelled(split)) {
    const size_t n = (size_t)steps * rows;
    for (const auto &c : split.chains) {
        d_in.push_back(c.d_in);
        d_out.push_back(c.d_out);
        x.emplace_back(n * c.d_in);
        y.emplace_back(labelled_ ? 0 : n * c.d_out);
        labels.emplace_back(labelled_ ? n : 0);
    }
    xs_.resize(x.size());
    ys_.resize(x.size());
    ls_.resize(x.size());
    if (split.has_tokens()) batch_ = {rows, nullptr, nullptr, nullptr, nullptr};
    else batch_ = {rows, xs_.data(), labelled_ ? nullptr : ys_.data(), labelled_ ? ls_.data() : nullptr, nullptr};
}

void BatchSet::set_tokens(TokenData data) {
    tokens = std::move(data);
    token_batch_.reserve(rows_, tokens.seq);
}

const ada_batch &BatchSet::at(long i) {
    const size_t row0 = (size_t)i * rows_;
    if (has_tokens()) {
        token_batch_.gather(tokens, rows_, [row0](int b) { return row0 + (size_t)b; }, true);
        batch_.host = token_batch_.host();  // set here: a moved BatchSet moves its TokenBatch
        return batch_;
    }
    for (size_t c = 0; c < x.size(); c++) {
        xs_[c] = x[c].data() + row0 * d_in[c];
        ys_[c] = labelled_ ? nullptr : y[c].data() + row0 * d_out[c];
        ls_[c] = labelled_ ? labels[c].data() + row0 : nullptr;
    }
    return batch_;
}

BatchSet collect_batches(BatchSampler &sampler, const Split &split, long steps, int rows) {
    BatchSet set(split, steps, rows);
    if (split.has_tokens()) {
        std::vector<size_t> drawn;
        drawn.reserve((size_t)steps * rows);
        for (long i = 0; i < steps; i++) {
            sampler.next();
            drawn.insert(drawn.end(), sampler.token_rows().begin(), sampler.token_rows().end());
        }
        set.set_tokens(token_rows(split.tokens, drawn));
        return set;
    }
    for (long i = 0; i < steps; i++) {
        const ada_batch &b = sampler.next();
        const size_t row0 = (size_t)i * rows;
        for (size_t c = 0; c < set.x.size(); c++) {
            std::copy_n(b.x[c], (size_t)rows * set.d_in[c], set.x[c].data() + row0 * set.d_in[c]);
            if (set.labelled()) std::copy_n(b.labels[c], (size_t)rows, set.labels[c].data() + row0);
            else std::copy_n(b.y[c], (size_t)rows * set.d_out[c], set.y[c].data() + row0 * set.d_out[c]);
        }
    }
    return set;
}

namespace {

std::string chain_file(size_t c, const char *what) { return "batch.c" + std::to_string(c) + "." + what + ".npy"; }

// The adapter tensors of module k under their names in this form.
struct AdapterPart {
    const char *name;
    real *data;
    std::vector<uint64_t> shape;
};
std::vector<AdapterPart> adapter_parts(const ada_model *m, int k) {
    const ada_module &mod = m->modules[k];
    const uint64_t r = (uint64_t)m->config.r0;
    ada_adapter_view v = ada_model_view(m, m->params, k);
    if (m->config.form == ADA_FORM_LORA)
        return {{"B", v.P, {(uint64_t)mod.d_out, r}}, {"A", v.Q, {r, (uint64_t)mod.d_in}}};
    return {{"P", v.P, {(uint64_t)mod.d_out, r}}, {"lam", v.lam, {r}}, {"Q", v.Q, {r, (uint64_t)mod.d_in}}};
}

}  // namespace

namespace {

// The files of a dump, written into its staging directory by name.
struct DumpFiles {
    const StagedDir &staged;
    // Writes `name`; returns it, for the index.
    std::string put(const std::string &name, const NpyArray &a) const {
        write_npy((staged.tmp() / name).string(), a);
        return name;
    }
};

// The MLP host's batches: per chain x [T, B, d_in] and y [T, B, d_out] or labels [T, B].
nlohmann::json dump_chains(const DumpFiles &out, const ada_model *m, const BatchSet &batches) {
    nlohmann::json chains = nlohmann::json::array();
    const uint64_t T = (uint64_t)batches.steps(), B = (uint64_t)batches.rows();
    for (size_t c = 0; c < batches.x.size(); c++) {
        nlohmann::json members = nlohmann::json::array();
        for (int k = 0; k < m->n_modules; k++)
            if (m->modules[k].chain == (int)c) members.push_back(k);
        nlohmann::json chain = {{"chain", c}, {"modules", members}, {"y", nullptr}, {"labels", nullptr}};
        chain["x"] = out.put(chain_file(c, "x"), npy_array(batches.x[c].data(), {T, B, (uint64_t)batches.d_in[c]}));
        if (batches.labelled())
            chain["labels"] = out.put(chain_file(c, "labels"), npy_array(batches.labels[c].data(), {T, B}));
        else
            chain["y"] = out.put(chain_file(c, "y"), npy_array(batches.y[c].data(), {T, B, (uint64_t)batches.d_out[c]}));
        chains.push_back(chain);
    }
    return chains;
}

// The encoder host's batches (README "Step traces"): ids, type_ids, mask
// [T, B, S] int32, lengths [T] (step t's trimmed length: the longest of its
// sentences), labels [T, B] int32 or targets [T, B] reals.
nlohmann::json dump_tokens(const DumpFiles &out, const BatchSet &batches) {
    const TokenData &d = batches.tokens;
    const uint64_t T = (uint64_t)batches.steps(), B = (uint64_t)batches.rows(), S = (uint64_t)d.seq;
    const std::vector<int32_t> mask(d.mask.begin(), d.mask.end()), type_ids(d.ids.size(), 0);
    std::vector<int32_t> lengths(T, 0);
    for (size_t i = 0; i < d.length.size(); i++) lengths[i / B] = std::max(lengths[i / B], d.length[i]);
    nlohmann::json files;
    files["ids"] = out.put("batch.ids.npy", npy_array(d.ids.data(), {T, B, S}));
    files["type_ids"] = out.put("batch.type_ids.npy", npy_array(type_ids.data(), {T, B, S}));
    files["mask"] = out.put("batch.mask.npy", npy_array(mask.data(), {T, B, S}));
    files["lengths"] = out.put("batch.lengths.npy", npy_array(lengths.data(), {T}));
    if (batches.labelled()) files["labels"] = out.put("batch.labels.npy", npy_array(d.labels.data(), {T, B}));
    else files["targets"] = out.put("batch.targets.npy", npy_array(d.targets.data(), {T, B}));
    return files;
}

// The encoder's classification head as it starts: weight [K, hidden], bias [K].
nlohmann::json dump_head(const DumpFiles &out, ada_encoder *encoder) {
    const ada_encoder_config &c = *ada_encoder_config_of(encoder);
    const ada_encoder_head h = ada_encoder_head_of(encoder, ada_encoder_model(encoder)->params);
    return {{"weight", out.put("head.weight.npy", npy_array(h.W, {(uint64_t)c.n_outputs, (uint64_t)c.hidden}))},
            {"bias", out.put("head.bias.npy", npy_array(h.b, {(uint64_t)c.n_outputs}))}};
}

}  // namespace

void dump_init(const std::string &dir, const nlohmann::json &header, const ada_model *m, const BatchSet &batches,
               ada_encoder *encoder) {
    StagedDir staged(dir, "--dump-init");
    const DumpFiles out{staged};
    nlohmann::json index = header;
    for (int k = 0; k < m->n_modules; k++) {
        const ada_module &mod = m->modules[k];
        const std::string base = std::string(mod.name) + ".";
        nlohmann::json files;
        if (!encoder) {  // the encoder's frozen base is its checkpoint
            files["W0"] = out.put(base + "W0.npy", npy_array(mod.W0, {(uint64_t)mod.d_out, (uint64_t)mod.d_in}));
            if (mod.bias) files["bias"] = out.put(base + "bias.npy", npy_array(mod.bias, {(uint64_t)mod.d_out}));
        }
        for (const auto &part : adapter_parts(m, k))
            files[part.name] = out.put(base + part.name + ".npy", npy_array(part.data, part.shape));
        index["modules"][k]["files"] = files;
    }
    if (encoder) {
        index["head"] = dump_head(out, encoder);
        index["tokens"] = dump_tokens(out, batches);
        index["batches"] = "step t (1..total_step) uses entry [t-1] of every tokens array, its first lengths[t-1] "
                           "tokens: ids[t-1, :, :lengths[t-1]]";
    } else {
        index["chains"] = dump_chains(out, m, batches);
        index["batches"] = "step t (1..total_step) uses entry [t-1] of every chain's x and y (or labels)";
    }
    write_text_file(staged.tmp() / "index.json", index.dump(2) + "\n");
    staged.commit();
}

namespace {

// Config keys that choose what is written or logged, not what is computed;
// the conventions rows and clip are compared resolved ("conventions",
// "optimizer.clip"), so a preset and its rows spelled out agree.
const std::set<std::string> kOutputOnlyKeys = {"log", "log_every", "mask_jump", "data_dir", "cache_dir",
                                               "convention", "convention_rows", "clip"};

nlohmann::json comparable(nlohmann::json h) {
    if (!h.contains("host")) h["host"] = "mlp";  // a dump written before the encoder host
    for (auto &mod : h["modules"]) mod.erase("files");
    for (const auto &k : kOutputOnlyKeys) h["config"].erase(k);
    h.erase("chains");
    h.erase("batches");
    h.erase("format");
    return h;
}

std::string value_text(const nlohmann::json &j, const std::string &path) {
    // path "a.b[2]" as a JSON pointer /a/b/2
    std::string ptr;
    for (char ch : path) ptr += ch == '.' || ch == '[' ? '/' : ch == ']' ? '\0' : ch;
    ptr.erase(std::remove(ptr.begin(), ptr.end(), '\0'), ptr.end());
    nlohmann::json::json_pointer p("/" + ptr);
    std::string t = j.contains(p) ? j.at(p).dump() : "(absent)";
    return t.size() > 80 ? t.substr(0, 77) + "..." : t;
}

// A file named by the index: a plain name inside DIR.
std::string member(const fs::path &dir, const nlohmann::json &name, const std::string &what) {
    if (!name.is_string()) throw UsageError((dir / "index.json").string() + ": " + what + " is not a file name");
    std::string s = name.get<std::string>();
    if (s.empty() || s.find('/') != std::string::npos || s == "." || s == "..")
        throw UsageError((dir / "index.json").string() + ": " + what + " = '" + s + "' is not a plain file name in the directory");
    return (dir / s).string();
}

void load_reals(const std::string &path, const std::vector<uint64_t> &shape, real *out) {
    npy_copy_reals(read_npy(path), shape, path, out);
}

}  // namespace

BatchSet load_init(const std::string &dir_text, const nlohmann::json &header, const Split &split, ada_model *m) {
    const fs::path dir(dir_text);
    const std::string index_path = (dir / "index.json").string();
    const std::string text = read_file(index_path, kTextFileLimit, "--init-from " + dir_text + ": ");
    nlohmann::json index;
    try {
        index = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error &e) {
        throw UsageError(index_path + ": not valid JSON (byte " + std::to_string(e.byte) + ")");
    }
    try {
        if (!index.is_object() || index.value("format", "") != "adalora-init")
            throw UsageError(index_path + ": not a --dump-init index (\"format\" must be \"adalora-init\")");
        nlohmann::json mine = comparable(header), theirs = comparable(index);
        std::string diff = json_first_difference(theirs, mine);
        if (!diff.empty())
            throw UsageError("--init-from " + dir_text + ": '" + diff + "' is " + value_text(theirs, diff) +
                             " in its index.json but " + value_text(mine, diff) + " in this run");
        for (int k = 0; k < m->n_modules; k++) {
            const ada_module &mod = m->modules[k];
            const nlohmann::json &files = index.at("modules").at(k).at("files");
            const uint64_t d_out = (uint64_t)mod.d_out, d_in = (uint64_t)mod.d_in;
            std::vector<real> W0(d_out * d_in), bias(mod.bias ? d_out : 0);
            load_reals(member(dir, files.at("W0"), "W0"), {d_out, d_in}, W0.data());
            if (mod.bias) load_reals(member(dir, files.at("bias"), "bias"), {d_out}, bias.data());
            if (ada_model_set_base(m, k, W0.data(), mod.d_in, mod.bias ? bias.data() : nullptr) != ADA_OK)
                throw UsageError("--init-from " + dir_text + ": module " + mod.name + ": " + ada_last_error());
            for (const auto &part : adapter_parts(m, k))
                load_reals(member(dir, files.at(part.name), part.name), part.shape, part.data);
        }
        BatchSet set(split, (long)header.at("total_step").get<long>(), header.at("batch_rows").get<int>());
        const uint64_t T = (uint64_t)set.steps(), B = (uint64_t)set.rows();
        const nlohmann::json &chains = index.at("chains");
        if (!chains.is_array() || chains.size() != set.x.size())
            throw UsageError(index_path + ": \"chains\" must list " + std::to_string(set.x.size()) + " chains");
        for (size_t c = 0; c < set.x.size(); c++) {
            load_reals(member(dir, chains[c].at("x"), "x"), {T, B, (uint64_t)set.d_in[c]}, set.x[c].data());
            if (!set.labelled()) {
                load_reals(member(dir, chains[c].at("y"), "y"), {T, B, (uint64_t)set.d_out[c]}, set.y[c].data());
                continue;
            }
            const std::string path = member(dir, chains[c].at("labels"), "labels");
            NpyArray a = read_npy(path);
            if (a.type != NpyType::i4 || a.shape != std::vector<uint64_t>{T, B})
                throw UsageError(path + ": labels must be <i4 of shape " + npy_shape_text({T, B}) + ", found " +
                                 npy_descr(a.type) + " " + npy_shape_text(a.shape));
            std::memcpy(set.labels[c].data(), a.data.data(), a.data.size());
        }
        return set;
    } catch (const nlohmann::json::exception &e) {
        throw UsageError(index_path + ": malformed index: " + std::string(e.what()));
    }
}

}  // namespace adalora
