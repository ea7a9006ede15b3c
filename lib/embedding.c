/* embedding.c: forward and backward of BERT's embedding sum (embedding.h). */
#include <limits.h>

#include "embedding.h"
#include "ada_error.h"
#include "op_common.h"

/* B and T positive, B·T an int. */
static ada_status check_tokens(const char *fn, int B, int T) {
    ADA_REQUIRE_POS(B, fn);
    ADA_REQUIRE_POS(T, fn);
    if (B > INT_MAX / T)
        return ada_fail(ADA_ERR_DIM, "%s: B·T = %d·%d overflows int, must be <= %d", fn, B, T, INT_MAX);
    return ADA_OK;
}

/* A table: data set, `rows` >= min_rows (>= 1) rows of C columns, ld >= C. */
static ada_status check_table(const char *fn, const char *name, ada_cmat t, int min_rows, int C) {
    if (!t.data) return ada_fail(ADA_ERR_NULL, "%s: %s is NULL", fn, name);
    if (t.rows < min_rows || t.cols != C)
        return ada_fail(ADA_ERR_DIM, "%s: %s is %d x %d, must be (>= %d) x %d", fn, name, t.rows,
                        t.cols, min_rows, C);
    if (t.ld < t.cols)
        return ada_fail(ADA_ERR_DIM, "%s: %s.ld = %d, must be >= its %d columns", fn, name, t.ld,
                        t.cols);
    return ADA_OK;
}

#define CHECK_TABLE(fn, name, t, min_rows, C)                                                   \
    do {                                                                                        \
        ada_status table_st = check_table(fn, name, ada_cmat_of((t).data, (t).rows, (t).cols,   \
                                                                (t).ld), min_rows, C);          \
        if (table_st) return table_st;                                                          \
    } while (0)

/* Every one of the n ids (`name`, sequences of T tokens) in [0, bound). */
static ada_status check_ids(const char *fn, const char *name, const int32_t *ids, int n, int T,
                            int bound) {
    for (int i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= bound)
            return ada_fail(ADA_ERR_RANGE, "%s: %s[%d] = %d (sequence %d, token %d), allowed: 0..%d",
                            fn, name, i, (int)ids[i], i / T, i % T, bound - 1);
    return ADA_OK;
}

/* out[b·T + t] = (word[ids] + type[type_ids]) + pos[t]: out ((B·T) x C), word (V x C),
 * pos (P x C, P >= T), type (Y x C); ids, type_ids (B·T; type_ids NULL = all 0). */
ada_status ada_embedding_forward(ada_mat out, const int32_t *ids, const int32_t *type_ids,
                                 int B, int T, ada_cmat word, ada_cmat pos, ada_cmat type) {
    static const char fn[] = "ada_embedding_forward";
    ada_status st = check_tokens(fn, B, T);
    if (st) return st;
    const int N = B * T, C = word.cols;
    ADA_REQUIRE_POS(C, fn);
    ADA_REQUIRE_PTR(ids, fn);
    CHECK_TABLE(fn, "word", word, 1, C);
    CHECK_TABLE(fn, "pos", pos, T, C);
    CHECK_TABLE(fn, "type", type, 1, C);
    ADA_CHECK_VIEW(fn, "out", out, N, C);
    if ((st = check_ids(fn, "ids", ids, N, T, word.rows))) return st;
    if (type_ids && (st = check_ids(fn, "type_ids", type_ids, N, T, type.rows))) return st;
    for (int n = 0; n < N; n++) {
        const real *w = word.data + (size_t)ids[n] * word.ld, *p = pos.data + (size_t)(n % T) * pos.ld,
                   *y = type.data + (size_t)(type_ids ? type_ids[n] : 0) * type.ld;
        real *o = out.data + (size_t)n * out.ld;
        for (int j = 0; j < C; j++) o[j] = (w[j] + y[j]) + p[j];
    }
    return ADA_OK;
}

/* row (C) += src (C). */
static void add_row(real *row, const real *src, int C) {
    for (int j = 0; j < C; j++) row[j] += src[j];
}

/* Scatter-add of dout ((B·T) x C) into dword (V x C), dpos (P x C), dtype (Y x C),
 * each skipped when its data is NULL (frozen). */
ada_status ada_embedding_backward(ada_mat dword, ada_mat dpos, ada_mat dtype, ada_cmat dout,
                                  const int32_t *ids, const int32_t *type_ids, int B, int T) {
    static const char fn[] = "ada_embedding_backward";
    ada_status st = check_tokens(fn, B, T);
    if (st) return st;
    const int N = B * T, C = dout.cols;
    ADA_REQUIRE_POS(C, fn);
    ADA_CHECK_VIEW(fn, "dout", dout, N, C);
    ADA_REQUIRE_PTR(ids, fn);
    if (dword.data) {
        CHECK_TABLE(fn, "dword", dword, 1, C);
        if ((st = check_ids(fn, "ids", ids, N, T, dword.rows))) return st;
    }
    if (dpos.data) CHECK_TABLE(fn, "dpos", dpos, T, C);
    if (dtype.data) {
        CHECK_TABLE(fn, "dtype", dtype, 1, C);
        if (type_ids && (st = check_ids(fn, "type_ids", type_ids, N, T, dtype.rows))) return st;
    }
    ADA_CHECK_FINITE(fn, "dout", dout);
    for (int n = 0; n < N; n++) {
        const real *g = dout.data + (size_t)n * dout.ld;
        if (dword.data) add_row(dword.data + (size_t)ids[n] * dword.ld, g, C);
        if (dpos.data) add_row(dpos.data + (size_t)(n % T) * dpos.ld, g, C);
        if (dtype.data) add_row(dtype.data + (size_t)(type_ids ? type_ids[n] : 0) * dtype.ld, g, C);
    }
    return ADA_OK;
}
