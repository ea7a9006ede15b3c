// wordpiece.cpp: BERT's tokenizer (HF's BasicTokenizer + WordpieceTokenizer),
// step for step as tokenization_bert_legacy.py and tokenization_python.py
// (transformers 5.24) do it; the Unicode data is tasks/unicode_tables.cpp.
#include "tasks/wordpiece.h"

#include <algorithm>

#include "base/errors.h"
#include "base/read_file.h"
#include "tasks/unicode_tables.h"

namespace adalora {

namespace {

namespace u = unicode;

constexpr size_t kMaxInputCharsPerWord = 100;  // HF's max_input_chars_per_word
const char *const kSpecialTokens[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};

const u::PropertyRun &run_of(char32_t c) {
    // The last run starting at or before c (kRuns[0].start is 0).
    const u::PropertyRun *it = std::upper_bound(u::kRuns, u::kRuns + u::kRunCount, c,
                                                [](char32_t v, const u::PropertyRun &r) { return v < r.start; });
    return *(it - 1);
}
bool has(char32_t c, uint8_t flag) { return (run_of(c).flags & flag) != 0; }
int ccc(char32_t c) { return run_of(c).ccc; }

// HF's _is_control, _is_whitespace, _is_punctuation, _is_chinese_char.
bool is_control(char32_t c) { return c != '\t' && c != '\n' && c != '\r' && has(c, u::kControl); }
bool is_whitespace(char32_t c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || has(c, u::kSpaceSeparator);
}
bool is_punctuation(char32_t c) {
    return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126) ||
           has(c, u::kPunctuation);
}
bool is_chinese_char(char32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
           (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// Hangul syllables (Unicode §3.12): S = S0 + (L - L0) * 588 + (V - V0) * 28 + (T - T0).
constexpr char32_t kS0 = 0xAC00, kL0 = 0x1100, kV0 = 0x1161, kT0 = 0x11A7;
constexpr char32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

// NFD (UAX #15): full canonical decomposition, then the canonical ordering
// (a stable sort of each run of non-zero combining classes).
std::u32string nfd(const std::u32string &s) {
    std::u32string out;
    out.reserve(s.size());
    for (char32_t c : s) {
        if (c >= kS0 && c < kS0 + kSCount) {
            const char32_t i = c - kS0;
            out += kL0 + i / kNCount;
            out += kV0 + (i % kNCount) / kTCount;
            if (i % kTCount) out += kT0 + i % kTCount;
            continue;
        }
        const u::Decomposition *d = std::lower_bound(u::kDecomp, u::kDecomp + u::kDecompCount, c,
                                                     [](const u::Decomposition &e, char32_t v) { return e.cp < v; });
        if (d != u::kDecomp + u::kDecompCount && d->cp == c)
            out.append(u::kDecompChars + d->offset, d->length);
        else
            out += c;
    }
    for (size_t i = 0; i < out.size();) {
        if (ccc(out[i]) == 0) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < out.size() && ccc(out[j]) != 0) j++;
        std::stable_sort(out.begin() + (long)i, out.begin() + (long)j,
                         [](char32_t a, char32_t b) { return ccc(a) < ccc(b); });
        i = j;
    }
    return out;
}

// The primary composite of a + b, or 0.
char32_t compose_pair(char32_t a, char32_t b) {
    if (a >= kL0 && a < kL0 + kLCount && b >= kV0 && b < kV0 + kVCount)
        return kS0 + ((a - kL0) * kVCount + (b - kV0)) * kTCount;
    if (a >= kS0 && a < kS0 + kSCount && (a - kS0) % kTCount == 0 && b > kT0 && b < kT0 + kTCount)
        return a + (b - kT0);
    const u::Composition *e = std::lower_bound(u::kCompose, u::kCompose + u::kComposeCount, std::make_pair(a, b),
                                               [](const u::Composition &x, const std::pair<char32_t, char32_t> &v) {
                                                   return x.first < v.first || (x.first == v.first && x.second < v.second);
                                               });
    return e != u::kCompose + u::kComposeCount && e->first == a && e->second == b ? e->composite : 0;
}

// NFC (UAX #15): NFD, then the canonical composition algorithm: a character
// composes with the last starter unless blocked (a character between them of
// combining class 0 or of a class >= its own).
std::u32string nfc(const std::u32string &s) {
    std::u32string d = nfd(s);
    if (d.empty()) return d;
    size_t starter = 0, out = 1;
    int last_class = ccc(d[0]) == 0 ? 0 : 256;  // a leading non-starter blocks everything
    for (size_t i = 1; i < d.size(); i++) {
        const char32_t c = d[i];
        const int cc = ccc(c);
        const char32_t composite = compose_pair(d[starter], c);
        if (composite && (last_class < cc || last_class == 0) && ccc(d[starter]) == 0) {
            d[starter] = composite;
            continue;
        }
        if (cc == 0) starter = out;
        last_class = cc;
        d[out++] = c;
    }
    d.resize(out);
    return d;
}

// Python's str.lower(): each code point's full lowercase mapping, and U+03A3
// as final sigma (U+03C2) when a cased letter precedes it (case-ignorable
// characters skipped) and none follows it, else U+03C3 (CPython's
// handle_capital_sigma).
std::u32string py_lower(const std::u32string &s) {
    std::u32string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); i++) {
        const char32_t c = s[i];
        if (c == 0x3A3) {
            long j = (long)i - 1;
            while (j >= 0 && has(s[(size_t)j], u::kCaseIgnorable)) j--;
            bool final_sigma = j >= 0 && has(s[(size_t)j], u::kCased);
            if (final_sigma) {
                size_t k = i + 1;
                while (k < s.size() && has(s[k], u::kCaseIgnorable)) k++;
                final_sigma = k == s.size() || !has(s[k], u::kCased);
            }
            out += final_sigma ? char32_t(0x3C2) : char32_t(0x3C3);
            continue;
        }
        const u::LowerMapping *m = std::lower_bound(u::kLower, u::kLower + u::kLowerCount, c,
                                                    [](const u::LowerMapping &e, char32_t v) { return e.cp < v; });
        if (m == u::kLower + u::kLowerCount || m->cp != c) {
            out += c;
            continue;
        }
        for (char32_t l : m->lower)
            if (l) out += l;
    }
    return out;
}

