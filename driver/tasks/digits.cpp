// digits.cpp: the digits task: reading the vendored file (zlib), the fixed
// split, pretraining the base on digits 0–4 and its cache.
#include "tasks/digits.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "base/hash.h"
#include "base/lib_status.h"
#include "base/read_file.h"

extern "C" {
#include "rng.h"
#include "trainer.h"
}

namespace adalora {

namespace fs = std::filesystem;

namespace {

// The fixed split: the same rows for every run, seed and method.
constexpr uint64_t kSplitSeed = 0xd161757350117ULL;
constexpr int kTestFifth = 5;  // one row in five of each half is a test row
constexpr long kMaxRows = 1000000;  // a bound on what a data file may make us hold

// Pretraining: a full-rank LoRA (r0 = 64, s = alpha / r0 = 1) over the seeded
// random base, AdamW with torch's betas and eps, no weight decay.
constexpr int kPretrainRank = 64;
constexpr double kPretrainAlpha = 64.0;
constexpr double kPretrainInitStd = 0.1;
constexpr double kPretrainLr = 2e-3;
constexpr int kPretrainBatch = 64;

// Cache file format, version 1 (native byte order, x86-64: little-endian):
//   char magic[8] "ADADIGIT" | u32 version | u32 sizeof(real) | u32 n_modules |
//   u32 0 | u64 key | per module u32 d_out, u32 d_in | the weights, module
//   after module, d_out x d_in reals each | u64 FNV-1a 64 of all bytes before it.
constexpr char kMagic[8] = {'A', 'D', 'A', 'D', 'I', 'G', 'I', 'T'};
constexpr uint32_t kVersion = 1;

std::string hex64(uint64_t v) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)v);
    return buf;
}

[[noreturn]] void data_error(const std::string &path, long line, const std::string &what) {
    if (line > 0) throw UsageError("digits data " + path + ", line " + std::to_string(line) + ": " + what);
    throw UsageError("digits data " + path + ": " + what);
}

// One field: an integer in lo..hi, else a UsageError naming file, line and field.
int parse_field(const char *begin, const char *end, const std::string &path, long line, int field, int lo,
                int hi, const char *what) {
    std::string text(begin, end);
    bool digits = !text.empty() && text.size() <= 9;
    for (size_t i = 0; i < text.size() && digits; i++)
        digits = (text[i] >= '0' && text[i] <= '9') || (i == 0 && text[i] == '-' && text.size() > 1);
    if (!digits)
        data_error(path, line, "field " + std::to_string(field) + " '" + text.substr(0, 20) +
                                   "' is not an integer (allowed: " + what + " " + std::to_string(lo) + ".." +
                                   std::to_string(hi) + ")");
    int v = std::atoi(text.c_str());
    if (v < lo || v > hi)
        data_error(path, line, std::string(what) + " " + std::to_string(v) + " in field " + std::to_string(field) +
                                   " is out of range (allowed: " + std::to_string(lo) + ".." +
                                   std::to_string(hi) + ")");
    return v;
}

using ModelPtr = std::unique_ptr<ada_model, void (*)(ada_model *)>;

ModelPtr digits_model(std::vector<std::string> &names, std::vector<ada_module_spec> &specs, ada_form form, int r0,
                      double alpha, double init_std, uint64_t seed) {
    digits_architecture(names, specs);
    for (size_t k = 0; k < specs.size(); k++) specs[k].name = names[k].c_str();
    ada_model_config mc = ada_model_defaults();
    mc.n_modules = (int)specs.size();
    mc.modules = specs.data();
    mc.form = form;
    mc.r0 = r0;
    mc.alpha = alpha;
    mc.init_std = init_std;
    mc.loss = ADA_LOSS_CROSS_ENTROPY;
    mc.max_batch = 256;
    mc.seed = seed;
    ada_model *m = nullptr;
    check(ada_model_create(&m, &mc), "digits model");
    return ModelPtr(m, ada_model_free);
}

