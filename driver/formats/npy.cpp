// npy.cpp: .npy writer and hostile-input-safe reader.
#include "formats/npy.h"
#include "formats/le_reals.h"
#include "base/read_file.h"

#include <cstring>
#include <fstream>
#include <stdexcept>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the .npy code writes host bytes as little-endian");

namespace adalora {

namespace {

const char kMagic[] = "\x93NUMPY";  // 6 bytes, then major, minor version
constexpr size_t kMagicLen = 6;

struct TypeInfo {
    NpyType type;
    const char *descr;
    size_t size;
};
const TypeInfo kTypes[] = {{NpyType::f8, "<f8", 8}, {NpyType::f4, "<f4", 4}, {NpyType::i4, "<i4", 4},
                           {NpyType::u1, "|u1", 1}, {NpyType::b1, "|b1", 1}};

const TypeInfo &info_of(NpyType t) {
    for (const auto &i : kTypes)
        if (i.type == t) return i;
    throw std::logic_error("npy: unknown type");
}

template <class T>
NpyArray from_elements(NpyType type, const T *v, std::vector<uint64_t> shape) {
    NpyArray a;
    a.type = type;
    a.shape = std::move(shape);
    a.data.assign(reinterpret_cast<const char *>(v), a.count() * sizeof(T));
    return a;
}

// A small parser of the header dict numpy writes, e.g.
// {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
// Accepts either quote, any spacing, any key order, trailing commas.
class HeaderParser {
public:
    HeaderParser(const std::string &text, const std::string &name) : s_(text), name_(name) {}

    void parse(std::string &descr, bool &fortran, std::vector<uint64_t> &shape) {
        bool seen_descr = false, seen_fortran = false, seen_shape = false;
        expect('{');
        while (true) {
            skip_space();
            if (peek() == '}') break;
            std::string key = quoted();
            expect(':');
            if (key == "descr" && !seen_descr) {
                descr = quoted();
                seen_descr = true;
            } else if (key == "fortran_order" && !seen_fortran) {
                fortran = boolean();
                seen_fortran = true;
            } else if (key == "shape" && !seen_shape) {
                shape = tuple();
                seen_shape = true;
            } else {
                fail("header key '" + key + "' is unknown or repeated (allowed: descr, fortran_order, shape)");
            }
            skip_space();
            if (peek() == ',') pos_++;
            else if (peek() != '}') fail("header dict: expected ',' or '}' at byte " + std::to_string(pos_));
        }
        pos_++;
        skip_space();
        if (pos_ != s_.size()) fail("header dict: trailing text after '}'");
        if (!seen_descr || !seen_fortran || !seen_shape)
            fail("header dict lacks a key (needs descr, fortran_order, shape)");
    }

private:
    const std::string &s_;
    const std::string &name_;
    size_t pos_ = 0;

