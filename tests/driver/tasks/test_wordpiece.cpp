// test_wordpiece.cpp: BERT's tokenizer (tasks/wordpiece.h) on a hand-made
// vocabulary, one case per rule of HF's BasicTokenizer and
// WordpieceTokenizer; the `adalora tokenize` command in a sandbox. Every
// expectation is derived by hand from the rule it tests (HF's
// tokenization_bert_legacy.py and the Unicode data named in the comment);
// each was also confirmed with HF's BertTokenizerLegacy on the same vocabulary.
// tests/crosscheck/tokenizer.sh compares the real vocabulary on real data.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "base/errors.h"
#include "tasks/wordpiece.h"

#include "support/test_files.h"
#include "support/test_sandbox.h"

using adalora::WordPiece;
using adalora::WordPieceSettings;
using test::TempDir;
using test::usage_error;

namespace {

// id = line number (from 0).
const std::vector<std::string> kVocab = {
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",                  // 0-4
    "hello", "world", ",", "!", "un",                                // 5-9
    "##aff", "##able", "cafe", "caf\xc3\xa9", "naive",               // 10-14: café precomposed (U+00E9)
    "\xe6\x88\x91", "\xe7\x88\xb1", "a", "##a", "x",                 // 15-19: 我 爱
    "xy", "##y", "##z", "$", "^",                                    // 20-24
    "`", "~", "\xc2\xbf", "\xe2\x80\x94", "\xce\xbf\xce\xb4\xce\xbf\xcf\x82",  // 25-29: ¿ — οδος (final ς)
    "\xcf\x83\xce\xb1", "\xce\xb1", ".", "\xcf\x82", "i",           // 30-34: σα α . ς i
    "[", "]", "\xe1\x84\x80", "##\xe1\x85\xa1", "\xe5\x8a\xa0",      // 35-39: ᄀ ##ᅡ 加
};

int id(const std::string &token) {
    for (size_t i = 0; i < kVocab.size(); i++)
        if (kVocab[i] == token) return (int)i;
    FAIL("no token " << token);
    return -1;
}

struct Fixture {
    TempDir dir;
    std::string vocab;
    Fixture() {
        std::string text;
        for (const std::string &t : kVocab) text += t + "\n";
        vocab = dir.write("vocab.txt", text);
    }
    WordPiece make(bool lowercase = true, bool strip = true, bool chinese = true) const {
        WordPieceSettings s;
        s.lowercase = lowercase;
        s.strip_accents = strip;
        s.tokenize_chinese_chars = chinese;
        return WordPiece(vocab, s);
    }
};

using Ids = std::vector<int32_t>;

}  // namespace

TEST_CASE("wordpiece: the vocabulary: ids are line numbers, the special ids, bad files refused") {
    Fixture f;
    const WordPiece wp = f.make();
    CHECK(wp.vocab_size() == kVocab.size());
    CHECK(wp.pad_id() == 0);
    CHECK(wp.unk_id() == 1);
    CHECK(wp.cls_id() == 2);
    CHECK(wp.sep_id() == 3);
    CHECK(wp.token(13) == "caf\xc3\xa9");

    // CRLF and lone CR end lines as in Python's text mode: the same ids.
    const std::string crlf = f.dir.write("crlf.txt", "[PAD]\r\n[UNK]\r[CLS]\n[SEP]\r\nhello\r\n");
    const WordPiece w2(crlf, {});
    CHECK(w2.vocab_size() == 5);
    CHECK(w2.tokenize("hello") == Ids{4});

    CHECK(usage_error([&] { WordPiece(f.dir.path.string() + "/absent.txt", {}); }).find("absent.txt") !=
          std::string::npos);
    const std::string no_sep = f.dir.write("nosep.txt", "[PAD]\n[UNK]\n[CLS]\nhello\n");
    CHECK(usage_error([&] { WordPiece(no_sep, {}); }).find("no [SEP]") != std::string::npos);
    const std::string twice = f.dir.write("twice.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\nhello\n");
    CHECK(usage_error([&] { WordPiece(twice, {}); }).find("line 6: token 'hello' repeats line 5") != std::string::npos);
    const std::string bad = f.dir.write("bad.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n\xff\n");
    CHECK(usage_error([&] { WordPiece(bad, {}); }).find("invalid UTF-8 at byte 24") != std::string::npos);
}