std::vector<size_t> module_sizes() {
    std::vector<std::string> names;
    std::vector<ada_module_spec> specs;
    digits_architecture(names, specs);
    std::vector<size_t> sizes;
    for (const auto &s : specs) sizes.push_back((size_t)s.d_out * s.d_in);
    return sizes;
}

// Accuracy of a base on a split: a LoRA model at rank 1 with B = 0 adds
// exactly nothing to W0.
double base_accuracy(const std::vector<std::vector<real>> &weights, const Split &split) {
    std::vector<std::string> names;
    std::vector<ada_module_spec> specs;
    ModelPtr m = digits_model(names, specs, ADA_FORM_LORA, 1, 1.0, 0.02, 0);
    for (int k = 0; k < m->n_modules; k++)
        check(ada_model_set_base(m.get(), k, weights[k].data(), m->modules[k].d_in, nullptr), "digits base");
    return split_accuracy(m.get(), split);
}

}  // namespace

void digits_architecture(std::vector<std::string> &names, std::vector<ada_module_spec> &specs) {
    names = {"l0", "l1", "l2"};
    specs = {{nullptr, 0, kDigitsPixels, kDigitsHidden, 0, ADA_ACT_GELU},
             {nullptr, 0, kDigitsHidden, kDigitsHidden, 0, ADA_ACT_GELU},
             {nullptr, 0, kDigitsHidden, kDigitsClasses, 0, ADA_ACT_IDENTITY}};
}

DigitsData load_digits(const std::string &path) {
    std::error_code ec;
    if (!fs::exists(path, ec))
        data_error(path, 0, "no such file (the vendored digits set; see data/README.md, or set --data-dir)");
    if (!fs::is_regular_file(path, ec)) data_error(path, 0, "not a regular file");
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f) data_error(path, 0, std::string("cannot open: ") + std::strerror(errno));
    std::unique_ptr<gzFile_s, int (*)(gzFile)> owner(f, gzclose);
    gzbuffer(f, 1 << 16);

    DigitsData d;
    d.path = path;
    char buf[4096];
    long line = 0;
    int err = Z_OK;
    // A stream that ends early or fails its check sets the error while gzgets
    // still returns the partial line: the error is checked before the line.
    auto stream_error = [&](long at) {
        const char *msg = gzerror(f, &err);
        if (err == Z_OK) return;
        std::string why = msg ? msg : "?";
        if (why.rfind(path + ": ", 0) == 0) why.erase(0, path.size() + 2);  // zlib prefixes the path
        data_error(path, at, "corrupt or truncated gzip stream (" + why + ")");
    };
    while (gzgets(f, buf, sizeof buf)) {
        line++;
        if (line == 1 && gzdirect(f)) data_error(path, 0, "not a gzip file");
        if (line > kMaxRows) data_error(path, line, "more than " + std::to_string(kMaxRows) + " rows");
        stream_error(line);
        size_t len = std::strlen(buf);
        bool newline = len > 0 && buf[len - 1] == '\n';
        if (!newline && !gzeof(f)) data_error(path, line, "line longer than 4095 bytes or holding a NUL byte");
        if (newline) buf[--len] = 0;
        if (len > 0 && buf[len - 1] == '\r') buf[--len] = 0;
        const char *p = buf, *end = buf + len;
        int fields = 1;
        for (const char *q = p; q < end; q++) fields += *q == ',';
        if (fields != kDigitsPixels + 1)
            data_error(path, line, std::to_string(fields) + " fields (expected " + std::to_string(kDigitsPixels + 1) +
                                       ": 64 pixels, then the label)");
        for (int i = 0; i <= kDigitsPixels; i++) {
            const char *comma = std::find(p, end, ',');
            if (i < kDigitsPixels)
                d.pixels.push_back((uint8_t)parse_field(p, comma, path, line, i + 1, 0, 16, "pixel"));
            else
                d.labels.push_back(parse_field(p, comma, path, line, i + 1, 0, kDigitsClasses - 1, "label"));
            p = comma + 1;
        }
    }
    stream_error(line + 1);
    if (line == 0 && gzdirect(f)) data_error(path, 0, "not a gzip file");
    owner.release();
    if (gzclose(f) != Z_OK) data_error(path, line, "truncated gzip stream");
    if (line == 0) data_error(path, 0, "no rows");
    d.rows = (int)line;
    d.checksum = fnv1a(d.pixels.data(), d.pixels.size());
    d.checksum = fnv1a(d.labels.data(), d.labels.size() * sizeof(int32_t), d.checksum);
    return d;
}

