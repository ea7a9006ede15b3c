// main.cpp: the benchmark binary (Google Benchmark).
//
//   adalora_bench [--quick] [--blas-kernel auto|keep|KERNEL] [Google Benchmark flags]
//
// --quick registers the subset `make bench` runs (see Makefile); without it
// the full grid: d in {64, 256, 1024, 4096}, r0 in {4, 12, 32}, batch in
// {32, 256}, N from 1e3 to 1e6. The BLAS library, version, kernel and thread
// count are printed and stored in the JSON output's context.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "train/blas_kernel.h"
#include "encoder_step.h"
#include "kernels.h"
#include "train/machine.h"
#include "config/run_config.h"

namespace {

bench::Grid quick_grid() {
    bench::Grid g;
    g.d = {64, 256, 1024};
    g.r0 = {12};
    g.batch = {256};
    g.svd_d = {64, 256, 1024};
    g.triplets = {1000, 10000, 100000, 1000000};
    g.methods = {"adalora", "lora", "svd-lora", "svd-proj", "svd-proj-full"};
    return g;
}

bench::Grid full_grid() {
    bench::Grid g;
    g.d = {64, 256, 1024, 4096};
    g.r0 = {4, 12, 32};
    g.batch = {32, 256};
    g.svd_d = g.d;
    g.triplets = {1000, 3000, 10000, 30000, 100000, 300000, 1000000};
    g.methods = {"adalora", "lora", "svd-lora", "svd-proj", "svd-proj-full"};
    return g;
}

}  // namespace

int main(int argc, char **argv) {
    bool quick = false;
    std::string kernel_mode = "auto";
    std::vector<char *> rest{argv[0]};  // what Google Benchmark parses
    for (int i = 1; i < argc; i++) {
        if (std::strcmp(argv[i], "--quick") == 0) quick = true;
        else if (std::strncmp(argv[i], "--blas-kernel=", 14) == 0) kernel_mode = argv[i] + 14;
        else if (std::strcmp(argv[i], "--blas-kernel") == 0 && i + 1 < argc) kernel_mode = argv[++i];
        else rest.push_back(argv[i]);
    }
    try {
        adalora::apply_blas_kernel(kernel_mode, argv);
    } catch (const adalora::UsageError &e) {
        std::fprintf(stderr, "adalora_bench: %s\n", e.what());
        return 2;
    }
    const adalora::MachineInfo m = adalora::machine_info();
    std::fprintf(stderr, "%s\n", adalora::blas_line(m).c_str());
    benchmark::AddCustomContext("cpu", m.cpu);
    benchmark::AddCustomContext("blas", m.blas);
    benchmark::AddCustomContext("blas_version", m.blas_version);
    benchmark::AddCustomContext("blas_kernel", m.blas_kernel);
    benchmark::AddCustomContext("blas_kernel_choice", m.kernel_choice);
    benchmark::AddCustomContext("blas_threads", std::to_string(m.blas_threads));
    if (!m.commit.empty()) benchmark::AddCustomContext("commit", m.commit + (m.commit_dirty ? "-dirty" : ""));
    benchmark::AddCustomContext("grid", quick ? "quick" : "full");

    int n = (int)rest.size();
    rest.push_back(nullptr);
    benchmark::Initialize(&n, rest.data());
    if (benchmark::ReportUnrecognizedArguments(n, rest.data())) return 2;
    bench::register_all(quick ? quick_grid() : full_grid());
    bench::register_encoder_steps(quick);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
