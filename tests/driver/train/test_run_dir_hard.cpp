// test_run_dir_hard.cpp: a run directory on another node and under contention
// (issue 12): a resume under another BLAS configuration proceeds and says so,
// one process at a time runs a run directory, a failed save leaves no
// temporary file, an unknown OPENBLAS_CORETYPE is reported as ignored, and an
// unfinished run is not exported.
#include <doctest/doctest.h>

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>

#include "support/test_files.h"
#include "support/test_sandbox.h"
#include "train/blas_kernel.h"
#include "train/memory_estimate.h"
#include "train/run_dir.h"

namespace fs = std::filesystem;
using test::kTiny;
using test::Sandbox;

namespace {

// The driver with an environment prefix (read at process start, as
// OPENBLAS_NUM_THREADS and OPENBLAS_CORETYPE are).
test::Result run_env(const Sandbox &box, const std::string &env, const std::string &args) {
    const std::string cmd = "cd '" + box.work.string() + "' && env -u ADALORA_BLAS_KERNEL_CHOICE " + env + " '" +
                            test::driver_binary() + "' " + args + " >'" + (box.root / "stdout.txt").string() +
                            "' 2>'" + (box.root / "stderr.txt").string() + "'";
    const int status = std::system(cmd.c_str());
    test::Result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = test::read_text(box.root / "stdout.txt");
    r.err = test::read_text(box.root / "stderr.txt");
    return r;
}

nlohmann::json summary_of(const Sandbox &box, const std::string &run) {
    return nlohmann::json::parse(test::read_text(box.work / run / "summary.json"));
}

const std::string kLine = "resuming under a different BLAS configuration (saved: ";

}  // namespace

TEST_CASE("resume: under another OPENBLAS_NUM_THREADS it proceeds, says so in one line, and summary.json lists each change") {
    Sandbox box;
    const std::string t1 = "OPENBLAS_NUM_THREADS=1", t2 = "OPENBLAS_NUM_THREADS=2";
    REQUIRE(run_env(box, t1, "train " + kTiny + " --stop-after 40 --out run").code == 0);
    test::Result second = run_env(box, t2, "train --resume run --stop-after 80 --log quiet");
    CAPTURE(second.err);
    REQUIRE(second.code == 0);  // before: exit 2 (the task data differed)
    CHECK(second.err.find(kLine) != std::string::npos);
    CHECK(second.err.find("1 thread(s), now: ") != std::string::npos);
    CHECK(second.err.find("the continuation is not bit for bit") != std::string::npos);
    CHECK(test::lines_of(second.err).size() == 1);
    test::Result third = run_env(box, t1, "train --resume run");
    REQUIRE(third.code == 0);
    CHECK(third.err.find(kLine) != std::string::npos);
    const nlohmann::json changes = summary_of(box, "run")["blas_changes"];
    REQUIRE(changes.size() == 2);  // carried through the checkpoint of step 80
    CHECK(changes[0]["step"] == 40);
    CHECK(changes[0]["saved"].get<std::string>().find("1 thread(s)") != std::string::npos);
    CHECK(changes[0]["now"].get<std::string>().find("2 thread(s)") != std::string::npos);
    CHECK(changes[1]["step"] == 80);
    CHECK(changes[1]["now"].get<std::string>().find("1 thread(s)") != std::string::npos);
    // The same configuration: no line, no change recorded.
    REQUIRE(run_env(box, t1, "train " + kTiny + " --stop-after 40 --out same").code == 0);
    test::Result same = run_env(box, t1, "train --resume same");
    REQUIRE(same.code == 0);
    CHECK(same.err.find(kLine) == std::string::npos);
    CHECK(summary_of(box, "same")["blas_changes"].empty());
}

TEST_CASE("resume: under another BLAS kernel (Prescott, then Haswell) it proceeds and records the change") {
    if (!adalora::cpu_simd().avx2) {
        MESSAGE("no AVX2: the Haswell kernel cannot run here");
        return;
    }
    Sandbox box;
    REQUIRE(run_env(box, "OPENBLAS_CORETYPE=Prescott", "train " + kTiny + " --stop-after 40 --out run").code == 0);
    test::Result r = run_env(box, "OPENBLAS_CORETYPE=Haswell", "train --resume run");
    CAPTURE(r.err);
    REQUIRE(r.code == 0);
    CHECK(r.err.find(kLine) != std::string::npos);
    const nlohmann::json changes = summary_of(box, "run")["blas_changes"];
    REQUIRE(changes.size() == 1);
    CHECK(changes[0]["saved"].get<std::string>().find("kernel Prescott") != std::string::npos);
    CHECK(changes[0]["now"].get<std::string>().find("kernel Haswell") != std::string::npos);
}

TEST_CASE("run directory lock: a second --resume while one runs exits 2 naming the holder's pid") {
    Sandbox box;
    const std::string long_run = "train " + kTiny + " --total_step 400000 --stop-after 5 --out run";
    REQUIRE(box.run(long_run).code == 0);
    const std::string bg = "cd '" + box.work.string() + "' && (exec '" + test::driver_binary() +
                           "' train --resume run >/dev/null 2>'" + (box.root / "bg.txt").string() + "') & echo $! >'" +
                           (box.root / "bg.pid").string() + "'";
    REQUIRE(std::system(bg.c_str()) == 0);
    std::string pid;
    for (int i = 0; i < 300 && pid.empty(); i++) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        pid = test::read_text(box.root / "bg.pid");
        while (!pid.empty() && pid.back() == '\n') pid.pop_back();
    }
    REQUIRE(!pid.empty());
    // The holder writes its pid into the lock file once it holds the lock.
    std::string holder;
    for (int i = 0; i < 1500 && holder != pid + "\n"; i++) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        holder = test::read_text(box.work / "run" / adalora::kLockFile);
    }
    REQUIRE(holder == pid + "\n");
    test::Result second = box.run("train --resume run");
    ::kill(std::stoi(pid), SIGKILL);  // the first one, started above
    CAPTURE(second.err);
    CHECK(second.code == 2);  // before: both ran and shared checkpoint.bin.tmp
    CHECK(test::lines_of(second.err).size() == 1);
    CHECK(second.err.find("pid " + pid) != std::string::npos);
    // The lock dies with its holder (SIGKILL too): the run resumes again.
    for (int i = 0; i < 200 && ::kill(std::stoi(pid), 0) == 0; i++)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(box.run("train --resume run --stop-after 10").code == 0);
}

