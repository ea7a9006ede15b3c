// memory_estimate.h: what a training run will allocate, estimated from its
// options before anything is allocated, so an impossible size (--init_r 1e8,
// --train-rows 2e9, --width 8192 --layers 4) is refused at once (exit 2)
// instead of ending in std::bad_alloc after minutes of work.
//
// The estimate counts, in reals: every module's frozen W0 and bias; the
// adapter arena six times (parameters, gradients, two AdamW moments, the EMAs
// Ī and Ū); the forward and backward activations of a batch; the task's data
// (inputs and targets of every chain, both splits; the planted teacher); the
// trainer's per-triplet buffers. It is tested against the peak memory of a
// real run (tests/driver/train/test_run_dir_hard.cpp): within a factor of 3.
#pragma once

#include <cstdint>
#include <string>

#include "config/run_config.h"

namespace adalora {

// Bytes the run of cfg needs (see above).
double estimate_run_bytes(const RunConfig &cfg);

// This machine's physical memory in bytes (sysconf), 0 when unknown.
double machine_memory_bytes();

// Throws UsageError naming the estimate and the machine's memory when the
// run cannot fit.
void check_run_fits(const RunConfig &cfg);

}  // namespace adalora
