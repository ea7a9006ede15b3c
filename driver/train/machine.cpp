// machine.cpp: reading the machine, the BLAS library and the commit.
#include "train/machine.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "generated/build_commit.h"  // made by tools/build-commit.sh (Makefile)
#include "train/blas_kernel.h"

// OpenBLAS's own description of itself (declared in its <cblas.h>); weak, so a
// build against another BLAS links and reports "unknown".
extern "C" char *openblas_get_config(void) __attribute__((weak));
extern "C" char *openblas_get_corename(void) __attribute__((weak));
extern "C" int openblas_get_num_threads(void) __attribute__((weak));

namespace adalora {

namespace {
std::string trim(const std::string &s) {
    size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t\r\n");
    return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}
}  // namespace

MachineInfo machine_info() {
    MachineInfo m;
    std::ifstream f("/proc/cpuinfo");
    for (std::string line; std::getline(f, line);) {
        if (line.rfind("processor", 0) == 0) m.cores++;
        if (line.rfind("model name", 0) == 0 && m.cpu == "unknown") {
            auto colon = line.find(':');
            if (colon != std::string::npos) m.cpu = trim(line.substr(colon + 1));
        }
    }
    if (openblas_get_config) {
        m.blas = openblas_get_config();  // "OpenBLAS 0.3.21 DYNAMIC_ARCH ..."
        std::istringstream words(m.blas);
        std::string name, version;
        if (words >> name >> version) m.blas_version = name + " " + version;
    }
    m.kernel_choice = blas_kernel_choice();
    if (openblas_get_corename) m.blas_kernel = openblas_get_corename();
    if (openblas_get_num_threads) m.blas_threads = openblas_get_num_threads();
    if (const char *core = std::getenv("OPENBLAS_CORETYPE")) m.coretype = core;
    m.commit = build_commit();
    m.commit_dirty = build_commit_dirty();
    return m;
}

std::string build_commit() { return ADA_BUILD_COMMIT; }
bool build_commit_dirty() { return ADA_BUILD_DIRTY != 0; }

nlohmann::json to_json(const MachineInfo &m) {
    nlohmann::json j = {{"cpu", m.cpu}, {"cores", m.cores}, {"blas", m.blas}, {"blas_version", m.blas_version},
                        {"blas_kernel", m.blas_kernel}, {"blas_kernel_choice", m.kernel_choice},
                        {"blas_threads", m.blas_threads},
                        {"openblas_coretype", m.coretype.empty() ? "not set" : m.coretype}};
    if (!m.commit.empty()) {  // unknown: no commit at all, rather than a wrong one
        j["commit"] = m.commit;
        j["commit_dirty"] = m.commit_dirty;
    }
    return j;
}

std::string blas_config(const MachineInfo &m) {
    return m.blas_version + ", kernel " + m.blas_kernel + ", " + std::to_string(m.blas_threads) + " thread(s)";
}

std::string blas_line(const MachineInfo &m) {
    return "BLAS: " + m.blas_version + ", kernel " + m.blas_kernel + " (" + m.kernel_choice + "), " +
           std::to_string(m.blas_threads) + " thread(s)";
}

}  // namespace adalora
