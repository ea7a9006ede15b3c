// safetensors.cpp: the safetensors writer and its hostile-input reader.
#include "formats/safetensors.h"
#include "formats/le_reals.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "base/read_file.h"
#include "base/errors.h"
#include "base/util.h"

// The data is little-endian on disk and copied as is.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors.cpp assumes a little-endian host");

namespace adalora {

namespace {

// The safetensors library refuses headers above 100 MB; so do we.
constexpr uint64_t kMaxHeader = 100u << 20;
// No dimension can exceed this (an empty tensor could otherwise claim any
// size, and whoever sizes buffers from its shape would overflow).
constexpr uint64_t kMaxDim = uint64_t(1) << 40;

struct Entry {
    std::string name, dtype;
    std::vector<uint64_t> shape, offsets;
    bool has_dtype = false, has_shape = false, has_offsets = false;
};

// A SAX handler that accepts exactly the header's grammar and keeps what it
// reads; anything else throws UsageError at once, so a hostile header costs
// no more memory than its own text.
class HeaderReader : public nlohmann::json_sax<nlohmann::json> {
public:
    explicit HeaderReader(const std::string &file) : file_(file) {}
    std::vector<Entry> entries;
    std::map<std::string, std::string> metadata;

    bool null() override { return scalar("null"); }
    bool boolean(bool) override { return scalar("a boolean"); }
    bool number_integer(number_integer_t v) override {
        if (v < 0) fail(where() + ": " + std::to_string(v) + " is negative (allowed: integers >= 0)");
        return unsigned_value((uint64_t)v);
    }
    bool number_unsigned(number_unsigned_t v) override { return unsigned_value(v); }
    bool number_float(number_float_t, const string_t &text) override {
        if (array_ == Array::none) return scalar("a number");
        fail(where() + ": " + text + " is not an integer (allowed: integers 0..2^64-1)");
    }
    bool string(string_t &s) override {
        if (depth_ == 2 && in_metadata_) {
            metadata[key_] = s;
            return true;
        }
        if (depth_ == 2 && key_ == "dtype") {
            entries.back().dtype = s;
            return true;
        }
        return scalar("a string");
    }
    bool binary(binary_t &) override { return scalar("binary data"); }
    bool start_object(std::size_t) override {
        if (depth_ == 0 || (depth_ == 1 && array_ == Array::none)) {
            depth_++;
            return true;
        }
        fail(where() + ": unexpected object");
    }
    bool end_object() override {
        if (depth_ == 2 && !in_metadata_) {
            const Entry &e = entries.back();
            if (!e.has_dtype || !e.has_shape || !e.has_offsets)
                fail("tensor '" + e.name + "' lacks " +
                     std::string(!e.has_dtype ? "dtype" : !e.has_shape ? "shape" : "data_offsets") +
                     " (each tensor needs dtype, shape and data_offsets)");
        }
        depth_--;
        in_metadata_ = false;
        return true;
    }
    bool key(string_t &k) override {
        if (depth_ == 1) {
            if (!names_.insert(k).second) fail("the name '" + k + "' appears twice");
            in_metadata_ = k == "__metadata__";
            if (!in_metadata_) {
                entries.emplace_back();
                entries.back().name = k;
            }
        } else if (!in_metadata_) {
            Entry &e = entries.back();
            bool *seen = k == "dtype" ? &e.has_dtype : k == "shape" ? &e.has_shape : k == "data_offsets" ? &e.has_offsets : nullptr;
            if (!seen) fail("tensor '" + e.name + "' has an unknown field '" + k + "' (allowed: dtype, shape, data_offsets)");
            if (*seen) fail("tensor '" + e.name + "' has the field '" + k + "' twice");
            *seen = true;
        } else if (metadata.count(k)) {
            fail("__metadata__ has the key '" + k + "' twice");
        }
        key_ = k;
        return true;
    }
    bool start_array(std::size_t) override {
        if (depth_ == 2 && !in_metadata_ && array_ == Array::none && (key_ == "shape" || key_ == "data_offsets")) {
            array_ = key_ == "shape" ? Array::shape : Array::offsets;
            return true;
        }
        fail(where() + ": unexpected array");
    }
    bool end_array() override {
        if (array_ == Array::offsets && entries.back().offsets.size() != 2)
            fail("tensor '" + entries.back().name + "': data_offsets has " + std::to_string(entries.back().offsets.size()) +
                 " values (allowed: exactly 2, [begin, end])");
        array_ = Array::none;
        return true;
    }
    bool parse_error(std::size_t position, const std::string &, const nlohmann::detail::exception &) override {
        fail("the header is not valid JSON (error at header byte " + std::to_string(position) + ")");
    }

private:
    enum class Array { none, shape, offsets };
    const std::string &file_;
    int depth_ = 0;
    bool in_metadata_ = false;
    Array array_ = Array::none;
    std::string key_;
    std::set<std::string> names_;

