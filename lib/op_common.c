/* op_common.c: what the encoder's ops share (op_common.h). */
#include "op_common.h"
#include "ada_error.h"

ada_status ada_check_view(const char *fn, const char *name, const void *data, int rows, int cols,
                          int ld, int want_rows, int want_cols) {
    if (!data) return ada_fail(ADA_ERR_NULL, "%s: %s is NULL", fn, name);
    if (rows != want_rows || cols != want_cols)
        return ada_fail(ADA_ERR_DIM, "%s: %s is %d x %d, must be %d x %d", fn, name, rows, cols,
                        want_rows, want_cols);
    if (ld < cols)
        return ada_fail(ADA_ERR_DIM, "%s: %s.ld = %d, must be >= its %d columns", fn, name, ld,
                        cols);
    return ADA_OK;
}

ada_status ada_check_finite(const char *fn, const char *name, ada_cmat v) {
    if (!ada_matrix_finite(v.data, v.rows, v.cols, v.ld))
        return ada_fail(ADA_ERR_NONFINITE, "%s: %s holds NaN or Inf", fn, name);
    return ADA_OK;
}

/* Columns per block: the block's double accumulators stay on the stack. */
enum { SUM_BLOCK = 64 };

/* s_j += Σ_n m_nj. */
void ada_add_column_sums(real *s, ada_cmat m) {
    for (int j0 = 0; j0 < m.cols; j0 += SUM_BLOCK) {
        const int w = m.cols - j0 < SUM_BLOCK ? m.cols - j0 : SUM_BLOCK;
        double acc[SUM_BLOCK] = {0};
        for (int n = 0; n < m.rows; n++) {
            const real *row = m.data + (size_t)n * m.ld + j0;
            for (int j = 0; j < w; j++) acc[j] += row[j];
        }
        for (int j = 0; j < w; j++) s[j0 + j] += (real)acc[j];
    }
}