TEST_CASE("wordpiece: lower-casing and punctuation split the words; greedy longest match with ##") {
    Fixture f;
    const WordPiece wp = f.make();
    CHECK(wp.tokenize("Hello, World!") == Ids{5, 7, 6, 8});
    CHECK(wp.tokenize("") == Ids{});
    CHECK(wp.tokenize("  \t ") == Ids{});
    // HF's docstring example: un ##aff ##able.
    CHECK(wp.tokenize("unaffable") == Ids{9, 10, 11});
    CHECK(wp.pieces("unaffable") == std::vector<std::string>{"un", "##aff", "##able"});
    // Longest first: "xy" (not "x" then "##y"), then "##z"; no backtracking:
    // "xq" has "x" but no "##q", so the whole word is one [UNK].
    CHECK(wp.tokenize("xyz") == Ids{id("xy"), id("##z")});
    CHECK(wp.tokenize("xyy") == Ids{id("xy"), id("##y")});
    CHECK(wp.tokenize("xq") == Ids{1});
    CHECK(wp.tokenize("xq hello") == Ids{1, 5});
    // Without lower-casing "Hello" is not in the vocabulary.
    CHECK(f.make(false, false).tokenize("Hello hello") == Ids{1, 5});
}

TEST_CASE("wordpiece: punctuation is ASCII 33-47, 58-64, 91-96, 123-126 or category P*") {
    Fixture f;
    const WordPiece wp = f.make();
    // $ (Sc), ^ (Sk), ` (Sk), ~ (Sm): not P* but in BERT's ASCII ranges.
    CHECK(wp.tokenize("a$a^a`a~a") == Ids{17, 23, 17, 24, 17, 25, 17, 26, 17});
    // ¿ (U+00BF, Po) and — (U+2014, Pd) split; © (U+00A9, So) does not: "a©a"
    // stays one word, which has no pieces: one [UNK] (a split would give 3 ids).
    CHECK(wp.tokenize("a\xc2\xbf" "a\xe2\x80\x94" "a") == Ids{17, 27, 17, 28, 17});
    CHECK(wp.tokenize("a\xc2\xa9" "a") == Ids{1});
    // Each punctuation character is its own piece: "!!" is two.
    CHECK(wp.tokenize("hello!!") == Ids{5, 8, 8});
}

TEST_CASE("wordpiece: accents are stripped by NFD and dropping Mn; NFC first") {
    Fixture f;
    // é = e + U+0301 (Mn) under NFD; Ï = I + U+0308.
    CHECK(f.make().tokenize("Caf\xc3\xa9 NA\xc3\x8fVE") == Ids{12, 14});
    // Lower-case but keep accents: café (U+00E9) is in the vocabulary, naïve not.
    CHECK(f.make(true, false).tokenize("Caf\xc3\xa9 NA\xc3\x8fVE") == Ids{13, 1});
    // A decomposed e + U+0301 is composed by NFC into U+00E9 first.
    CHECK(f.make(true, false).tokenize("Cafe\xcc\x81") == Ids{13});
    CHECK(f.make().tokenize("Cafe\xcc\x81") == Ids{12});
    // No lower-casing, accents stripped (HF strip_accents=True): "CAFé" → "CAFe".
    CHECK(f.make(false, true).tokenize("caf\xc3\xa9") == Ids{12});
    // Hangul: 가 (U+AC00) decomposes (Unicode §3.12) into ᄀ U+1100 + ᅡ U+1161,
    // neither Mn, so stripping keeps both: ᄀ ##ᅡ. Without stripping it stays 가.
    CHECK(f.make().tokenize("\xea\xb0\x80") == Ids{id("\xe1\x84\x80"), id("##\xe1\x85\xa1")});
    CHECK(f.make(true, false).tokenize("\xea\xb0\x80") == Ids{1});
}

TEST_CASE("wordpiece: Python's str.lower: full mappings and the final sigma") {
    Fixture f;
    const WordPiece wp = f.make();
    // ΟΔΟΣ: Σ after cased letters and before none lowers to ς: οδος.
    CHECK(wp.tokenize("\xce\x9f\xce\x94\xce\x9f\xce\xa3") == Ids{id("\xce\xbf\xce\xb4\xce\xbf\xcf\x82")});
    // ΣΑ: Σ with no cased letter before it is σ: σα.
    CHECK(wp.tokenize("\xce\xa3\xce\x91") == Ids{id("\xcf\x83\xce\xb1")});
    // Α.Σ: "." is case-ignorable (Word_Break MidNumLet), so Σ follows α and
    // nothing cased follows it: α . ς after the punctuation split.
    CHECK(wp.tokenize("\xce\x91.\xce\xa3") == Ids{id("\xce\xb1"), id("."), id("\xcf\x82")});
    // İ (U+0130) lowers to i + U+0307 (SpecialCasing); stripping drops U+0307.
    CHECK(wp.tokenize("\xc4\xb0") == Ids{id("i")});
    CHECK(f.make(true, false).tokenize("\xc4\xb0") == Ids{1});
}

