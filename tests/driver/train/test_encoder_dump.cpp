// test_encoder_dump.cpp: --dump-init and --trace on the sentence tasks (the
// encoder host; README "Step traces"), on a tiny checkpoint and hand-written
// sentences in a sandbox: the dump's files, shapes and dtypes; its token
// batches are the ones the run trains on and rows of the task's split; its
// head is the model's initial head; dumping and tracing change nothing; a
// trace is identical to itself and starts from the dump; --init-from is still
// refused; the MLP dumps say "host": "mlp"; SHA-256 against FIPS 180-4's
// examples and the system's sha256sum.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "cli/trace_diff.h"
#include "formats/npy.h"
#include "support/test_files.h"
#include "support/test_sandbox.h"
#include "support/tiny_bert.h"
#include "train/run.h"
#include "train/run_index.h"
#include "train/run_setup.h"

namespace fs = std::filesystem;
using adalora::NpyArray;
using adalora::NpyType;

namespace {

constexpr int kMaxSeq = 7, kBatch = 4, kSteps = 12, kR0 = 2;

// A tiny checkpoint with 8 positions (the tiny_bert.h model otherwise) and
// 40 sentences of 1..5 words, so the batches' lengths differ (3..7 tokens with
// [CLS] and [SEP]): UCI records for sentiment-yelp, VADER lines for the scores.
struct Fixture {
    test::Sandbox box;
    std::string model, data;

    Fixture() {
        test::TinyCheckpoint ckpt;
        const std::string pos = "embeddings.position_embeddings.weight";
        ckpt.config["max_position_embeddings"] = 8;
        ckpt.tensor(pos) = test::tiny_tensor(pos, {8, 4}, 1, adalora::Dtype::F32);
        model = ckpt.write(box);
        fs::create_directories(box.work / "data/test/fixtures");
        nlohmann::json records = nlohmann::json::array();
        std::string vader;
        for (int i = 0; i < 40; i++) {
            std::string text = "hello";
            for (int w = 0; w < i % 5; w++) text += i % 3 ? " hello" : " there";
            records.push_back({{"text", text}, {"class", i % 2}});
            vader += std::to_string(i + 1) + "\t" + (i % 2 ? "" : "-") + std::to_string(0.5 + i % 3) + "\t" + text + "\r\n";
        }
        box.write("data/test/fixtures/yelp.json", records.dump());
        box.write("data/movieReviewSnippets_GroundTruth.txt", vader);
        data = (box.work / "data").string();
    }

    adalora::RunConfig config(const std::string &task = "sentiment-yelp") const {
        adalora::RunConfig c;
        c.task = task;
        c.seed = 5;
        c.out = (box.work / "run").string();
        c.task_opt.model_dir = model;
        c.task_opt.sentence_data = data;
        c.task_opt.max_seq = kMaxSeq;
        c.task_opt.dropout = 0.1;
        c.task_opt.eval_every = 4;
        c.batch = kBatch;
        c.init_r = kR0;
        c.target_r = 1;
        c.total_step = kSteps;
        c.tinit = 2;
        c.tfinal = 4;
        c.deltaT = 2;
        c.log_every = 1;
        c.log = "quiet";
        return c;
    }
    std::string path(const std::string &name) const { return (box.work / name).string(); }
};

nlohmann::json read_json(const fs::path &p) {
    std::ifstream in(p);
    return nlohmann::json::parse(in);
}

// The array `name` of a dump, checked to have `type` and `shape`.
NpyArray dumped(const std::string &dir, const nlohmann::json &name, NpyType type, const std::vector<uint64_t> &shape) {
    REQUIRE(name.is_string());
    NpyArray a = adalora::read_npy((fs::path(dir) / name.get<std::string>()).string());
    CAPTURE(name.get<std::string>());
    CHECK(adalora::npy_descr(a.type) == std::string(adalora::npy_descr(type)));
    CHECK(a.shape == shape);
    return a;
}

NpyType real_type() { return sizeof(real) == 8 ? NpyType::f8 : NpyType::f4; }

std::vector<double> as_doubles(const real *v, size_t n) { return std::vector<double>(v, v + n); }

// Two runs' numbers: losses, ranks, dev rows, final figures, the adapter's tensors.
void check_same_run(const adalora::RunOutput &a, const adalora::RunOutput &b) {
    CHECK(test::metrics_without_seconds(a.metrics_csv) == test::metrics_without_seconds(b.metrics_csv));
    CHECK(a.ranks_csv == b.ranks_csv);
    CHECK(a.dev_csv == b.dev_csv);
    CHECK(a.rank_pattern == b.rank_pattern);
    for (const char *key : {"final_train_loss", "final_test_loss", "final_dev_loss", "kept_rank_by_layer"}) {
        CAPTURE(key);
        CHECK(a.summary.value(key, nlohmann::json()) == b.summary.value(key, nlohmann::json()));
    }
    REQUIRE(a.adapter.tensors.size() == b.adapter.tensors.size());
    for (size_t i = 0; i < a.adapter.tensors.size(); i++) {
        CAPTURE(a.adapter.tensors[i].name);
        CHECK(a.adapter.tensors[i].name == b.adapter.tensors[i].name);
        CHECK(a.adapter.tensors[i].bytes == b.adapter.tensors[i].bytes);
    }
}

}  // namespace

