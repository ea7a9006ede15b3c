/* allocator.h: the global budget allocation of Eq. 8.
 *
 * After the gradient step gives λ̃, λ_i(t+1) = λ̃_i(t) if S_i(t) is among the
 * top b(t) of ALL n·r0 triplet scores of all matrices, else 0. This file
 * decides which; writing the zeros is the trainer's (masking never deletes).
 *
 * Ties (docs/SPEC.md §4, row 7):
 *   EXACT     exactly b kept; among equal scores the lower global index wins.
 *   KTHVALUE  PEFT: threshold = kthvalue(S, k = n − b), every S <= threshold
 *             pruned, so fewer than b may survive; k = 0 keeps all (where
 *             PEFT raises "selected number k out of range").
 * Selection is O(n) in the worst case (a radix select on integer keys of the
 * scores, deterministic), never a full sort. */
#ifndef ADA_ALLOCATOR_H
#define ADA_ALLOCATOR_H

#include "ada_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { ADA_TIES_EXACT = 0, ADA_TIES_KTHVALUE = 1 } ada_ties;

/* Eq. 8: keep[i] = 1 if scores[i] is in the top `budget` of the n scores,
 * else 0. *threshold = the largest pruned score (the k-th smallest, k = n − b),
 * or -INFINITY when nothing is pruned. Scores may be -INFINITY (never wins
 * over a finite score); NaN and +INFINITY are refused. 0 <= budget <= n;
 * budget = n (keep everything) and budget = 0 are ordinary cases.
 * work: n int32 scratch. */
ada_status ada_select_top_budget(uint8_t *keep, real *threshold, const real *scores,
                                 long n, long budget, ada_ties ties, int32_t *work);

/* The check of a tie rule (fn names the caller in the message). */
ada_status ada_check_ties(const char *fn, ada_ties ties);

#ifdef __cplusplus
}
#endif
#endif