    [[noreturn]] void fail(const std::string &what) const { throw UsageError(name_ + ": not a valid .npy file: " + what); }
    char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
    void skip_space() {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n')) pos_++;
    }
    void expect(char c) {
        skip_space();
        if (peek() != c) fail(std::string("header dict: expected '") + c + "' at byte " + std::to_string(pos_));
        pos_++;
    }
    std::string quoted() {
        skip_space();
        char q = peek();
        if (q != '\'' && q != '"') fail("header dict: expected a quoted string at byte " + std::to_string(pos_));
        size_t end = s_.find(q, pos_ + 1);
        if (end == std::string::npos) fail("header dict: unterminated string");
        std::string v = s_.substr(pos_ + 1, end - pos_ - 1);
        pos_ = end + 1;
        return v;
    }
    bool boolean() {
        skip_space();
        if (s_.compare(pos_, 4, "True") == 0) { pos_ += 4; return true; }
        if (s_.compare(pos_, 5, "False") == 0) { pos_ += 5; return false; }
        fail("header dict: fortran_order must be True or False");
    }
    uint64_t integer() {
        skip_space();
        if (peek() < '0' || peek() > '9') fail("header dict: shape entries must be integers >= 0");
        uint64_t v = 0;
        while (peek() >= '0' && peek() <= '9') {
            if (__builtin_mul_overflow(v, 10u, &v) || __builtin_add_overflow(v, (uint64_t)(peek() - '0'), &v))
                fail("header dict: a shape entry overflows 64 bits");
            pos_++;
        }
        if (peek() == 'L') pos_++;  // Python 2 long suffix
        return v;
    }
    std::vector<uint64_t> tuple() {
        expect('(');
        std::vector<uint64_t> dims;
        while (true) {
            skip_space();
            if (peek() == ')') break;
            if (dims.size() >= 32) fail("header dict: more than 32 dimensions");
            dims.push_back(integer());
            skip_space();
            if (peek() == ',') pos_++;
            else if (peek() != ')') fail("header dict: expected ',' or ')' in shape at byte " + std::to_string(pos_));
        }
        pos_++;
        return dims;
    }
};

uint32_t little_endian(const std::string &b, size_t at, size_t bytes) {
    uint32_t v = 0;
    for (size_t i = 0; i < bytes; i++) v |= (uint32_t)(uint8_t)b[at + i] << (8 * i);
    return v;
}

}  // namespace

const char *npy_descr(NpyType t) { return info_of(t).descr; }
size_t npy_item_size(NpyType t) { return info_of(t).size; }

uint64_t NpyArray::count() const {
    uint64_t n = 1;
    for (uint64_t d : shape) n *= d;
    return n;
}

std::vector<double> NpyArray::to_double() const {
    const uint64_t n = count();
    std::vector<double> v(n);
    const char *p = data.data();
    for (uint64_t i = 0; i < n; i++) {
        switch (type) {
        case NpyType::f8: std::memcpy(&v[i], p + 8 * i, 8); break;
        case NpyType::f4: { float f; std::memcpy(&f, p + 4 * i, 4); v[i] = f; break; }
        case NpyType::i4: { int32_t k; std::memcpy(&k, p + 4 * i, 4); v[i] = k; break; }
        case NpyType::u1:
        case NpyType::b1: v[i] = (uint8_t)p[i]; break;
        }
    }
    return v;
}

NpyArray npy_array(const double *v, std::vector<uint64_t> shape) { return from_elements(NpyType::f8, v, std::move(shape)); }
NpyArray npy_array(const float *v, std::vector<uint64_t> shape) { return from_elements(NpyType::f4, v, std::move(shape)); }
NpyArray npy_array(const int32_t *v, std::vector<uint64_t> shape) { return from_elements(NpyType::i4, v, std::move(shape)); }
NpyArray npy_array(const uint8_t *v, std::vector<uint64_t> shape) { return from_elements(NpyType::u1, v, std::move(shape)); }

std::string npy_shape_text(const std::vector<uint64_t> &shape) {
    std::string s = "(";
    for (size_t i = 0; i < shape.size(); i++) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + (shape.size() == 1 ? ",)" : ")");
}

std::string npy_bytes(const NpyArray &a) {
    if (a.data.size() != a.count() * npy_item_size(a.type)) throw std::logic_error("npy: data size disagrees with the shape");
    std::string dict = std::string("{'descr': '") + npy_descr(a.type) + "', 'fortran_order': False, 'shape': " +
                       npy_shape_text(a.shape) + ", }";
    // Total header (magic, version, length field, dict, padding, '\n') a multiple of 64.
    size_t len_field = 2;
    size_t total = kMagicLen + 2 + len_field + dict.size() + 1;
    if ((total + 63) / 64 * 64 - kMagicLen - 2 - len_field > 65535) len_field = 4;
    total = kMagicLen + 2 + len_field + dict.size() + 1;
    const size_t padded = (total + 63) / 64 * 64;
    const uint32_t header_len = (uint32_t)(padded - kMagicLen - 2 - len_field);
    dict.append(padded - total, ' ');
    dict += '\n';
    std::string out(kMagic, kMagicLen);
    out += (char)(len_field == 2 ? 1 : 2);
    out += (char)0;
    for (size_t i = 0; i < len_field; i++) out += (char)((header_len >> (8 * i)) & 0xff);
    out += dict;
    out += a.data;
    return out;
}

void write_npy(const std::string &path, const NpyArray &a) {
    std::ofstream f(path, std::ios::binary);
    f << npy_bytes(a);
    f.flush();
    if (!f) throw std::runtime_error("cannot write " + path);
}

NpyArray parse_npy(const std::string &b, const std::string &name) {
    auto fail = [&](const std::string &what) -> UsageError { return UsageError(name + ": not a valid .npy file: " + what); };
    if (b.size() < kMagicLen + 4 || b.compare(0, kMagicLen, kMagic, kMagicLen) != 0)
        throw fail("bad magic (expected \\x93NUMPY)");
    const int major = (uint8_t)b[kMagicLen], minor = (uint8_t)b[kMagicLen + 1];
    if ((major != 1 && major != 2) || minor != 0)
        throw fail("format version " + std::to_string(major) + "." + std::to_string(minor) + " (allowed: 1.0, 2.0)");
    const size_t len_field = major == 1 ? 2 : 4, start = kMagicLen + 2 + len_field;
    if (b.size() < start) throw fail("truncated header");
    const uint64_t header_len = little_endian(b, kMagicLen + 2, len_field);
    if (header_len > b.size() - start) throw fail("header length " + std::to_string(header_len) + " runs past the end of the file");
    std::string dict = b.substr(start, header_len);
    for (char c : dict)
        if ((unsigned char)c >= 0x80 || c == '\0') throw fail("header holds a non-ASCII byte");
    std::string descr;
    bool fortran = false;
    NpyArray a;
    HeaderParser(dict, name).parse(descr, fortran, a.shape);
    bool known = false;
    for (const auto &t : kTypes)
        if (descr == t.descr) {
            a.type = t.type;
            known = true;
        }
    if (!known) throw fail("dtype '" + descr + "' is not supported (allowed: <f8, <f4, <i4, |u1, |b1)");
    if (fortran) throw fail("fortran_order True is not supported (allowed: C order)");
    uint64_t bytes = npy_item_size(a.type);
    for (uint64_t d : a.shape)
        if (__builtin_mul_overflow(bytes, d, &bytes)) throw fail("shape " + npy_shape_text(a.shape) + " overflows 64 bits");
    const uint64_t have = b.size() - start - header_len;
    if (bytes != have)
        throw fail("shape " + npy_shape_text(a.shape) + " of " + descr + " needs " + std::to_string(bytes) +
                   " data bytes, the file holds " + std::to_string(have));
    a.data = b.substr(start + header_len);
    if (a.type == NpyType::b1)
        for (char c : a.data)
            if (c != 0 && c != 1) throw fail("a |b1 element is neither 0 nor 1");
    return a;
}

NpyArray read_npy(const std::string &path) {
    return parse_npy(read_file(path, kDataFileLimit), path);
}

template <class Real>
void npy_copy_reals(const NpyArray &a, const std::vector<uint64_t> &shape, const std::string &name, Real *out) {
    if (a.type != NpyType::f8 && a.type != NpyType::f4)
        throw UsageError(name + ": dtype " + npy_descr(a.type) + " where a real array was expected (allowed: <f8, <f4)");
    if (a.shape != shape)
        throw UsageError(name + ": shape " + npy_shape_text(a.shape) + ", expected " + npy_shape_text(shape));
    decode_le_reals(a.data.data(), (size_t)a.count(), a.type == NpyType::f8, out);
}

template void npy_copy_reals<float>(const NpyArray &, const std::vector<uint64_t> &, const std::string &, float *);
template void npy_copy_reals<double>(const NpyArray &, const std::vector<uint64_t> &, const std::string &, double *);

}  // namespace adalora
