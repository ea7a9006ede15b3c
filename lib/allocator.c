/* allocator.c: Eq. 8, global top-b selection by quickselect. */
#include <math.h>
#include <string.h>

#include "allocator.h"
#include "ada_error.h"

/* Strict total order: a before b if its score is higher, or equal with a lower
 * index. No two entries compare equal, so the top b is unique. */
static int ranks_before(const real *score, int32_t a, int32_t b) {
    return score[a] > score[b] || (score[a] == score[b] && a < b);
}

static void swap_i32(int32_t *x, int32_t *y) {
    int32_t t = *x;
    *x = *y;
    *y = t;
}

/* Rearranges idx[0..n) so idx[target] holds the entry of rank `target` in the
 * order above, all earlier positions rank before it, all later after it. */
static void quickselect(int32_t *idx, long n, long target, const real *score) {
    uint64_t state = 0x2545f4914f6cdd1dULL; /* fixed seed: deterministic pivots */
    long lo = 0, hi = n - 1;
    while (lo < hi) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        long p = lo + (long)(state % (uint64_t)(hi - lo + 1));
        swap_i32(&idx[p], &idx[hi]);
        int32_t pivot = idx[hi];
        long store = lo;
        for (long i = lo; i < hi; i++)
            if (ranks_before(score, idx[i], pivot)) swap_i32(&idx[i], &idx[store++]);
        swap_i32(&idx[store], &idx[hi]);
        if (store == target) return;
        if (store < target) lo = store + 1;
        else hi = store - 1;
    }
}

/* Eq. 8: the top-b(t) triplets over all matrices keep their λ. */
ada_status ada_select_top_budget(uint8_t *keep, real *threshold, const real *scores,
                                 long n, long budget, ada_ties ties, int32_t *work) {
    static const char fn[] = "ada_select_top_budget";
    ADA_REQUIRE_PTR(keep, fn); ADA_REQUIRE_PTR(threshold, fn);
    ADA_REQUIRE_PTR(scores, fn); ADA_REQUIRE_PTR(work, fn);
    if (n < 1 || n > INT32_MAX)
        return ada_fail(ADA_ERR_DIM, "%s: n = %ld, allowed: 1..%ld", fn, n, (long)INT32_MAX);
    if (budget < 0 || budget > n)
        return ada_fail(ADA_ERR_RANGE, "%s: budget = %ld, allowed: 0..n = %ld", fn, budget, n);
    if (ties != ADA_TIES_EXACT && ties != ADA_TIES_KTHVALUE)
        return ada_fail(ADA_ERR_RANGE, "%s: ties = %d, allowed: 0 (exact), 1 (kthvalue)", fn,
                        (int)ties);
    for (long i = 0; i < n; i++)
        if (isnan(scores[i]) || scores[i] == (real)INFINITY)
            return ada_fail(ADA_ERR_NONFINITE, "%s: score %ld is %g (NaN or +Inf)", fn, i,
                            (double)scores[i]);
    if (budget == n) { /* nothing to prune: an ordinary case */
        memset(keep, 1, (size_t)n);
        *threshold = (real)-INFINITY;
        return ADA_OK;
    }
    for (long i = 0; i < n; i++) work[i] = (int32_t)i;
    quickselect(work, n, budget, scores);
    real cut = scores[work[budget]]; /* the best pruned: the (n − b)-th smallest */
    if (ties == ADA_TIES_EXACT) {
        memset(keep, 0, (size_t)n);
        for (long j = 0; j < budget; j++) keep[work[j]] = 1;
    } else {
        for (long i = 0; i < n; i++) keep[i] = scores[i] > cut;
    }
    *threshold = cut;
    return ADA_OK;
}
