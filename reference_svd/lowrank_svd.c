/* lowrank_svd.c: exact SVD of B A, by the full product or by two QRs. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lowrank_svd.h"
#include "ref_lapack.h"
#include "ada_error.h"

static int imin(int a, int b) { return a < b ? a : b; }
static int imax(int a, int b) { return a > b ? a : b; }

const char *ref_svd_method_name(ref_svd_method method) {
    switch (method) {
    case REF_SVD_FULL: return "full";
    case REF_SVD_QR: return "qr";
    }
    return NULL;
}

ada_status ref_lapack_fail(const char *fn, const char *routine, lapack_int info) {
    if (info < 0)
        return ada_fail(ADA_ERR_STATE, "%s: %s rejected its argument %d (internal error)", fn,
                        routine, (int)-info);
    return ada_fail(ADA_ERR_STATE, "%s: %s did not converge (info = %d)", fn, routine, (int)info);
}

/* ---------------------------------------------------------------- workspace */

/* A workspace-query answer (a real) as a count. In float a count above 2^24
 * may have been rounded down; the small relative margin covers that. */
static double query_size(real w) { return ceil((double)w * (1.0 + 1e-6)) + 1.0; }

/* The largest LAPACK workspace any call with these bounds can need: the
 * optimal sizes LAPACK reports for the largest shapes, and at least the
 * documented minimums (gesdd: 4·mn² + 7·mn for jobz 'S', 3·mn + max(mx, 7·mn)
 * for 'N'). The minimums grow with the shape, so a smaller call always finds
 * enough: if its optimal size exceeds ours, LAPACK picks a slower path that
 * fits, never fails. */
static ada_status workspace_size(double *size, int max_d1, int max_d2, int max_r) {
    static const char fn[] = "ref_svd_workspace_create";
    const int dmax = imax(max_d1, max_d2), kc = imin(dmax, max_r);
    real q = 0, dummy[1] = {0};
    lapack_int idummy[1] = {0}, info;
    double need = 1;
    struct { int m, n; } svd_shapes[2] = {{max_d2, max_d1}, {kc, kc}};
    for (int i = 0; i < 2; i++) {
        const double m = svd_shapes[i].m, n = svd_shapes[i].n;
        const double mn = m < n ? m : n, mx = m < n ? n : m;
        need = fmax(need, 4 * mn * mn + 7 * mn);
        need = fmax(need, 3 * mn + fmax(mx, 7 * mn));
        info = REF_GESDD(LAPACK_COL_MAJOR, 'S', svd_shapes[i].m, svd_shapes[i].n, dummy,
                         svd_shapes[i].m, dummy, dummy, svd_shapes[i].m, dummy,
                         (lapack_int)mn, &q, -1, idummy);
        if (info) return ref_lapack_fail(fn, "gesdd (workspace query)", info);
        need = fmax(need, query_size(q));
    }
    info = REF_GEQRF(LAPACK_COL_MAJOR, dmax, max_r, dummy, dmax, dummy, &q, -1);
    if (info) return ref_lapack_fail(fn, "geqrf (workspace query)", info);
    need = fmax(need, fmax(query_size(q), max_r));
    info = REF_ORGQR(LAPACK_COL_MAJOR, dmax, kc, kc, dummy, dmax, dummy, &q, -1);
    if (info) return ref_lapack_fail(fn, "orgqr (workspace query)", info);
    need = fmax(need, fmax(query_size(q), kc));
    info = REF_ORMQR(LAPACK_COL_MAJOR, 'L', 'N', dmax, kc, kc, dummy, dmax, dummy, dummy,
                     dmax, &q, -1);
    if (info) return ref_lapack_fail(fn, "ormqr (workspace query)", info);
    need = fmax(need, fmax(query_size(q), kc));
    *size = need;
    return ADA_OK;
}

