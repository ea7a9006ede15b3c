// console_log.h: what a run tells stderr as it trains (--log).
#pragma once

#include <chrono>

extern "C" {
#include "trainer.h"
}

namespace adalora {

enum class LogMode { quiet, lines, progress };

// lines: step 1, every total/10 steps and the last, with the mean task loss
// since the previous line (one batch is noisy) and every module's kept rank;
// progress: one rewritten line at most every 0.2 s, with an ETA; quiet: nothing.
class ConsoleLog {
public:
    ConsoleLog(LogMode mode, long total) : mode_(mode), total_(total) {}
    void step(const ada_step_info &info, const ada_model *m);

private:
    using Clock = std::chrono::steady_clock;
    LogMode mode_;
    long total_;
    Clock::time_point t0_ = Clock::now();
    double last_print_ = -1;
    double task_sum_ = 0;  // task losses since the last line
    long task_count_ = 0;

    void progress_line(const ada_step_info &info, double now);
    void plain_line(const ada_step_info &info, const ada_model *m);
};

}  // namespace adalora
