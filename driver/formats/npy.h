// npy.h: numpy's .npy files (format 1.0 and 2.0), the few dtypes the step
// traces need, little-endian and C order only.
//
// Reading is hostile-input safe: a bad magic, a malformed header dict, an
// unknown dtype, fortran_order True, a shape whose product overflows or
// disagrees with the data size each throw a UsageError naming the file and
// the problem. Nothing is allocated beyond the size of the bytes given.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/errors.h"
#include "base/util.h"

namespace adalora {

enum class NpyType { f8, f4, i4, u1, b1 };  // '<f8' '<f4' '<i4' '|u1' '|b1'

struct NpyArray {
    NpyType type = NpyType::f8;
    std::vector<uint64_t> shape;  // () for a scalar
    std::string data;             // the raw little-endian elements, C order

    uint64_t count() const;       // product of the shape
    // Every element as a double (exact for all five dtypes).
    std::vector<double> to_double() const;
};

// '<f8', '<f4', ... of a type, and the bytes of one element.
const char *npy_descr(NpyType t);
size_t npy_item_size(NpyType t);

// An array from n elements of a C++ type, with the given shape (its product
// must be n).
NpyArray npy_array(const double *v, std::vector<uint64_t> shape);
NpyArray npy_array(const float *v, std::vector<uint64_t> shape);
NpyArray npy_array(const int32_t *v, std::vector<uint64_t> shape);
NpyArray npy_array(const uint8_t *v, std::vector<uint64_t> shape);

// The .npy bytes of an array (format 1.0, or 2.0 when the header needs it).
std::string npy_bytes(const NpyArray &a);
// Writes a .npy file; throws std::runtime_error when it cannot.
void write_npy(const std::string &path, const NpyArray &a);

// Parses .npy bytes; `name` names them in messages (usually the path).
NpyArray parse_npy(const std::string &bytes, const std::string &name);
// Reads and parses a .npy file (UsageError when it cannot be read).
NpyArray read_npy(const std::string &path);

// Copies the elements of `a` into out as the build's float type, refusing a
// dtype other than '<f8' or '<f4' or a shape other than `shape`.
template <class Real>
void npy_copy_reals(const NpyArray &a, const std::vector<uint64_t> &shape, const std::string &name, Real *out);

// The shape as text "(3, 4)" for messages.
std::string npy_shape_text(const std::vector<uint64_t> &shape);

}  // namespace adalora
