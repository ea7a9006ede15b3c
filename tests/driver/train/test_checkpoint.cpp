// test_checkpoint.cpp: checkpoints and the numerical guard.
//   - for every method, 2N steps straight equal N steps + stop + resume for N,
//     bit for bit (tensors of the final checkpoint, masks, every logged value
//     but the wall-clock seconds, the summary but its timings);
//   - the driver binary killed with SIGKILL at 20 random moments and resumed
//     each time ends equal to the uninterrupted run;
//   - bad checkpoints (corrupted, truncated, wrong version, wrong precision,
//     other options) are refused with exit 2 and a message saying which, and
//     nothing in the run directory changes; the parser survives every
//     truncation and random resealed edits;
//   - a non-finite value stops with exit 3, names step, module and tensor and
//     keeps the last checkpoint; skip-step restores the pre-step state.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "train/checkpoint.h"
#include "train/run.h"
#include "train/run_dir.h"
#include "train/train_loop.h"
#include "base/errors.h"
#include "support/test_files.h"

namespace fs = std::filesystem;
using test::read_file;
using test::TempDir;

namespace {

// 6 modules of width 8, stopped mid-decay (t_i 50, decay to 210) between two
// metrics rows, so the mask counters of a row in progress cross the stop.
constexpr long kHalf = 155;
adalora::RunConfig half_run(const std::string &method) {
    adalora::RunConfig c;
    c.method = method;
    c.seed = 2;
    c.init_r = 4;
    c.target_r = 2;
    c.tinit = 50;
    c.tfinal = 100;
    c.deltaT = 10;
    c.total_step = 2 * kHalf;
    c.batch = 16;
    c.log_every = 20;
    c.mask_jump = true;
    c.log = "quiet";
    c.task_opt.width = 8;
    c.task_opt.layers = 1;
    c.task_opt.train_rows = 128;
    c.task_opt.test_rows = 128;
    return c;
}

// metrics.csv without its wall-clock column `seconds`.
std::string without_seconds(const std::string &csv) {
    static const std::regex seconds_column("^((?:[^,\n]*,){8})[^,\n]*", std::regex::multiline);
    return std::regex_replace(csv, seconds_column, "$1");
}

// summary.json without what measures time, memory or the machine.
nlohmann::json untimed(nlohmann::json s) {
    for (const char *key : {"ms_per_step", "time_ms", "machine", "peak_rss_kib"}) s.erase(key);
    return s;
}

template <class T> bool same_bits(const std::vector<T> &a, const std::vector<T> &b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

// Two checkpoints hold the same run state (everything but the clock).
void check_same_state(const adalora::Checkpoint &a, const adalora::Checkpoint &b) {
    const auto &x = a.train, &y = b.train;
    CHECK(same_bits(x.params, y.params));
    CHECK(same_bits(x.m1, y.m1));
    CHECK(same_bits(x.m2, y.m2));
    CHECK(same_bits(x.ibar, y.ibar));
    CHECK(same_bits(x.ubar, y.ubar));
    CHECK(same_bits(x.scores, y.scores));
    CHECK(same_bits(x.keep, y.keep));
    CHECK(same_bits(x.prev_keep, y.prev_keep));
    CHECK(x.completed == y.completed);
    CHECK(x.updates == y.updates);
    CHECK(std::memcmp(a.sampler.s, b.sampler.s, sizeof a.sampler.s) == 0);
    CHECK(a.loop.revived == b.loop.revived);
    CHECK(a.loop.pruned == b.loop.pruned);
    CHECK(a.loop.jumps == b.loop.jumps);
    CHECK(a.loop.skipped == b.loop.skipped);
    CHECK(std::memcmp(&a.loop.jump_sum, &b.loop.jump_sum, sizeof(double)) == 0);
    CHECK(without_seconds(a.loop.metrics_csv) == without_seconds(b.loop.metrics_csv));
    CHECK(a.loop.ranks_csv == b.loop.ranks_csv);
    CHECK(a.config == b.config);
    CHECK(a.origin == b.origin);
}

// Two finished run directories hold the same results.
void check_same_run(const fs::path &a, const fs::path &b) {
    CHECK(without_seconds(read_file(a / "metrics.csv")) == without_seconds(read_file(b / "metrics.csv")));
    CHECK(read_file(a / "ranks.csv") == read_file(b / "ranks.csv"));
    CHECK(read_file(a / "rank_pattern.json") == read_file(b / "rank_pattern.json"));
    CHECK(untimed(nlohmann::json::parse(read_file(a / "summary.json"))) ==
          untimed(nlohmann::json::parse(read_file(b / "summary.json"))));
}

adalora::Checkpoint checkpoint_of(const fs::path &dir) {
    return adalora::read_checkpoint((dir / adalora::kCheckpointFile).string());
}

std::string driver_binary() { return (fs::read_symlink("/proc/self/exe").parent_path() / "adalora").string(); }

// Starts the driver with `args` in `cwd`, stdout and stderr into files there.
pid_t spawn(const fs::path &cwd, const std::vector<std::string> &args) {
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (chdir(cwd.c_str()) != 0) _exit(127);
        int out = open("stdout.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open("stderr.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (out < 0 || err < 0) _exit(127);
        dup2(out, 1);
        dup2(err, 2);
        std::vector<char *> argv;
        std::string bin = driver_binary();
        argv.push_back(bin.data());
        for (const auto &a : args) argv.push_back(const_cast<char *>(a.c_str()));
        argv.push_back(nullptr);
        execv(bin.c_str(), argv.data());
        _exit(127);
    }
    return pid;
}

struct Exit {
    int code = -1;      // exit code, or -1 when killed
    std::string err;    // stderr
};

Exit wait_for(pid_t pid, const fs::path &cwd) {
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(cwd / "stderr.txt")};
}

Exit run_driver(const fs::path &cwd, const std::vector<std::string> &args) { return wait_for(spawn(cwd, args), cwd); }

std::vector<std::string> flags_of(const adalora::RunConfig &c) {
    return {"--method", c.method, "--seed", std::to_string(c.seed), "--init_r", std::to_string(c.init_r),
            "--target_r", std::to_string(c.target_r), "--tinit", std::to_string(c.tinit), "--tfinal",
            std::to_string(c.tfinal), "--deltaT", std::to_string(c.deltaT), "--total_step",
            std::to_string(c.total_step), "--batch", std::to_string(c.batch), "--log-every",
            std::to_string(c.log_every), "--width", std::to_string(c.task_opt.width), "--layers",
            std::to_string(c.task_opt.layers), "--train-rows", std::to_string(c.task_opt.train_rows),
            "--test-rows", std::to_string(c.task_opt.test_rows), "--log", "quiet"};
}

std::vector<std::string> plus(std::vector<std::string> a, const std::vector<std::string> &b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// Every file of a directory, by name, with its bytes.
std::map<std::string, std::string> contents(const fs::path &dir) {
    std::map<std::string, std::string> m;
    for (auto &e : fs::directory_iterator(dir)) m[e.path().filename().string()] = read_file(e.path());
    return m;
}

}  // namespace

TEST_CASE("checkpoint: N steps, stop and resume for N equal 2N straight, bit for bit, every method") {
    for (const std::string method : {"adalora", "lora", "lora-orth", "svd-lora", "prune-lora", "svd-proj"}) {
        CAPTURE(method);
        TempDir d;
        adalora::RunConfig plain = half_run(method);  // no checkpoints: the files at the end only
        plain.out = (d.path / "plain").string();
        adalora::RunConfig saved = plain;  // saving every 7 steps must change nothing
        saved.out = (d.path / "saved").string();
        saved.save_every = 7;
        adalora::RunConfig first = plain;
        first.out = (d.path / "resumed").string();
        first.stop_after = kHalf;
        REQUIRE(adalora::run_and_write(plain, adalora::LogMode::quiet).finished);
        REQUIRE(adalora::run_and_write(saved, adalora::LogMode::quiet).finished);
        adalora::RunOutput stopped = adalora::run_and_write(first, adalora::LogMode::quiet);
        CHECK_FALSE(stopped.finished);
        CHECK(stopped.steps_done == kHalf);
        CHECK(fs::exists(d.path / "resumed" / adalora::kIncompleteMarker));
        CHECK_FALSE(fs::exists(d.path / "resumed" / "metrics.csv"));
        CHECK(checkpoint_of(d.path / "resumed").train.completed == kHalf);
        adalora::RunConfig second = plain;
        second.out = first.out;
        second.resume = first.out;
        REQUIRE(adalora::run_and_write(second, adalora::LogMode::quiet).finished);
        CHECK_FALSE(fs::exists(d.path / "resumed" / adalora::kIncompleteMarker));
        check_same_run(d.path / "plain", d.path / "saved");
        check_same_run(d.path / "plain", d.path / "resumed");
        check_same_state(checkpoint_of(d.path / "saved"), checkpoint_of(d.path / "resumed"));
        CHECK(checkpoint_of(d.path / "saved").train.completed == 2 * kHalf);
    }
}

TEST_CASE("checkpoint: a run killed with SIGKILL at 20 random moments and resumed each time ends as the uninterrupted one") {
    TempDir d;
    adalora::RunConfig c = half_run("adalora");
    c.task_opt.width = 16;
    c.task_opt.layers = 2;
    c.tinit = 100;
    c.tfinal = 300;
    c.total_step = 1500;
    c.log_every = 50;
    const std::vector<std::string> start = plus(plus({"train"}, flags_of(c)), {"--save-every", "5", "--out", "run"});
    fs::create_directory(d.path / "straight");
    fs::create_directory(d.path / "killed");
    // The moments: uniform between half the start-up time and the start-up
    // plus 1/60 of the run, so each attempt gets a little further. Should a
    // busy machine let the run finish before the 20th kill, the finished run
    // is compared and a new one starts: every finished run must match.
    auto t0 = std::chrono::steady_clock::now();
    REQUIRE(run_driver(d.path / "straight", plus(plus({"train"}, flags_of(c)), {"--stop-after", "1", "--out", "probe"})).code == 0);
    const double startup_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    t0 = std::chrono::steady_clock::now();
    Exit straight = run_driver(d.path / "straight", start);
    REQUIRE(straight.code == 0);
    const double run_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const adalora::Checkpoint reference = checkpoint_of(d.path / "straight" / "run");
    std::mt19937_64 rng(20261129);
    const double first = startup_ms / 2, last = startup_ms + (run_ms - startup_ms) / 60;
    // A process started on a busy machine may need longer than the probe
    // did: after a kill that found no new checkpoint, the window widens.
    double stretch = 1;
    long saved = -1;
    int kills = 0, resumes_mid_run = 0, finished_runs = 0;
    const fs::path run = d.path / "killed" / "run";
    for (int attempt = 0; attempt < 400; attempt++) {
        const bool exists = fs::exists(run);
        if (exists && !fs::exists(run / adalora::kIncompleteMarker)) {  // a finished run
            check_same_run(d.path / "straight" / "run", run);
            check_same_state(reference, checkpoint_of(run));
            finished_runs++;
            if (kills == 20) break;
            fs::remove_all(run);
            continue;
        }
        const long completed = exists ? checkpoint_of(run).train.completed : -1;
        if (completed > 0) resumes_mid_run++;
        stretch = completed > saved ? 1 : std::min(stretch * 1.5, 50.0);
        saved = completed;
        pid_t pid = spawn(d.path / "killed", exists ? std::vector<std::string>{"train", "--resume", "run", "--log", "quiet"}
                                                    : start);
        if (kills == 20) {  // the last resume runs to the end
            REQUIRE(wait_for(pid, d.path / "killed").code == 0);
            continue;
        }
        std::uniform_real_distribution<double> moment(first, first + (last - first) * stretch);
        std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(moment(rng)));
        kill(pid, SIGKILL);
        Exit e = wait_for(pid, d.path / "killed");
        if (e.code == -1) kills++;
        else REQUIRE(e.code == 0);
    }
    MESSAGE("kill test: ", kills, " kills, ", resumes_mid_run, " resumes from a mid-run checkpoint, ", finished_runs,
            " finished run(s), start-up ", startup_ms, " ms, run ", run_ms, " ms");
    CHECK(kills == 20);
    CHECK(resumes_mid_run >= 3);
    CHECK(finished_runs >= 1);
}

