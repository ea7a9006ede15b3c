// hash.h: FNV-1a 64, the driver's one non-cryptographic hash (the digits
// cache's key and checksum, a checkpoint's origin hash). Not for security:
// it tells "same bytes" from "changed bytes", nothing more.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace adalora {

// FNV-1a 64, fed piece by piece; `h` is the hash of everything added so far.
struct Fnv1a {
    static constexpr uint64_t kOffsetBasis = 0xcbf29ce484222325ULL;
    static constexpr uint64_t kPrime = 0x100000001b3ULL;
    uint64_t h = kOffsetBasis;

    void add(const void *p, size_t n) {
        const unsigned char *b = static_cast<const unsigned char *>(p);
        for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * kPrime;
    }
    // A vector as its length (u64) then its elements' bytes, so that two
    // vectors added in a row cannot be told from a differently cut pair.
    template <class T>
    void add(const std::vector<T> &v) {
        const uint64_t n = v.size();
        add(&n, sizeof n);
        add(v.data(), v.size() * sizeof(T));
    }
};

// The FNV-1a 64 hash of n bytes, continuing from `h` (a previous result).
inline uint64_t fnv1a(const void *data, size_t n, uint64_t h = Fnv1a::kOffsetBasis) {
    Fnv1a f{h};
    f.add(data, n);
    return f.h;
}

}  // namespace adalora
