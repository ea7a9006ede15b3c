// alloc_counter.h: counts the heap allocations made by this thread between
// start() and stop(). alloc_counter.cpp replaces malloc and its relatives in
// the binary it is linked into (the test binary, the benchmark binary) by thin
// wrappers around glibc's own (__libc_malloc, ...), which count while
// counting is on; other threads (OpenBLAS's) are not counted. A call made
// from inside OpenBLAS itself (some of its small-matrix sgemm kernels take a
// scratch buffer per call) is counted apart: it is the BLAS's, not ours.
#pragma once

namespace alloc_counter {

struct Counts {
    long ours = 0;  // every caller but OpenBLAS (the project, the C++ runtime, ...)
    long blas = 0;  // called from OpenBLAS's code
};

// False in an AddressSanitizer build: ASan owns malloc there, and glibc's
// own allocator must not be called beside it, so nothing is replaced or
// counted (the plain build runs the allocation checks).
bool available();

void start();
// Allocations since start(); counting stops.
Counts stop();

}  // namespace alloc_counter
