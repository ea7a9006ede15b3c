// workload.cpp: the two benchmark bodies every workload shares.
#include "workload.h"

#include "gemm_capture.h"

#include <algorithm>
#include <vector>

namespace bench {

namespace {

// GEMM FLOPs one run issues, counted by recording the warm-up run.
double warm_up(Workload &w) {
    GemmRecorder rec;
    w.run();
    return rec.flops();
}

void time_workload(benchmark::State &state, const WorkloadFactory &make, bool gemm) {
    std::unique_ptr<Workload> w = make();
    const double flops = warm_up(*w);
    w->reset();
    for (auto _ : state) w->run();
    if (gemm) {
        state.counters["FLOP/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
        state.counters["gemm_flops"] = flops;
    }
    w->report(state, (long)state.iterations());
}

void time_sgemm_replay(benchmark::State &state, const WorkloadFactory &make) {
    std::unique_ptr<GemmReplay> replay;
    {
        std::unique_ptr<Workload> w = make();
        GemmRecorder rec;
        w->run();
        replay = std::make_unique<GemmReplay>(rec.calls());
    }  // the workload's memory is gone before the replay is timed
    replay->run();  // warm-up
    for (auto _ : state) replay->run();
    state.counters["FLOP/s"] = benchmark::Counter(replay->flops(), benchmark::Counter::kIsIterationInvariantRate);
    state.counters["gemm_flops"] = replay->flops();
}

// With --benchmark_repetitions: the largest value over the repetitions too
// (for counts that must be 0 in every run, not only in the median one).
double largest(const std::vector<double> &v) { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }

}  // namespace

void register_workload(const std::string &name, WorkloadFactory make, bool gemm) {
    benchmark::RegisterBenchmark(name.c_str(), [make, gemm](benchmark::State &s) { time_workload(s, make, gemm); })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->ComputeStatistics("max", largest);
    if (gemm)
        benchmark::RegisterBenchmark(("sgemm:" + name).c_str(),
                                     [make](benchmark::State &s) { time_sgemm_replay(s, make); })
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
}

}  // namespace bench