DigitsSplit split_digits(const DigitsData &data) {
    DigitsSplit s;
    for (int half = 0; half < 2; half++) {
        std::vector<int> rows;
        for (int i = 0; i < data.rows; i++)
            if ((data.labels[i] >= 5) == (half == 1)) rows.push_back(i);
        if ((int)rows.size() < kTestFifth)
            throw UsageError("digits data " + data.path + ": " + std::to_string(rows.size()) + " rows of digits " +
                             (half ? "5-9" : "0-4") + " (need at least " + std::to_string(kTestFifth) +
                             " for a train and a test split)");
        ada_rng rng;
        ada_rng_seed(&rng, kSplitSeed + (uint64_t)half);
        for (size_t i = rows.size() - 1; i > 0; i--) std::swap(rows[i], rows[(size_t)ada_rng_below(&rng, i + 1)]);
        size_t n_test = rows.size() / kTestFifth, n_train = rows.size() - n_test;
        std::vector<int> &train = half ? s.train : s.pre_train, &test = half ? s.test : s.pre_test;
        train.assign(rows.begin(), rows.begin() + n_train);
        test.assign(rows.begin() + n_train, rows.end());
    }
    return s;
}

Split digits_rows(const DigitsData &data, const std::vector<int> &index) {
    Split s;
    s.rows = (int)index.size();
    s.chains.emplace_back();
    ChainData &c = s.chains.back();
    c.d_in = kDigitsPixels;
    c.d_out = kDigitsClasses;
    c.x.reserve(index.size() * kDigitsPixels);
    for (int i : index) {
        for (int p = 0; p < kDigitsPixels; p++) c.x.push_back((real)(data.pixels[(size_t)i * kDigitsPixels + p] / 16.0));
        c.labels.push_back(data.labels[i]);
    }
    return s;
}

std::vector<std::vector<real>> pretrain_digits(const RunConfig &cfg, const Split &train) {
    const TaskOptions &o = cfg.task_opt;
    std::vector<std::string> names;
    std::vector<ada_module_spec> specs;
    ModelPtr m = digits_model(names, specs, ADA_FORM_LORA, kPretrainRank, kPretrainAlpha, kPretrainInitStd,
                              o.pretrain_seed);
    ada_train_config tc = ada_train_defaults();
    tc.opt.lr = kPretrainLr;
    tc.opt.weight_decay = 0.0;
    tc.gamma = 0.0;
    tc.prune = 0;
    tc.schedule.b0 = tc.schedule.bT = m->n_triplets;
    tc.schedule.t_init = tc.schedule.t_final = 0;
    tc.schedule.total = o.pretrain_steps;
    tc.schedule.delta_t = 1;
    ada_trainer *raw = nullptr;
    check(ada_trainer_create(&raw, m.get(), &tc), "digits pretraining");
    std::unique_ptr<ada_trainer, void (*)(ada_trainer *)> tr(raw, ada_trainer_free);
    BatchSampler sampler(train, kPretrainBatch, o.pretrain_seed ^ 0x9e7a1234ULL);
    ada_step_info info{};
    for (long t = 0; t < o.pretrain_steps; t++) check(ada_trainer_step(tr.get(), &sampler.next(), &info), "digits pretraining");
    std::vector<std::vector<real>> weights(m->n_modules);
    for (int k = 0; k < m->n_modules; k++) {
        const ada_module &mod = m->modules[k];
        std::vector<real> &w = weights[k];
        w.resize((size_t)mod.d_out * mod.d_in);
        check(ada_model_delta_weight(m.get(), k, w.data(), mod.d_in), "digits pretraining");  // s·B A
        for (size_t i = 0; i < w.size(); i++) w[i] += mod.W0[i];
    }
    return weights;
}