TEST_CASE("encoder dump: --dump-init writes the adapters, the initial head and the token batches the run trains on") {
    Fixture f;
    adalora::RunConfig cfg = f.config();
    cfg.dump_init = f.path("init");
    adalora::validate(cfg);
    adalora::RunSetup dumping(cfg);      // writes the dump, then replays it
    adalora::RunSetup plain(f.config());  // the sampler's batches, the same initial state
    const nlohmann::json index = read_json(fs::path(cfg.dump_init) / "index.json");
    CHECK(index["format"] == "adalora-init");
    CHECK(index["host"] == "encoder");
    CHECK(!index.contains("chain_rule"));
    CHECK(!index.contains("chains"));
    const nlohmann::json expected_encoder = {{"model", f.model}, {"layers", 1}, {"hidden", 4}, {"heads", 2},
                                             {"intermediate", 6}, {"vocab", 5}, {"max_seq", kMaxSeq},
                                             {"dropout", 0.1}, {"classes", 2}, {"loss", "cross-entropy"}};
    nlohmann::json encoder = index["encoder"];
    CHECK(encoder["model_sha256"] ==
          test::run_text("sha256sum '" + f.model + "/model.safetensors' | cut -d' ' -f1"));
    encoder.erase("model_sha256");
    CHECK(encoder == expected_encoder);

    // The adapters: P [d_out, r0], lam [r0], Q [r0, d_in], the model's initial
    // values; no base (it is the checkpoint's).
    const ada_model *m = plain.model;
    REQUIRE(index["modules"].size() == 6);
    for (int k = 0; k < m->n_modules; k++) {
        const nlohmann::json &mod = index["modules"][k];
        const ada_module &mk = m->modules[k];
        CAPTURE(mk.name);
        CHECK(mod["name"] == mk.name);
        int layer = -1, type = -1;
        ada_encoder_module_at(plain.encoder.get(), k, &layer, &type);
        CHECK(mod["layer"] == layer);
        CHECK(mod["type"] == ada_encoder_matrix_name(type));
        CHECK(!mod.contains("chain"));
        CHECK(!mod.contains("has_bias"));
        CHECK(mod["files"].size() == 3);
        CHECK(!mod["files"].contains("W0"));
        const uint64_t d_out = (uint64_t)mk.d_out, d_in = (uint64_t)mk.d_in, r = kR0;
        ada_adapter_view v = ada_model_view(m, m->params, k);
        CHECK(dumped(cfg.dump_init, mod["files"]["P"], real_type(), {d_out, r}).to_double() == as_doubles(v.P, d_out * r));
        CHECK(dumped(cfg.dump_init, mod["files"]["lam"], real_type(), {r}).to_double() == as_doubles(v.lam, r));
        CHECK(dumped(cfg.dump_init, mod["files"]["Q"], real_type(), {r, d_in}).to_double() == as_doubles(v.Q, r * d_in));
    }
    for (const auto &e : fs::directory_iterator(cfg.dump_init))
        CHECK(e.path().filename().string().find("W0") == std::string::npos);

    // The head as it starts: HF's init, N(0, 0.02^2) weights (the model's own) and zero biases.
    const ada_encoder_head head = ada_encoder_head_of(plain.encoder.get(), plain.model->params);
    CHECK(dumped(cfg.dump_init, index["head"]["weight"], real_type(), {2, 4}).to_double() == as_doubles(head.W, 8));
    CHECK(dumped(cfg.dump_init, index["head"]["bias"], real_type(), {2}).to_double() == std::vector<double>(2, 0.0));

    // The tokens: [T, B, S] with S the longest sentence of the run.
    const nlohmann::json &tok = index["tokens"];
    CHECK(!tok.contains("targets"));
    const std::vector<double> lengths = dumped(cfg.dump_init, tok["lengths"], NpyType::i4, {kSteps}).to_double();
    const uint64_t S = (uint64_t)*std::max_element(lengths.begin(), lengths.end());
    const uint64_t T = kSteps, B = kBatch;
    const std::vector<double> ids = dumped(cfg.dump_init, tok["ids"], NpyType::i4, {T, B, S}).to_double();
    const std::vector<double> mask = dumped(cfg.dump_init, tok["mask"], NpyType::i4, {T, B, S}).to_double();
    const std::vector<double> types = dumped(cfg.dump_init, tok["type_ids"], NpyType::i4, {T, B, S}).to_double();
    const std::vector<double> labels = dumped(cfg.dump_init, tok["labels"], NpyType::i4, {T, B}).to_double();
    CHECK(types == std::vector<double>(types.size(), 0.0));
    CHECK(index["batches"].get<std::string>().find("lengths[t-1]") != std::string::npos);
    const adalora::TokenData &split = plain.task.train.tokens;
    bool lengths_differ = false;
    for (long t = 1; t <= kSteps; t++) {
        CAPTURE(t);
        const auto *replayed = static_cast<const ada_encoder_batch *>(dumping.batch(t).host);
        const auto *sampled = static_cast<const ada_encoder_batch *>(plain.batch(t).host);
        const int len = (int)lengths[t - 1];
        lengths_differ |= len != (int)S;
        REQUIRE(replayed->T == len);
        REQUIRE(sampled->T == len);
        int longest = 0;
        for (uint64_t b = 0; b < B; b++) {
            const size_t at = ((size_t)(t - 1) * B + b) * S;
            int real_tokens = 0;
            for (uint64_t j = 0; j < S; j++) real_tokens += (int)mask[at + j];
            longest = std::max(longest, real_tokens);
            for (int j = 0; j < len; j++) {
                CHECK(replayed->ids[b * len + j] == ids[at + j]);
                CHECK(sampled->ids[b * len + j] == ids[at + j]);
                CHECK(replayed->mask[b * len + j] == mask[at + j]);
                CHECK(sampled->mask[b * len + j] == mask[at + j]);
            }
            for (uint64_t j = (uint64_t)len; j < S; j++) CHECK(mask[at + j] == 0);
            CHECK(replayed->labels[b] == labels[(t - 1) * B + b]);
            CHECK(sampled->labels[b] == labels[(t - 1) * B + b]);
            // The row is one of the split's tokenised sentences, label included.
            bool found = false;
            for (size_t row = 0; row < (size_t)plain.task.train.rows && !found; row++) {
                if (split.length[row] != real_tokens || split.labels[row] != (int)labels[(t - 1) * B + b]) continue;
                found = true;
                for (uint64_t j = 0; j < S; j++)
                    found = found && split.ids[row * split.seq + j] == ids[at + j] && split.mask[row * split.seq + j] == mask[at + j];
            }
            CHECK(found);
        }
        CHECK(longest == len);  // lengths[t] is the longest of step t's sentences
    }
    CHECK(lengths_differ);  // the trim is exercised: some step is shorter than S
}

