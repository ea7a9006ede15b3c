#!/usr/bin/env python3
"""tokenizer_check.py: the driver's WordPiece tokenizer (adalora tokenize)
against HF transformers' own BERT tokenizers, sentence by sentence.

Every sentence of the four datasets (UCI amazon, imdb, yelp from the npm
package sentiment's fixtures; VADER's movie-review snippets), read here
independently of the driver's loaders (json.load; the VADER file split on
CRLF and tabs, the 37 snippets rated exactly 0 dropped as the driver does),
and a set of hand-made edge cases (accents, CJK, Greek sigma, controls,
special tokens, long words, ...) under each tokenizer setting, are tokenized
by the driver and by
  - AutoTokenizer.from_pretrained(all-MiniLM-L6-v2): in transformers 5 this is
    BertTokenizer, the Rust `tokenizers` backend (tokenizer.json), i.e. the
    fast tokenizer;
  - BertTokenizerLegacy(vocab.txt): the Python BasicTokenizer +
    WordpieceTokenizer the driver implements.
Prints "tokenizer: N sentences compared, M mismatches" per dataset and
reference, and overall; shows the first mismatches; exits 1 if any.

usage: tokenizer_check.py DRIVER ASSETS_DIR WORK_DIR   (HF_HUB_OFFLINE=1)
"""
import json
import os
import subprocess
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from transformers import AutoTokenizer, BertTokenizer  # noqa: E402
from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy  # noqa: E402

SHOW = 5

# Hand-made cases, one line each (no \n or \r inside).
EDGE = [
    "Héllo Wörld", "ÅNGSTRÖM naïve café RÉSUMÉ", "e\u0301 vs \u00e9 and a\u0316\u0301 a\u0301\u0316",
    "我爱北京天安门 and 日本語テキスト", "\U00020000\U0002a700 compatibility \uf900\U0002f800",
    "ΟΔΟΣ ΟΔΟΣ. Σ ΑΣ Α.Σ ΑΣ'Α ΣΑ", "İstanbul ǅemal Ǆ ß ﬁne \u212a \u2126 \u212b",
    "\x07bell\x85nel\x96dash\u200bzw\ufeffbom\ufffdrepl\x00nul", "a\u2028b\u2029c\u00a0d\u3000e\tf\x0bg\x0ch",
    "$5^2`~ “quoted” ‘single’ — dash ¿qué? ¡sí! «guillemets» 。、", "\u1fef\u037e\u0387\u2000x",
    "a" * 100, "b" * 101, "ꙮ unknownꙮpiece ☃ 😀 ١٢٣ ๓", "[CLS] hi [SEP] x[MASK]y [cls] [PAD][UNK] [SEP",
    "한국어 텍스트 각 가", "ǅ\u0345 ᾼ ᾳ ΐ", "The café’s crème brûlée – ½ price!", "   ", "",
    "unaffable unbelievable antidisestablishmentarianism", "C'est l'été, n'est-ce pas?",
    "Ǳ ǲ ǳ Ⅻ ⓐ Ⓐ 𐐀 𞤀", "\u0300leading mark \u0301", "ﾃｽﾄ ＦＵＬＬ ｗｉｄｔｈ １２３",
]
# (driver flags, HF kwargs) for each setting the edge cases run under.
SETTINGS = [
    ([], dict(do_lower_case=True, strip_accents=None, tokenize_chinese_chars=True)),
    (["--no-lowercase"], dict(do_lower_case=False, strip_accents=None, tokenize_chinese_chars=True)),
    (["--no-lowercase", "--strip-accents", "yes"], dict(do_lower_case=False, strip_accents=True, tokenize_chinese_chars=True)),
    (["--strip-accents", "no"], dict(do_lower_case=True, strip_accents=False, tokenize_chinese_chars=True)),
    (["--no-chinese-chars"], dict(do_lower_case=True, strip_accents=None, tokenize_chinese_chars=False)),
]


def uci(path):
    rows = json.load(open(path, encoding="utf-8"))
    if rows and rows[-1] == {"text": "", "class": None}:
        rows = rows[:-1]
    return [r["text"] for r in rows]


def vader(path):
    out = []
    for line in open(path, encoding="utf-8", newline="").read().split("\r\n"):
        if line:
            _, score, text = line.split("\t", 2)
            if float(score) != 0:
                out.append(text)
    return out


def run_driver(driver, args, work, name):
    out = os.path.join(work, name + ".ids")
    subprocess.run([driver, "tokenize", "--vocab", VOCAB, "--out", out] + args, check=True, stdout=subprocess.DEVNULL)
    with open(out, encoding="ascii") as f:
        return [[int(x) for x in line.split()] for line in f.read().split("\n")[:-1]]


