/* loss.c: squared-error and softmax cross-entropy losses with their gradients. */
#include <math.h>

#include "loss.h"
#include "ada_error.h"

ada_status ada_squared_error_loss(double *loss, real *dY, const real *Y, const real *T,
                                  int n, int d, int ld, ada_loss_kind kind) {
    static const char fn[] = "ada_squared_error_loss";
    ADA_REQUIRE_PTR(loss, fn); ADA_REQUIRE_PTR(Y, fn); ADA_REQUIRE_PTR(T, fn);
    ADA_REQUIRE_POS(n, fn); ADA_REQUIRE_POS(d, fn); ADA_REQUIRE_LD(ld, d, fn);
    if (kind != ADA_LOSS_MSE && kind != ADA_LOSS_SSE)
        return ada_fail(ADA_ERR_RANGE, "%s: kind = %d, allowed: 0 (mse), 1 (sse)", fn, (int)kind);
    if (!ada_matrix_finite(T, n, d, ld))
        return ada_fail(ADA_ERR_NONFINITE, "%s: targets hold NaN or Inf", fn);
    if (!ada_matrix_finite(Y, n, d, ld))
        return ada_fail(ADA_ERR_NONFINITE, "%s: predictions hold NaN or Inf", fn);
    double norm = kind == ADA_LOSS_MSE ? (double)n * d : (double)n;
    double sum = 0;
    for (int b = 0; b < n; b++)
        for (int j = 0; j < d; j++) {
            size_t at = (size_t)b * ld + j;
            double diff = (double)Y[at] - T[at];
            sum += diff * diff;
            if (dY) dY[at] = (real)(2.0 * diff / norm);
        }
    *loss = sum / norm;
    return ADA_OK;
}

ada_status ada_cross_entropy_loss(double *loss, real *dY, const real *Y,
                                  const int32_t *labels, int n, int d, int ld) {
    static const char fn[] = "ada_cross_entropy_loss";
    ADA_REQUIRE_PTR(loss, fn); ADA_REQUIRE_PTR(Y, fn); ADA_REQUIRE_PTR(labels, fn);
    ADA_REQUIRE_POS(n, fn); ADA_REQUIRE_POS(d, fn); ADA_REQUIRE_LD(ld, d, fn);
    for (int b = 0; b < n; b++)
        if (labels[b] < 0 || labels[b] >= d)
            return ada_fail(ADA_ERR_RANGE, "%s: label %d of row %d, allowed: 0..%d", fn,
                            labels[b], b, d - 1);
    if (!ada_matrix_finite(Y, n, d, ld))
        return ada_fail(ADA_ERR_NONFINITE, "%s: predictions hold NaN or Inf", fn);
    double total = 0;
    for (int b = 0; b < n; b++) {
        const real *y = Y + (size_t)b * ld;
        double top = y[0];
        for (int j = 1; j < d; j++) top = y[j] > top ? y[j] : top;
        double z = 0;
        for (int j = 0; j < d; j++) z += exp((double)y[j] - top);
        double log_z = top + log(z);
        total += log_z - y[labels[b]];
        if (dY) {
            real *g = dY + (size_t)b * ld;
            for (int j = 0; j < d; j++)
                g[j] = (real)((exp((double)y[j] - log_z) - (j == labels[b])) / n);
        }
    }
    *loss = total / n;
    return ADA_OK;
}
