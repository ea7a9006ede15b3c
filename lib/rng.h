/* rng.h: the seeded random generator (xoshiro256** seeded by splitmix64) and
 * Gaussian sampling (Box-Muller in double). The same seed gives the same
 * stream on every build and machine: nothing here depends on libc's rand. */
#ifndef ADA_RNG_H
#define ADA_RNG_H

#include "ada_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint64_t s[4];
    double spare;   /* second Box-Muller value, valid when has_spare */
    int has_spare;
} ada_rng;

void ada_rng_seed(ada_rng *rng, uint64_t seed);
uint64_t ada_rng_next(ada_rng *rng);
/* Uniform in [0, 1), 53 random bits. */
double ada_rng_uniform(ada_rng *rng);
/* Uniform integer in [0, n), n >= 1 (unbiased, by rejection). */
uint64_t ada_rng_below(ada_rng *rng, uint64_t n);
/* Standard normal. */
double ada_rng_normal(ada_rng *rng);
/* x[i] = mean + std * N(0, 1) for i < n. */
void ada_rng_fill_normal(ada_rng *rng, real *x, size_t n, double mean, double std);

#ifdef __cplusplus
}
#endif
#endif
