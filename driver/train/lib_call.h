// lib_call.h: the train layer's two small helpers around library calls:
// a refused call becomes an exception, and a wall-clock interval in seconds.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

extern "C" {
#include "ada_common.h"
}

namespace adalora {

// Throws std::runtime_error("what: <the library's message>") unless st is ADA_OK.
inline void check(ada_status st, const char *what) {
    if (st != ADA_OK) throw std::runtime_error(std::string(what) + ": " + ada_last_error());
}

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace adalora
