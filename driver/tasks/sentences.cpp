// sentences.cpp: the UCI and VADER sentence files and their split.
#include "tasks/sentences.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "base/errors.h"
#include "base/read_file.h"
#include "tasks/wordpiece.h"

extern "C" {
#include "rng.h"
}

namespace adalora {

namespace {

[[noreturn]] void record_error(const std::string &what, const std::string &path, const std::string &where,
                               const std::string &problem) {
    throw UsageError(what + " " + path + (where.empty() ? "" : ", " + where) + ": " + problem);
}

// UsageError unless text is valid UTF-8 (the tokenizer's rules).
void check_utf8(const std::string &text, const std::string &what, const std::string &path, const std::string &where) {
    try {
        decode_utf8(text);
    } catch (const UsageError &e) {
        record_error(what, path, where, e.what());
    }
}

// Fisher–Yates with the project's generator (the same on every machine).
template <class T>
void shuffle(std::vector<T> &v, ada_rng &rng) {
    for (size_t i = v.size(); i > 1; i--) std::swap(v[i - 1], v[(size_t)ada_rng_below(&rng, i)]);
}

}  // namespace

std::vector<Sentence> load_uci_sentences(const std::string &fixtures_json) {
    const std::string kWhat = "sentiment fixtures";
    const std::string bytes = read_file(fixtures_json, kTextFileLimit, kWhat + " ");
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(bytes);
    } catch (const nlohmann::json::exception &e) {
        record_error(kWhat, fixtures_json, "", std::string("not JSON (") + e.what() + ")");
    }
    if (!doc.is_array()) record_error(kWhat, fixtures_json, "", "not a JSON array of {\"text\", \"class\"} records");
    std::vector<Sentence> out;
    for (size_t i = 0; i < doc.size(); i++) {
        const nlohmann::json &r = doc[i];
        const std::string where = "record " + std::to_string(i) + " (from 0)";
        const bool terminator = i + 1 == doc.size() && r.is_object() && r.size() == 2 && r.contains("text") &&
                                r["text"] == "" && r.contains("class") && r["class"].is_null();
        if (terminator) continue;
        if (!r.is_object() || !r.contains("text") || !r["text"].is_string() || !r.contains("class"))
            record_error(kWhat, fixtures_json, where, "not an object with a string \"text\" and a \"class\"");
        const nlohmann::json &c = r["class"];
        if (!c.is_number_integer() || (c.get<long long>() != 0 && c.get<long long>() != 1))
            record_error(kWhat, fixtures_json, where, "\"class\" is " + c.dump() + " (allowed: 0, 1)");
        std::string text = r["text"].get<std::string>();
        check_utf8(text, kWhat, fixtures_json, where);
        out.push_back({std::move(text), (int)c.get<long long>(), std::numeric_limits<double>::quiet_NaN()});
    }
    if (out.empty()) record_error(kWhat, fixtures_json, "", "no sentences");
    return out;
}

std::vector<Sentence> load_vader_snippets(const std::string &ground_truth_txt) {
    const std::string kWhat = "VADER snippets";
    const std::string bytes = read_file(ground_truth_txt, kTextFileLimit, kWhat + " ");
    std::vector<Sentence> out;
    long line = 0;
    for (size_t at = 0; at < bytes.size();) {
        line++;
        size_t end = bytes.find('\n', at);
        if (end == std::string::npos) end = bytes.size();
        std::string rec = bytes.substr(at, end - at);
        at = end + 1;
        if (!rec.empty() && rec.back() == '\r') rec.pop_back();
        const std::string where = "line " + std::to_string(line);
        const size_t t1 = rec.find('\t'), t2 = t1 == std::string::npos ? t1 : rec.find('\t', t1 + 1);
        if (t2 == std::string::npos)
            record_error(kWhat, ground_truth_txt, where, "not 'id TAB score TAB text'");
        long long id = 0;
        const auto idr = std::from_chars(rec.data(), rec.data() + t1, id);
        if (t1 == 0 || idr.ec != std::errc() || idr.ptr != rec.data() + t1)
            record_error(kWhat, ground_truth_txt, where, "id '" + rec.substr(0, std::min<size_t>(t1, 20)) + "' is not an integer");
        double score = 0;
        const char *s0 = rec.data() + t1 + 1, *s1 = rec.data() + t2;
        const auto sr = std::from_chars(s0, s1, score);
        if (s0 == s1 || sr.ec != std::errc() || sr.ptr != s1 || !std::isfinite(score))
            record_error(kWhat, ground_truth_txt, where,
                         "score '" + std::string(s0, std::min<size_t>((size_t)(s1 - s0), 20)) + "' is not a finite number");
        std::string text = rec.substr(t2 + 1);
        if (text.empty()) record_error(kWhat, ground_truth_txt, where, "empty text");
        check_utf8(text, kWhat, ground_truth_txt, where);
        if (score == 0) continue;  // neither positive nor negative: dropped
        out.push_back({std::move(text), score > 0 ? 1 : 0, score});
    }
    if (out.empty()) record_error(kWhat, ground_truth_txt, "", "no snippets");
    return out;
}

SentenceSplits split_sentences(const std::vector<Sentence> &all, uint64_t seed) {
    ada_rng rng;
    ada_rng_seed(&rng, seed);
    SentenceSplits s;
    for (int label = 0; label < 2; label++) {
        std::vector<size_t> idx;
        for (size_t i = 0; i < all.size(); i++) {
            if (all[i].label != 0 && all[i].label != 1)
                throw UsageError("sentence " + std::to_string(i) + ": label " + std::to_string(all[i].label) +
                                 " (allowed: 0, 1)");
            if (all[i].label == label) idx.push_back(i);
        }
        shuffle(idx, rng);
        const size_t n_held = idx.size() / 10;
        for (size_t k = 0; k < idx.size(); k++)
            (k < n_held ? s.dev : k < 2 * n_held ? s.test : s.train).push_back(all[idx[k]]);
    }
    if (s.train.empty() || s.dev.empty() || s.test.empty())
        throw UsageError(std::to_string(all.size()) + " sentences: too few for an 80/10/10 split (" +
                         std::to_string(s.train.size()) + "/" + std::to_string(s.dev.size()) + "/" +
                         std::to_string(s.test.size()) + ")");
    shuffle(s.train, rng);
    shuffle(s.dev, rng);
    shuffle(s.test, rng);
    return s;
}

}  // namespace adalora