// HF's _run_strip_accents: NFD, then every Mn code point dropped.
std::u32string strip_accents(const std::u32string &s) {
    std::u32string out;
    for (char32_t c : nfd(s))
        if (!has(c, u::kNonspacingMark)) out += c;
    return out;
}

}  // namespace

std::u32string decode_utf8(const std::string &utf8) {
    std::u32string out;
    out.reserve(utf8.size());
    const auto *p = reinterpret_cast<const unsigned char *>(utf8.data());
    const size_t n = utf8.size();
    for (size_t i = 0; i < n;) {
        const unsigned char b = p[i];
        if (b < 0x80) {
            out += b;
            i++;
            continue;
        }
        // The lead byte fixes the length and the range of the second byte
        // (which rules out overlong forms, surrogates and > U+10FFFF).
        int len = 0;
        unsigned char lo = 0x80, hi = 0xBF;
        if (b >= 0xC2 && b <= 0xDF) len = 2;
        else if (b == 0xE0) len = 3, lo = 0xA0;
        else if (b == 0xED) len = 3, hi = 0x9F;
        else if (b >= 0xE1 && b <= 0xEF) len = 3;
        else if (b == 0xF0) len = 4, lo = 0x90;
        else if (b == 0xF4) len = 4, hi = 0x8F;
        else if (b >= 0xF1 && b <= 0xF3) len = 4;
        else
            throw UsageError("invalid UTF-8 at byte " + std::to_string(i) + " (invalid start byte)");
        char32_t c = b & (0x7F >> len);
        for (int k = 1; k < len; k++) {
            if (i + (size_t)k >= n)
                throw UsageError("invalid UTF-8 at byte " + std::to_string(i) + " (unexpected end of data)");
            const unsigned char t = p[i + (size_t)k];
            if (t < (k == 1 ? lo : 0x80) || t > (k == 1 ? hi : 0xBF))
                throw UsageError("invalid UTF-8 at byte " + std::to_string(i) + " (invalid continuation byte)");
            c = (c << 6) | (t & 0x3F);
        }
        out += c;
        i += (size_t)len;
    }
    return out;
}