ada_status ref_svd_workspace_create(ref_svd_workspace **out, int max_d1, int max_d2,
                                    int max_r) {
    static const char fn[] = "ref_svd_workspace_create";
    ADA_REQUIRE_PTR(out, fn);
    ADA_REQUIRE_POS(max_d1, fn);
    ADA_REQUIRE_POS(max_d2, fn);
    ADA_REQUIRE_POS(max_r, fn);
    /* LAPACK indexes with 32-bit integers: keep every matrix below INT_MAX. */
    const int dmax = imax(max_d1, max_d2), mnf = imin(max_d1, max_d2);
    if ((double)max_d1 * max_d2 > INT_MAX || (double)dmax * max_r > INT_MAX ||
        (double)max_r * max_r > INT_MAX)
        return ada_fail(ADA_ERR_DIM, "%s: max_d1 = %d, max_d2 = %d, max_r = %d: matrices "
                        "beyond 2^31 entries", fn, max_d1, max_d2, max_r);
    double lwork = 0;
    ada_status st = workspace_size(&lwork, max_d1, max_d2, max_r);
    if (st) return st;
    if (lwork > INT_MAX)
        return ada_fail(ADA_ERR_DIM, "%s: LAPACK workspace of %.0f reals exceeds 2^31", fn,
                        lwork);
    const size_t d1 = (size_t)max_d1, d2 = (size_t)max_d2, r = (size_t)max_r;
    const size_t mn = (size_t)mnf, dm = (size_t)dmax;
    const size_t sizes[] = {
        d1 * d2, d1 * mn, mn * d2, mn,       /* prod, full_u, full_vt, full_s */
        dm * r, dm * r, r, r,                /* qb, qa, tau_b, tau_a */
        r * r, r * r, r * r, r, dm * r, dm * r, /* core, core_u, core_vt, core_s, ub, vb */
        (size_t)lwork                        /* work */
    };
    const size_t n_buf = sizeof sizes / sizeof sizes[0];
    size_t total = 0;
    for (size_t i = 0; i < n_buf; i++) total += sizes[i];
    const size_t n_iwork = 8 * (size_t)imax(mnf, imin(dmax, max_r));
    ref_svd_workspace *ws = calloc(1, sizeof *ws);
    real *mem = calloc(total, sizeof(real));
    int *iwork = calloc(n_iwork, sizeof(int));
    if (!ws || !mem || !iwork) {
        free(ws); free(mem); free(iwork);
        return ada_fail(ADA_ERR_NOMEM, "%s: cannot allocate %zu reals", fn, total);
    }
    real **bufs[] = {&ws->prod, &ws->full_u, &ws->full_vt, &ws->full_s,
                     &ws->qb, &ws->qa, &ws->tau_b, &ws->tau_a,
                     &ws->core, &ws->core_u, &ws->core_vt, &ws->core_s, &ws->ub, &ws->vb,
                     &ws->work};
    real *cursor = mem;
    for (size_t i = 0; i < n_buf; i++) {
        *bufs[i] = cursor;
        cursor += sizes[i];
    }
    ws->max_d1 = max_d1;
    ws->max_d2 = max_d2;
    ws->max_r = max_r;
    ws->lwork = (int)lwork;
    ws->iwork = iwork;
    ws->memory[0] = mem;
    ws->memory[1] = iwork;
    *out = ws;
    return ADA_OK;
}

void ref_svd_workspace_free(ref_svd_workspace *ws) {
    if (!ws) return;
    free(ws->memory[0]);
    free(ws->memory[1]);
    free(ws);
}

/* ---------------------------------------------------------------- outputs */

/* Writes the k computed triplets and the r − k padding ones. U_src is d1 x k
 * with element (i, j) at U_src[i·us_row + j·us_col] (row- or column-major);
 * Vt_src row j is contiguous at Vt_src + j·vs_ld. */
static void write_outputs(real *U, int ldu, real *sigma, real *Vt, int ldvt, const real *U_src,
                          size_t us_row, size_t us_col, const real *Vt_src, size_t vs_ld,
                          const real *s_src, int d1, int d2, int r, int k) {
    for (int j = 0; j < r; j++) sigma[j] = j < k ? s_src[j] : 0;
    if (U)
        for (int i = 0; i < d1; i++)
            for (int j = 0; j < r; j++)
                U[(size_t)i * ldu + j] = j < k ? U_src[i * us_row + j * us_col] : 0;
    if (Vt)
        for (int j = 0; j < r; j++) {
            real *row = Vt + (size_t)j * ldvt;
            if (j < k) memcpy(row, Vt_src + j * vs_ld, sizeof(real) * (size_t)d2);
            else memset(row, 0, sizeof(real) * (size_t)d2);
        }
}

/* ---------------------------------------------------------------- FULL */

