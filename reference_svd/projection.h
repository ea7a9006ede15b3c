/* projection.h: the allocation step of the `svd-proj` baseline, budget
 * allocation by the TRUE singular values of plain LoRA updates.
 *
 * Where AdaLoRA keeps ΔW_k = s·P_k diag(λ_k) Q_k in SVD form and ranks
 * importance scores (Eqs. 8–13), svd-proj trains a plain LoRA model
 * ΔW_k = s·B_k A_k and, at an allocation step with budget b:
 *   1. computes the exact SVD of every module's s·B_k A_k (lowrank_svd.h,
 *      FULL or QR method);
 *   2. ranks ALL singular values of ALL modules globally, as Eq. 8 ranks
 *      scores (lib/allocator.h, exact ties: exactly b kept, the lower global
 *      index k·r0 + i wins a tie);
 *   3. replaces every product by its truncation to its singular values among
 *      the b largest, re-factored balanced:
 *          B_k = U_k sqrt(Σ_k / s),  A_k = sqrt(Σ_k / s) Vt_k
 *      (Σ_k the kept singular values of s·B_k A_k; for s <= 0 the code uses
 *      the singular values of B_k A_k itself, which is the same for s > 0),
 *      so s·B_k A_k = U_k Σ_k Vt_k; balanced, so ||B_k[:, i]|| = ||A_k[i, :]||
 *      and neither factor dominates the next gradient steps;
 *   4. sets the keep flags: 1 for kept components, 0 for dropped ones, whose
 *      B column and A row are exactly zero. Singular values come sorted and
 *      the tie rule prefers lower indices, so the kept components of a module
 *      are always its columns 0..kept-1.
 *   5. resets the AdamW moments (tr->m1, tr->m2) of every module to zero: the
 *      old moments are per-coordinate statistics of the old factorisation,
 *      and the re-factoring rotates B's columns and A's rows into singular
 *      directions (B_new = B_old M for some r0 x r0 matrix M, even when the
 *      product is unchanged), so they would push the new coordinates in
 *      meaningless directions. Every module is re-factored, so every module's
 *      moments are reset. The optimizer's step count (bias correction) and
 *      the trainer's importance EMAs (ibar, ubar) are left as they are.
 * A component with σ = 0 that is kept (budget larger than the number of
 * nonzero singular values, or r0 > min(d1, d2)) gets a zero B column and A
 * row with keep = 1, like a dropped one but unmasked.
 *
 * Dimension letters: n modules, r0 rank of every module, d1_k x d2_k the
 * shape of module k (d_out x d_in).
 * Shapes: module k's B (d1_k x r0, ld r0) and A (r0 x d2_k, ld d2_k) are the
 * P and Q views of ada_model_view() on m->params; the moments are the same
 * views on tr->m1 and tr->m2; keep flags of module k at m->keep[k·r0 + i].
 * The singular values live in one array of n·r0 in the same global order.
 *
 * A ref_projection holds every buffer (the SVD workspace for the largest
 * module, the factors of all modules, σ's and the selection scratch), so an
 * allocation step allocates nothing. The factors of ALL modules are computed
 * before the model is written, so on any error the model, keep flags and
 * moments are untouched. */
#ifndef REF_PROJECTION_H
#define REF_PROJECTION_H

#include "ada_common.h"
#include "lowrank_svd.h"
#include "model.h"
#include "trainer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int n_modules, r0;
    size_t n_params;          /* the model's arena length, for the layout check */
    long n_triplets;          /* n · r0 */
    ref_svd_workspace *svd;   /* for max d1, max d2 over modules, r0 */
    real *factors;            /* laid out like m->params: U_k in the P (B) slot,
                                 Vt_k in the Q (A) slot */
    real *sigma;              /* n·r0: σ_i(B_k A_k) (unscaled) at k·r0 + i */
    real *scores;             /* n·r0: |s|·σ, the singular values of s·B_k A_k */
    uint8_t *keep;            /* n·r0: the selection */
    int32_t *select_work;     /* n·r0: scratch of ada_select_top_budget */
    void *memory[3];
} ref_projection;

typedef struct {
    long budget;              /* b */
    long kept;                /* components kept (= b) */
    long kept_nonzero;        /* kept components with σ > 0 */
    double threshold;         /* largest dropped singular value of any s·B_k A_k;
                                 -INFINITY when nothing is dropped */
    double kept_sq;           /* Σ of kept σ² */
    double dropped_sq;        /* Σ of dropped σ² = Σ_k ||s·B_k A_k − truncation||_F² */
} ref_projection_info;

/* Allocates the buffers for this model (LoRA form only, ADA_ERR_STATE
 * otherwise). The model's shapes must not change afterwards. */
ada_status ref_projection_create(ref_projection **out, const ada_model *m);
void ref_projection_free(ref_projection *p);

/* One svd-proj allocation step with budget b (0 <= b <= n·r0) on model m
 * (LoRA form) and its trainer tr (tr->model == m), by the SVD method given;
 * info may be NULL. */
ada_status ref_svd_project(ref_projection *p, ada_model *m, ada_trainer *tr, long budget,
                           ref_svd_method method, ref_projection_info *info);

#ifdef __cplusplus
}
#endif
#endif
