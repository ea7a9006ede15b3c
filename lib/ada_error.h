/* ada_error.h (internal): how library functions report a failure.
 * ada_fail() records a one-line message for ada_last_error() and returns the
 * status, so a check reads `if (!p) return ada_fail(ADA_ERR_NULL, "...")`. */
#ifndef ADA_ERROR_H
#define ADA_ERROR_H

#include "ada_common.h"

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
ada_status ada_fail(ada_status status, const char *fmt, ...);

/* 1 if every one of the n values is finite. */
int ada_all_finite(const real *x, size_t n);
/* 1 if every entry of a rows x cols row-major matrix (leading dim ld) is finite. */
int ada_matrix_finite(const real *x, int rows, int cols, int ld);

#define ADA_REQUIRE_PTR(p, fn)                                                 \
    do {                                                                       \
        if ((p) == NULL)                                                       \
            return ada_fail(ADA_ERR_NULL, "%s: %s is NULL", fn, #p);           \
    } while (0)

#define ADA_REQUIRE_POS(v, fn)                                                 \
    do {                                                                       \
        if ((v) < 1)                                                           \
            return ada_fail(ADA_ERR_DIM, "%s: %s = %ld, must be >= 1", fn, #v,  \
                            (long)(v));                                        \
    } while (0)

/* A row-major matrix with `cols` columns needs a leading dimension >= cols. */
#define ADA_REQUIRE_LD(ld, cols, fn)                                           \
    do {                                                                       \
        if ((ld) < (cols))                                                     \
            return ada_fail(ADA_ERR_DIM, "%s: %s = %ld, must be >= %s = %ld",   \
                            fn, #ld, (long)(ld), #cols, (long)(cols));         \
    } while (0)

#endif
