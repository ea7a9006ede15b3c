/* ada_common.h: the scalar type, status codes and BLAS binding shared by
 * every file of the core.
 *
 * Precision: `real` is float unless the sources are compiled with
 * -DADA_DOUBLE (`make PRECISION=double`); the BLAS calls follow through the
 * ADA_GEMM macro so the same source serves both builds.
 *
 * Errors: every entry point returns an ada_status. On failure it writes a
 * one-line message (readable with ada_last_error()) and leaves its outputs
 * untouched. The library never prints and never exits. */
#ifndef ADA_COMMON_H
#define ADA_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <cblas.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef ADA_DOUBLE
typedef double real;
#define ADA_GEMM cblas_dgemm
#define ADA_PRECISION_NAME "double"
#else
typedef float real;
#define ADA_GEMM cblas_sgemm
#define ADA_PRECISION_NAME "float"
#endif

typedef enum {
    ADA_OK = 0,
    ADA_ERR_NULL = 1,      /* a required pointer is NULL */
    ADA_ERR_DIM = 2,       /* a dimension or leading dimension is invalid */
    ADA_ERR_RANGE = 3,     /* a value is outside its allowed range */
    ADA_ERR_NONFINITE = 4, /* an input, or a value a training step made, is NaN or Inf */
    ADA_ERR_NOMEM = 5,     /* an allocation failed */
    ADA_ERR_STATE = 6      /* the call does not fit the object's state */
} ada_status;

/* The two forms of the trainable update the project compares (adapted_layer.h):
 * SVD form P diag(λ) Q (AdaLoRA) and LoRA form B A (the baselines). */
typedef enum { ADA_FORM_SVD = 0, ADA_FORM_LORA = 1 } ada_form;

/* The message of the last failed call on this thread ("" if none). */
const char *ada_last_error(void);

#ifdef __cplusplus
}
#endif
#endif
