// wordpiece.h: BERT's tokenizer, exactly as HF transformers' Python
// BertTokenizer (BertTokenizerLegacy in transformers 5: BasicTokenizer, then
// WordpieceTokenizer) tokenizes under Python 3.11 (Unicode 14.0.0; the tables
// are tasks/unicode_tables.cpp, made by tools/gen_unicode_tables.py).
//
//   special tokens  [PAD] [UNK] [CLS] [SEP] [MASK] (those in the vocabulary)
//                   written literally in the text are cut out first and kept
//                   as their ids, as HF's added-token split does.
//   clean           NUL, U+FFFD and category C* (but \t \n \r) dropped;
//                   \t \n \r, ' ' and Zs become ' '.
//   CJK             each CJK ideograph (HF's _is_chinese_char ranges) gets a
//                   space on either side (tokenize_chinese_chars).
//   NFC             the whole text (HF's BasicTokenizer does this since 4.3x).
//   words           split on str.split()'s whitespace (str.isspace: ' ',
//                   U+2028, U+2029 remain after cleaning).
//   per word        a word equal to a special token is kept whole; else
//                   lowercase: str.lower() (full mappings, final sigma), then
//                   strip accents: NFD and drop Mn; split before and after each
//                   punctuation character (ASCII 33-47, 58-64, 91-96, 123-126
//                   or category P*).
//   WordPiece       a piece of more than 100 code points is [UNK]; else
//                   greedy longest match first, continuations as "##...", and
//                   a piece with no match at some point is one [UNK].
//
// Invalid UTF-8 (Python's strict decoder's rules: overlong forms, surrogates,
// code points above U+10FFFF, truncated sequences, stray continuation bytes)
// is an error: UsageError "invalid UTF-8 at byte N".
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace adalora {

// lowercase and strip_accents as HF's do_lower_case and strip_accents (HF's
// strip_accents=None, the default, is strip_accents = lowercase).
struct WordPieceSettings {
    bool lowercase = true, strip_accents = true, tokenize_chinese_chars = true;
};

// The code points of utf8; UsageError "invalid UTF-8 at byte N (why)" where
// Python's bytes.decode('utf-8') fails.
std::u32string decode_utf8(const std::string &utf8);
std::string encode_utf8(const std::u32string &text);

class WordPiece {
  public:
    // vocab.txt: one token per line (\n, \r\n or \r, as Python's text mode
    // reads it), id = line number; needs [PAD] [UNK] [CLS] [SEP]. UsageError
    // naming the file for a missing or unreadable file, invalid UTF-8, a
    // repeated token or a missing special token.
    WordPiece(const std::string &vocab_path, WordPieceSettings s);
    // The ids of the text, no special tokens added, no truncation.
    std::vector<int32_t> tokenize(const std::string &utf8) const;
    // The word pieces themselves (UTF-8), as HF's tokenize() returns them.
    std::vector<std::string> pieces(const std::string &utf8) const;
    // [CLS] ids [SEP], truncated to max_len (the first max_len - 2 ids, [SEP]
    // kept last), padded with [PAD] to max_len: ids, attention mask (1 real,
    // 0 pad), type ids (all 0); length = the real tokens. max_len >= 2.
    struct Encoded {
        std::vector<int32_t> ids, mask, type_ids;
        int length = 0;
    };
    Encoded encode(const std::string &utf8, int max_len) const;
    int32_t cls_id() const { return cls_; }
    int32_t sep_id() const { return sep_; }
    int32_t pad_id() const { return pad_; }
    int32_t unk_id() const { return unk_; }
    size_t vocab_size() const { return tokens_.size(); }
    const std::string &token(int32_t id) const { return tokens_.at((size_t)id); }

  private:
    WordPieceSettings settings_;
    std::vector<std::string> tokens_;
    std::unordered_map<std::string, int32_t> ids_;
    std::vector<std::u32string> specials_;  // the special tokens present, as code points
    int32_t pad_ = -1, unk_ = -1, cls_ = -1, sep_ = -1;

    // HF's BasicTokenizer on one text without special tokens: the pieces.
    std::vector<std::u32string> basic_tokenize(const std::u32string &text) const;
    // HF's WordpieceTokenizer on one piece: appends token strings.
    void wordpiece(const std::u32string &piece, std::vector<std::string> &out) const;
};

}  // namespace adalora
