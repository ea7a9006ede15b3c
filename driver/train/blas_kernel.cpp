// blas_kernel.cpp: the kernel decision and the re-execution.
#include "train/blas_kernel.h"

#include <strings.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "config/run_config.h"

extern "C" char *openblas_get_corename(void) __attribute__((weak));

namespace adalora {

namespace {
// Set in the environment of the re-executed process: how its kernel was
// chosen. Its presence also stops a second re-execution.
const char kChoiceEnv[] = "ADALORA_BLAS_KERNEL_CHOICE";

bool same_name(const std::string &a, const std::string &b) { return strcasecmp(a.c_str(), b.c_str()) == 0; }

std::string running_kernel() { return openblas_get_corename ? openblas_get_corename() : "unknown"; }

std::string env_or_empty(const char *name) {
    const char *v = std::getenv(name);
    return v ? v : "";
}
}  // namespace

CpuSimd cpu_simd() {
    CpuSimd s;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    s.avx2 = __builtin_cpu_supports("avx2");
    s.avx512 = __builtin_cpu_supports("avx512f");
#endif
    return s;
}

const std::vector<std::string> &blas_kernel_names() {
    static const std::vector<std::string> names = {
        "Katmai",  "Coppermine", "Northwood",   "Prescott",  "Banias",    "Core2",      "Penryn",
        "Dunnington", "Nehalem", "Atom",        "Athlon",    "Opteron",   "Opteron_SSE3", "Barcelona",
        "Nano",    "Sandybridge", "Bulldozer",  "Piledriver", "Steamroller", "Excavator", "Haswell",
        "Zen",     "SkylakeX",   "Cooperlake"};
    return names;
}

bool is_generic_kernel(const std::string &corename) {
    // The Intel kernels older than Haswell: no AVX2 (Sandybridge has AVX only).
    static const char *generic[] = {"Katmai", "Coppermine", "Northwood", "Prescott", "Banias", "Core2",
                                    "Penryn", "Dunnington", "Nehalem",   "Atom",     "Sandybridge"};
    for (const char *g : generic)
        if (same_name(corename, g)) return true;
    return false;
}

void check_blas_kernel_mode(const std::string &mode) {
    if (mode == "auto" || mode == "keep") return;
    std::string allowed;
    for (const auto &k : blas_kernel_names()) {
        if (same_name(mode, k)) return;
        allowed += ", " + k;
    }
    throw UsageError("--blas-kernel " + mode + ": allowed values are auto, keep" + allowed);
}

std::string kernel_to_select(const std::string &mode, const std::string &corename,
                             const std::string &user_coretype, CpuSimd simd) {
    if (mode == "keep") return "";
    if (mode != "auto") return same_name(mode, user_coretype) && same_name(mode, corename) ? "" : mode;
    if (!user_coretype.empty() || !is_generic_kernel(corename)) return "";
    if (simd.avx512) return "SkylakeX";
    if (simd.avx2) return "Haswell";
    return "";
}

void apply_blas_kernel(const std::string &mode, char **argv) {
    check_blas_kernel_mode(mode);
    if (std::getenv(kChoiceEnv)) return;  // already re-executed once
    const std::string now = running_kernel();
    const std::string user = env_or_empty("OPENBLAS_CORETYPE");
    const CpuSimd simd = cpu_simd();
    const std::string target = kernel_to_select(mode, now, user, simd);
    if (target.empty()) return;
    std::string why = mode == "auto"
                          ? "OpenBLAS chose its generic " + now + " kernel on a CPU with " +
                                (simd.avx512 ? "AVX-512" : "AVX2")
                          : "--blas-kernel " + mode;
    std::string choice = "OPENBLAS_CORETYPE=" + target + " set by the driver (" + why + ")";
    std::fprintf(stderr, "adalora: %s; re-running with OPENBLAS_CORETYPE=%s (--blas-kernel keep: no re-run)\n",
                 why.c_str(), target.c_str());
    std::fflush(stderr);
    setenv("OPENBLAS_CORETYPE", target.c_str(), 1);
    setenv(kChoiceEnv, choice.c_str(), 1);
    execv("/proc/self/exe", argv);
    // Only reached when execv failed: go on with the kernel we have.
    std::fprintf(stderr, "adalora: re-running failed (%s); going on with the %s kernel\n", std::strerror(errno),
                 now.c_str());
    unsetenv(kChoiceEnv);
    if (user.empty()) unsetenv("OPENBLAS_CORETYPE");
    else setenv("OPENBLAS_CORETYPE", user.c_str(), 1);
}

std::string blas_kernel_choice() {
    const std::string chosen = env_or_empty(kChoiceEnv);
    if (!chosen.empty()) return chosen;
    const std::string user = env_or_empty("OPENBLAS_CORETYPE");
    if (user.empty()) return "OpenBLAS's own choice";
    // OpenBLAS falls back silently on a name it does not know (or a kernel
    // this CPU cannot run): only the kernel it runs tells.
    const std::string now = running_kernel();
    if (openblas_get_corename && !same_name(user, now)) {
        bool known = false;
        for (const auto &k : blas_kernel_names()) known = known || same_name(user, k);
        return "OPENBLAS_CORETYPE=" + user + " ignored by OpenBLAS (" +
               (known ? "not run on this CPU: " + user : "unknown name " + user) + "; it chose " + now + ")";
    }
    return "OPENBLAS_CORETYPE=" + user + " set by the user";
}

}  // namespace adalora
