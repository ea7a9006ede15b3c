/* linear.c: forward and backward of the dense layer y = x Wᵀ + b (linear.h). */
#include <string.h>

#include "linear.h"
#include "ada_error.h"
#include "op_common.h"

/* x and W against each other; the letters N, d2, d1 read off them. */
static ada_status check_linear(const char *fn, int *N, int *d2, int *d1, ada_cmat x, ada_cmat W) {
    *N = x.rows, *d2 = x.cols, *d1 = W.rows;
    ADA_REQUIRE_POS(*N, fn);
    ADA_REQUIRE_POS(*d2, fn);
    ADA_REQUIRE_POS(*d1, fn);
    ADA_CHECK_VIEW(fn, "x", x, *N, *d2);
    ADA_CHECK_VIEW(fn, "W", W, *d1, *d2);
    return ADA_OK;
}

/* y = x Wᵀ + b: y (N x d1), x (N x d2), W (d1 x d2), b (d1 or NULL). */
ada_status ada_linear_forward(ada_mat y, ada_cmat x, ada_cmat W, const real *b) {
    static const char fn[] = "ada_linear_forward";
    int N, d2, d1;
    ada_status st = check_linear(fn, &N, &d2, &d1, x, W);
    if (st) return st;
    ADA_CHECK_VIEW(fn, "y", y, N, d1);
    ADA_CHECK_FINITE(fn, "x", x);
    /* y = b (or 0), then y += x Wᵀ */
    for (int n = 0; n < N; n++) {
        real *row = y.data + (size_t)n * y.ld;
        if (b) memcpy(row, b, sizeof(real) * (size_t)d1);
        else memset(row, 0, sizeof(real) * (size_t)d1);
    }
    ADA_GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, N, d1, d2, 1, x.data, x.ld, W.data, W.ld, 1,
             y.data, y.ld);
    return ADA_OK;
}

/* ∂/∂x, ∂/∂W, ∂/∂b of y = x Wᵀ + b, accumulated: dx (N x d2), dW (d1 x d2),
 * db (d1) from dy (N x d1). */
ada_status ada_linear_backward(ada_mat dx, ada_mat dW, real *db, ada_cmat dy, ada_cmat x, ada_cmat W) {
    static const char fn[] = "ada_linear_backward";
    int N, d2, d1;
    ada_status st = check_linear(fn, &N, &d2, &d1, x, W);
    if (st) return st;
    ADA_CHECK_VIEW(fn, "dy", dy, N, d1);
    if (dx.data) ADA_CHECK_VIEW(fn, "dx", dx, N, d2);
    if (dW.data) ADA_CHECK_VIEW(fn, "dW", dW, d1, d2);
    ADA_CHECK_FINITE(fn, "dy", dy);
    /* dx (N x d2) += dy (N x d1) W (d1 x d2) */
    if (dx.data)
        ADA_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, d2, d1, 1, dy.data, dy.ld, W.data,
                 W.ld, 1, dx.data, dx.ld);
    /* dW (d1 x d2) += dyᵀ (d1 x N) x (N x d2) */
    if (dW.data)
        ADA_GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, d1, d2, N, 1, dy.data, dy.ld, x.data,
                 x.ld, 1, dW.data, dW.ld);
    /* db (d1) += Σ_n dy_n, summed in double */
    if (db) ada_add_column_sums(db, dy);
    return ADA_OK;
}