    [[noreturn]] void fail(const std::string &what) const { throw UsageError(file_ + ": " + what); }

    std::string where() const {
        if (depth_ == 0) return "the header";
        if (depth_ == 1) return "the top level of the header";
        if (in_metadata_) return "__metadata__ value of '" + key_ + "'";
        return "tensor '" + entries.back().name + "', field '" + key_ + "'";
    }
    bool scalar(const char *what) {
        if (depth_ == 0) fail("the header is " + std::string(what) + ", not a JSON object");
        if (depth_ == 1) fail("'" + key_ + "' is " + what + " (allowed: an object)");
        if (in_metadata_) fail("__metadata__ value of '" + key_ + "' is " + what + " (allowed: a string)");
        fail(where() + " is " + what + (key_ == "dtype" ? " (allowed: a string)" : " (allowed: an array of integers)"));
    }
    bool unsigned_value(uint64_t v) {
        if (array_ == Array::none) return scalar("a number");
        Entry &e = entries.back();
        if (array_ == Array::offsets && e.offsets.size() == 2)
            fail("tensor '" + e.name + "': data_offsets has more than 2 values (allowed: exactly 2, [begin, end])");
        if (array_ == Array::shape && v > kMaxDim)
            fail("tensor '" + e.name + "': shape dimension " + std::to_string(v) + " is absurd (allowed: at most 2^40)");
        (array_ == Array::shape ? e.shape : e.offsets).push_back(v);
        return true;
    }
};

uint64_t read_le64(const std::string &bytes) {
    uint64_t n;
    std::memcpy(&n, bytes.data(), 8);
    return n;
}

// The dtypes read as values, in the order messages list them.
struct DtypeInfo {
    Dtype dtype;
    const char *name;
    size_t size;
};
const DtypeInfo kRead[] = {{Dtype::F32, "F32", 4}, {Dtype::F64, "F64", 8}, {Dtype::F16, "F16", 2}, {Dtype::BF16, "BF16", 2}};

// The other safetensors dtypes, which DtypeSet::floats checks and leaves out.
struct SkippedDtype {
    const char *name;
    size_t size;
};
const SkippedDtype kSkipped[] = {{"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"I16", 2},
                                 {"U16", 2},  {"I32", 4}, {"U32", 4}, {"I64", 8},     {"U64", 8}};

const DtypeInfo &info_of(Dtype d) {
    for (const DtypeInfo &i : kRead)
        if (i.dtype == d) return i;
    throw std::logic_error("safetensors: unknown Dtype");
}

// How a reader takes one tensor's dtype: read as `dtype`, or skipped.
struct TakenDtype {
    bool read = false;
    Dtype dtype = Dtype::F32;
    size_t size = 0;
};

TakenDtype take_dtype(const Entry &e, DtypeSet accept, const std::string &file) {
    const size_t readable = accept == DtypeSet::floats ? std::size(kRead) : 2;  // F32, F64 come first
    std::vector<std::string> allowed;
    for (size_t i = 0; i < readable; i++) {
        if (e.dtype == kRead[i].name) return {true, kRead[i].dtype, kRead[i].size};
        allowed.push_back(kRead[i].name);
    }
    std::string also;
    if (accept == DtypeSet::floats) {
        std::vector<std::string> skipped;
        for (const SkippedDtype &k : kSkipped) {
            if (e.dtype == k.name) return {false, Dtype::F32, k.size};
            skipped.push_back(k.name);
        }
        also = "; tensors of " + join(skipped, ", ") + " are skipped";
    }
    throw UsageError(file + ": tensor '" + e.name + "' has dtype '" + e.dtype + "', which is not supported (allowed: " +
                     join(allowed, ", ") + also + ")");
}

// The element count of a shape, or false when it overflows 2^63.
bool element_count(const std::vector<uint64_t> &shape, uint64_t *count) {
    uint64_t n = 1;
    for (uint64_t d : shape) {
        if (d != 0 && n > (uint64_t)std::numeric_limits<int64_t>::max() / d) return false;
        n *= d;
    }
    *count = n;
    return true;
}

}  // namespace

std::string shape_text(const std::vector<int64_t> &shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); i++) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

const char *dtype_name(Dtype d) { return info_of(d).name; }
size_t dtype_size(Dtype d) { return info_of(d).size; }
Dtype real_dtype() { return sizeof(real) == 4 ? Dtype::F32 : Dtype::F64; }

const Tensor *Safetensors::find(const std::string &name) const {
    for (const Tensor &t : tensors)
        if (t.name == name) return &t;
    return nullptr;
}

Safetensors parse_safetensors(const std::string &bytes, const std::string &name, DtypeSet accept) {
    auto fail = [&](const std::string &what) { throw UsageError(name + ": " + what); };
    if (bytes.size() < 8)
        fail("truncated: " + std::to_string(bytes.size()) + " bytes, shorter than the 8-byte header length");
    const uint64_t n = read_le64(bytes);
    const uint64_t rest = bytes.size() - 8;
    if (n > kMaxHeader) fail("header length " + std::to_string(n) + " is absurd (allowed: at most 100 MB)");
    if (n > rest)
        fail("truncated: the header length " + std::to_string(n) + " runs past the end of the file (" +
             std::to_string(rest) + " bytes after the length)");
    if (n < 2 || bytes[8] != '{') fail("the header does not start with '{' (not a safetensors file?)");
    HeaderReader reader(name);
    const char *first = bytes.data() + 8;
    nlohmann::json::sax_parse(first, first + n, &reader);

    const uint64_t data_size = rest - n;
    std::vector<const Entry *> order;
    std::map<const Entry *, TakenDtype> taken;
    for (const Entry &e : reader.entries) {
        const TakenDtype dtype = taken[&e] = take_dtype(e, accept, name);
        const uint64_t begin = e.offsets[0], end = e.offsets[1];
        if (begin > end)
            fail("tensor '" + e.name + "': data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                 "] run backwards (allowed: begin <= end)");
        if (end > data_size)
            fail("truncated: tensor '" + e.name + "': data_offsets end " + std::to_string(end) +
                 " runs past the end of the data (" + std::to_string(data_size) + " bytes)");
        uint64_t count;
        if (!element_count(e.shape, &count) || count > (end - begin) / dtype.size || count * dtype.size != end - begin) {
            std::vector<int64_t> shape(e.shape.begin(), e.shape.end());
            fail("tensor '" + e.name + "': shape " + shape_text(shape) + " of " + e.dtype + " does not match its " +
                 std::to_string(end - begin) + " bytes");
        }
        order.push_back(&e);
    }
    std::stable_sort(order.begin(), order.end(),  // ties (empty tensors): header order
                     [](const Entry *a, const Entry *b) { return a->offsets < b->offsets; });
    uint64_t at = 0;
    for (const Entry *e : order) {
        if (e->offsets[0] < at)
            fail("tensor '" + e->name + "': data_offsets begin " + std::to_string(e->offsets[0]) +
                 " overlaps the tensor before it (which ends at " + std::to_string(at) + ")");
        if (e->offsets[0] > at)
            fail("tensor '" + e->name + "': data_offsets begin " + std::to_string(e->offsets[0]) +
                 " leaves a gap after byte " + std::to_string(at) + " (tensors must tile the data)");
        at = e->offsets[1];
    }
    if (at != data_size)
        fail(std::to_string(data_size - at) + " bytes after the last tensor's data (tensors must tile the data)");

    Safetensors file;
    file.metadata = std::move(reader.metadata);
    const char *data = bytes.data() + 8 + n;
    for (const Entry *e : order) {
        if (!taken[e].read) {
            file.skipped[e->name] = e->dtype;
            continue;
        }
        Tensor t;
        t.name = e->name;
        t.dtype = taken[e].dtype;
        t.shape.assign(e->shape.begin(), e->shape.end());
        t.bytes.assign(data + e->offsets[0], e->offsets[1] - e->offsets[0]);
        file.tensors.push_back(std::move(t));
    }
    return file;
}

Safetensors read_safetensors(const std::string &path, DtypeSet accept) {
    return parse_safetensors(read_file(path, kDataFileLimit), path, accept);
}

std::string serialize_safetensors(const Safetensors &file) {
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!file.metadata.empty()) header["__metadata__"] = file.metadata;
    uint64_t at = 0;
    for (const Tensor &t : file.tensors) {
        if (t.name == "__metadata__" || header.contains(t.name))
            throw std::invalid_argument("safetensors: the tensor name '" + t.name + "' is reserved or used twice");
        uint64_t count;
        std::vector<uint64_t> shape(t.shape.begin(), t.shape.end());
        if (!element_count(shape, &count) || count * dtype_size(t.dtype) != t.bytes.size())
            throw std::invalid_argument("safetensors: tensor '" + t.name + "' has shape " + shape_text(t.shape) +
                                        " but " + std::to_string(t.bytes.size()) + " bytes");
        header[t.name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {at, at + t.bytes.size()}}};
        at += t.bytes.size();
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    std::string out(8, '\0');
    const uint64_t n = text.size();
    std::memcpy(&out[0], &n, 8);
    out += text;
    for (const Tensor &t : file.tensors) out += t.bytes;
    return out;
}

