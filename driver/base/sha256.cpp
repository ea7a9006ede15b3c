// sha256.cpp: SHA-256 (FIPS 180-4), sha256.h.
#include "base/sha256.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "base/errors.h"

namespace adalora {

namespace {

// FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube
// roots of the first 64 primes.
constexpr uint32_t kSha256K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

// FIPS 180-4 §6.2.2: one 64-byte block into the hash state h.
void sha256_block(uint32_t h[8], const unsigned char *block) {
    uint32_t w[64];
    for (int t = 0; t < 16; t++)
        w[t] = (uint32_t)block[4 * t] << 24 | (uint32_t)block[4 * t + 1] << 16 | (uint32_t)block[4 * t + 2] << 8 |
               (uint32_t)block[4 * t + 3];
    for (int t = 16; t < 64; t++) {
        const uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
        const uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    uint32_t v[8];
    std::copy_n(h, 8, v);
    for (int t = 0; t < 64; t++) {
        const uint32_t e = v[4], a = v[0];
        const uint32_t t1 = v[7] + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & v[5]) ^ (~e & v[6])) + kSha256K[t] + w[t];
        const uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & v[1]) ^ (a & v[2]) ^ (v[1] & v[2]));
        std::copy_backward(v, v + 7, v + 8);  // h = g, g = f, ..., b = a
        v[4] += t1;
        v[0] = t1 + t2;
    }
    for (int i = 0; i < 8; i++) h[i] += v[i];
}

// The hash of a stream of bytes given in pieces: whole blocks are hashed as
// they come, the rest waits for the next piece or for the padding.
class Sha256 {
  public:
    void update(const char *data, size_t n) {
        length_ += n;
        if (!pending_.empty()) {
            const size_t take = std::min(n, 64 - pending_.size());
            pending_.append(data, take);
            data += take;
            n -= take;
            if (pending_.size() < 64) return;
            sha256_block(h_, reinterpret_cast<const unsigned char *>(pending_.data()));
            pending_.clear();
        }
        const size_t whole = n / 64 * 64;
        for (size_t at = 0; at < whole; at += 64) sha256_block(h_, reinterpret_cast<const unsigned char *>(data + at));
        pending_.assign(data + whole, n - whole);
    }
    std::string hex() {
        // The padding (§5.1.1): 0x80, zeros, the message length in bits as 64 bits big-endian.
        std::string tail = pending_ + '\x80';
        tail.resize(tail.size() <= 56 ? 64 : 128, '\0');
        const uint64_t bits = (uint64_t)length_ * 8;
        for (int i = 0; i < 8; i++) tail[tail.size() - 1 - i] = (char)(bits >> (8 * i));
        for (size_t at = 0; at < tail.size(); at += 64) sha256_block(h_, reinterpret_cast<const unsigned char *>(tail.data() + at));
        char hex[65];
        for (int i = 0; i < 8; i++) std::snprintf(hex + 8 * i, 9, "%08x", h_[i]);
        return std::string(hex, 64);
    }

  private:
    uint32_t h_[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    std::string pending_;  // fewer than 64 bytes
    uint64_t length_ = 0;
};

}  // namespace

std::string sha256_hex(const std::string &bytes) {
    Sha256 h;
    h.update(bytes.data(), bytes.size());
    return h.hex();
}

std::string sha256_file_hex(const std::string &path) {
    std::FILE *f = std::fopen(path.c_str(), "rb");
    if (!f) throw UsageError(path + ": cannot open for reading (" + std::strerror(errno) + ")");
    Sha256 h;
    std::vector<char> buf((size_t)1 << 20);
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) h.update(buf.data(), n);
    const bool failed = std::ferror(f) != 0;
    std::fclose(f);
    if (failed) throw UsageError(path + ": read error");
    return h.hex();
}

}  // namespace adalora
