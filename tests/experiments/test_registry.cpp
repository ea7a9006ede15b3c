// test_registry.cpp: the suite registry (experiments/suites/registry.cpp)
// against the suite files: every experiments/suites/NAME.toml has a row and
// every row a TOML, so a suite cannot be half added.
#include <doctest/doctest.h>

#include <algorithm>

#include <filesystem>
#include <set>
#include <string>

#include "harness/report.h"
#include "suites/common.h"
#include "suites/registry.h"

#include "support/test_files.h"

namespace fs = std::filesystem;
namespace R = adalora::report;

namespace {

std::set<std::string> toml_suites() {
    std::set<std::string> names;
    for (const auto &e : fs::directory_iterator(test::repo_file("experiments/suites")))
        if (e.path().extension() == ".toml") names.insert(e.path().stem().string());
    return names;
}

}  // namespace

TEST_CASE("suites: the registry has one row per experiments/suites/*.toml and no other") {
    const std::set<std::string> tomls = toml_suites();
    REQUIRE(tomls.size() >= 9);  // the suites of the paper's claims are all there
    std::set<std::string> rows;
    for (const auto &def : adalora::suites::registry()) {
        CHECK_MESSAGE(tomls.count(def.name) == 1, "registered suite " << def.name << " has no experiments/suites/"
                                                                      << def.name << ".toml");
        CHECK_MESSAGE(rows.insert(def.name).second, "suite " << def.name << " is registered twice");
        CHECK_MESSAGE(!def.metrics.empty(), "suite " << def.name << " has no table columns");
        CHECK_MESSAGE(static_cast<bool>(def.claims), "suite " << def.name << " has no claims");
    }
    for (const auto &name : tomls)
        CHECK_MESSAGE(rows.count(name) == 1, "experiments/suites/" << name << ".toml has no row in "
                                             "experiments/suites/registry.cpp");
}

TEST_CASE("suites: a suite the registry does not know gets the default table and says it has no claims") {
    const auto &registry = adalora::suites::registry();
    CHECK(R::find_suite_def(registry, "no-such-suite") == nullptr);
    std::vector<std::string> keys;
    for (const auto &m : R::suite_metrics(registry, "no-such-suite")) keys.push_back(m.key);
    CHECK(keys == std::vector<std::string>{"final_test_loss", "gap_to_oracle", "final_test_accuracy", "ms_per_step"});
    R::Suite s;
    s.name = "no-such-suite";
    const auto claims = R::suite_claims(registry, s);
    REQUIRE(claims.size() == 1);
    CHECK(claims[0] == "- no claims are defined for suite no-such-suite; the table above has its numbers.");
    // The registry's order is the report's: the pretrained encoder's suites
    // first (lr-select leading: every other encoder suite runs at its
    // rates), then the synthetic ones (allocation leading).
    const std::vector<std::string> names = R::suite_names(registry);
    CHECK(names.front() == "lr-select");
    const auto allocation = std::find(names.begin(), names.end(), "allocation");
    REQUIRE(allocation != names.end());
    for (auto it = names.begin(); it != allocation; it++) {
        CAPTURE(*it);
        CHECK(R::find_suite_def(registry, *it)->part == adalora::suites::kEncoderPart);
    }
    for (auto it = allocation; it != names.end(); it++) {
        CAPTURE(*it);
        CHECK(R::find_suite_def(registry, *it)->part == adalora::suites::kSyntheticPart);
    }
}
