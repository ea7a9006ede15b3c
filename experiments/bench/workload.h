// workload.h: a piece of work to time, and how each benchmark reports it.
//
// Every benchmark times Workload::run(). A workload whose run issues GEMMs is
// registered twice: as NAME, reporting FLOP/s from the FLOPs of the GEMMs one
// run really issues (recorded, gemm_capture.h), and as sgemm:NAME, which
// replays exactly those cblas_sgemm calls and reports their FLOP/s: the
// rate OpenBLAS reaches on the same shapes, measured in the same run.
#pragma once

#include <benchmark/benchmark.h>

#include <functional>
#include <memory>
#include <string>

namespace bench {

class Workload {
public:
    virtual ~Workload() = default;
    virtual void run() = 0;
    // Called after the warm-up run: forget what it counted.
    virtual void reset() {}
    // Extra counters for `iterations` timed runs.
    virtual void report(benchmark::State &, long iterations) { (void)iterations; }
};

using WorkloadFactory = std::function<std::unique_ptr<Workload>()>;

// Registers NAME and, for a GEMM workload (gemm), its FLOP/s and sgemm:NAME.
// Other workloads report their own counters (bytes/s, items/s) or time only.
void register_workload(const std::string &name, WorkloadFactory make, bool gemm);

}  // namespace bench
