// test_blas_kernel.cpp: the BLAS kernel decision (driver/blas_kernel.h) case
// by case, the forced kernel and keep through the real driver binary, and
// that two kernels give the same run within float tolerance.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "train/blas_kernel.h"
#include "support/test_files.h"

namespace fs = std::filesystem;
using adalora::CpuSimd;
using adalora::kernel_to_select;

namespace {

const CpuSimd kAvx512{true, true}, kAvx2{true, false}, kOld{false, false};

// Runs the driver beside this test binary in `dir` with an environment
// prefix; returns its exit code (stdout and stderr into dir/log.txt).
int run_driver(const test::TempDir &dir, const std::string &env, const std::string &args) {
    const std::string bin = (fs::read_symlink("/proc/self/exe").parent_path() / "adalora").string();
    const std::string cmd = "cd '" + dir.path.string() + "' && env -u ADALORA_BLAS_KERNEL_CHOICE " + env + " '" +
                            bin + "' " + args + " >log.txt 2>&1";
    int status = std::system(cmd.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

nlohmann::json summary_of(const test::TempDir &dir, const std::string &run) {
    std::ifstream f(dir.path / run / "summary.json");
    REQUIRE(f.good());
    return nlohmann::json::parse(f);
}

std::string log_of(const test::TempDir &dir) {
    std::ifstream f(dir.path / "log.txt");
    return std::string(std::istreambuf_iterator<char>(f), {});
}

// A short planted-MLP run: every product through the BLAS kernel under test.
const std::string kShort =
    "train --task planted-mlp --width 32 --layers 2 --train-rows 256 --test-rows 256 --batch 32 --init_r 4 "
    "--target_r 2 --tinit 10 --tfinal 20 --deltaT 5 --total_step 80 --log quiet";

}  // namespace

TEST_CASE("blas kernel: auto replaces a generic fallback by the CPU's best kernel") {
    CHECK(kernel_to_select("auto", "Prescott", "", kAvx512) == "SkylakeX");
    CHECK(kernel_to_select("auto", "Prescott", "", kAvx2) == "Haswell");
    CHECK(kernel_to_select("auto", "Nehalem", "", kAvx2) == "Haswell");
    CHECK(kernel_to_select("auto", "Core2", "", kAvx512) == "SkylakeX");
    CHECK(kernel_to_select("auto", "Sandybridge", "", kAvx2) == "Haswell");
    CHECK(kernel_to_select("auto", "PRESCOTT", "", kAvx2) == "Haswell");  // names are case-insensitive
    // no better kernel for this CPU, or the kernel is not a fallback
    CHECK(kernel_to_select("auto", "Prescott", "", kOld) == "");
    CHECK(kernel_to_select("auto", "Cooperlake", "", kAvx512) == "");
    CHECK(kernel_to_select("auto", "Haswell", "", kAvx2) == "");
    CHECK(kernel_to_select("auto", "Zen", "", kAvx2) == "");
    // the user's OPENBLAS_CORETYPE is respected, even when it is a fallback
    CHECK(kernel_to_select("auto", "Prescott", "Prescott", kAvx512) == "");
}

TEST_CASE("blas kernel: keep never re-runs, a named kernel is forced") {
    CHECK(kernel_to_select("keep", "Prescott", "", kAvx512) == "");
    CHECK(kernel_to_select("Haswell", "Cooperlake", "", kAvx512) == "Haswell");
    CHECK(kernel_to_select("Prescott", "Cooperlake", "", kAvx512) == "Prescott");
    CHECK(kernel_to_select("Haswell", "Prescott", "Prescott", kAvx512) == "Haswell");  // overrides the user's
    CHECK(kernel_to_select("haswell", "Haswell", "Haswell", kAvx2) == "");             // already running
    CHECK(adalora::is_generic_kernel("Prescott"));
    CHECK_FALSE(adalora::is_generic_kernel("SkylakeX"));
    CHECK(test::usage_error([] { adalora::check_blas_kernel_mode("Pentium"); }).find(
              "--blas-kernel Pentium: allowed values are auto, keep, ") == 0);
    CHECK(test::usage_error([] { adalora::check_blas_kernel_mode("SkylakeX"); }) == "");
}

TEST_CASE("blas kernel: --blas-kernel KERNEL re-runs the driver with that kernel, keep does not; summary.json says which ran") {
    test::TempDir dir;
    REQUIRE(run_driver(dir, "-u OPENBLAS_CORETYPE", kShort + " --blas-kernel Prescott --out forced") == 0);
    nlohmann::json m = summary_of(dir, "forced")["machine"];
    CHECK(m["blas_kernel"] == "Prescott");
    CHECK(m["openblas_coretype"] == "Prescott");
    CHECK(m["blas_kernel_choice"].get<std::string>().find("set by the driver (--blas-kernel Prescott)") !=
          std::string::npos);
    CHECK(log_of(dir).find("re-running with OPENBLAS_CORETYPE=Prescott") != std::string::npos);
    CHECK(m["blas_version"].get<std::string>().rfind("OpenBLAS ", 0) == 0);
    CHECK(summary_of(dir, "forced")["peak_rss_kib"].get<long>() > 0);

    REQUIRE(run_driver(dir, "OPENBLAS_CORETYPE=Prescott", kShort + " --blas-kernel keep --out kept") == 0);
    m = summary_of(dir, "kept")["machine"];
    CHECK(m["blas_kernel"] == "Prescott");
    CHECK(m["blas_kernel_choice"] == "OPENBLAS_CORETYPE=Prescott set by the user");
    CHECK(log_of(dir).find("re-running") == std::string::npos);

    // auto leaves the user's fallback alone
    REQUIRE(run_driver(dir, "OPENBLAS_CORETYPE=Prescott", kShort + " --out user") == 0);
    CHECK(summary_of(dir, "user")["machine"]["blas_kernel"] == "Prescott");
    CHECK(run_driver(dir, "", kShort + " --blas-kernel Pentium4 --out bad") == 2);
    CHECK_FALSE(fs::exists(dir.path / "bad"));
}

TEST_CASE("blas kernel: the same run with the generic and the AVX2 kernel agrees within float tolerance") {
    test::TempDir dir;
    REQUIRE(run_driver(dir, "", kShort + " --blas-kernel Prescott --out prescott") == 0);
    REQUIRE(run_driver(dir, "", kShort + " --blas-kernel Haswell --out haswell") == 0);
    nlohmann::json a = summary_of(dir, "prescott"), b = summary_of(dir, "haswell");
    REQUIRE(a["machine"]["blas_kernel"] == "Prescott");
    REQUIRE(b["machine"]["blas_kernel"] == "Haswell");
    for (const char *key : {"final_train_loss", "final_test_loss"}) {
        const double x = a[key].get<double>(), y = b[key].get<double>();
        CAPTURE(key);
        CAPTURE(x);
        CAPTURE(y);
        CHECK(std::fabs(x - y) <= 1e-4 * std::fabs(x));
    }
    CHECK(a["kept_rank"] == b["kept_rank"]);
}