TEST_CASE("checkpoint: bad checkpoints and changed options are refused with exit 2, a message saying which, nothing changed") {
    TempDir d;
    adalora::RunConfig c = half_run("adalora");
    REQUIRE(run_driver(d.path, plus(plus({"train"}, flags_of(c)), {"--stop-after", "60", "--out", "run"})).code == 0);
    const fs::path ckpt = d.path / "run" / adalora::kCheckpointFile;
    const std::string good = read_file(ckpt);
    std::string other_precision = good;
    const uint32_t other_bytes = sizeof(real) == 4 ? 8 : 4;
    std::memcpy(&other_precision[16], &other_bytes, 4);
    adalora::reseal_checkpoint(other_precision);
    std::string version_next = good, version1 = good;  // a later format, and the one before the BLAS records
    version_next[8] = (char)(adalora::kCheckpointVersion + 1);
    version1[8] = 1;
    std::string flipped = good;
    flipped[good.size() / 2] ^= 0x10;
    struct Case {
        const char *what;
        std::string bytes;
        std::vector<std::string> extra;
        const char *says;
    };
    const std::vector<Case> cases = {
        {"corrupted", flipped, {}, "corrupted checkpoint (CRC-32 mismatch)"},
        {"truncated", good.substr(0, good.size() - 100), {}, "truncated checkpoint"},
        {"wrong version", version_next, {}, "wrong format version: checkpoint version 3"},
        {"version 1", version1, {}, "wrong format version: checkpoint version 1"},
        {"wrong precision", other_precision, {}, "wrong precision"},
        {"not a checkpoint", "hello", {}, "not an adalora checkpoint"},
        {"another learning rate", good, {"--lr", "0.01"}, "--lr = 0.01 differs from the checkpoint's 0.005"},
        {"another method", good, {"--method", "lora"}, "--method = \"lora\" differs"},
        {"another out", good, {"--out", "elsewhere"}, "--out elsewhere differs from --resume run"},
        {"a passed stop", good, {"--stop-after", "30"}, "already at step 60"},
    };
    for (const Case &k : cases) {
        CAPTURE(k.what);
        { std::ofstream(ckpt, std::ios::binary | std::ios::trunc) << k.bytes; }
        const auto before = contents(d.path / "run");
        Exit e = run_driver(d.path, plus({"train", "--resume", "run"}, k.extra));
        CHECK(e.code == 2);
        CHECK(e.err.find(k.says) != std::string::npos);
        CHECK(std::count(e.err.begin(), e.err.end(), '\n') == 1);
        CHECK(contents(d.path / "run") == before);
    }
    // The good checkpoint resumes; the finished run refuses another resume.
    { std::ofstream(ckpt, std::ios::binary | std::ios::trunc) << good; }
    REQUIRE(run_driver(d.path, {"train", "--resume", "run", "--log", "quiet"}).code == 0);
    Exit again = run_driver(d.path, {"train", "--resume", "run"});
    CHECK(again.code == 2);
    CHECK(again.err.find("the run is complete") != std::string::npos);
}

