// test_trace.cpp: --dump-init, --init-from, --trace and trace-diff (README
// "Step traces"): a replayed dump is the same run bit for bit, a replayed
// state is really the one in the files, mismatches are refused, tracing
// changes nothing, a trace says what the allocator did, and trace-diff finds
// the first perturbed tensor (its exit codes through the real binary).
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "formats/npy.h"
#include "train/run.h"
#include "support/test_files.h"
#include "train/trace.h"
#include "cli/trace_diff.h"

namespace fs = std::filesystem;
using test::TempDir;
using test::usage_error;

namespace {

// tiny() cut to 120 steps, masking every 10 steps from 20 to 80 (planted-mlp:
// 2 layers with biases and GELU), with a metrics row at every step.
adalora::RunConfig small(const std::string &method, const std::string &task = "planted-linear") {
    adalora::RunConfig c = test::tiny(method, task);
    c.seed = 3;
    c.tinit = 20;
    c.tfinal = 40;
    c.total_step = 120;
    c.log_every = 1;
    return c;
}

void check_same_run(const adalora::RunOutput &a, const adalora::RunOutput &b) {
    CHECK(test::metrics_without_seconds(a.metrics_csv) == test::metrics_without_seconds(b.metrics_csv));
    CHECK(a.ranks_csv == b.ranks_csv);
    CHECK(a.rank_pattern == b.rank_pattern);
    CHECK(a.summary["final_train_loss"] == b.summary["final_train_loss"]);
    CHECK(a.summary["final_test_loss"] == b.summary["final_test_loss"]);
}

nlohmann::json read_json(const fs::path &p) {
    std::ifstream in(p);
    return nlohmann::json::parse(in);
}

std::vector<double> tensor(const fs::path &trace, const nlohmann::json &step, const std::string &module,
                           const std::string &kind) {
    return adalora::read_npy((trace / step["tensors"][module][kind].get<std::string>()).string()).to_double();
}

struct Exit {
    int code;
    std::string out;
};

// The real `adalora` beside this test binary, its stdout and stderr together.
Exit driver(const std::string &args) {
    const std::string bin = (fs::read_symlink("/proc/self/exe").parent_path() / "adalora").string();
    FILE *p = popen(("'" + bin + "' " + args + " 2>&1").c_str(), "r");
    REQUIRE(p != nullptr);
    std::string out;
    char buf[512];
    while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    int status = pclose(p);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace

TEST_CASE("trace: --dump-init then --init-from replays the same run bit for bit") {
    for (const char *task : {"planted-linear", "planted-mlp"})
        for (const char *method : {"adalora", "prune-lora"}) {
            CAPTURE(task);
            CAPTURE(method);
            TempDir dir;
            adalora::RunConfig plain = small(method, task);
            adalora::RunOutput original = adalora::train_run(plain, adalora::LogMode::quiet);
            adalora::RunConfig dumping = plain;
            dumping.dump_init = (dir.path / "init").string();
            adalora::RunOutput dumped = adalora::train_run(dumping, adalora::LogMode::quiet);
            check_same_run(original, dumped);  // the dumped batches are the sampler's
            nlohmann::json index = read_json(dir.path / "init/index.json");
            CHECK(index["precision"] == ADA_PRECISION_NAME);
            CHECK(index["modules"].size() == original.summary["kept_rank"].size());
            CHECK(index["conventions"] == original.summary["conventions"]);
            adalora::RunConfig replaying = plain;
            replaying.init_from = dumping.dump_init;
            check_same_run(original, adalora::train_run(replaying, adalora::LogMode::quiet));
        }
}

TEST_CASE("trace: --init-from uses the state and batches in the files") {
    TempDir dir;
    adalora::RunConfig cfg = small("adalora");
    cfg.dump_init = (dir.path / "init").string();
    adalora::RunOutput original = adalora::train_run(cfg, adalora::LogMode::quiet);
    cfg.dump_init.clear();
    cfg.init_from = (dir.path / "init").string();
    // A λ that starts at 0.5 instead of 0: a different run.
    const fs::path lam = dir.path / "init/l0.q.lam.npy";
    adalora::NpyArray a = adalora::read_npy(lam.string());
    std::vector<real> half(a.count(), (real)0.5);
    adalora::write_npy(lam.string(), adalora::npy_array(half.data(), a.shape));
    adalora::RunOutput changed = adalora::train_run(cfg, adalora::LogMode::quiet);
    CHECK(changed.summary["final_train_loss"] != original.summary["final_train_loss"]);
    // Batch 1 of chain 0 scaled: the first step's loss changes.
    const fs::path x = dir.path / "init/batch.c0.x.npy";
    adalora::NpyArray xs = adalora::read_npy(x.string());
    std::vector<double> v = xs.to_double();
    std::vector<real> doubled(v.begin(), v.end());
    for (size_t i = 0; i < doubled.size() / 120; i++) doubled[i] *= 2;
    adalora::write_npy(x.string(), adalora::npy_array(doubled.data(), xs.shape));
    adalora::RunOutput batch_changed = adalora::train_run(cfg, adalora::LogMode::quiet);
    CHECK(test::metrics_without_seconds(batch_changed.metrics_csv).substr(0, 200) != test::metrics_without_seconds(changed.metrics_csv).substr(0, 200));
}

TEST_CASE("trace: --init-from refuses a directory that does not fit the run") {
    TempDir dir;
    adalora::RunConfig cfg = small("adalora");
    cfg.dump_init = (dir.path / "init").string();
    adalora::train_run(cfg, adalora::LogMode::quiet);
    adalora::RunConfig replay = small("adalora");
    replay.init_from = cfg.dump_init;
    auto refusal = [&](adalora::RunConfig c) { return usage_error([&] { adalora::train_run(c, adalora::LogMode::quiet); }); };
    adalora::RunConfig other_lr = replay;
    other_lr.lr = 1e-3;
    CHECK(refusal(other_lr).find("'config.lr' is 0.005 in its index.json but 0.001 in this run") != std::string::npos);
    adalora::RunConfig other_rank = replay;
    other_rank.init_r = 5;
    CHECK(refusal(other_rank).find("'config.init_r' is 4 in its index.json but 5 in this run") != std::string::npos);
    adalora::RunConfig other_convention = replay;
    other_convention.convention = "peft";
    CHECK(refusal(other_convention).find("'allocation.sensitivity_weights' is \"pre-step\" in its index.json but \"post-step\"") !=
          std::string::npos);
    // The same conventions spelled as rows instead of a preset, and other
    // logging, are accepted.
    adalora::RunConfig log_only = replay;
    log_only.convention_rows["orth-norm"] = "squared";
    log_only.log_every = 7;
    log_only.mask_jump = true;
    CHECK(refusal(log_only).empty());

    const fs::path index_path = dir.path / "init/index.json";
    nlohmann::json index = read_json(index_path);
    nlohmann::json wrong = index;
    wrong["precision"] = sizeof(real) == 8 ? "float" : "double";
    std::ofstream(index_path) << wrong.dump();
    CHECK(refusal(replay).find("'precision' is") != std::string::npos);
    wrong = index;
    wrong["modules"][0]["files"]["P"] = "../escape.npy";
    std::ofstream(index_path) << wrong.dump();
    CHECK(refusal(replay).find("not a plain file name") != std::string::npos);
    std::ofstream(index_path) << index.dump();
    std::vector<real> small_p(4, 0);
    adalora::write_npy((dir.path / "init/l0.q.P.npy").string(), adalora::npy_array(small_p.data(), {2, 2}));
    CHECK(refusal(replay).find("l0.q.P.npy: shape (2, 2), expected (8, 4)") != std::string::npos);
    std::ofstream(dir.path / "init/l0.q.P.npy") << "garbage";
    CHECK(refusal(replay).find("l0.q.P.npy: not a valid .npy file: bad magic") != std::string::npos);
    std::ofstream(index_path) << "{";
    CHECK(refusal(replay).find("index.json: not valid JSON") != std::string::npos);
}

TEST_CASE("trace: --trace-steps lists and ranges, and the option checks") {
    CHECK(adalora::parse_trace_steps("0-3,10,2,8-8", 20) == std::vector<long>{0, 1, 2, 3, 8, 10});
    CHECK(adalora::parse_trace_steps("", 3) == std::vector<long>{0, 1, 2, 3});
    for (const char *bad : {"21", "3-1", "a", "1,,2", "-3", "1-", "4-x", "1.5", "99999999999999999999"}) {
        CAPTURE(bad);
        std::string m = usage_error([&] { adalora::parse_trace_steps(bad, 20); });
        CHECK(m.find(std::string("--trace-steps = '") + bad + "'") == 0);
    }
    TempDir dir;
    adalora::RunConfig c = small("adalora");
    c.out = (dir.path / "run").string();
    c.trace_steps = "1";
    CHECK(usage_error([&] { adalora::validate_crosscheck(c); }) == "--trace-steps needs --trace DIR");
    c.trace = c.out;
    CHECK(usage_error([&] { adalora::validate_crosscheck(c); }).find("--out and --trace name the same directory") == 0);
    c.trace = (dir.path / "trace").string();
    c.dump_init = (dir.path / "d").string();
    c.init_from = (dir.path / "d").string();
    CHECK(usage_error([&] { adalora::validate_crosscheck(c); }).find("--dump-init and --init-from") == 0);
    c.dump_init.clear();
    CHECK(usage_error([&] { adalora::validate_crosscheck(c); }).find("no index.json there") != std::string::npos);
    c.init_from.clear();
    fs::create_directory(c.trace);
    CHECK(usage_error([&] { adalora::validate_crosscheck(c); }).find("--trace " + c.trace + ": already exists") == 0);
    c.trace = (dir.path / "trace2").string();  // a free directory again, but with checkpoints
    c.save_every = 10;
    CHECK(usage_error([&] { adalora::validate_crosscheck(c); }).find("cannot be combined with --trace") != std::string::npos);
}

TEST_CASE("trace: tracing changes nothing, and the trace says what the allocator did") {
    TempDir dir;
    adalora::RunConfig cfg = small("adalora");
    adalora::RunOutput plain = adalora::train_run(cfg, adalora::LogMode::quiet);
    cfg.trace = (dir.path / "trace").string();
    cfg.trace_steps = "0-2,19-21,30,80-81,120";
    adalora::RunOutput traced = adalora::train_run(cfg, adalora::LogMode::quiet);
    check_same_run(plain, traced);
    CHECK(!fs::exists(dir.path / ("trace.tmp-" + std::to_string(getpid()))));
    const fs::path trace = cfg.trace;
    nlohmann::json index = read_json(trace / "index.json");
    CHECK(index["format"] == "adalora-trace");
    std::vector<long> steps;
    for (auto &s : index["steps"]) steps.push_back(s["step"].get<long>());
    CHECK(steps == std::vector<long>{0, 1, 2, 19, 20, 21, 30, 80, 81, 120});
    const nlohmann::json &initial = index["steps"][0];
    CHECK(tensor(trace, initial, "l0.q", "lam") == std::vector<double>(4, 0.0));
    CHECK(initial["scalars"]["kept"] == 24);
    int masks = 0;
    for (auto &s : index["steps"]) {
        if (s["step"] == 0) continue;
        CAPTURE(s["step"].get<long>());
        const nlohmann::json &sc = s["scalars"];
        CHECK(sc["loss"].get<double>() == doctest::Approx(sc["task_loss"].get<double>() + sc["orth_term"].get<double>()));
        if (sc["action"] != "mask") continue;
        masks++;
        // Eq. 8 with exact ties: b(t) kept, every kept score >= the threshold >= every pruned one,
        // λ = λ̃ on the kept triplets and 0 on the others.
        long kept = 0;
        const double threshold = sc["threshold"].is_number() ? sc["threshold"].get<double>() : -INFINITY;
        for (auto &[module, kinds] : s["tensors"].items()) {
            std::vector<double> keep = tensor(trace, s, module, "keep"), S = tensor(trace, s, module, "S"),
                                pre = tensor(trace, s, module, "lam_pre"), lam = tensor(trace, s, module, "lam");
            for (size_t i = 0; i < keep.size(); i++) {
                kept += keep[i] != 0;
                CHECK(lam[i] == (keep[i] ? pre[i] : 0.0));
                if (keep[i]) CHECK(S[i] >= threshold);
                else CHECK(S[i] <= threshold);
            }
        }
        CHECK(kept == sc["budget"].get<long>());
    }
    CHECK(masks == 3);  // steps 20, 30 and the forced one at 80
}

TEST_CASE("trace: trace-diff passes a trace against its replay and finds a perturbed tensor") {
    TempDir dir;
    adalora::RunConfig cfg = small("adalora");
    cfg.trace_steps = "0-25,50";
    cfg.trace = (dir.path / "a").string();
    cfg.dump_init = (dir.path / "init").string();
    adalora::train_run(cfg, adalora::LogMode::quiet);
    cfg.trace = (dir.path / "b").string();
    cfg.dump_init.clear();
    cfg.init_from = (dir.path / "init").string();
    adalora::train_run(cfg, adalora::LogMode::quiet);
    const std::string a = (dir.path / "a").string(), b = (dir.path / "b").string();
    CHECK(adalora::cmd_trace_diff({a, b, 0.0, 0.0, ""}) == 0);

    fs::copy(dir.path / "b", dir.path / "c", fs::copy_options::recursive);
    const fs::path target = dir.path / "c/step_000012/l0.v.ibar_Q.npy";
    adalora::NpyArray t = adalora::read_npy(target.string());
    std::vector<double> v = t.to_double();
    std::vector<real> bumped(v.begin(), v.end());
    bumped[5] *= (real)(1 + 1e-4);
    adalora::write_npy(target.string(), adalora::npy_array(bumped.data(), t.shape));
    const std::string c = (dir.path / "c").string();
    Exit differ = driver("trace-diff '" + a + "' '" + c + "'");
    CHECK(differ.code == 1);
    CHECK(differ.out.find("first difference: step 12, module l0.v, tensor ibar_Q: relative difference") != std::string::npos);
    CHECK(differ.out.find("27 steps") != std::string::npos);
    CHECK(driver("trace-diff '" + a + "' '" + c + "' --rtol 1e-3").code == 0);
    CHECK(driver("trace-diff '" + a + "' '" + b + "'").code == 0);

    // A keep mask that differs fails at any tolerance.
    const fs::path keep = dir.path / "c/step_000020/l0.k.keep.npy";
    adalora::NpyArray k = adalora::read_npy(keep.string());
    k.data[0] = (char)!k.data[0];
    adalora::write_npy(keep.string(), k);
    Exit mask = driver("trace-diff '" + a + "' '" + c + "' --rtol 1");
    CHECK(mask.code == 1);
    CHECK(mask.out.find("step 20, module l0.k, keep mask differs at triplet 0") != std::string::npos);

    // Bad input: exit 2 with one line.
    Exit missing = driver("trace-diff '" + a + "' '" + (dir.path / "none").string() + "'");
    CHECK(missing.code == 2);
    CHECK(missing.out.find("is not a directory") != std::string::npos);
    nlohmann::json index = read_json(dir.path / "c/index.json");
    nlohmann::json no_s = index;
    no_s["steps"][5]["tensors"]["l0.q"].erase("S");
    std::ofstream(dir.path / "c/index.json") << no_s.dump();
    Exit kinds = driver("trace-diff '" + a + "' '" + c + "'");
    CHECK(kinds.code == 2);
    CHECK(kinds.out.find("first difference") == std::string::npos);  // structure is checked before values
    CHECK(kinds.out.find("step 5, module l0.q tensors: 'S' is in A but not in B") != std::string::npos);
    // --ignore S: a kind one side lacks is left out, and what differs still shows.
    Exit ignored = driver("trace-diff '" + a + "' '" + c + "' --rtol 1 --ignore S,orth_raw");
    CHECK(ignored.code == 1);
    CHECK(ignored.out.find("keep mask differs at triplet 0") != std::string::npos);
    CHECK(ignored.out.find("not compared (--ignore): S,orth_raw") != std::string::npos);
    CHECK(ignored.out.find(" S ") == std::string::npos);  // no S in the per-kind figures
    for (const char *structural : {"keep", "budget", "action", "kept"}) {
        Exit refused = driver("trace-diff '" + a + "' '" + c + "' --ignore " + structural);
        CHECK(refused.code == 2);
        CHECK(refused.out.find("always compared") != std::string::npos);
    }
    index["steps"].erase(index["steps"].size() - 1);
    std::ofstream(dir.path / "c/index.json") << index.dump();
    Exit steps = driver("trace-diff '" + a + "' '" + c + "'");
    CHECK(steps.code == 2);
    CHECK(steps.out.find("the step sets differ: A has 0-25,50, B has 0-25") != std::string::npos);
    std::ofstream(dir.path / "c/index.json") << "[1, 2";
    CHECK(driver("trace-diff '" + a + "' '" + c + "'").code == 2);
    CHECK(driver("trace-diff '" + a + "' '" + b + "' --rtol -1").code == 2);
}
