/* rng.c: xoshiro256** (Blackman & Vigna), splitmix64 seeding, Box-Muller. */
#include <math.h>

#include "rng.h"
#include "ada_error.h"

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void ada_rng_seed(ada_rng *rng, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&x);
    rng->spare = 0.0;
    rng->has_spare = 0;
}

ada_status ada_rng_set_state(ada_rng *rng, const uint64_t s[4], double spare, int has_spare) {
    static const char fn[] = "ada_rng_set_state";
    ADA_REQUIRE_PTR(rng, fn);
    ADA_REQUIRE_PTR(s, fn);
    if ((s[0] | s[1] | s[2] | s[3]) == 0)
        return ada_fail(ADA_ERR_RANGE, "%s: the all-zero state, allowed: any other", fn);
    if (has_spare != 0 && has_spare != 1)
        return ada_fail(ADA_ERR_RANGE, "%s: has_spare = %d, allowed: 0, 1", fn, has_spare);
    if (!isfinite(spare)) return ada_fail(ADA_ERR_NONFINITE, "%s: spare is %g", fn, spare);
    for (int i = 0; i < 4; i++) rng->s[i] = s[i];
    rng->spare = spare;
    rng->has_spare = has_spare;
    return ADA_OK;
}

/* xoshiro256** next (used by the draws below only). */
static uint64_t rng_next(ada_rng *rng) {
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double ada_rng_uniform(ada_rng *rng) {
    return (double)(rng_next(rng) >> 11) * 0x1.0p-53;
}

uint64_t ada_rng_below(ada_rng *rng, uint64_t n) {
    /* Reject the top partial block so every residue is equally likely. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = rng_next(rng);
    while (x >= limit);
    return x % n;
}

double ada_rng_normal(ada_rng *rng) {
    if (rng->has_spare) {
        rng->has_spare = 0;
        return rng->spare;
    }
    double u1 = 1.0 - ada_rng_uniform(rng); /* in (0, 1]: log() stays finite */
    double u2 = ada_rng_uniform(rng);
    double radius = sqrt(-2.0 * log(u1));
    double angle = 6.283185307179586 * u2;
    rng->spare = radius * sin(angle);
    rng->has_spare = 1;
    return radius * cos(angle);
}

void ada_rng_fill_normal(ada_rng *rng, real *x, size_t n, double mean, double std) {
    for (size_t i = 0; i < n; i++) x[i] = (real)(mean + std * ada_rng_normal(rng));
}
