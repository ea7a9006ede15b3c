// console_log.cpp: the stderr lines of a training run.
#include "train/console_log.h"

#include <algorithm>
#include <cstdio>
#include <string>

namespace adalora {

namespace {
std::string ranks_text(const ada_model *m) {
    if (m->n_modules == 0) return "- (no adapted matrix)";
    std::string s;
    for (int k = 0; k < m->n_modules; k++) s += (k ? " " : "") + std::to_string(ada_model_kept_rank(m, k));
    return s;
}
}  // namespace

void ConsoleLog::step(const ada_step_info &info, const ada_model *m) {
    if (mode_ == LogMode::quiet) return;
    task_sum_ += info.task_loss;
    task_count_++;
    const double now = std::chrono::duration<double>(Clock::now() - t0_).count();
    if (mode_ == LogMode::progress) progress_line(info, now);
    else plain_line(info, m);
}

void ConsoleLog::progress_line(const ada_step_info &info, double now) {
    if (now - last_print_ < 0.2 && info.step != total_) return;
    last_print_ = now;
    double eta = now / info.step * (total_ - info.step);
    std::fprintf(stderr, "\r[%ld/%ld] loss %.5g  b(t) %ld  kept %ld  ETA %.1fs   ", info.step, total_, info.loss,
                 info.budget, info.kept, eta);
    if (info.step == total_) std::fprintf(stderr, "\n");
}

void ConsoleLog::plain_line(const ada_step_info &info, const ada_model *m) {
    long every = std::max(1L, total_ / 10);
    if (info.step == 1 || info.step % every == 0 || info.step == total_) {
        std::fprintf(stderr, "step %6ld/%ld  loss %.6g  task loss (mean since last line) %.6g  b(t) %ld  kept ranks %s\n",
                     info.step, total_, info.loss, task_sum_ / task_count_, info.budget, ranks_text(m).c_str());
        task_sum_ = 0;
        task_count_ = 0;
    }
}

}  // namespace adalora
