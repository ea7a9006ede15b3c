// clock.h: a wall-clock interval in seconds, for the run's timings.
#pragma once

#include <chrono>

namespace adalora {

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace adalora