TEST_CASE("encoder dump: a regression task dumps its targets; dumping changes nothing in either task") {
    Fixture f;
    for (const char *task : {"sentiment-yelp", "vader-movies-score"}) {
        CAPTURE(task);
        adalora::RunConfig cfg = f.config(task);
        cfg.dump_init = f.path(std::string("init-") + task);
        adalora::validate(cfg);
        check_same_run(adalora::train_run(f.config(task), adalora::LogMode::quiet),
                       adalora::train_run(cfg, adalora::LogMode::quiet));
        if (std::string(task) != "vader-movies-score") continue;
        const nlohmann::json index = read_json(fs::path(cfg.dump_init) / "index.json");
        CHECK(index["encoder"]["classes"] == 1);
        CHECK(index["encoder"]["loss"] == "mse");
        CHECK(!index["tokens"].contains("labels"));
        const std::vector<double> targets =
            dumped(cfg.dump_init, index["tokens"]["targets"], real_type(), {kSteps, kBatch}).to_double();
        adalora::RunSetup plain(f.config(task));
        for (long t = 1; t <= kSteps; t++) {
            const auto *b = static_cast<const ada_encoder_batch *>(plain.batch(t).host);
            for (int i = 0; i < kBatch; i++) CHECK(b->targets[i] == targets[(size_t)(t - 1) * kBatch + i]);
        }
        CHECK(dumped(cfg.dump_init, index["head"]["weight"], real_type(), {1, 4}).shape.size() == 2);
    }
}

