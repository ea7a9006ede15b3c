// demo.h: the `adalora demo` command (the job `make run` runs).
#pragma once

#include <cstdint>

namespace adalora {

struct DemoOptions {
    uint64_t seed = 0;
    int init_r = 8, target_r = 3;   // b(0) = n·init_r, b(T) = n·target_r
    long tinit = 300, tfinal = 500, total_step = 2000, delta_t = 10;
    double lr = 5e-3, orth_reg_weight = 0.1;
    int batch = 32;
    long print_every = 100;
};

int run_demo(const DemoOptions &opt);

}  // namespace adalora