TEST_CASE("checkpoint: the parser refuses every truncation and survives random resealed edits") {
    TempDir d;
    adalora::RunConfig c = half_run("svd-proj");
    c.out = (d.path / "run").string();
    c.stop_after = 40;
    adalora::run_and_write(c, adalora::LogMode::quiet);
    const std::string good = read_file(d.path / "run" / adalora::kCheckpointFile);
    CHECK_NOTHROW(adalora::parse_checkpoint(good, "good"));
    for (size_t n = 0; n < good.size(); n++)
        CHECK_THROWS_AS(adalora::parse_checkpoint(good.substr(0, n), "cut"), adalora::UsageError);
    CHECK_THROWS_WITH_AS(adalora::parse_checkpoint(good + "x", "long"), doctest::Contains("the header says"),
                         adalora::UsageError);
    // Edits past the checksum: every outcome is a parse or a UsageError.
    std::mt19937_64 rng(7);
    int refused = 0;
    for (int i = 0; i < 3000; i++) {
        std::string bytes = good;
        for (int k = 0; k < 1 + (int)(rng() % 4); k++) bytes[32 + rng() % (bytes.size() - 36)] = (char)(rng() & 0xff);
        adalora::reseal_checkpoint(bytes);
        try {
            adalora::parse_checkpoint(bytes, "edited");
        } catch (const adalora::UsageError &) {
            refused++;
        }
    }
    MESSAGE("resealed random edits refused: ", refused, " of 3000");
    CHECK(refused > 0);
}