static ada_status svd_full(real *U, int ldu, real *sigma, real *Vt, int ldvt, const real *B,
                           int ldb, const real *A, int lda, int d1, int d2, int r,
                           ref_svd_workspace *ws, const char *fn) {
    const int mn = imin(d1, d2), k = imin(mn, r);
    /* prod (d1 x d2, row-major, ld d2) = B A */
    ADA_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, d1, d2, r, 1, B, ldb, A, lda, 0,
             ws->prod, d2);
    /* In memory the row-major product M is the column-major d2 x d1 matrix
     * Mᵀ = V Σ Uᵀ. gesdd of it returns V as its "U" (column-major d2 x mn,
     * which read row-major is Vt, mn x d2, ld d2) and Uᵀ as its "VT"
     * (column-major mn x d1, which read row-major is U, d1 x mn, ld mn): the
     * row-major factors come out directly, without transposing copies. */
    lapack_int info = REF_GESDD(LAPACK_COL_MAJOR, 'S', d2, d1, ws->prod, d2, ws->full_s,
                                ws->full_vt, d2, ws->full_u, mn, ws->work, ws->lwork,
                                ws->iwork);
    if (info) return ref_lapack_fail(fn, "gesdd", info);
    write_outputs(U, ldu, sigma, Vt, ldvt, ws->full_u, (size_t)mn, 1, ws->full_vt, (size_t)d2,
                  ws->full_s, d1, d2, r, k);
    return ADA_OK;
}

/* ---------------------------------------------------------------- QR */

ada_status ref_lowrank_svd_qr_scaled(real *U, int ldu, real *sigma, real *Vt, int ldvt,
                                     const real *B, int ldb, const real *lam,
                                     const uint8_t *keep, const real *A, int lda, int d1,
                                     int d2, int r, ref_svd_workspace *ws, const char *fn) {
    const int k1 = imin(d1, r), k2 = imin(d2, r), k = imin(k1, k2);
    real *qb = ws->qb, *qa = ws->qa;
    /* qb: B (times diag(λ ⊙ m)) column-major d1 x r, ld d1: geqrf overwrites
     * its input and wants column-major, so a copy is needed anyway. */
    for (int j = 0; j < r; j++) {
        real c = lam ? lam[j] : 1;
        if (keep && !keep[j]) c = 0;
        for (int i = 0; i < d1; i++) qb[(size_t)j * d1 + i] = c * B[(size_t)i * ldb + j];
    }
    /* qa: Aᵀ column-major d2 x r, ld d2: its column j is row j of A. */
    for (int j = 0; j < r; j++)
        memcpy(qa + (size_t)j * d2, A + (size_t)j * lda, sizeof(real) * (size_t)d2);
    lapack_int info = REF_GEQRF(LAPACK_COL_MAJOR, d1, r, qb, d1, ws->tau_b, ws->work, ws->lwork);
    if (info) return ref_lapack_fail(fn, "geqrf", info);
    info = REF_GEQRF(LAPACK_COL_MAJOR, d2, r, qa, d2, ws->tau_a, ws->work, ws->lwork);
    if (info) return ref_lapack_fail(fn, "geqrf", info);
    /* core (k1 x k2, column-major, ld k1) = R_B R_Aᵀ. R_B(i, l) is qb's entry
     * (i, l) for l >= i (upper trapezoid), R_A likewise, so the sum starts at
     * max(i, j). O(k1·k2·r) <= O(r³), like the core SVD itself. */
    for (int j = 0; j < k2; j++)
        for (int i = 0; i < k1; i++) {
            double sum = 0;
            for (int l = imax(i, j); l < r; l++)
                sum += (double)qb[(size_t)l * d1 + i] * qa[(size_t)l * d2 + j];
            ws->core[(size_t)j * k1 + i] = (real)sum;
        }
    /* core = U_c Σ V_cᵀ: core_u k1 x k (ld k1), core_vt k x k2 (ld k). */
    info = REF_GESDD(LAPACK_COL_MAJOR, 'S', k1, k2, ws->core, k1, ws->core_s, ws->core_u, k1,
                     ws->core_vt, k, ws->work, ws->lwork, ws->iwork);
    if (info) return ref_lapack_fail(fn, "gesdd", info);
    if (U) {
        /* ub (d1 x k, ld d1) = Q [U_c; 0] = Q_B U_c, Q the full d1 x d1
         * product of geqrf's k1 reflectors. */
        for (int j = 0; j < k; j++)
            for (int i = 0; i < d1; i++)
                ws->ub[(size_t)j * d1 + i] = i < k1 ? ws->core_u[(size_t)j * k1 + i] : 0;
        info = REF_ORMQR(LAPACK_COL_MAJOR, 'L', 'N', d1, k, k1, qb, d1, ws->tau_b, ws->ub, d1,
                         ws->work, ws->lwork);
        if (info) return ref_lapack_fail(fn, "ormqr", info);
    }
    if (Vt) {
        /* vb (d2 x k, ld d2) = Q_A V_c, V_c = core_vtᵀ. */
        for (int j = 0; j < k; j++)
            for (int i = 0; i < d2; i++)
                ws->vb[(size_t)j * d2 + i] = i < k2 ? ws->core_vt[(size_t)i * k + j] : 0;
        info = REF_ORMQR(LAPACK_COL_MAJOR, 'L', 'N', d2, k, k2, qa, d2, ws->tau_a, ws->vb, d2,
                         ws->work, ws->lwork);
        if (info) return ref_lapack_fail(fn, "ormqr", info);
    }
    /* ub is column-major U (element (i, j) at i + j·d1); vb's column j is
     * row j of Vt. */
    write_outputs(U, ldu, sigma, Vt, ldvt, ws->ub, 1, (size_t)d1, ws->vb, (size_t)d2,
                  ws->core_s, d1, d2, r, k);
    return ADA_OK;
}