def compare(label, texts, ours, ref, tok, shown):
    if len(ours) != len(texts):
        print(f"tokenizer: {label}: the driver gave {len(ours)} lines for {len(texts)} sentences")
        return len(texts), len(texts)
    bad = 0
    for i, (text, got) in enumerate(zip(texts, ours)):
        want = ref(text)
        if got != want:
            bad += 1
            if shown[0] < SHOW:
                shown[0] += 1
                print(f"  mismatch {label} #{i}: {text!r}\n    driver {tok.convert_ids_to_tokens(got)}\n"
                      f"    HF     {tok.convert_ids_to_tokens(want)}")
    print(f"tokenizer: {label}: {len(texts)} sentences compared, {bad} mismatches")
    return len(texts), bad


def main():
    global VOCAB
    driver, assets, work = sys.argv[1:4]
    model = os.path.join(assets, "all-MiniLM-L6-v2")
    VOCAB = os.path.join(model, "vocab.txt")
    os.makedirs(work, exist_ok=True)
    fast = AutoTokenizer.from_pretrained(model)
    slow = BertTokenizerLegacy(VOCAB, do_lower_case=True)
    refs = [(f"{type(fast).__name__} (AutoTokenizer, is_fast={fast.is_fast})", fast),
            (f"{type(slow).__name__} (is_fast={slow.is_fast})", slow)]
    datasets = [
        ("amazon", ["--format", "uci", "--input", os.path.join(assets, "sentiment/test/fixtures/amazon.json")],
         uci(os.path.join(assets, "sentiment/test/fixtures/amazon.json"))),
        ("imdb", ["--format", "uci", "--input", os.path.join(assets, "sentiment/test/fixtures/imdb.json")],
         uci(os.path.join(assets, "sentiment/test/fixtures/imdb.json"))),
        ("yelp", ["--format", "uci", "--input", os.path.join(assets, "sentiment/test/fixtures/yelp.json")],
         uci(os.path.join(assets, "sentiment/test/fixtures/yelp.json"))),
        ("vader-movies", ["--format", "vader", "--input",
                          os.path.join(assets, "vader/movieReviewSnippets_GroundTruth.txt")],
         vader(os.path.join(assets, "vader/movieReviewSnippets_GroundTruth.txt"))),
    ]
    total = {name: [0, 0] for name, _ in refs}
    shown = [0]
    for name, args, texts in datasets:
        ours = run_driver(driver, args, work, name)
        for ref_name, tok in refs:
            n, bad = compare(f"{name} vs {ref_name}", texts, ours,
                             lambda t, tok=tok: tok(t, add_special_tokens=False)["input_ids"], tok, shown)
            total[ref_name][0] += n
            total[ref_name][1] += bad
    for ref_name, (n, bad) in total.items():
        print(f"tokenizer: all 4 datasets vs {ref_name}: {n} sentences compared, {bad} mismatches")

    # The edge cases under every setting: the Python tokenizer is the one the
    # driver implements (a mismatch fails the check); the fast one is shown
    # for information (it differs from the Python one on some of these).
    edge_file = os.path.join(work, "edge.txt")
    with open(edge_file, "w", encoding="utf-8", newline="\n") as f:
        f.write("".join(t + "\n" for t in EDGE))
    edge_bad = 0
    fast_bad = 0
    for k, (flags, kw) in enumerate(SETTINGS):
        ours = run_driver(driver, ["--format", "lines", "--input", edge_file] + flags, work, f"edge{k}")
        s = BertTokenizerLegacy(VOCAB, **kw)
        _, bad = compare(f"edge cases {' '.join(flags) or '(defaults)'} vs BertTokenizerLegacy", EDGE, ours,
                         lambda t: s(t, add_special_tokens=False)["input_ids"], s, shown)
        edge_bad += bad
        with open(VOCAB, encoding="utf-8") as vf:
            vocab = {t.rstrip("\n"): i for i, t in enumerate(vf.readlines())}
        fz = BertTokenizer(vocab=vocab, **kw)
        diff = [t for t, o in zip(EDGE, ours) if fz(t, add_special_tokens=False)["input_ids"] != o]
        fast_bad += len(diff)
        print(f"  (information) the same vs the fast BertTokenizer: {len(diff)} of {len(EDGE)} differ"
              + (f", e.g. {diff[0]!r}" if diff else ""))
    datasets_bad = sum(bad for _, bad in total.values())
    n_all = sum(n for n, _ in total.values())
    print(f"tokenizer: overall (datasets, both references): {n_all} sentences compared, {datasets_bad} mismatches; "
          f"edge cases vs the Python tokenizer: {len(EDGE) * len(SETTINGS)} compared, {edge_bad} mismatches")
    return 1 if datasets_bad or edge_bad else 0


if __name__ == "__main__":
    sys.exit(main())
