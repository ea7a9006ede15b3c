// machine.h: where a number was measured: the CPU, the BLAS library and the
// kernel it runs, OPENBLAS_CORETYPE, the thread count and the commit. Every
// run records it in summary.json ("machine"), and the report's header uses it.
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
    std::string commit = "unknown";
};

MachineInfo machine_info();
nlohmann::json to_json(const MachineInfo &m);

// One log line: "BLAS: OpenBLAS 0.3.21, kernel Cooperlake (how chosen), N threads".
std::string blas_line(const MachineInfo &m);

// The BLAS configuration a run's bits depend on (checkpoints record it):
// "OpenBLAS 0.3.21, kernel Haswell, 2 thread(s)".
std::string blas_config(const MachineInfo &m);

// Standard output of a shell command, trailing newlines removed; "" on failure.
std::string run_capture(const std::string &cmd);

}  // namespace adalora
