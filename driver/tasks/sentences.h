// sentences.h: the real sentence data of the encoder tasks (data/README.md):
//   UCI "Sentiment Labelled Sentences" (Kotzias et al., KDD 2015) as the npm
//     package sentiment 5.0.2 ships them: test/fixtures/{amazon,imdb,yelp}.json,
//     1,000 sentences each, 500 positive, 500 negative;
//   VADER's movie-review snippets (Hutto & Gilbert, ICWSM 2014):
//     movieReviewSnippets_GroundTruth.txt, 10,605 snippets with the mean of
//     human ratings in [-4, 4]; the 37 rated exactly 0 are dropped, leaving
//     10,568 (label = score > 0).
// A stratified, seeded 80/10/10 split that is the same on every machine.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace adalora {

struct Sentence {
    std::string text;  // UTF-8, as in the file
    int label;         // 0 negative, 1 positive
    double score;      // VADER: the mean human rating; UCI: NaN
};
struct SentenceSplits {
    std::vector<Sentence> train, dev, test;
};

// A JSON array of {"text": string, "class": 0|1}. The files end with one
// record {"text": "", "class": null}, a terminator: it is skipped when it is
// the last record. UsageError (one line naming the file and, for a bad
// record, its index from 0) for a missing or unreadable file, bad JSON, a
// record that is not such an object, invalid UTF-8 or no sentences.
std::vector<Sentence> load_uci_sentences(const std::string &fixtures_json);

// Lines "id TAB score TAB text" (CRLF or LF; the last line may lack its
// newline): id an integer, score a finite number, text non-empty UTF-8.
// Snippets with score exactly 0 are dropped (neither class); label = score > 0.
// UsageError (one line naming the file and, for a bad record, its line from 1)
// otherwise.
std::vector<Sentence> load_vader_snippets(const std::string &ground_truth_txt);

// 80/10/10, stratified by label: each class's sentences (in file order) are
// shuffled by Fisher–Yates with ada_rng seeded by `seed` (class 0 first, then
// class 1, one generator), floor(n_c / 10) go to dev, as many to test, the
// rest to train; each split is then shuffled once more (same generator) so
// the classes interleave. UsageError for a label outside {0, 1} or a split
// that would be empty.
SentenceSplits split_sentences(const std::vector<Sentence> &all, uint64_t seed);

}  // namespace adalora
