/* activation.c: identity, ReLU, GELU (erf) and tanh with their derivatives. */
#include <math.h>

#include "activation.h"
#include "ada_error.h"

#define INV_SQRT2 0.7071067811865476     /* 1/√2 */
#define INV_SQRT_2PI 0.3989422804014327  /* 1/√(2π) */

const char *ada_activation_name(ada_activation act) {
    switch (act) {
    case ADA_ACT_IDENTITY: return "identity";
    case ADA_ACT_RELU: return "relu";
    case ADA_ACT_GELU: return "gelu";
    case ADA_ACT_TANH: return "tanh";
    }
    return NULL;
}

static double act_value(double z, ada_activation act) {
    switch (act) {
    case ADA_ACT_RELU: return z > 0 ? z : 0;
    case ADA_ACT_GELU: return 0.5 * z * (1.0 + erf(z * INV_SQRT2));
    case ADA_ACT_TANH: return tanh(z);
    default: return z;
    }
}

/* Φ(z), the standard normal CDF, from the forward's output a = GELU(z) =
 * z Φ(z) when there is one (saves the erf), else by erf. */
static double gelu_cdf(double z, const real *a) {
    if (a && z != 0) return *a / z;
    return 0.5 * (1.0 + erf(z * INV_SQRT2));
}

/* f'(z); a: the forward's output f(z), or NULL. */
static double act_slope(double z, const real *a, ada_activation act) {
    switch (act) {
    case ADA_ACT_RELU: return z > 0 ? 1 : 0;
    case ADA_ACT_GELU: /* Φ(z) + z φ(z) */
        return gelu_cdf(z, a) + z * exp(-0.5 * z * z) * INV_SQRT_2PI;
    case ADA_ACT_TANH: { /* not 1 − a²: a rounded to float loses 1 − a² where |z| is large */
        double t = tanh(z);
        return 1 - t * t;
    }
    default: return 1;
    }
}

static ada_status check(const char *fn, const void *a, const void *b, ada_activation act) {
    ADA_REQUIRE_PTR(a, fn);
    ADA_REQUIRE_PTR(b, fn);
    if (!ada_activation_name(act))
        return ada_fail(ADA_ERR_RANGE,
                        "%s: activation = %d, allowed: 0 identity, 1 relu, 2 gelu, 3 tanh",
                        fn, (int)act);
    return ADA_OK;
}

ada_status ada_activation_forward(real *A, const real *Z, size_t n, ada_activation act) {
    ada_status st = check("ada_activation_forward", A, Z, act);
    if (st) return st;
    for (size_t i = 0; i < n; i++) A[i] = (real)act_value(Z[i], act);
    return ADA_OK;
}

ada_status ada_activation_backward(real *dZ, const real *dA, const real *Z, const real *A,
                                   size_t n, ada_activation act) {
    ada_status st = check("ada_activation_backward", dZ, dA, act);
    if (st) return st;
    ADA_REQUIRE_PTR(Z, "ada_activation_backward");
    for (size_t i = 0; i < n; i++) dZ[i] += (real)(dA[i] * act_slope(Z[i], A ? A + i : NULL, act));
    return ADA_OK;
}
