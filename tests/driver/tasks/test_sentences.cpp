// test_sentences.cpp: the sentence data (tasks/sentences.h): the installed
// files (make deps) parse to the counts data/README.md states (counted
// independently: the JSON by eye and Python's json, the VADER file with awk:
// 5,242 positive, 5,326 negative, 37 rated 0); hostile files are one-line
// UsageErrors naming the file and the record; the split is 80/10/10 within
// each class, covers every sentence once, and is the documented Fisher–Yates
// draw of ada_rng (a reference loop here).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "base/errors.h"
#include "tasks/sentences.h"

#include "support/test_files.h"

extern "C" {
#include "rng.h"
}

using adalora::Sentence;
using test::TempDir;
using test::usage_error;

TEST_CASE("sentences: the three UCI files hold 1,000 sentences each, 500 per class") {
    struct Row {
        const char *name, *first_text;
        int first_class;
    };
    const Row rows[] = {
        {"amazon", "So there is no way for me to plug it in here in the US unless I go by a converter.", 0},
        {"imdb", "A very, very, very slow-moving, aimless movie about a distressed, drifting young man.  ", 0},
        {"yelp", "Wow... Loved this place.", 1},
    };
    for (const Row &r : rows) {
        CAPTURE(r.name);
        const std::vector<Sentence> s =
            adalora::load_uci_sentences(test::repo_file(std::string("build/assets/sentiment/test/fixtures/") + r.name + ".json"));
        REQUIRE(s.size() == 1000);
        CHECK(std::count_if(s.begin(), s.end(), [](const Sentence &x) { return x.label == 1; }) == 500);
        CHECK(s[0].text == r.first_text);
        CHECK(s[0].label == r.first_class);
        CHECK(std::isnan(s[0].score));
    }
}

TEST_CASE("sentences: VADER's movie snippets: 10,605 lines, the 37 rated 0 dropped") {
    const std::vector<Sentence> s =
        adalora::load_vader_snippets(test::repo_file("build/assets/vader/movieReviewSnippets_GroundTruth.txt"));
    REQUIRE(s.size() == 10568);
    CHECK(std::count_if(s.begin(), s.end(), [](const Sentence &x) { return x.label == 1; }) == 5242);
    CHECK(std::none_of(s.begin(), s.end(), [](const Sentence &x) { return x.score == 0; }));
    CHECK(std::all_of(s.begin(), s.end(), [](const Sentence &x) { return (x.score > 0) == (x.label == 1); }));
    // Line 1: "1 TAB 2.26666666667 TAB The Rock is destined ...".
    CHECK(s[0].score == 2.26666666667);  // the file holds 2.26666666667
    CHECK(s[0].text.rfind("The Rock is destined to be the 21st Century's new ''Conan''", 0) == 0);
    CHECK(s[0].text.back() != '\r');
}

TEST_CASE("sentences: a malformed UCI file is one UsageError naming the file and the record") {
    TempDir d;
    auto err = [&](const std::string &text) {
        const std::string path = d.write("f.json", text);
        return usage_error([&] { adalora::load_uci_sentences(path); });
    };
    const std::string ok = R"({"text":"good","class":1},{"text":"bad","class":0})";
    CHECK(err("[" + ok + "]").empty());
    CHECK(err("[" + ok + R"(,{"text":"","class":null}])").empty());  // the terminator
    {
        const std::string path = d.write("g.json", "[" + ok + R"(,{"text":"","class":null}])");
        const std::vector<Sentence> s = adalora::load_uci_sentences(path);
        REQUIRE(s.size() == 2);
        CHECK(s[0].text == "good");
        CHECK(s[1].label == 0);
    }
    CHECK(err("[" + ok + R"(,{"text":"x","class":2}])").find("f.json, record 2 (from 0): \"class\" is 2 (allowed: 0, 1)") !=
          std::string::npos);
    CHECK(err(R"([{"text":"","class":null},)" + ok + "]").find("record 0") != std::string::npos);  // not last
    CHECK(err(R"([{"text":5,"class":1}])").find("record 0 (from 0): not an object") != std::string::npos);
    CHECK(err(R"([{"text":"a"}])").find("record 0") != std::string::npos);
    CHECK(err(R"([{"text":"a","class":"1"}])").find("\"class\" is \"1\"") != std::string::npos);
    CHECK(err(R"([{"text":"a","class":1.0}])").find("\"class\" is 1.0") != std::string::npos);
    CHECK(err(R"([[1]])").find("record 0") != std::string::npos);
    CHECK(err(R"({"text":"a","class":1})").find("not a JSON array") != std::string::npos);
    CHECK(err("[{\"text\":\"a\xff\",\"class\":1}]").find("f.json") != std::string::npos);  // invalid UTF-8
    CHECK(err("[" + ok).find("not JSON") != std::string::npos);
    CHECK(err("[]").find("no sentences") != std::string::npos);
    CHECK(usage_error([&] { adalora::load_uci_sentences((d.path / "absent.json").string()); }).find("absent.json") !=
          std::string::npos);
}

