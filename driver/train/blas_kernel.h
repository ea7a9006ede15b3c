// blas_kernel.h: which OpenBLAS kernel runs, and picking a better one.
//
// Debian's OpenBLAS 0.3.21 (DYNAMIC_ARCH) does not know some recent x86 cores
// and then falls back to a generic kernel ("Prescott", "Core2", "Nehalem",
// "Sandybridge", ...) that leaves AVX2 / AVX-512 unused (sgemm several times
// slower). OpenBLAS reads OPENBLAS_CORETYPE once, when the library loads, so
// the only way to change the kernel of a running process is to run it again:
// the driver re-executes itself with OPENBLAS_CORETYPE set.
//
// --blas-kernel auto    (default) re-execute with Haswell (AVX2) or SkylakeX
//                       (AVX-512) when the kernel is a generic fallback on a CPU
//                       that has those instructions, unless the user set
//                       OPENBLAS_CORETYPE;
//               keep    never re-execute;
//               KERNEL  run with OPENBLAS_CORETYPE=KERNEL (an OpenBLAS core name).
#pragma once

#include <string>
#include <vector>

namespace adalora {

struct CpuSimd {
    bool avx2 = false, avx512 = false;  // AVX2, AVX-512 Foundation
};

// What this CPU supports (cpuid, through the compiler's builtins).
CpuSimd cpu_simd();

// OpenBLAS's x86-64 core names that OPENBLAS_CORETYPE accepts.
const std::vector<std::string> &blas_kernel_names();

// Whether an OpenBLAS core name is one of the generic pre-AVX2 kernels.
bool is_generic_kernel(const std::string &corename);

// Throws UsageError unless mode is auto, keep or a known kernel name.
void check_blas_kernel_mode(const std::string &mode);

// The decision, a pure function: the OPENBLAS_CORETYPE to re-execute with,
// or "" to go on with the current kernel. corename: the kernel running now;
// user_coretype: OPENBLAS_CORETYPE as found in the environment ("" if unset).
std::string kernel_to_select(const std::string &mode, const std::string &corename,
                             const std::string &user_coretype, CpuSimd simd);

// Applies the decision to this process: prints one line on stderr and
// re-executes argv with OPENBLAS_CORETYPE set when kernel_to_select asks for
// it (once: the re-executed process does not decide again); else returns.
void apply_blas_kernel(const std::string &mode, char **argv);

// One line on how the running kernel was chosen (for logs and summary.json).
std::string blas_kernel_choice();

}  // namespace adalora