Tensor make_tensor(const std::string &name, const std::vector<int64_t> &shape, const real *data) {
    Tensor t;
    t.name = name;
    t.dtype = real_dtype();
    t.shape = shape;
    size_t count = 1;
    for (int64_t d : shape) count *= (size_t)d;
    t.bytes.assign(reinterpret_cast<const char *>(data), count * sizeof(real));
    return t;
}

float f16_to_float(uint16_t h) {
    const uint32_t sign = (uint32_t)(h >> 15) << 31, exponent = (h >> 10) & 0x1f, fraction = h & 0x3ff;
    uint32_t bits;
    if (exponent == 0x1f) {
        bits = sign | 0x7f800000u | fraction << 13;  // inf, or NaN with its payload
    } else if (exponent != 0) {
        bits = sign | (exponent - 15 + 127) << 23 | fraction << 13;  // rebias 15 -> 127
    } else {
        // ±0 and subnormals, fraction · 2^-24: exact in float (11 bits at most)
        const float magnitude = std::ldexp((float)fraction, -24);
        return sign ? -magnitude : magnitude;
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

float bf16_to_float(uint16_t h) {
    const uint32_t bits = (uint32_t)h << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

std::vector<real> tensor_values(const Tensor &t) {
    std::vector<real> v(t.elements());
    if (t.dtype == Dtype::F32 || t.dtype == Dtype::F64) {
        decode_le_reals(t.bytes.data(), v.size(), t.dtype == Dtype::F64, v.data());
        return v;
    }
    float (*const widen)(uint16_t) = t.dtype == Dtype::F16 ? f16_to_float : bf16_to_float;
    for (size_t i = 0; i < v.size(); i++) {
        uint16_t h;
        std::memcpy(&h, t.bytes.data() + 2 * i, 2);
        v[i] = (real)widen(h);
    }
    return v;
}

}  // namespace adalora
