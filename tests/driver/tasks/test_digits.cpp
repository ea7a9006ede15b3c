// test_digits.cpp: the real-data task digits (driver/digits.h): the vendored
// file is the one data/README.md documents (SHA-256 computed here) and parses
// to 1,797 rows; the split is fixed; the pretrained base classifies digits
// 0–4; its cache round-trips bit for bit and a cache file that fails any
// check is rebuilt, never trusted; every method starts from the pretrained
// base and adalora adapts it to digits 5–9; every class of hostile data file
// is a UsageError naming the file (and the line).
//
// Pretraining here runs 300 steps (the default is 3000): measured 0.994 test
// accuracy on digits 0–4 from 100 steps on, in both precisions.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "tasks/digits.h"
#include "train/methods.h"
#include "config/run_config.h"
#include "train/run.h"
#include "tasks/tasks.h"

#include "support/test_files.h"

namespace fs = std::filesystem;
using test::TempDir;
using test::usage_error;
using test::vendored_file;

namespace {

// FNV-1a 64, the cache file's checksum (driver/digits.cpp), to forge headers
// whose checksum is right so that each other check is seen to work alone.
uint64_t fnv1a(const std::string &s) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : s) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    return h;
}

std::string read_bytes(const fs::path &p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

void write_bytes(const fs::path &p, const std::string &bytes) {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), (std::streamsize)bytes.size());
    REQUIRE(f.good());
}

std::string gunzip_text(const std::string &path) {
    gzFile f = gzopen(path.c_str(), "rb");
    REQUIRE(f != nullptr);
    std::string text;
    char buf[1 << 14];
    int n;
    while ((n = gzread(f, buf, sizeof buf)) > 0) text.append(buf, n);
    REQUIRE(n == 0);
    REQUIRE(gzclose(f) == Z_OK);
    return text;
}

void gzip_text(const fs::path &path, const std::string &text) {
    gzFile f = gzopen(path.c_str(), "wb");
    REQUIRE(f != nullptr);
    REQUIRE(gzwrite(f, text.data(), (unsigned)text.size()) == (int)text.size());
    REQUIRE(gzclose(f) == Z_OK);
}


// A short run of `method` on digits: pretraining 300 steps into `cache`.
adalora::RunConfig short_run(const std::string &method, const fs::path &cache) {
    adalora::RunConfig c;
    c.task = "digits";
    c.method = method;
    c.seed = 1;
    c.out = "unused";
    c.init_r = 8;
    c.target_r = 2;
    c.tinit = 100;
    c.tfinal = 200;
    c.deltaT = 10;
    c.total_step = 600;
    c.log_every = 100;
    c.task_opt.data_dir = fs::path(vendored_file()).parent_path().string();
    c.task_opt.cache_dir = cache.string();
    c.task_opt.pretrain_steps = 300;
    return c;
}


bool same_bits(const std::vector<std::vector<real>> &a, const std::vector<std::vector<real>> &b) {
    if (a.size() != b.size()) return false;
    for (size_t k = 0; k < a.size(); k++)
        if (a[k].size() != b[k].size() || std::memcmp(a[k].data(), b[k].data(), a[k].size() * sizeof(real)) != 0)
            return false;
    return true;
}

}  // namespace