/* ---------------------------------------------------------------- entry */

ada_status ref_check_factor_sizes(const char *fn, const ref_svd_workspace *ws, int d1, int d2,
                                  int r, int ld_left, int ld_right, const real *U, int ldu,
                                  const real *Vt, int ldvt) {
    ADA_REQUIRE_POS(d1, fn);
    ADA_REQUIRE_POS(d2, fn);
    ADA_REQUIRE_POS(r, fn);
    if (d1 > ws->max_d1 || d2 > ws->max_d2 || r > ws->max_r)
        return ada_fail(ADA_ERR_DIM, "%s: d1 = %d, d2 = %d, r = %d exceed the workspace's "
                        "max_d1 = %d, max_d2 = %d, max_r = %d", fn, d1, d2, r, ws->max_d1,
                        ws->max_d2, ws->max_r);
    ADA_REQUIRE_LD(ld_left, r, fn);
    ADA_REQUIRE_LD(ld_right, d2, fn);
    if (U) ADA_REQUIRE_LD(ldu, r, fn);
    if (Vt) ADA_REQUIRE_LD(ldvt, d2, fn);
    return ADA_OK;
}

ada_status ref_lowrank_svd(real *U, int ldu, real *sigma, real *Vt, int ldvt,
                           const real *B, int ldb, const real *A, int lda, int d1, int d2,
                           int r, ref_svd_method method, ref_svd_workspace *ws) {
    static const char fn[] = "ref_lowrank_svd";
    ADA_REQUIRE_PTR(ws, fn);
    ADA_REQUIRE_PTR(sigma, fn);
    ADA_REQUIRE_PTR(B, fn);
    ADA_REQUIRE_PTR(A, fn);
    ada_status st = ref_check_factor_sizes(fn, ws, d1, d2, r, ldb, lda, U, ldu, Vt, ldvt);
    if (st) return st;
    if (!ref_svd_method_name(method))
        return ada_fail(ADA_ERR_RANGE, "%s: method = %d, allowed: 0 (full), 1 (qr)", fn,
                        (int)method);
    if (!ada_matrix_finite(B, d1, r, ldb) || !ada_matrix_finite(A, r, d2, lda))
        return ada_fail(ADA_ERR_NONFINITE, "%s: B or A holds NaN or Inf", fn);
    if (method == REF_SVD_FULL)
        return svd_full(U, ldu, sigma, Vt, ldvt, B, ldb, A, lda, d1, d2, r, ws, fn);
    return ref_lowrank_svd_qr_scaled(U, ldu, sigma, Vt, ldvt, B, ldb, NULL, NULL, A, lda, d1,
                                     d2, r, ws, fn);
}
