/* op_common.h (internal): what the encoder's ops share (linear, layernorm,
 * attention, embedding): the argument checks (a view against the shape the
 * dimension letters give it, a view's entries finite; each returns ADA_OK or
 * the status of ada_fail() with a one-line message naming the function, the
 * view and the values) and a column sum in double. */
#ifndef ADA_OP_COMMON_H
#define ADA_OP_COMMON_H

#include "ada_common.h"
#include "matrix.h"

/* A view: data set, shape rows x cols == want_rows x want_cols, ld >= cols. */
ada_status ada_check_view(const char *fn, const char *name, const void *data, int rows, int cols,
                          int ld, int want_rows, int want_cols);

/* A view's rows x cols entries (not its padding) all finite. */
ada_status ada_check_finite(const char *fn, const char *name, ada_cmat v);

/* s (cols) += Σ_n m_n, the sum over m's rows in double, read row by row in
 * column blocks (cache-friendly for tall m; no allocation). */
void ada_add_column_sums(real *s, ada_cmat m);

#define ADA_CHECK_VIEW(fn, name, v, want_rows, want_cols)                                    \
    do {                                                                                     \
        ada_status view_st = ada_check_view(fn, name, (v).data, (v).rows, (v).cols, (v).ld,   \
                                            want_rows, want_cols);                           \
        if (view_st) return view_st;                                                         \
    } while (0)

#define ADA_CHECK_FINITE(fn, name, v)                                                        \
    do {                                                                                     \
        ada_status finite_st = ada_check_finite(fn, name, v);                                \
        if (finite_st) return finite_st;                                                     \
    } while (0)

#endif