uint64_t digits_cache_key(const RunConfig &cfg, const DigitsData &data) {
    std::ostringstream key;
    key << "adalora digits base v" << kVersion << "; mlp 64-64gelu-64gelu-10 nobias ce; lora r0 " << kPretrainRank
        << " alpha " << kPretrainAlpha << " init_std " << kPretrainInitStd << "; adamw lr " << kPretrainLr
        << " wd 0; batch " << kPretrainBatch << "; steps " << cfg.task_opt.pretrain_steps << "; seed "
        << cfg.task_opt.pretrain_seed << "; split " << hex64(kSplitSeed) << " 1/" << kTestFifth << "; precision "
        << ADA_PRECISION_NAME << "; data " << hex64(data.checksum);
    const std::string text = key.str();
    return fnv1a(text.data(), text.size());
}

std::string digits_cache_path(const RunConfig &cfg, const DigitsData &data) {
    return (fs::path(cfg.task_opt.cache_dir) / ("digits-base-" + hex64(digits_cache_key(cfg, data)) + ".bin")).string();
}

namespace {
template <class T>
void put(std::string &out, T v) {
    out.append(reinterpret_cast<const char *>(&v), sizeof v);
}
template <class T>
T get(const std::string &in, size_t &at) {
    T v;
    std::memcpy(&v, in.data() + at, sizeof v);
    at += sizeof v;
    return v;
}

std::string header(uint64_t key) {
    std::vector<std::string> names;
    std::vector<ada_module_spec> specs;
    digits_architecture(names, specs);
    std::string h(kMagic, sizeof kMagic);
    put<uint32_t>(h, kVersion);
    put<uint32_t>(h, (uint32_t)sizeof(real));
    put<uint32_t>(h, (uint32_t)specs.size());
    put<uint32_t>(h, 0);
    put<uint64_t>(h, key);
    for (const auto &s : specs) {
        put<uint32_t>(h, (uint32_t)s.d_out);
        put<uint32_t>(h, (uint32_t)s.d_in);
    }
    return h;
}
}  // namespace

std::string read_digits_cache(const std::string &path, uint64_t key, std::vector<std::vector<real>> &weights) {
    const std::string expect = header(key);
    const std::vector<size_t> sizes = module_sizes();
    size_t total = expect.size() + sizeof(uint64_t);
    for (size_t n : sizes) total += n * sizeof(real);
    std::string bytes;
    try {
        bytes = read_file(path, total + 1);  // one more: a longer file is refused too
    } catch (const UsageError &e) {
        return e.what();
    }
    const size_t got = bytes.size();
    if (got != total)
        return "size " + (got > total ? "more than " + std::to_string(total) : std::to_string(got)) +
               " bytes, expected " + std::to_string(total);
    if (bytes.compare(0, sizeof kMagic, kMagic, sizeof kMagic) != 0) return "bad magic";
    size_t at = sizeof kMagic;
    if (get<uint32_t>(bytes, at) != kVersion) return "other version";
    if (get<uint32_t>(bytes, at) != sizeof(real)) return "other precision";
    if (bytes.compare(0, expect.size(), expect) != 0) return "other dimensions or key";
    at = total - sizeof(uint64_t);
    if (get<uint64_t>(bytes, at) != fnv1a(bytes.data(), total - sizeof(uint64_t))) return "checksum mismatch";
    std::vector<std::vector<real>> w(sizes.size());
    at = expect.size();
    for (size_t k = 0; k < sizes.size(); k++) {
        w[k].resize(sizes[k]);
        std::memcpy(w[k].data(), bytes.data() + at, sizes[k] * sizeof(real));
        at += sizes[k] * sizeof(real);
        for (real v : w[k])
            if (!std::isfinite(v)) return "non-finite weight";
    }
    weights = std::move(w);
    return "";
}