TEST_CASE("wordpiece: CJK ideographs are split apart unless tokenize_chinese_chars is off") {
    Fixture f;
    // 我爱a: each ideograph a word of its own, then "a".
    CHECK(f.make().tokenize("\xe6\x88\x91\xe7\x88\xb1" "a") == Ids{15, 16, 17});
    // Off: "我爱a" is one word; "我" matches but "##爱a", "##爱" do not: [UNK].
    CHECK(f.make(true, true, false).tokenize("\xe6\x88\x91\xe7\x88\xb1" "a") == Ids{1});
    // U+F9FF is a CJK compatibility ideograph (in HF's ranges): split, and NFC
    // maps it to U+523A (not in the vocabulary): [UNK] apart from "a".
    CHECK(f.make().tokenize("a\xef\xa7\xbf" "a") == Ids{17, 1, 17});
    // U+52A0 加 in the vocabulary.
    CHECK(f.make().tokenize("\xe5\x8a\xa0" "a") == Ids{39, 17});
}

TEST_CASE("wordpiece: cleaning drops NUL, U+FFFD and C*; whitespace becomes a separator") {
    Fixture f;
    const WordPiece wp = f.make();
    // BEL (Cc), NUL, ZWSP U+200B (Cf), U+FFFD and NEL U+0085 (Cc) vanish.
    CHECK(wp.tokenize(std::string("hel\x07lo", 6) + std::string(1, '\0') + " wor\xe2\x80\x8bld\xef\xbf\xbd") ==
          Ids{5, 6});
    CHECK(wp.tokenize("hel\xc2\x85lo") == Ids{5});
    // \t \n \r, NBSP U+00A0 (Zs) and U+3000 (Zs) separate words; so do
    // U+2028 and U+2029 (Zl, Zp: kept by cleaning, split by str.split()).
    CHECK(wp.tokenize("hello\tworld\nhello\rworld") == Ids{5, 6, 5, 6});
    CHECK(wp.tokenize("hello\xc2\xa0world\xe3\x80\x80hello") == Ids{5, 6, 5});
    CHECK(wp.tokenize("hello\xe2\x80\xa8world\xe2\x80\xa9hello") == Ids{5, 6, 5});
}

TEST_CASE("wordpiece: a word of more than 100 characters is [UNK]; unknown pieces make the word [UNK]") {
    Fixture f;
    const WordPiece wp = f.make();
    // 100 a's: "a" then 99 "##a" (longest first: only single letters exist).
    Ids hundred(100, 18);
    hundred[0] = 17;
    CHECK(wp.tokenize(std::string(100, 'a')) == hundred);
    CHECK(wp.tokenize(std::string(101, 'a')) == Ids{1});
    // The limit counts code points (after stripping), not bytes: 60 a's and
    // 41 à's (142 bytes) strip to 101 a's: [UNK] by length; 60 a's and 40
    // à's (140 bytes) strip to 100 a's, which are not.
    std::string long_word(60, 'a');
    for (int i = 0; i < 41; i++) long_word += "\xc3\xa0";
    CHECK(wp.tokenize(long_word) == Ids{1});
    std::string short_word(60, 'a');
    for (int i = 0; i < 40; i++) short_word += "\xc3\xa0";  // à → a: 100 a's
    CHECK(wp.tokenize(short_word) == hundred);
}

TEST_CASE("wordpiece: special tokens written in the text are kept whole, as HF's added-token split does") {
    Fixture f;
    const WordPiece wp = f.make();
    CHECK(wp.tokenize("[CLS] hello[SEP]world") == Ids{2, 5, 3, 6});
    CHECK(wp.tokenize("[MASK]") == Ids{4});
    // Lower-case or broken ones are plain text: "[", "cls" ([UNK]), "]".
    CHECK(wp.tokenize("[cls]") == Ids{35, 1, 36});
    CHECK(wp.tokenize("[SEP") == Ids{35, 1});
    // A special token that cleaning reassembles is a never_split word.
    CHECK(wp.tokenize(std::string("[S\x07" "EP]")) == Ids{3});
}

