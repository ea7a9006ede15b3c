/* matrix.h: a view of a row-major matrix (pointer, rows, columns, leading
 * dimension), so an entry point takes one argument per matrix instead of
 * four. Entry (i, j) is data[i * ld + j]; ld >= cols. A view owns nothing.
 * ada_mat is written through, ada_cmat only read. */
#ifndef ADA_MATRIX_H
#define ADA_MATRIX_H

#include "ada_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    real *data;
    int rows, cols, ld;
} ada_mat;

typedef struct {
    const real *data;
    int rows, cols, ld;
} ada_cmat;

static inline ada_mat ada_mat_of(real *data, int rows, int cols, int ld) {
    ada_mat m = {data, rows, cols, ld};
    return m;
}

static inline ada_cmat ada_cmat_of(const real *data, int rows, int cols, int ld) {
    ada_cmat m = {data, rows, cols, ld};
    return m;
}

/* The read-only twin of a writable view. */
static inline ada_cmat ada_cmat_from(ada_mat m) { return ada_cmat_of(m.data, m.rows, m.cols, m.ld); }

#ifdef __cplusplus
}
#endif
#endif