TEST_CASE("encoder trace: --trace writes the adapters' steps, identical to itself, starting from the dump") {
    Fixture f;
    adalora::RunConfig both = f.config();
    both.dump_init = f.path("init");
    both.trace = f.path("tr");
    adalora::RunConfig traced = f.config();
    traced.trace = f.path("tr2");
    traced.trace_steps = "0-3,8,12";
    adalora::validate(both);
    adalora::validate(traced);
    const adalora::RunOutput plain = adalora::train_run(f.config(), adalora::LogMode::quiet);
    check_same_run(plain, adalora::train_run(both, adalora::LogMode::quiet));
    check_same_run(plain, adalora::train_run(traced, adalora::LogMode::quiet));
    CHECK(adalora::cmd_trace_diff({both.trace, both.trace, 1e-9, 0.0, ""}) == 0);

    const nlohmann::json trace = read_json(fs::path(both.trace) / "index.json");
    const nlohmann::json dump = read_json(fs::path(both.dump_init) / "index.json");
    CHECK(trace["host"] == "encoder");
    CHECK(trace["encoder"] == dump["encoder"]);
    REQUIRE(trace["steps"].size() == kSteps + 1);
    const nlohmann::json &step0 = trace["steps"][0];
    CHECK(step0["step"] == 0);
    CHECK(step0["scalars"]["kept"] == 6 * kR0);
    CHECK(step0["tensors"].size() == 6);  // the adapters only, not the head
    for (const nlohmann::json &mod : dump["modules"]) {
        const std::string name = mod["name"];
        CAPTURE(name);
        for (const char *kind : {"P", "lam", "Q"}) {
            CAPTURE(kind);
            const std::string rel = step0["tensors"][name][kind];
            CHECK(rel.find(name + "." + kind + ".npy") != std::string::npos);
            CHECK(adalora::read_npy((fs::path(both.trace) / rel).string()).to_double() ==
                  adalora::read_npy((fs::path(both.dump_init) / mod["files"][kind].get<std::string>()).string()).to_double());
        }
    }
    // A step's tensors and scalars, as the MLP's: gradients, EMAs and scores of every adapter.
    const nlohmann::json &last = trace["steps"][kSteps];
    CHECK(last["scalars"]["kept"] == 6);  // b(T) = 6 matrices x target_r 1
    CHECK(last["scalars"]["phase"] == "final");
    for (const char *kind : {"P", "lam", "Q", "lam_pre", "keep", "grad_P", "grad_lam", "grad_Q", "ibar_P", "ubar_Q", "S"})
        CHECK(last["tensors"]["0.intermediate.dense"].contains(kind));
    const std::string grad = last["tensors"]["0.intermediate.dense"]["grad_P"];
    CHECK(adalora::read_npy((fs::path(both.trace) / grad).string()).shape == std::vector<uint64_t>{6, kR0});
    // The steps of the other trace are the same numbers (exit 2 if the step sets differ, so compare step by step).
    const nlohmann::json other = read_json(fs::path(traced.trace) / "index.json");
    REQUIRE(other["steps"].size() == 6);
    for (const nlohmann::json &s : other["steps"]) {
        const nlohmann::json &same = trace["steps"][s["step"].get<size_t>()];
        CHECK(s["scalars"] == same["scalars"]);
        for (const auto &[module, kinds] : s["tensors"].items())
            for (const auto &[kind, rel] : kinds.items())
                CHECK(adalora::read_npy((fs::path(traced.trace) / rel.get<std::string>()).string()).to_double() ==
                      adalora::read_npy((fs::path(both.trace) / same["tensors"][module][kind].get<std::string>()).string())
                          .to_double());
    }
}

