// le_reals.h: little-endian float32 or float64 values, as .npy ("<f4",
// "<f8") and safetensors (F32, F64) store them, converted into Real. memcpy
// keeps the read aligned-safe; both readers check the byte count first.
#pragma once

#include <cstddef>
#include <cstring>

namespace adalora {

template <class Real>
void decode_le_reals(const char *bytes, size_t n, bool f64, Real *out) {
    for (size_t i = 0; i < n; i++) {
        if (f64) {
            double d;
            std::memcpy(&d, bytes + 8 * i, 8);
            out[i] = (Real)d;
        } else {
            float f;
            std::memcpy(&f, bytes + 4 * i, 4);
            out[i] = (Real)f;
        }
    }
}

}  // namespace adalora
