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
/* Sets a generator to a saved state (a checkpoint's): refused with
 * ADA_ERR_RANGE for the all-zero xoshiro state (it would stay zero for ever)
 * or has_spare outside {0, 1}, ADA_ERR_NONFINITE for a non-finite spare;
 * *rng is untouched then. Saving is reading the struct's fields. */
ada_status ada_rng_set_state(ada_rng *rng, const uint64_t s[4], double spare, int has_spare);
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