std::string write_digits_cache(const std::string &path, uint64_t key, const std::vector<std::vector<real>> &weights) {
    const std::vector<size_t> sizes = module_sizes();
    if (weights.size() != sizes.size()) return "wrong number of modules";
    std::string bytes = header(key);
    for (size_t k = 0; k < sizes.size(); k++) {
        if (weights[k].size() != sizes[k]) return "wrong module size";
        bytes.append(reinterpret_cast<const char *>(weights[k].data()), sizes[k] * sizeof(real));
    }
    put<uint64_t>(bytes, fnv1a(bytes.data(), bytes.size()));
    std::error_code ec;
    const fs::path target(path);
    if (target.has_parent_path()) {
        fs::create_directories(target.parent_path(), ec);
        if (ec) return "cannot create " + target.parent_path().string() + ": " + ec.message();
    }
    // Unique per process and per thread (a sweep runs cells on threads).
    static std::atomic<unsigned long> serial{0};
    const std::string tmp = path + ".tmp-" + std::to_string(getpid()) + "-" +
                            std::to_string(std::hash<std::thread::id>()(std::this_thread::get_id()) % 100000) + "-" +
                            std::to_string(serial++);
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(bytes.data(), (std::streamsize)bytes.size());
        out.flush();
        if (!out) {
            fs::remove(tmp, ec);
            return "cannot write " + tmp;
        }
    }
    fs::rename(tmp, target, ec);
    if (ec) {
        std::error_code ignore;
        fs::remove(tmp, ignore);
        return "cannot rename " + tmp + ": " + ec.message();
    }
    return "";
}

PretrainedBase digits_base(const RunConfig &cfg, const DigitsData &data, const DigitsSplit &split) {
    // One at a time in a process: parallel cells of a sweep wait for the
    // first to pretrain and then read its cache instead of all pretraining.
    static std::mutex one_at_a_time;
    std::lock_guard<std::mutex> lock(one_at_a_time);
    PretrainedBase b;
    b.cache_path = digits_cache_path(cfg, data);
    const uint64_t key = digits_cache_key(cfg, data);
    std::error_code ec;
    const bool present = fs::exists(b.cache_path, ec);
    const std::string refused = present ? read_digits_cache(b.cache_path, key, b.weights) : "absent";
    if (refused.empty()) {
        b.cache_status = "hit";
    } else {
        b.weights = pretrain_digits(cfg, digits_rows(data, split.pre_train));
        b.cache_status = present ? "rebuilt (" + refused + ")" : "built";
        const std::string failed = write_digits_cache(b.cache_path, key, b.weights);
        if (!failed.empty()) b.cache_status += "; not written (" + failed + ")";
    }
    b.test_accuracy = base_accuracy(b.weights, digits_rows(data, split.pre_test));
    return b;
}

Task make_digits_task(const RunConfig &cfg) {
    const std::string path = (fs::path(cfg.task_opt.data_dir) / "digits.csv.gz").string();
    DigitsData data = load_digits(path);
    DigitsSplit split = split_digits(data);
    Task task;
    task.name = cfg.task;
    digits_architecture(task.module_names, task.specs);
    task.loss = ADA_LOSS_CROSS_ENTROPY;
    task.train = digits_rows(data, split.train);
    task.test = digits_rows(data, split.test);
    PretrainedBase base = digits_base(cfg, data, split);
    task.base = std::move(base.weights);
    task.pretrain_test_accuracy = base.test_accuracy;
    task.pretrain_cache = base.cache_path;
    task.pretrain_cache_status = base.cache_status;
    task.bind_names();
    return task;
}

}  // namespace adalora