TEST_CASE("checkpoint: the inputs that once crashed the fuzz target parse or are refused (tests/fuzz/regressions)") {
    // Each is fed as fuzz_checkpoint.cpp feeds it: resealed. Under
    // `make test SANITIZE=1` an undefined read or copy here is a failure.
    const fs::path dir = test::repo_file("tests/fuzz/regressions/checkpoint");
    int n = 0;
    for (const auto &e : fs::directory_iterator(dir)) {
        CAPTURE(e.path().filename().string());
        std::string bytes = read_file(e.path());
        adalora::reseal_checkpoint(bytes);
        try {
            adalora::parse_checkpoint(bytes, "regression");
        } catch (const adalora::UsageError &) {
        }
        n++;
    }
    CHECK(n > 0);
}

// The test build's fault: NaN into the first adapter parameter before step
// `at` (after skip-step's copy of the state, so skip-step undoes it).
static adalora::LoopHooks nan_before_step(long at) {
    adalora::LoopHooks h;
    h.before_step = [at](long t, ada_model *m) {
        if (t == at) m->params[0] = NAN;
    };
    return h;
}

TEST_CASE("numerical guard: a non-finite value stops with exit 3, names step, module and tensor, keeps the checkpoint") {
    TempDir d;
    adalora::RunConfig c = half_run("adalora");
    c.save_every = 5;
    c.out = (d.path / "run").string();
    const adalora::LoopHooks nan7 = nan_before_step(7);
    std::string stopped;
    try {
        adalora::run_and_write(c, adalora::LogMode::quiet, &nan7);
    } catch (const adalora::NonFiniteError &e) {
        stopped = e.what();  // main prints "adalora: " + this and exits 3 (the overflow below)
    }
    CHECK(stopped == "training stopped: step 7: non-finite forward output (nan), module l0.q, tensor output z; "
                     "the last good checkpoint (step 5) is kept in " + c.out);
    CHECK(fs::exists(d.path / "run" / adalora::kIncompleteMarker));
    CHECK(checkpoint_of(d.path / "run").train.completed == 5);
    CHECK_FALSE(fs::exists(d.path / "run" / "summary.json"));
    // Overflow from a learning rate far too large: whichever tensor goes first.
    Exit overflow = run_driver(d.path, plus(plus({"train"}, flags_of(c)),
                                            {"--lr", sizeof(real) == 4 ? "1e30" : "1e300", "--out", "big"}));
    CHECK(overflow.code == 3);
    CHECK(std::regex_search(overflow.err, std::regex("step [0-9]+: non-finite .*, module l0\\.[a-z0-9]+, tensor ")));
    CHECK_FALSE(fs::exists(d.path / "big"));
}

