// test_machine.cpp: the machine record of summary.json names the commit the
// binary was built from (tools/build-commit.sh), not the repository the run
// happens to be started in, and records no commit when it is unknown.
#include <doctest/doctest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "train/machine.h"

#include "support/test_sandbox.h"

TEST_CASE("machine: summary.json records the build's commit, also when started inside another repository") {
    test::Sandbox box;
    // A repository of its own around the run directory, with one commit.
    const std::string git = "cd '" + box.work.string() + "' && git -c init.defaultBranch=main init -q && " +
                            "echo x > f && git add f && git -c user.name=t -c user.email=t@t commit -qm other";
    if (std::system((git + " >/dev/null 2>&1").c_str()) != 0) {
        MESSAGE("git is not available: skipped");
        return;
    }
    const std::string other = test::run_text("cd '" + box.work.string() + "' && git rev-parse HEAD");
    const test::Result r = box.run("train " + test::kTiny + " --total_step 40 --tinit 5 --tfinal 10 --out run");
    REQUIRE(r.code == 0);
    const nlohmann::json machine = nlohmann::json::parse(test::read_text(box.work / "run/summary.json"))["machine"];
    const std::string built = adalora::build_commit();
    CAPTURE(machine.dump());
    // Before: `git rev-parse --short HEAD` of the working directory, i.e. a
    // prefix of the other repository's commit.
    CHECK(other.rfind(machine.value("commit", "none"), 0) != 0);
    if (built.empty()) {
        CHECK_FALSE(machine.contains("commit"));  // unknown: nothing rather than a wrong commit
        CHECK_FALSE(machine.contains("commit_dirty"));
    } else {
        CHECK(std::regex_match(built, std::regex("[0-9a-f]{40}")));
        CHECK(machine["commit"] == built);
        CHECK(machine["commit_dirty"] == adalora::build_commit_dirty());
    }
}

TEST_CASE("machine: no commit field when the build's commit is unknown") {
    adalora::MachineInfo m;
    m.commit = "";
    CHECK_FALSE(adalora::to_json(m).contains("commit"));
    m.commit = "0123456789abcdef0123456789abcdef01234567";
    m.commit_dirty = true;
    const nlohmann::json j = adalora::to_json(m);
    CHECK(j["commit"] == m.commit);
    CHECK(j["commit_dirty"] == true);
}

TEST_CASE("machine: tools/build-commit.sh embeds no commit for a tree that is not the top of its own checkout") {
    test::Sandbox box;
    // The project's script copied into a folder of another repository (a
    // tarball unpacked inside someone's checkout): that repository's commit
    // is not ours, so the header says "unknown" ("").
    // The tests run from the source tree's top (make test).
    const std::string script = std::filesystem::absolute("tools/build-commit.sh").string();
    REQUIRE(std::filesystem::exists(script));
    const std::string work = box.work.string();
    const std::string setup = "cd '" + work + "' && git -c init.defaultBranch=main init -q && mkdir -p src/tools && cp '" +
                              script + "' src/tools/ && git add -A && git -c user.name=t -c user.email=t@t commit -qm other";
    if (std::system((setup + " >/dev/null 2>&1").c_str()) != 0) {
        MESSAGE("git is not available: skipped");
        return;
    }
    REQUIRE(std::system(("bash '" + work + "/src/tools/build-commit.sh' '" + work + "/h.h'").c_str()) == 0);
    const std::string header = test::read_text(box.work / "h.h");
    CHECK(header.find("#define ADA_BUILD_COMMIT \"\"") != std::string::npos);
    // The same script at the top of its own checkout names that checkout's HEAD.
    const std::string own = "cd '" + work + "/src' && git -c init.defaultBranch=main init -q && git add -A && " +
                            "git -c user.name=t -c user.email=t@t commit -qm own";
    REQUIRE(std::system((own + " >/dev/null 2>&1").c_str()) == 0);
    REQUIRE(std::system(("bash '" + work + "/src/tools/build-commit.sh' '" + work + "/h2.h'").c_str()) == 0);
    const std::string head = test::run_text("cd '" + work + "/src' && git rev-parse HEAD");
    CHECK(test::read_text(box.work / "h2.h").find("#define ADA_BUILD_COMMIT \"" + head + "\"") != std::string::npos);
    CHECK(test::read_text(box.work / "h2.h").find("#define ADA_BUILD_DIRTY 0") != std::string::npos);
}