TEST_CASE("sentences: a malformed VADER file is one UsageError naming the file and the line") {
    TempDir d;
    auto err = [&](const std::string &text) {
        const std::string path = d.write("v.txt", text);
        return usage_error([&] { adalora::load_vader_snippets(path); });
    };
    const std::string ok = "1\t2.5\tGreat fun.\r\n2\t-1.25\tDull.\r\n";
    CHECK(err(ok).empty());
    {
        // LF endings, no final newline, a tab inside the text, a 0 dropped.
        const std::string path = d.write("w.txt", "7\t0\tMeh.\n8\t-0.5\tNot\tgood.");
        const std::vector<Sentence> s = adalora::load_vader_snippets(path);
        REQUIRE(s.size() == 1);
        CHECK(s[0].text == "Not\tgood.");
        CHECK(s[0].label == 0);
        CHECK(s[0].score == -0.5);
    }
    CHECK(err(ok + "3\t1.0\r\n").find("v.txt, line 3: not 'id TAB score TAB text'") != std::string::npos);
    CHECK(err(ok + "x\t1.0\tHi.\r\n").find("line 3: id 'x' is not an integer") != std::string::npos);
    CHECK(err(ok + "3\tabc\tHi.\r\n").find("line 3: score 'abc' is not a finite number") != std::string::npos);
    CHECK(err(ok + "3\tnan\tHi.\r\n").find("line 3: score 'nan'") != std::string::npos);
    CHECK(err(ok + "3\t1.5x\tHi.\r\n").find("line 3: score '1.5x'") != std::string::npos);
    CHECK(err(ok + "3\t1.5\t\r\n").find("line 3: empty text") != std::string::npos);
    CHECK(err(ok + "\r\n" + ok).find("line 3: not") != std::string::npos);  // an empty line inside
    CHECK(err(ok + "3\t1.5\tbad \xc3\r\n").find("line 3: invalid UTF-8 at byte 4") != std::string::npos);
    CHECK(err("1\t0\tNeutral.\r\n").find("no snippets") != std::string::npos);
    CHECK(usage_error([&] { adalora::load_vader_snippets((d.path / "absent.txt").string()); }).find("absent.txt") !=
          std::string::npos);
}

TEST_CASE("sentences: the split is 80/10/10 per class, every sentence once, the documented draw") {
    // 47 negatives, 23 positives, each text unique.
    std::vector<Sentence> all;
    for (int i = 0; i < 70; i++) all.push_back({"s" + std::to_string(i), i % 3 == 0 ? 1 : 0, 0.0});
    const adalora::SentenceSplits s = adalora::split_sentences(all, 42);
    // Class 0: 46 → dev 4, test 4, train 38; class 1: 24 → 2, 2, 20.
    auto count = [](const std::vector<Sentence> &v, int label) {
        return std::count_if(v.begin(), v.end(), [&](const Sentence &x) { return x.label == label; });
    };
    CHECK(count(s.train, 0) == 38);
    CHECK(count(s.dev, 0) == 4);
    CHECK(count(s.test, 0) == 4);
    CHECK(count(s.train, 1) == 20);
    CHECK(count(s.dev, 1) == 2);
    CHECK(count(s.test, 1) == 2);
    std::map<std::string, int> seen;
    for (const auto *v : {&s.train, &s.dev, &s.test})
        for (const Sentence &x : *v) seen[x.text]++;
    CHECK(seen.size() == 70);
    CHECK(std::all_of(seen.begin(), seen.end(), [](const auto &kv) { return kv.second == 1; }));

    // The reference: per class in file order, i from n-1 down to 1 swaps i
    // with ada_rng_below(i + 1); dev, test, train in that order; then each
    // split shuffled the same way; one generator throughout.
    ada_rng rng;
    ada_rng_seed(&rng, 42);
    auto fy = [&](std::vector<std::string> &v) {
        for (size_t i = v.size(); i-- > 1;) {
            const size_t j = (size_t)ada_rng_below(&rng, i + 1);
            std::string t = v[i];
            v[i] = v[j];
            v[j] = t;
        }
    };
    std::vector<std::string> train, dev, test_split;
    for (int label = 0; label < 2; label++) {
        std::vector<std::string> c;
        for (const Sentence &x : all)
            if (x.label == label) c.push_back(x.text);
        fy(c);
        const size_t h = c.size() / 10;
        dev.insert(dev.end(), c.begin(), c.begin() + (long)h);
        test_split.insert(test_split.end(), c.begin() + (long)h, c.begin() + (long)(2 * h));
        train.insert(train.end(), c.begin() + (long)(2 * h), c.end());
    }
    fy(train);
    fy(dev);
    fy(test_split);
    auto texts = [](const std::vector<Sentence> &v) {
        std::vector<std::string> t;
        for (const Sentence &x : v) t.push_back(x.text);
        return t;
    };
    CHECK(texts(s.train) == train);
    CHECK(texts(s.dev) == dev);
    CHECK(texts(s.test) == test_split);

    // The same seed gives the same split; another seed another order.
    CHECK(texts(adalora::split_sentences(all, 42).train) == train);
    CHECK(texts(adalora::split_sentences(all, 43).train) != train);
}

TEST_CASE("sentences: the split of the real data and its refusals") {
    const std::vector<Sentence> v =
        adalora::load_vader_snippets(test::repo_file("build/assets/vader/movieReviewSnippets_GroundTruth.txt"));
    const adalora::SentenceSplits s = adalora::split_sentences(v, 1);
    // 5,326 negatives → 532/532/4,262; 5,242 positives → 524/524/4,194.
    CHECK(s.train.size() == 8456);
    CHECK(s.dev.size() == 1056);
    CHECK(s.test.size() == 1056);

    std::vector<Sentence> bad = {{"a", 0, 0}, {"b", 2, 0}};
    CHECK(usage_error([&] { adalora::split_sentences(bad, 1); }).find("sentence 1: label 2 (allowed: 0, 1)") !=
          std::string::npos);
    std::vector<Sentence> few(9, Sentence{"a", 1, 0});
    CHECK(usage_error([&] { adalora::split_sentences(few, 1); }).find("9 sentences: too few") != std::string::npos);
}