TEST_CASE("encoder dump: --init-from is still refused for a sentence task, in one line") {
    Fixture f;
    fs::create_directory(f.box.work / "init");
    f.box.write("init/index.json", "{}");
    const std::string opts = "--task sentiment-yelp --model " + f.model + " --sentence-data " + f.data +
                             " --max-seq 7 --batch 4 --init_r 2 --target_r 1 --total_step 12 --tinit 2 --tfinal 4 "
                             "--deltaT 2 --log quiet";
    test::expect_usage_error(f.box, "train " + opts + " --init-from init --out x", "--init-from", "sentence task");
}

TEST_CASE("encoder dump: the MLP tasks' dumps say host mlp; an index without host is read as mlp") {
    test::TempDir dir;
    adalora::RunConfig cfg = test::tiny("adalora");
    cfg.total_step = 60;
    cfg.tinit = 10;
    cfg.tfinal = 20;
    cfg.dump_init = (dir.path / "init").string();
    const adalora::RunOutput original = adalora::train_run(cfg, adalora::LogMode::quiet);
    const fs::path index_path = dir.path / "init/index.json";
    nlohmann::json index = read_json(index_path);
    CHECK(index["host"] == "mlp");
    CHECK(!index.contains("encoder"));
    CHECK(!index.contains("tokens"));
    CHECK(index["modules"][0]["files"].contains("W0"));
    cfg.dump_init.clear();
    cfg.init_from = (dir.path / "init").string();
    index.erase("host");  // a dump written before the encoder host
    std::ofstream(index_path) << index.dump();
    const adalora::RunOutput replayed = adalora::train_run(cfg, adalora::LogMode::quiet);
    CHECK(test::metrics_without_seconds(replayed.metrics_csv) == test::metrics_without_seconds(original.metrics_csv));
    index["host"] = "encoder";
    std::ofstream(index_path) << index.dump();
    const std::string err = test::usage_error([&] { adalora::train_run(cfg, adalora::LogMode::quiet); });
    CHECK(err.find("'host' is \"encoder\" in its index.json but \"mlp\" in this run") != std::string::npos);
}

TEST_CASE("encoder dump: SHA-256 gives FIPS 180-4's examples and the system's sha256sum") {
    CHECK(adalora::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(adalora::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(adalora::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    test::TempDir dir;
    std::string bytes;  // lengths around the padding's edges (55, 56, 63, 64) and a longer one
    for (size_t n : {55, 56, 63, 64, 1000}) {
        CAPTURE(n);
        bytes.assign(n, '\0');
        for (size_t i = 0; i < n; i++) bytes[i] = (char)(i * 37 + 11);
        const std::string path = dir.write("m.bin", bytes);
        CHECK(adalora::sha256_hex(bytes) == test::run_text("sha256sum '" + path + "' | cut -d' ' -f1"));
    }
}
