// safetensors.h: the safetensors file format (Hugging Face's), written and
// read without any other library:
//
//   8 bytes    N, the header length, unsigned little-endian
//   N bytes    a JSON object: per tensor name {"dtype", "shape", "data_offsets":
//              [begin, end]} (offsets into the data, end exclusive), and an
//              optional "__metadata__" object of string values
//   the rest   the data: every tensor's bytes, row-major, little-endian,
//              tiling the rest of the file exactly (no gaps, no overlaps)
//
// The reader takes F32 and F64 (DtypeSet::f32_f64, the default: adalora's
// own files), or also F16 and BF16 with the other safetensors dtypes left
// out (DtypeSet::floats: pretrained checkpoints, which carry I64 buffers
// such as position_ids). It trusts nothing in the file: a
// truncated file, a header length past the end, bad JSON, an unsupported
// dtype, offsets that overlap, leave gaps, run backwards or past the end, a
// shape whose element count does not match its byte range, or a duplicate
// name is an adalora::UsageError naming the file and the problem. It never
// allocates more than the size of its input plus the header's own
// bookkeeping (the JSON is read by a SAX pass that accepts only the shapes
// above; no DOM is built).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

extern "C" {
#include "ada_common.h"
}

namespace adalora {

enum class Dtype { F32, F64, F16, BF16 };

// What a reader takes.
enum class DtypeSet {
    // F32 and F64; any other dtype is refused (run adapters, PEFT adapters,
    // --base-weights: their writers and importers handle these two only).
    f32_f64,
    // F32, F64, F16 and BF16; a tensor of another safetensors dtype (BOOL,
    // U8..U64, I8..I64, F8_E5M2, F8_E4M3) is checked like any other and then
    // left out, its name and dtype kept in Safetensors::skipped; a dtype
    // outside that list is refused.
    floats,
};

// "F32", "F64", "F16" or "BF16"; the bytes of one element.
const char *dtype_name(Dtype d);
size_t dtype_size(Dtype d);

// The dtype of `real` in this build: F32 (float) or F64 (double).
Dtype real_dtype();

struct Tensor {
    std::string name;
    Dtype dtype = Dtype::F32;
    std::vector<int64_t> shape;
    std::string bytes;  // the raw little-endian data, row-major

    size_t elements() const { return bytes.size() / dtype_size(dtype); }
};

struct Safetensors {
    std::map<std::string, std::string> metadata;  // "__metadata__"
    std::vector<Tensor> tensors;                  // in data order
    // Tensors left out by DtypeSet::floats: name -> dtype ("I64"). Not written.
    std::map<std::string, std::string> skipped;

    const Tensor *find(const std::string &name) const;  // nullptr when absent
};

// Parses a whole file held in memory; `name` is the file's name for messages.
Safetensors parse_safetensors(const std::string &bytes, const std::string &name,
                              DtypeSet accept = DtypeSet::f32_f64);

// Reads and parses the file at `path` (UsageError if it cannot be read).
Safetensors read_safetensors(const std::string &path, DtypeSet accept = DtypeSet::f32_f64);

// The file's bytes: header padded with spaces to a multiple of 8 bytes, then
// the tensors' data in vector order. Throws std::invalid_argument on a
// duplicate name or a shape that does not match the bytes.
std::string serialize_safetensors(const Safetensors &file);

// A tensor of `real` values in this build's dtype; `data` holds the product
// of `shape` values, row-major.
Tensor make_tensor(const std::string &name, const std::vector<int64_t> &shape, const real *data);

// A shape as text, "[2, 3]".
std::string shape_text(const std::vector<int64_t> &shape);

// A tensor's values as `real` (F32, F16 and BF16 to double are exact, and
// F16 and BF16 to float too; F64 to float rounds).
std::vector<real> tensor_values(const Tensor &t);

// IEEE 754 binary16 (sign, 5 exponent bits biased by 15, 10 fraction bits)
// as a float, exactly: normals, subnormals (fraction · 2^-24), ±0, ±inf, and
// NaN with its payload kept in the float's top fraction bits.
float f16_to_float(uint16_t h);
// bfloat16: the top 16 bits of a float32, the lower 16 zero.
float bf16_to_float(uint16_t h);

}  // namespace adalora
