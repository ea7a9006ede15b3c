/* ref_lapack.h (internal): the LAPACKE binding of reference_svd/ and the
 * helpers its files share. Not for callers: the public headers do not include
 * <lapacke.h>, so C++ code (tests, driver) never sees its complex types.
 *
 * Every LAPACK call goes through the column-major *_work variant: with
 * LAPACK_COL_MAJOR, LAPACKE passes the arrays straight to Fortran, whereas the
 * row-major variants allocate transposed copies on every call, which would
 * break "the training loop allocates nothing". Row-major data is handled by
 * reading a row-major m x n matrix as the column-major n x m matrix it is in
 * memory, or by an explicit transposing copy into the workspace. */
#ifndef REF_LAPACK_H
#define REF_LAPACK_H

#include <lapacke.h>

#include "ada_common.h"
#include "lowrank_svd.h"

#ifdef ADA_DOUBLE
#define REF_GESDD LAPACKE_dgesdd_work
#define REF_GEQRF LAPACKE_dgeqrf_work
#define REF_ORGQR LAPACKE_dorgqr_work
#define REF_ORMQR LAPACKE_dormqr_work
#else
#define REF_GESDD LAPACKE_sgesdd_work
#define REF_GEQRF LAPACKE_sgeqrf_work
#define REF_ORGQR LAPACKE_sorgqr_work
#define REF_ORMQR LAPACKE_sormqr_work
#endif

/* The workspace stores iwork as int; lapack_int must be the same type
 * (LP64 LAPACKE, the Debian default). */
_Static_assert(sizeof(lapack_int) == sizeof(int), "reference_svd expects LP64 LAPACKE");

/* A failed LAPACK call as an ada_status: info < 0 is an argument LAPACK
 * rejected (a bug here, since arguments are validated first), info > 0 a
 * failure to converge. Both are ADA_ERR_STATE: the inputs were valid, the
 * computation could not finish. */
ada_status ref_lapack_fail(const char *fn, const char *routine, lapack_int info);

/* The size checks ref_lowrank_svd and ref_adapter_singular_values share:
 * d1, d2, r >= 1 and within the workspace, the left factor's (d1 x r) and
 * the right factor's (r x d2) leading dimensions, and those of U and Vt when
 * they are wanted. */
ada_status ref_check_factor_sizes(const char *fn, const ref_svd_workspace *ws, int d1, int d2,
                                  int r, int ld_left, int ld_right, const real *U, int ldu,
                                  const real *Vt, int ldvt);

/* The QR path of ref_lowrank_svd with B's column j scaled by lam[j] · (keep[j]
 * != 0) (lam NULL: no scaling; keep NULL: all kept), so the SVD of
 * P diag(λ ⊙ m) Q needs no scaled copy of P. Arguments are not validated
 * (callers do it); U and Vt may be NULL. */
ada_status ref_lowrank_svd_qr_scaled(real *U, int ldu, real *sigma, real *Vt, int ldvt,
                                     const real *B, int ldb, const real *lam,
                                     const uint8_t *keep, const real *A, int lda, int d1,
                                     int d2, int r, ref_svd_workspace *ws, const char *fn);

#endif