std::string encode_utf8(const std::u32string &text) {
    std::string out;
    out.reserve(text.size());
    for (char32_t c : text) {
        if (c < 0x80) {
            out += (char)c;
        } else if (c < 0x800) {
            out += (char)(0xC0 | (c >> 6));
            out += (char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            out += (char)(0xE0 | (c >> 12));
            out += (char)(0x80 | ((c >> 6) & 0x3F));
            out += (char)(0x80 | (c & 0x3F));
        } else {
            out += (char)(0xF0 | (c >> 18));
            out += (char)(0x80 | ((c >> 12) & 0x3F));
            out += (char)(0x80 | ((c >> 6) & 0x3F));
            out += (char)(0x80 | (c & 0x3F));
        }
    }
    return out;
}

WordPiece::WordPiece(const std::string &vocab_path, WordPieceSettings s) : settings_(s) {
    const std::string text = read_file(vocab_path, kTextFileLimit, "vocab ");
    try {
        decode_utf8(text);
    } catch (const UsageError &e) {
        throw UsageError("vocab " + vocab_path + ": " + e.what());
    }
    // Python's text mode: \r\n, \r and \n each end a line; no empty last line.
    for (size_t i = 0; i < text.size();) {
        const size_t end = text.find_first_of("\r\n", i);
        tokens_.push_back(text.substr(i, end == std::string::npos ? std::string::npos : end - i));
        if (end == std::string::npos) break;
        i = end + (text[end] == '\r' && end + 1 < text.size() && text[end + 1] == '\n' ? 2 : 1);
    }
    for (size_t i = 0; i < tokens_.size(); i++) {
        if (tokens_[i].empty()) continue;
        if (!ids_.emplace(tokens_[i], (int32_t)i).second)
            throw UsageError("vocab " + vocab_path + ", line " + std::to_string(i + 1) + ": token '" + tokens_[i] +
                             "' repeats line " + std::to_string(ids_[tokens_[i]] + 1));
    }
    int32_t *const required[] = {&pad_, &unk_, &cls_, &sep_};
    for (size_t k = 0; k < sizeof kSpecialTokens / sizeof kSpecialTokens[0]; k++) {
        auto it = ids_.find(kSpecialTokens[k]);
        if (it == ids_.end()) {
            if (k < 4)
                throw UsageError("vocab " + vocab_path + ": no " + kSpecialTokens[k] +
                                 " line (needs [PAD] [UNK] [CLS] [SEP])");
            continue;
        }
        if (k < 4) *required[k] = it->second;
        specials_.push_back(decode_utf8(kSpecialTokens[k]));
    }
}

std::vector<std::u32string> WordPiece::basic_tokenize(const std::u32string &text) const {
    // _clean_text, then _tokenize_chinese_chars.
    std::u32string clean;
    for (char32_t c : text) {
        if (c == 0 || c == 0xFFFD || is_control(c)) continue;
        const bool cjk = settings_.tokenize_chinese_chars && is_chinese_char(c);
        if (cjk) clean += ' ';
        clean += is_whitespace(c) ? char32_t(' ') : c;
        if (cjk) clean += ' ';
    }
    const std::u32string normalized = nfc(clean);
    std::vector<std::u32string> out;
    // whitespace_tokenize (str.split()), then per word: lower, strip accents,
    // _run_split_on_punc.
    for (size_t i = 0; i < normalized.size();) {
        while (i < normalized.size() && has(normalized[i], u::kPythonSpace)) i++;
        size_t j = i;
        while (j < normalized.size() && !has(normalized[j], u::kPythonSpace)) j++;
        if (j == i) break;
        std::u32string word = normalized.substr(i, j - i);
        i = j;
        if (std::find(specials_.begin(), specials_.end(), word) != specials_.end()) {  // never_split
            out.push_back(word);
            continue;
        }
        if (settings_.lowercase) word = py_lower(word);
        if (settings_.strip_accents) word = strip_accents(word);
        bool new_word = true;
        for (char32_t c : word) {
            if (is_punctuation(c)) {
                out.emplace_back(1, c);
                new_word = true;
            } else {
                if (new_word) out.emplace_back();
                new_word = false;
                out.back() += c;
            }
        }
    }
    return out;
}

void WordPiece::wordpiece(const std::u32string &piece, std::vector<std::string> &out) const {
    const std::string unk = tokens_[(size_t)unk_];
    if (piece.size() > kMaxInputCharsPerWord) {
        out.push_back(unk);
        return;
    }
    const size_t first = out.size();
    for (size_t start = 0; start < piece.size();) {
        size_t end = piece.size();
        for (; end > start; end--) {
            const std::string sub = (start > 0 ? "##" : "") + encode_utf8(piece.substr(start, end - start));
            if (ids_.count(sub)) {
                out.push_back(sub);
                break;
            }
        }
        if (end == start) {  // no piece matched: the whole word is one [UNK]
            out.resize(first);
            out.push_back(unk);
            return;
        }
        start = end;
    }
}

std::vector<std::string> WordPiece::pieces(const std::string &utf8) const {
    const std::u32string text = decode_utf8(utf8);
    std::vector<std::string> out;
    // The added-token split: the earliest special token in the text, cut out
    // whole (no two of them overlap), the text between tokenized.
    size_t at = 0;
    while (at <= text.size()) {
        size_t hit = std::u32string::npos, hit_len = 0;
        for (const std::u32string &s : specials_) {
            const size_t p = text.find(s, at);
            if (p < hit) hit = p, hit_len = s.size();
        }
        const size_t stop = hit == std::u32string::npos ? text.size() : hit;
        for (const std::u32string &piece : basic_tokenize(text.substr(at, stop - at))) {
            if (std::find(specials_.begin(), specials_.end(), piece) != specials_.end())
                out.push_back(encode_utf8(piece));
            else
                wordpiece(piece, out);
        }
        if (hit == std::u32string::npos) break;
        out.push_back(encode_utf8(text.substr(hit, hit_len)));
        at = hit + hit_len;
    }
    return out;
}

std::vector<int32_t> WordPiece::tokenize(const std::string &utf8) const {
    std::vector<int32_t> ids;
    for (const std::string &p : pieces(utf8)) ids.push_back(ids_.at(p));
    return ids;
}

WordPiece::Encoded WordPiece::encode(const std::string &utf8, int max_len) const {
    if (max_len < 2)
        throw UsageError("max_len = " + std::to_string(max_len) + ": allowed values are >= 2 ([CLS] and [SEP])");
    const std::vector<int32_t> ids = tokenize(utf8);
    const size_t keep = std::min(ids.size(), (size_t)max_len - 2);
    Encoded e;
    e.ids.push_back(cls_);
    e.ids.insert(e.ids.end(), ids.begin(), ids.begin() + (long)keep);
    e.ids.push_back(sep_);
    e.length = (int)e.ids.size();
    e.mask.assign((size_t)e.length, 1);
    e.ids.resize((size_t)max_len, pad_);
    e.mask.resize((size_t)max_len, 0);
    e.type_ids.assign((size_t)max_len, 0);
    return e;
}

}  // namespace adalora