TEST_CASE("wordpiece: invalid UTF-8 is an error where Python's strict decoder fails") {
    Fixture f;
    const WordPiece wp = f.make();
    struct Row {
        std::string bytes, message;
    };
    const std::vector<Row> rows = {
        {"ab\x80", "invalid UTF-8 at byte 2 (invalid start byte)"},
        {"\xc3\x28", "invalid UTF-8 at byte 0 (invalid continuation byte)"},
        {"\xc0\xaf", "invalid UTF-8 at byte 0 (invalid start byte)"},             // overlong '/'
        {"\xe0\x80\xaf", "invalid UTF-8 at byte 0 (invalid continuation byte)"},  // overlong
        {"\xed\xa0\x80", "invalid UTF-8 at byte 0 (invalid continuation byte)"},  // surrogate U+D800
        {"\xf4\x90\x80\x80", "invalid UTF-8 at byte 0 (invalid continuation byte)"},  // U+110000
        {"\xf5\x80\x80\x80", "invalid UTF-8 at byte 0 (invalid start byte)"},
        {"x\xe6\x88", "invalid UTF-8 at byte 1 (unexpected end of data)"},
    };
    for (const Row &r : rows) {
        CAPTURE(r.message);
        CHECK(usage_error([&] { wp.tokenize(r.bytes); }) == r.message);
    }
    // The largest code points of each length decode and round-trip.
    const std::string edge = "\x7f\xdf\xbf\xef\xbf\xbf\xf4\x8f\xbf\xbf\xf0\x9f\x98\x80";
    CHECK(adalora::decode_utf8(edge) == std::u32string{0x7F, 0x7FF, 0xFFFF, 0x10FFFF, 0x1F600});
    CHECK(adalora::encode_utf8(adalora::decode_utf8(edge)) == edge);
}

TEST_CASE("wordpiece: encode adds [CLS] and [SEP], truncates keeping [SEP] last, pads with [PAD]") {
    Fixture f;
    const WordPiece wp = f.make();
    // "hello world hello world": 4 ids; max_len 4 keeps the first 2.
    WordPiece::Encoded e = wp.encode("hello world hello world", 4);
    CHECK(e.ids == Ids{2, 5, 6, 3});
    CHECK(e.mask == Ids{1, 1, 1, 1});
    CHECK(e.type_ids == Ids{0, 0, 0, 0});
    CHECK(e.length == 4);
    e = wp.encode("hello world", 8);
    CHECK(e.ids == Ids{2, 5, 6, 3, 0, 0, 0, 0});
    CHECK(e.mask == Ids{1, 1, 1, 1, 0, 0, 0, 0});
    CHECK(e.type_ids == Ids(8, 0));
    CHECK(e.length == 4);
    e = wp.encode("hello world", 4);  // exactly fits
    CHECK(e.ids == Ids{2, 5, 6, 3});
    e = wp.encode("hello world", 2);
    CHECK(e.ids == Ids{2, 3});
    CHECK(e.length == 2);
    e = wp.encode("", 3);
    CHECK(e.ids == Ids{2, 3, 0});
    CHECK(e.mask == Ids{1, 1, 0});
    CHECK(usage_error([&] { wp.encode("hello", 1); }).find("max_len = 1") != std::string::npos);
}

TEST_CASE("wordpiece: adalora tokenize writes one line of ids per sentence; bad input is one line, exit 2") {
    test::Sandbox box;
    std::string vocab;
    for (const std::string &t : kVocab) vocab += t + "\n";
    box.write("vocab.txt", vocab);
    box.write("in.txt", "Hello, World!\r\n\nunaffable xq\n\xe6\x88\x91\xe7\x88\xb1");
    test::Result r = box.run("tokenize --vocab vocab.txt --input in.txt --out ids.txt");
    CAPTURE(r.err);
    REQUIRE(r.code == 0);
    CHECK(test::read_text(box.work / "ids.txt") == "5 7 6 8\n\n9 10 11 1\n15 16\n");
    r = box.run("tokenize --vocab vocab.txt --input in.txt --out ids2.txt --no-chinese-chars --no-lowercase");
    REQUIRE(r.code == 0);
    CHECK(test::read_text(box.work / "ids2.txt") == "1 7 1 8\n\n9 10 11 1\n1\n");

    box.write("bad.txt", "hello\nwor\xffld\n");
    test::expect_usage_error(box, "tokenize --vocab vocab.txt --input bad.txt --out x.txt",
                             "--input bad.txt, sentence 2: invalid UTF-8 at byte 3");
    test::expect_usage_error(box, "tokenize --vocab absent.txt --input in.txt --out x.txt", "absent.txt");
    test::expect_usage_error(box, "tokenize --vocab vocab.txt --input in.txt --out x.txt --format csv", "csv");
    test::expect_usage_error(box, "tokenize --vocab vocab.txt --input in.txt --out x.txt --format uci",
                             "sentiment fixtures in.txt");
}
