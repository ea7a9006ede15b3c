/* allocator.c: Eq. 8, global top-b selection.
 *
 * The order: a before b if its score is higher, or equal with a lower index;
 * no two entries are equal in it, so the top b is unique. The cut (the score
 * of rank b in that order, the best pruned one) is found by a radix select on
 * order-preserving integer keys of the scores, written into the scratch:
 * counting passes of 8 bits over the candidates left, sequential loops
 * without data-dependent branches to mispredict, O(n) in the worst case
 * (many equal scores included) and deterministic. In float the 32-bit key is
 * the whole score; in double the upper 32 bits are selected first, then the
 * lower 32 among the entries that share them. Two linear passes then write
 * the flags: every score above the cut, and (exact ties) the lowest-index
 * entries equal to it until b are kept. */
#include <math.h>
#include <string.h>

#include "allocator.h"
#include "ada_error.h"
#include "ada_internal.h"

#ifdef ADA_DOUBLE
typedef uint64_t order_key;
#else
typedef uint32_t order_key;
#endif
#define KEY_BITS (8 * (int)sizeof(order_key))
#define KEY_SIGN ((order_key)1 << (KEY_BITS - 1))

/* An unsigned key with key(a) < key(b) iff a < b (x not NaN); -0 and +0
 * share the key of +0. */
static order_key key_of(real x) {
    if (x == 0) x = 0; /* -0 → +0 */
    order_key bits;
    memcpy(&bits, &x, sizeof bits);
    return (bits & KEY_SIGN) ? ~bits : bits | KEY_SIGN;
}

static real real_of(order_key key) {
    order_key bits = (key & KEY_SIGN) ? key & ~KEY_SIGN : ~key;
    real x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

/* The value of ascending rank k (0 <= k < n) among v[0..n), by radix select:
 * byte by byte from the top, count, find the bucket holding rank k and keep
 * only its entries (v is overwritten). */
static uint32_t select_u32(uint32_t *v, long n, long k) {
    for (int shift = 24; shift >= 0; shift -= 8) {
        long count[256] = {0};
        for (long i = 0; i < n; i++) count[(v[i] >> shift) & 255]++;
        uint32_t bucket = 0;
        while (k >= count[bucket]) k -= count[bucket++];
        long m = 0;
        for (long i = 0; i < n; i++)
            if (((v[i] >> shift) & 255) == bucket) v[m++] = v[i];
        n = m;
    }
    return v[0];
}

/* The score of rank `rank` (0 <= rank < n) from the top: the best pruned
 * score when rank = b. work: n int32 scratch. */
static real score_of_rank(const real *scores, long n, long rank, int32_t *work) {
    uint32_t *v = (uint32_t *)work;
    const int low_bits = KEY_BITS - 32; /* 0 in float */
    long k = n - 1 - rank;               /* the same entry's ascending rank */
    for (long i = 0; i < n; i++) v[i] = (uint32_t)(key_of(scores[i]) >> low_bits);
    order_key cut = select_u32(v, n, k);
    if (low_bits > 0) { /* double: the lower half among the entries sharing the upper */
        long m = 0;
        for (long i = 0; i < n; i++) {
            order_key key = key_of(scores[i]);
            uint32_t upper = (uint32_t)(key >> low_bits);
            if (upper < (uint32_t)cut) k--;
            else if (upper == (uint32_t)cut) v[m++] = (uint32_t)key;
        }
        cut = (cut << (low_bits % KEY_BITS)) | select_u32(v, m, k);
    }
    return real_of(cut);
}

ada_status ada_check_ties(const char *fn, ada_ties ties) {
    if (ties != ADA_TIES_EXACT && ties != ADA_TIES_KTHVALUE)
        return ada_fail(ADA_ERR_RANGE, "%s: ties = %d, allowed: 0 (exact), 1 (kthvalue)", fn,
                        (int)ties);
    return ADA_OK;
}

/* Eq. 8: the top-b(t) triplets over all matrices keep their λ. */
ada_status ada_select_top_budget_unchecked(uint8_t *keep, real *threshold, const real *scores,
                                           long n, long budget, ada_ties ties, int32_t *work) {
    for (long i = 0; i < n; i++)
        if (isnan(scores[i]) || scores[i] == (real)INFINITY)
            return ada_fail(ADA_ERR_NONFINITE, "ada_select_top_budget: score %ld is %g (NaN or "
                            "+Inf)", i, (double)scores[i]);
    if (budget == n) { /* nothing to prune: an ordinary case */
        memset(keep, 1, (size_t)n);
        *threshold = (real)-INFINITY;
        return ADA_OK;
    }
    const real cut = score_of_rank(scores, n, budget, work); /* the (n − b)-th smallest */
    long kept = 0;
    for (long i = 0; i < n; i++) kept += keep[i] = scores[i] > cut;
    if (ties == ADA_TIES_EXACT) /* the lowest-index entries at the cut fill the budget */
        for (long i = 0; i < n && kept < budget; i++)
            if (scores[i] == cut) keep[i] = 1, kept++;
    *threshold = cut;
    return ADA_OK;
}

ada_status ada_select_top_budget(uint8_t *keep, real *threshold, const real *scores,
                                 long n, long budget, ada_ties ties, int32_t *work) {
    static const char fn[] = "ada_select_top_budget";
    ADA_REQUIRE_PTR(keep, fn); ADA_REQUIRE_PTR(threshold, fn);
    ADA_REQUIRE_PTR(scores, fn); ADA_REQUIRE_PTR(work, fn);
    if (n < 1 || n > INT32_MAX)
        return ada_fail(ADA_ERR_DIM, "%s: n = %ld, allowed: 1..%ld", fn, n, (long)INT32_MAX);
    if (budget < 0 || budget > n)
        return ada_fail(ADA_ERR_RANGE, "%s: budget = %ld, allowed: 0..n = %ld", fn, budget, n);
    ada_status st = ada_check_ties(fn, ties);
    if (st) return st;
    return ada_select_top_budget_unchecked(keep, threshold, scores, n, budget, ties, work);
}
