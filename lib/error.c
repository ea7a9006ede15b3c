/* error.c: the per-thread message behind ada_last_error(). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "ada_error.h"

static _Thread_local char last_message[512];

const char *ada_last_error(void) { return last_message; }

ada_status ada_fail(ada_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_message, sizeof last_message, fmt, ap);
    va_end(ap);
    return status;
}

int ada_all_finite(const real *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

int ada_matrix_finite(const real *x, int rows, int cols, int ld) {
    for (int i = 0; i < rows; i++)
        if (!ada_all_finite(x + (size_t)i * ld, (size_t)cols)) return 0;
    return 1;
}