TEST_CASE("numerical guard: skip-step restores parameters, moments, EMAs and masks from before the step") {
    for (const std::string method : {"adalora", "svd-proj"}) {
        CAPTURE(method);
        TempDir d;
        adalora::RunConfig before = half_run(method);
        before.on_nonfinite = "skip-step";
        before.out = (d.path / "before").string();
        before.stop_after = 60;  // a mask step (deltaT 10) in the decay
        adalora::RunConfig skipped = before;
        skipped.out = (d.path / "skipped").string();
        skipped.stop_after = 61;
        const adalora::LoopHooks nan61 = nan_before_step(61);
        adalora::run_and_write(before, adalora::LogMode::quiet);
        adalora::run_and_write(skipped, adalora::LogMode::quiet, &nan61);
        adalora::Checkpoint a = checkpoint_of(d.path / "before"), b = checkpoint_of(d.path / "skipped");
        CHECK(same_bits(a.train.params, b.train.params));
        CHECK(same_bits(a.train.m1, b.train.m1));
        CHECK(same_bits(a.train.m2, b.train.m2));
        CHECK(same_bits(a.train.ibar, b.train.ibar));
        CHECK(same_bits(a.train.ubar, b.train.ubar));
        CHECK(same_bits(a.train.keep, b.train.keep));
        CHECK(b.train.completed == 61);  // the schedule moved on
        CHECK(b.train.updates == 60);    // AdamW's bias correction did not
        CHECK(b.loop.skipped == 1);
        adalora::RunConfig rest = skipped;  // and the run goes on to the end
        rest.stop_after = 0;
        rest.resume = rest.out;
        REQUIRE(adalora::run_and_write(rest, adalora::LogMode::quiet).finished);
        auto summary = nlohmann::json::parse(read_file(d.path / "skipped" / "summary.json"));
        CHECK(summary["skipped_steps"] == 1);
        CHECK(std::isfinite(summary["final_test_loss"].get<double>()));
    }
}

TEST_CASE("numerical guard: with every mask step from 90 to the final one skipped, the run still ends at b(T)") {
    for (const std::string method : {"adalora", "prune-lora", "svd-proj"}) {
        CAPTURE(method);
        TempDir d;
        adalora::RunConfig c = half_run(method);  // decay from 50 to 210, a mask every 10 steps
        c.on_nonfinite = "skip-step";
        c.out = (d.path / "run").string();
        // NaN in steps 85..215: the mask steps 90..200 (b(80) = 18 of 24 triplets, b(T) = 12) and the
        // final mask (210).
        adalora::LoopHooks window;
        window.before_step = [](long t, ada_model *m) {
            if (t >= 85 && t <= 215) m->params[0] = NAN;
        };
        REQUIRE(adalora::run_and_write(c, adalora::LogMode::quiet, &window).finished);
        auto s = nlohmann::json::parse(read_file(d.path / "run" / "summary.json"));
        CHECK(s["skipped_steps"] == 131);
        long kept = 0;
        for (auto &[name, rank] : s["kept_rank"].items()) kept += rank.get<long>();
        CHECK(kept == s["target_budget"].get<long>());
    }
}
