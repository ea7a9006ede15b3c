// sentence_tasks.cpp: the sentence tasks (sentence_tasks.h): data, tokens,
// and the encoder built from the checkpoint.
#include "tasks/sentence_tasks.h"

#include <cctype>
#include <cmath>
#include <filesystem>
#include <cstring>

#include "base/assets.h"
#include "base/errors.h"
#include "base/lib_status.h"
#include "base/read_file.h"
#include "base/sha256.h"
#include "base/util.h"
#include "tasks/sentences.h"
#include "tasks/wordpiece.h"

namespace adalora {

namespace {

// The split of every sentence task (part of the task's definition, not of a
// run: every seed and machine sees the same sentences in each split).
constexpr uint64_t kSplitSeed = 2015;

struct Source {
    std::string asset, file;
    bool vader;
};

Source source_of(const std::string &task) {
    if (task == "sentiment-amazon") return {"sentiment", "test/fixtures/amazon.json", false};
    if (task == "sentiment-imdb") return {"sentiment", "test/fixtures/imdb.json", false};
    if (task == "sentiment-yelp") return {"sentiment", "test/fixtures/yelp.json", false};
    return {"vader", "movieReviewSnippets_GroundTruth.txt", true};  // vader-movies, vader-movies-score
}

// "NAME VERSION" of a make-deps data asset: tools/install-assets.sh stamps
// its folder with the version it installed ("NAME" alone without a stamp).
std::string asset_package(const std::string &dir, const std::string &name) {
    const std::string stamp = dir + "/.adalora-stamp";
    if (!std::filesystem::is_regular_file(stamp)) return name;
    std::string version = read_file(stamp, 256, "asset stamp");
    while (!version.empty() && std::isspace((unsigned char)version.back())) version.pop_back();
    return version.empty() ? name : name + " " + version;
}

TokenData tokenize(const std::vector<Sentence> &sentences, const WordPiece &wp, int max_seq, bool regression) {
    TokenData d;
    d.seq = max_seq;
    const size_t n = sentences.size();
    d.ids.reserve(n * max_seq);
    d.mask.reserve(n * max_seq);
    for (const Sentence &s : sentences) {
        WordPiece::Encoded e = wp.encode(s.text, max_seq);
        d.ids.insert(d.ids.end(), e.ids.begin(), e.ids.end());
        for (int32_t m : e.mask) d.mask.push_back((uint8_t)m);
        d.length.push_back(e.length);
        if (regression) d.targets.push_back((real)s.score);
        else d.labels.push_back(s.label);
    }
    return d;
}

Split split_of(const std::vector<Sentence> &sentences, const WordPiece &wp, int max_seq, bool regression) {
    Split s;
    s.rows = (int)sentences.size();
    s.tokens = tokenize(sentences, wp, max_seq, regression);
    return s;
}

}  // namespace

unsigned encoder_target_mask(const std::string &target_modules) {
    if (target_modules == "all") return (1u << kEncoderTargets.size()) - 1;
    unsigned mask = 0;
    for (const std::string &name : split_list(target_modules)) {
        size_t t = 0;
        while (t < kEncoderTargets.size() && kEncoderTargets[t] != name) t++;
        if (t == kEncoderTargets.size())
            throw UsageError("--target-modules: '" + name + "', allowed: " + join(kEncoderTargets, ", ") + " or all");
        mask |= 1u << t;
    }
    return mask;
}

uint64_t encoder_layer_mask(const std::string &layers_to_transform, int layers) {
    if (layers_to_transform == "all") return 0;
    const std::string allowed = ": allowed layer indices 0.." + std::to_string(layers - 1) + " (comma list) or all";
    uint64_t mask = 0;
    for (const std::string &item : split_list(layers_to_transform)) {
        int l = -1;
        size_t used = 0;
        try { l = std::stoi(item, &used); } catch (const std::exception &) { used = 0; }
        if (used != item.size() || item.empty() || l < 0 || l >= layers || l >= 64)
            throw UsageError("--layers-to-transform: '" + item + "'" + allowed);
        if ((mask >> l) & 1u) throw UsageError("--layers-to-transform: layer " + item + " given twice" + allowed);
        mask |= uint64_t{1} << l;
    }
    if (!mask) throw UsageError("--layers-to-transform is empty" + allowed);
    return mask;
}

Task make_sentence_task(const RunConfig &cfg) {
    const TaskOptions &o = cfg.task_opt;
    auto et = std::make_shared<EncoderTask>();
    et->checkpoint = load_bert_checkpoint(o.model_dir.empty() ? find_asset("all-MiniLM-L6-v2") : o.model_dir);
    const BertConfig &bc = et->checkpoint.config;
    if (o.max_seq > bc.max_positions)
        throw UsageError("--max-seq = " + std::to_string(o.max_seq) + ": allowed 2.." + std::to_string(bc.max_positions) +
                         " (the checkpoint's max_position_embeddings)");
    // head-only adapts no matrix (validate() allows it only with --target-modules all).
    et->targets = cfg.method == "head-only" ? 0u : encoder_target_mask(o.target_modules);
    et->layer_mask = encoder_layer_mask(o.layers_to_transform, bc.num_layers);
    et->max_seq = o.max_seq;
    et->dropout = o.dropout;
    const bool regression = cfg.task == "vader-movies-score";
    et->n_outputs = regression ? 1 : 2;

    const Source src = source_of(cfg.task);
    const std::string data_dir = o.sentence_data.empty() ? find_asset(src.asset) : o.sentence_data;
    et->data_file = data_dir + "/" + src.file;
    if (o.sentence_data.empty()) et->data_package = asset_package(data_dir, src.asset);
    et->split_seed = kSplitSeed;
    const std::vector<Sentence> all = src.vader ? load_vader_snippets(et->data_file) : load_uci_sentences(et->data_file);
    const SentenceSplits parts = split_sentences(all, kSplitSeed);

    const TokenizerFlags &tf = et->checkpoint.tokenizer;
    WordPieceSettings ws;
    ws.lowercase = tf.lowercase;
    ws.strip_accents = tf.strip_accents;
    ws.tokenize_chinese_chars = tf.tokenize_chinese_chars;
    const WordPiece wp(et->checkpoint.vocab_path, ws);

    Task task;
    task.name = cfg.task;
    task.loss = regression ? ADA_LOSS_MSE : ADA_LOSS_CROSS_ENTROPY;
    task.train = split_of(parts.train, wp, o.max_seq, regression);
    task.dev = split_of(parts.dev, wp, o.max_seq, regression);
    task.test = split_of(parts.test, wp, o.max_seq, regression);
    for (int l = 0; l < bc.num_layers; l++)
        for (size_t t = 0; t < kEncoderTargets.size(); t++) {
            if (!ada_encoder_adapts(et->targets, et->layer_mask, l, (int)t)) continue;
            const bool ffn_in = t == ADA_ENC_FFN_IN, ffn_out = t == ADA_ENC_FFN_OUT;
            task.module_names.push_back(std::to_string(l) + "." + kEncoderTargets[t]);
            task.specs.push_back({nullptr, 0, ffn_out ? bc.intermediate_size : bc.hidden_size,
                                  ffn_in ? bc.intermediate_size : bc.hidden_size, 1, ADA_ACT_IDENTITY});
        }
    task.encoder = et;
    return task;
}

namespace {

void copy_tensor(const BertCheckpoint &ck, const std::string &name, real *to) {
    const CheckpointTensor &t = ck.tensors.at(name);  // present: load_bert_checkpoint checked every name
    std::memcpy(to, t.data.data(), sizeof(real) * t.data.size());
}

}  // namespace

std::string checkpoint_sha256(const BertCheckpoint &checkpoint) {
    return sha256_file_hex(checkpoint.dir + "/model.safetensors");
}

nlohmann::json sentence_provenance(const Task &task) {
    const EncoderTask &et = *task.encoder;
    const auto name = [](const std::string &path) { return std::filesystem::path(path).filename().string(); };
    const nlohmann::json package = et.data_package.empty() ? nlohmann::json(nullptr) : nlohmann::json(et.data_package);
    return {{"model", {{"name", name(et.checkpoint.dir)}, {"sha256", checkpoint_sha256(et.checkpoint)}}},
            {"data", {{"file", name(et.data_file)}, {"package", package},
                      {"sha256", sha256_file_hex(et.data_file)}}},
            {"split", {{"seed", et.split_seed}, {"rule", "80/10/10 train/dev/test by class, seeded shuffle (sentences.h)"},
                       {"train", task.train.rows}, {"dev", task.dev.rows}, {"test", task.test.rows}}}};
}

EncoderPtr make_encoder(const EncoderTask &task, const ada_model_config &adapters, int max_batch, uint64_t dropout_seed) {
    const BertConfig &bc = task.checkpoint.config;
    ada_encoder_config c{};
    c.vocab = bc.vocab_size;
    c.max_positions = bc.max_positions;
    c.type_vocab = bc.type_vocab_size;
    c.hidden = bc.hidden_size;
    c.layers = bc.num_layers;
    c.heads = bc.num_heads;
    c.intermediate = bc.intermediate_size;
    c.ln_eps = bc.layer_norm_eps;
    c.n_outputs = task.n_outputs;
    c.loss = task.n_outputs == 1 ? ADA_LOSS_MSE : ADA_LOSS_CROSS_ENTROPY;
    c.targets = task.targets;
    c.layer_mask = task.layer_mask;
    c.max_batch = max_batch;
    c.max_seq = task.max_seq;
    c.dropout = task.dropout;
    c.dropout_seed = dropout_seed;
    c.adapters = adapters;
    ada_encoder *raw = nullptr;
    check(ada_encoder_create(&raw, &c), "encoder");
    EncoderPtr enc(raw, ada_encoder_free);
    ada_encoder_weights *w = ada_encoder_weights_of(raw);
    const BertCheckpoint &ck = task.checkpoint;
    copy_tensor(ck, "embeddings.word_embeddings.weight", w->word);
    copy_tensor(ck, "embeddings.position_embeddings.weight", w->pos);
    copy_tensor(ck, "embeddings.token_type_embeddings.weight", w->type);
    copy_tensor(ck, "embeddings.LayerNorm.weight", w->emb_ln_g);
    copy_tensor(ck, "embeddings.LayerNorm.bias", w->emb_ln_b);
    static const char *const dense[ADA_ENC_MATRICES] = {"attention.self.query", "attention.self.key",
                                                        "attention.self.value", "attention.output.dense",
                                                        "intermediate.dense", "output.dense"};
    for (int l = 0; l < bc.num_layers; l++) {
        const std::string p = "encoder.layer." + std::to_string(l) + ".";
        ada_encoder_layer_weights &lw = w->layer[l];
        for (int t = 0; t < ADA_ENC_MATRICES; t++) {
            copy_tensor(ck, p + dense[t] + ".weight", lw.W[t]);
            copy_tensor(ck, p + dense[t] + ".bias", lw.b[t]);
        }
        copy_tensor(ck, p + "attention.output.LayerNorm.weight", lw.ln1_g);
        copy_tensor(ck, p + "attention.output.LayerNorm.bias", lw.ln1_b);
        copy_tensor(ck, p + "output.LayerNorm.weight", lw.ln2_g);
        copy_tensor(ck, p + "output.LayerNorm.bias", lw.ln2_b);
    }
    copy_tensor(ck, "pooler.dense.weight", w->pool_W);
    copy_tensor(ck, "pooler.dense.bias", w->pool_b);
    return enc;
}

}  // namespace adalora