TEST_CASE("checkpoint save: a full disk leaves no checkpoint.bin.tmp, the old checkpoint, and the errno text") {
    test::TempDir d;
    const fs::path dir = d.path;
    std::ofstream(dir / adalora::kCheckpointFile) << "old";
    // /dev/full: every write fails with ENOSPC, as on a full file system.
    fs::create_symlink("/dev/full", dir / "checkpoint.bin.tmp");
    std::string why;
    try {
        adalora::save_checkpoint(dir.string(), std::string(1 << 16, 'x'));
    } catch (const std::runtime_error &e) {
        why = e.what();
    }
    CHECK(why.find("No space left on device") != std::string::npos);
    CHECK_FALSE(fs::exists(fs::symlink_status(dir / "checkpoint.bin.tmp")));  // before: left behind
    CHECK(test::read_text(dir / adalora::kCheckpointFile) == "old");
}

TEST_CASE("blas kernel: an OPENBLAS_CORETYPE OpenBLAS does not know is reported as ignored, not as set by the user") {
    Sandbox box;
    test::Result r = run_env(box, "OPENBLAS_CORETYPE=NoSuchCore", "train " + kTiny + " --log lines --out run");
    REQUIRE(r.code == 0);
    const std::string choice = summary_of(box, "run")["machine"]["blas_kernel_choice"];
    CAPTURE(choice);
    CHECK(choice.find("OPENBLAS_CORETYPE=NoSuchCore ignored by OpenBLAS (unknown name NoSuchCore; it chose ") == 0);
    CHECK(r.err.find("ignored by OpenBLAS (unknown name NoSuchCore") != std::string::npos);
}

TEST_CASE("export: an unfinished run says so and how to go on") {
    Sandbox box;
    REQUIRE(box.run("train " + kTiny + " --stop-after 20 --out run").code == 0);
    test::expect_usage_error(box, "export run --out peft", "run run is unfinished (stopped at step 20 of 120): resume it first");
}

TEST_CASE("memory estimate: within a factor of 3 of what a real run adds to its peak memory") {
    Sandbox box;
    auto config = [](int width, int rows) {
        adalora::RunConfig c;
        c.task_opt.width = width;
        c.task_opt.layers = 2;
        c.task_opt.train_rows = c.task_opt.test_rows = rows;
        c.init_r = 8;
        c.target_r = 2;
        c.batch = 32;
        return c;
    };
    auto args = [](const adalora::RunConfig &c, const std::string &out) {
        return "train --width " + std::to_string(c.task_opt.width) + " --layers 2 --train-rows " +
               std::to_string(c.task_opt.train_rows) + " --test-rows " + std::to_string(c.task_opt.test_rows) +
               " --init_r 8 --target_r 2 --batch 32 --tinit 2 --tfinal 2 --deltaT 2 --total_step 10 --log quiet --out " +
               out;
    };
    const adalora::RunConfig small = config(8, 64), big = config(128, 2048);
    REQUIRE(box.run(args(small, "small")).code == 0);
    REQUIRE(box.run(args(big, "big")).code == 0);
    const double measured = 1024.0 * (summary_of(box, "big")["peak_rss_kib"].get<double>() -
                                      summary_of(box, "small")["peak_rss_kib"].get<double>());
    const double estimated = adalora::estimate_run_bytes(big) - adalora::estimate_run_bytes(small);
    CAPTURE(measured);
    CAPTURE(estimated);
    CHECK(estimated > measured / 3);
    CHECK(estimated < measured * 3);
}

TEST_CASE("resume: digits under another kernel resumes from its cached base, and without the cache names it") {
    if (!adalora::cpu_simd().avx2) {
        MESSAGE("no AVX2: the Haswell kernel cannot run here");
        return;
    }
    Sandbox box;
    const std::string data = fs::absolute(test::vendored_file()).parent_path().string();
    const std::string run = "train --task digits --data-dir '" + data +
                            "' --cache-dir cache --pretrain-steps 200 --total_step 60 --tinit 5 --tfinal 10 "
                            "--stop-after 20 --log quiet --out ";
    REQUIRE(run_env(box, "OPENBLAS_CORETYPE=Prescott", run + "a").code == 0);
    test::Result with_cache = run_env(box, "OPENBLAS_CORETYPE=Haswell", "train --resume a --log quiet");
    CHECK(with_cache.code == 0);  // the cache file is the base: the same bits on any node
    CHECK(with_cache.err.find(kLine) != std::string::npos);
    REQUIRE(run_env(box, "OPENBLAS_CORETYPE=Prescott", run + "b").code == 0);
    fs::remove_all(box.work / "cache");  // a node without the cache recomputes the base under its own BLAS
    test::Result without = run_env(box, "OPENBLAS_CORETYPE=Haswell", "train --resume b --log quiet");
    CAPTURE(without.err);
    CHECK(without.code == 2);
    CHECK(without.err.find("the pretrained base is the cache file cache/digits-base-") != std::string::npos);
    CHECK(without.err.find("copy it along with the run") != std::string::npos);
}
