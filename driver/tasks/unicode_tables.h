// unicode_tables.h: the Unicode data of BERT's tokenizer (tasks/wordpiece.h),
// generated from Python's unicodedata by tools/gen_unicode_tables.py into
// unicode_tables.cpp (Python 3.11: Unicode 14.0.0, kUnicodeVersion). Each
// table is sorted by its first field, for binary search.
#pragma once

#include <cstddef>
#include <cstdint>

namespace adalora {
namespace unicode {

// Property flags of a code point (PropertyRun::flags).
enum : uint8_t {
    kControl = 1,         // general category C* (HF's _is_control, \t \n \r apart)
    kSpaceSeparator = 2,  // Zs (HF's _is_whitespace, beside \t \n \r and ' ')
    kPunctuation = 4,     // P* (HF's _is_punctuation, beside its ASCII ranges)
    kNonspacingMark = 8,  // Mn (dropped by HF's _run_strip_accents)
    kCased = 16,          // Cased (str.lower's final sigma)
    kCaseIgnorable = 32,  // Case_Ignorable (str.lower's final sigma)
    kPythonSpace = 64,    // str.isspace (the separators of str.split())
};

// Code points [start, next run's start) share flags and the canonical
// combining class ccc.
struct PropertyRun {
    char32_t start;
    uint8_t flags, ccc;
};
// str.lower() of one code point (up to 3; unused slots 0), U+03A3 apart.
struct LowerMapping {
    char32_t cp, lower[3];
};
// NFD of one code point: kDecompChars[offset, offset + length); Hangul
// syllables apart (algorithmic).
struct Decomposition {
    char32_t cp;
    uint16_t offset;
    uint8_t length;
};
// A primary composite: NFC composes first + second into composite.
struct Composition {
    char32_t first, second, composite;
};

extern const char kUnicodeVersion[];
extern const PropertyRun kRuns[];
extern const size_t kRunCount;
extern const LowerMapping kLower[];
extern const size_t kLowerCount;
extern const Decomposition kDecomp[];
extern const size_t kDecompCount;
extern const char32_t kDecompChars[];
extern const Composition kCompose[];
extern const size_t kComposeCount;

}  // namespace unicode
}  // namespace adalora
