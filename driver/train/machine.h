// machine.h: where a number was measured: the CPU, the BLAS library and the
// kernel it runs, OPENBLAS_CORETYPE, the thread count and the commit the
// binary was built from (not that of the working directory: a run started
// inside another repository records ours, or none when unknown). Every run
// records it in summary.json ("machine"), and the report's header uses it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace adalora {

struct MachineInfo {
    std::string cpu = "unknown";
    int cores = 0;              // logical cores
    std::string blas = "unknown (not OpenBLAS)";
    std::string blas_kernel = "unknown";
    int blas_threads = 0;
    std::string blas_version = "unknown";
    std::string coretype;       // OPENBLAS_CORETYPE, empty when not set
    std::string kernel_choice;  // how the kernel was chosen (blas_kernel.h)
    std::string commit;         // the commit the binary was built from; "" = unknown
    bool commit_dirty = false;  // built from a tree that differed from it
};

MachineInfo machine_info();
nlohmann::json to_json(const MachineInfo &m);

// One log line: "BLAS: OpenBLAS 0.3.21, kernel Cooperlake (how chosen), N threads".
std::string blas_line(const MachineInfo &m);

// The commit this binary was built from (embedded at build time by
// tools/build-commit.sh), "" when unknown, and whether the tree was dirty.
std::string build_commit();
bool build_commit_dirty();

// The BLAS configuration a run's bits depend on (checkpoints record it):
// "OpenBLAS 0.3.21, kernel Haswell, 2 thread(s)".
std::string blas_config(const MachineInfo &m);

}  // namespace adalora