TEST_CASE("digits: the vendored file is the one data/README.md documents and parses to 1,797 rows") {
    const std::string path = vendored_file();
    const std::string bytes = read_bytes(path);
    CHECK(bytes.size() == 57512);
    CHECK(adalora::sha256_hex(bytes) == "46abec6b12486ad9e51943373abcf22bbea1b5a51a1619b361570d8893f1464a");
    CHECK(adalora::sha256_hex(gunzip_text(path)) == "6ebb3d2fee246a4e99363262ddf8a00a3c41bee6014c373ed9d9216ba7f651b8");
    CHECK(adalora::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");  // FIPS 180-2 example

    adalora::DigitsData d = adalora::load_digits(path);
    REQUIRE(d.rows == 1797);
    REQUIRE(d.pixels.size() == (size_t)1797 * 64);
    REQUIRE(d.labels.size() == 1797u);
    std::array<int, 10> count{};
    for (int32_t l : d.labels) {
        REQUIRE(l >= 0);
        REQUIRE(l <= 9);
        count[l]++;
    }
    // As `zcat data/digits.csv.gz | cut -d, -f65 | sort | uniq -c` counts them.
    CHECK(count == std::array<int, 10>{178, 182, 177, 183, 181, 182, 181, 179, 174, 180});
    CHECK(*std::max_element(d.pixels.begin(), d.pixels.end()) == 16);
    // The first row of the file: 0,0,5,13,9,1,0,0,... label 0.
    CHECK(std::vector<int>(d.pixels.begin(), d.pixels.begin() + 6) == std::vector<int>{0, 0, 5, 13, 9, 1});
    CHECK(d.labels[0] == 0);
}

TEST_CASE("digits: the split is fixed, covers every row once and is 80/20 within each half") {
    adalora::DigitsData d = adalora::load_digits(vendored_file());
    adalora::DigitsSplit a = adalora::split_digits(d), b = adalora::split_digits(d);
    CHECK(a.pre_train == b.pre_train);
    CHECK(a.pre_test == b.pre_test);
    CHECK(a.train == b.train);
    CHECK(a.test == b.test);
    // Digits 0-4: 901 rows, 180 of them test rows; digits 5-9: 896 rows, 179.
    CHECK(a.pre_train.size() == 721u);
    CHECK(a.pre_test.size() == 180u);
    CHECK(a.train.size() == 717u);
    CHECK(a.test.size() == 179u);
    std::vector<int> seen(d.rows, 0);
    for (int i : a.pre_train) { CHECK(d.labels[i] < 5); seen[i]++; }
    for (int i : a.pre_test) { CHECK(d.labels[i] < 5); seen[i]++; }
    for (int i : a.train) { CHECK(d.labels[i] >= 5); seen[i]++; }
    for (int i : a.test) { CHECK(d.labels[i] >= 5); seen[i]++; }
    CHECK(std::count(seen.begin(), seen.end(), 1) == d.rows);
    // Pixels are scaled to [0, 1]; the labels come along.
    adalora::Split s = adalora::digits_rows(d, a.test);
    REQUIRE(s.rows == 179);
    REQUIRE(s.chains.size() == 1u);
    CHECK(s.chains[0].x.size() == (size_t)179 * 64);
    CHECK(*std::max_element(s.chains[0].x.begin(), s.chains[0].x.end()) == (real)1);
    CHECK(*std::min_element(s.chains[0].x.begin(), s.chains[0].x.end()) == (real)0);
    CHECK(s.chains[0].labels[0] == d.labels[a.test[0]]);
    CHECK(s.chains[0].y.empty());
}

TEST_CASE("digits: the pretrained base classifies digits 0-4 and no row of 5-9 before adaptation") {
    TempDir cache;
    adalora::RunConfig cfg = short_run("adalora", cache.path);
    adalora::DigitsData d = adalora::load_digits(vendored_file());
    adalora::DigitsSplit split = adalora::split_digits(d);
    adalora::PretrainedBase base = adalora::digits_base(cfg, d, split);
    MESSAGE("pretrained base (300 steps): test accuracy on digits 0-4 = " << base.test_accuracy);
    CHECK(base.test_accuracy > 0.95);
    CHECK(base.cache_status == "built");

    // The task's student starts from exactly this base, for every method, and
    // (ΔW = 0 at the start) predicts only digits 0-4: no test row of 5-9 is right.
    adalora::Task task = adalora::make_task(cfg);
    CHECK(task.planted_rank.empty());
    CHECK(task.is_classification());
    CHECK(same_bits(task.base, base.weights));
    CHECK(task.pretrain_test_accuracy == base.test_accuracy);
    CHECK(task.pretrain_cache == base.cache_path);
    CHECK(task.pretrain_cache_status == "hit");
    for (const std::string method : {"adalora", "lora", "lora-orth", "svd-lora", "prune-lora", "svd-proj"}) {
        CAPTURE(method);
        cfg.method = method;
        adalora::MethodSetup setup = adalora::setup_method(cfg, task);
        ada_model *raw = nullptr;
        REQUIRE(ada_model_create(&raw, &setup.model) == ADA_OK);
        std::unique_ptr<ada_model, void (*)(ada_model *)> m(raw, ada_model_free);
        adalora::apply_base(task, m.get());
        for (int k = 0; k < m->n_modules; k++)
            CHECK(std::memcmp(m->modules[k].W0, task.base[k].data(), task.base[k].size() * sizeof(real)) == 0);
        CHECK(adalora::split_accuracy(m.get(), task.test) == 0.0);
        // One pass gives both, bit for bit (the training split too, where accuracy is not 0).
        for (const adalora::Split *split : {&task.test, &task.train}) {
            const adalora::SplitMetrics both = adalora::split_metrics(m.get(), *split, true);
            CHECK(both.loss == adalora::split_loss(m.get(), *split));
            CHECK(both.accuracy == adalora::split_accuracy(m.get(), *split));
            CHECK(std::isnan(adalora::split_metrics(m.get(), *split, false).accuracy));
        }
    }
}

TEST_CASE("digits: the base cache round-trips bit for bit; a cache file failing any check is rebuilt") {
    TempDir cache;
    adalora::RunConfig cfg = short_run("adalora", cache.path);
    adalora::DigitsData d = adalora::load_digits(vendored_file());
    adalora::DigitsSplit split = adalora::split_digits(d);

    // The key: what the base depends on, not what the run does with it.
    const std::string path = adalora::digits_cache_path(cfg, d);
    CHECK(fs::path(path).parent_path() == cache.path);
    CHECK(fs::path(path).filename().string().rfind("digits-base-", 0) == 0);
    adalora::RunConfig other = cfg;
    other.method = "lora";
    other.seed = 7;
    other.lr = 1e-3;
    CHECK(adalora::digits_cache_path(other, d) == path);
    other = cfg;
    other.task_opt.pretrain_steps = 301;
    CHECK(adalora::digits_cache_path(other, d) != path);
    other = cfg;
    other.task_opt.pretrain_seed = 1;
    CHECK(adalora::digits_cache_path(other, d) != path);
    adalora::DigitsData changed = d;
    changed.checksum ^= 1;
    CHECK(adalora::digits_cache_path(cfg, changed) != path);

    adalora::PretrainedBase built = adalora::digits_base(cfg, d, split);
    REQUIRE(built.cache_status == "built");
    REQUIRE(built.cache_path == path);
    const std::string good = read_bytes(path);
    // Header 32 bytes + 3 x (d_out, d_in) + 64·64 + 64·64 + 10·64 weights + checksum.
    REQUIRE(good.size() == 32 + 24 + (size_t)(4096 + 4096 + 640) * sizeof(real) + 8);

    adalora::PretrainedBase hit = adalora::digits_base(cfg, d, split);
    CHECK(hit.cache_status == "hit");
    CHECK(same_bits(hit.weights, built.weights));
    CHECK(hit.test_accuracy == built.test_accuracy);
    CHECK(read_bytes(path) == good);

    // Each corruption: refused with its reason, the base rebuilt (bit for bit
    // the same: pretraining is deterministic) and the cache file made good again.
    auto rebuilt_after = [&](const std::string &bytes, const std::string &reason) {
        CAPTURE(reason);
        write_bytes(path, bytes);
        adalora::PretrainedBase b = adalora::digits_base(cfg, d, split);
        CHECK(b.cache_status == "rebuilt (" + reason + ")");
        CHECK(same_bits(b.weights, built.weights));
        CHECK(read_bytes(path) == good);
    };
    auto with_checksum = [](std::string bytes) {  // forged: the checksum matches
        uint64_t h = fnv1a(bytes.substr(0, bytes.size() - 8));
        std::memcpy(&bytes[bytes.size() - 8], &h, 8);
        return bytes;
    };
    std::string bad = good;
    bad[good.size() / 2] ^= 0x01;  // one bit of a weight
    rebuilt_after(bad, "checksum mismatch");
    bad = good;
    bad[good.size() - 1] ^= 0x40;  // the checksum itself
    rebuilt_after(bad, "checksum mismatch");
    rebuilt_after(good.substr(0, good.size() - 100), "size " + std::to_string(good.size() - 100) + " bytes, expected " +
                                                         std::to_string(good.size()));
    rebuilt_after(good.substr(0, 10), "size 10 bytes, expected " + std::to_string(good.size()));
    rebuilt_after("", "size 0 bytes, expected " + std::to_string(good.size()));
    rebuilt_after(good + "x", "size more than " + std::to_string(good.size()) + " bytes, expected " +
                                  std::to_string(good.size()));
    bad = good;
    bad[0] = 'X';
    rebuilt_after(with_checksum(bad), "bad magic");
    bad = good;
    bad[8] = 2;  // version
    rebuilt_after(with_checksum(bad), "other version");
    bad = good;
    bad[12] = sizeof(real) == 4 ? 8 : 4;  // precision
    rebuilt_after(with_checksum(bad), "other precision");
    bad = good;
    bad[24] ^= 1;  // key
    rebuilt_after(with_checksum(bad), "other dimensions or key");
    bad = good;
    bad[32] = 65;  // d_out of module 0
    rebuilt_after(with_checksum(bad), "other dimensions or key");
    bad = good;
    const real nan = NAN;
    std::memcpy(&bad[56], &nan, sizeof nan);  // the first weight
    rebuilt_after(with_checksum(bad), "non-finite weight");

    // A valid cache file of another key, copied under this name, is refused.
    other = cfg;
    other.task_opt.pretrain_steps = 20;
    adalora::PretrainedBase short_base = adalora::digits_base(other, d, split);
    REQUIRE(short_base.cache_status == "built");
    rebuilt_after(read_bytes(short_base.cache_path), "other dimensions or key");

    // No temporary file is left behind: the base files and nothing else.
    int files = 0;
    for (const auto &e : fs::directory_iterator(cache.path)) {
        CHECK(e.path().extension() == ".bin");
        files++;
    }
    CHECK(files == 2);

    // A cache directory that cannot be written costs the cache, not the run.
    other = cfg;
    other.task_opt.cache_dir = (cache.path / "file-not-dir").string();
    write_bytes(other.task_opt.cache_dir, "x");
    adalora::PretrainedBase unwritten = adalora::digits_base(other, d, split);
    CHECK(unwritten.cache_status.rfind("built; not written (", 0) == 0);
    CHECK(same_bits(unwritten.weights, built.weights));
}

TEST_CASE("digits: adalora adapts the frozen base to digits 5-9 and every method runs") {
    TempDir cache;
    adalora::RunConfig cfg = short_run("adalora", cache.path);
    adalora::RunOutput out = adalora::train_run(cfg, adalora::LogMode::quiet);
    const nlohmann::json &s = out.summary;
    MESSAGE("adalora, 600 steps: test accuracy on digits 5-9 = " << s["final_test_accuracy"].get<double>()
                                                                 << ", kept ranks " << s["kept_rank"].dump());
    CHECK(s["final_test_accuracy"].get<double>() > 0.6);  // chance: 0.2 (5 digits), the base: 0
    CHECK(s["final_train_accuracy"].get<double>() > 0.6);
    CHECK(s["pretrain_test_accuracy"].get<double>() > 0.95);
    CHECK(s["planted_rank"].is_null());
    CHECK(s["oracle_rank"].is_null());
    long kept = 0;
    for (auto &kv : s["kept_rank"].items()) kept += kv.value().get<long>();
    CHECK(kept == 6);  // b(T) = 3 modules x target_r 2
    CHECK(s["config"]["data_dir"] == cfg.task_opt.data_dir);
    CHECK(s["config"]["pretrain_steps"] == 300);

    for (const std::string method : {"lora", "lora-orth", "svd-lora", "prune-lora", "svd-proj"}) {
        CAPTURE(method);
        cfg.method = method;
        adalora::RunOutput o = adalora::train_run(cfg, adalora::LogMode::quiet);
        MESSAGE(method << ", 600 steps: test accuracy on digits 5-9 = " << o.summary["final_test_accuracy"].get<double>()
                       << ", kept ranks " << o.summary["kept_rank"].dump());
        CHECK(o.summary["final_test_accuracy"].get<double>() > 0.6);
        CHECK(o.summary["pretrain_test_accuracy"] == s["pretrain_test_accuracy"]);  // the same base, from the cache
    }
}

TEST_CASE("digits: every class of hostile data file is a UsageError naming the file and the line") {
    TempDir dir;
    const std::string text = gunzip_text(vendored_file());
    std::vector<std::string> lines;
    {
        std::stringstream ss(text);
        for (std::string l; std::getline(ss, l);) lines.push_back(l);
    }
    REQUIRE(lines.size() == 1797u);
    auto with_line = [&](size_t i, const std::string &replacement) {  // i: 0-based
        std::string t;
        for (size_t j = 0; j < lines.size(); j++) t += (j == i ? replacement : lines[j]) + "\n";
        return t;
    };
    struct Case {
        const char *name;
        std::string bytes;  // the file as written ("" with gz = false: empty)
        bool gz;            // compress `bytes` first
        std::string expect; // in the message after the file name
    };
    const std::string gz = read_bytes(vendored_file());
    std::string low_digits;  // the rows of digits 0-4 alone
    for (const std::string &l : lines)
        if (l.back() < '5') low_digits += l + "\n";
    std::string bad_crc = gz;
    bad_crc[gz.size() - 8] ^= 0x5a;  // the trailer's CRC-32
    const std::vector<Case> cases = {
        {"truncated", gz.substr(0, gz.size() / 2), false, "corrupt or truncated gzip stream (unexpected end of file)"},
        {"trailer-cut", gz.substr(0, gz.size() - 4), false, "corrupt or truncated gzip stream (unexpected end of file)"},
        {"bad-crc", bad_crc, false, "corrupt or truncated gzip stream (incorrect data check)"},
        {"few-fields", with_line(6, lines[6].substr(0, lines[6].rfind(','))), true,
         ", line 7: 64 fields (expected 65"},
        {"many-fields", with_line(6, lines[6] + ",3"), true, ", line 7: 66 fields (expected 65"},
        {"blank-line", with_line(1000, ""), true, ", line 1001: 1 fields (expected 65"},
        {"pixel-17", with_line(8, "17" + lines[8].substr(lines[8].find(','))), true,
         ", line 9: pixel 17 in field 1 is out of range (allowed: 0..16)"},
        {"pixel-negative", with_line(8, "-1" + lines[8].substr(lines[8].find(','))), true,
         ", line 9: pixel -1 in field 1 is out of range (allowed: 0..16)"},
        {"pixel-text", with_line(8, "a" + lines[8].substr(lines[8].find(','))), true,
         ", line 9: field 1 'a' is not an integer"},
        {"pixel-fraction", with_line(8, "1.5" + lines[8].substr(lines[8].find(','))), true,
         ", line 9: field 1 '1.5' is not an integer"},
        {"label-10", with_line(10, lines[10].substr(0, lines[10].rfind(',')) + ",10"), true,
         ", line 11: label 10 in field 65 is out of range (allowed: 0..9)"},
        {"label-negative", with_line(10, lines[10].substr(0, lines[10].rfind(',')) + ",-3"), true,
         ", line 11: label -3 in field 65 is out of range (allowed: 0..9)"},
        {"label-empty", with_line(10, lines[10].substr(0, lines[10].rfind(',')) + ","), true,
         ", line 11: field 65 '' is not an integer"},
        {"long-line", with_line(3, std::string(5000, '1')), true, ", line 4: line longer than 4095 bytes"},
        {"not-gzip", text, false, ": not a gzip file"},
        {"empty", "", false, ": not a gzip file"},
        {"no-rows", "", true, ": no rows"},
        {"only-0-4", low_digits, true, ": 0 rows of digits 5-9 (need at least 5"},
    };
    for (const Case &c : cases) {
        CAPTURE(c.name);
        fs::path sub = dir.path / c.name;
        fs::create_directory(sub);
        fs::path file = sub / "digits.csv.gz";
        if (c.gz) gzip_text(file, c.bytes);
        else write_bytes(file, c.bytes);
        std::string msg = usage_error([&] {
            adalora::DigitsData d = adalora::load_digits(file.string());
            adalora::split_digits(d);
        });
        CHECK(msg.find("digits data " + file.string()) == 0);
        CHECK(msg.find(c.expect) != std::string::npos);
        CHECK(msg.find('\n') == std::string::npos);
        // Through the task too: --data-dir pointing at it, before anything trains.
        adalora::RunConfig cfg = short_run("adalora", dir.path / "cache");
        cfg.task_opt.data_dir = sub.string();
        CHECK(usage_error([&] { adalora::make_task(cfg); }) == msg);
    }
    // A broken stream names the line being read when the break was found.
    for (const char *name : {"truncated", "trailer-cut", "bad-crc"}) {
        CAPTURE(name);
        std::string msg = usage_error([&] { adalora::load_digits((dir.path / name / "digits.csv.gz").string()); });
        CHECK(msg.find(", line ") != std::string::npos);
    }
    std::string msg;

    adalora::RunConfig cfg = short_run("adalora", dir.path / "cache");
    cfg.task_opt.data_dir = (dir.path / "nowhere").string();
    msg = usage_error([&] { adalora::make_task(cfg); });
    CHECK(msg.find("digits data " + (dir.path / "nowhere/digits.csv.gz").string() + ": no such file") == 0);
    cfg.task_opt.data_dir = (dir.path / "truncated").string();
    fs::remove(dir.path / "truncated/digits.csv.gz");
    fs::create_directory(dir.path / "truncated/digits.csv.gz");
    CHECK(usage_error([&] { adalora::make_task(cfg); }).find(": not a regular file") != std::string::npos);
    CHECK(!fs::exists(dir.path / "cache"));  // refused before any pretraining

    // Options: pretraining steps and the planted ranks digits does not have.
    cfg = short_run("adalora", dir.path / "cache");
    cfg.task_opt.pretrain_steps = 0;
    CHECK(usage_error([&] { adalora::validate(cfg); }).find("--pretrain-steps = 0") == 0);
    cfg = short_run("adalora", dir.path / "cache");
    cfg.task_opt.planted_ranks = "1,2,3";
    CHECK(usage_error([&] { adalora::validate(cfg); }).find("--planted-ranks") == 0);
    cfg = short_run("adalora", dir.path / "cache");
    cfg.task_opt.data_dir = "";
    CHECK(usage_error([&] { adalora::validate(cfg); }).find("--data-dir") == 0);
}

TEST_CASE("digits: the adalora binary exits 2 with one line naming the file for a bad data file") {
    TempDir dir;
    const std::string bin = (fs::read_symlink("/proc/self/exe").parent_path() / "adalora").string();
    fs::create_directory(dir.path / "bad");
    gzip_text(dir.path / "bad/digits.csv.gz", "0,1,2\n");
    const std::string cmd = bin + " train --task digits --method lora --data-dir " + (dir.path / "bad").string() +
                            " --cache-dir " + (dir.path / "cache").string() + " --out " +
                            (dir.path / "run").string() + " >" + (dir.path / "stdout").string() + " 2>" +
                            (dir.path / "stderr").string();
    int status = std::system(cmd.c_str());
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 2);
    const std::string err = read_bytes(dir.path / "stderr");
    CHECK(err == "adalora: digits data " + (dir.path / "bad/digits.csv.gz").string() +
                     ", line 1: 3 fields (expected 65: 64 pixels, then the label)\n");
    CHECK(!fs::exists(dir.path / "run"));
    CHECK(!fs::exists(dir.path / "cache"));
}
