// cli_sandbox.h: running the real `adalora` binary (the one beside the test
// binary) in a fresh temporary directory, and checking its usage errors.
#pragma once

#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace cli {

namespace fs = std::filesystem;

inline std::string driver_binary() {
    return (fs::read_symlink("/proc/self/exe").parent_path() / "adalora").string();
}

inline std::string read_text(const fs::path &p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

inline std::vector<std::string> lines_of(const std::string &text) {
    std::vector<std::string> lines;
    std::stringstream ss(text);
    for (std::string line; std::getline(ss, line);) lines.push_back(line);
    return lines;
}

struct Result {
    int code = -1;
    std::string out, err;
};

// A fresh directory: the binary runs in DIR/work; its stdout and stderr go to
// files in DIR, so DIR/work holds only what the test or the binary put there.
struct Sandbox {
    fs::path root, work;
    Sandbox() {
        char tmpl[] = "/tmp/adalora-cli-XXXXXX";
        REQUIRE(mkdtemp(tmpl) != nullptr);
        root = tmpl;
        work = root / "work";
        fs::create_directory(work);
    }
    ~Sandbox() {
        std::error_code ec;
        fs::remove_all(root, ec);
    }
    void write(const std::string &name, const std::string &text) const { std::ofstream(work / name) << text; }
    std::set<std::string> entries() const {
        std::set<std::string> names;
        for (auto &e : fs::directory_iterator(work)) names.insert(e.path().filename().string());
        return names;
    }
    Result run(const std::string &args) const {
        const std::string cmd = "cd '" + work.string() + "' && '" + driver_binary() + "' " + args + " >'" +
                                (root / "stdout.txt").string() + "' 2>'" + (root / "stderr.txt").string() + "'";
        int status = std::system(cmd.c_str());
        Result r;
        r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        r.out = read_text(root / "stdout.txt");
        r.err = read_text(root / "stderr.txt");
        return r;
    }
};

// A tiny planted-linear run: 6 modules of width 8, 120 steps.
inline const std::string kTiny =
    "--width 8 --layers 1 --train-rows 128 --test-rows 128 --batch 16 --init_r 4 --target_r 2 "
    "--tinit 20 --tfinal 40 --deltaT 10 --total_step 120 --log-every 20 --log quiet";

// Runs `args` expecting a usage error: exit code 2, exactly one line on
// stderr that names `culprit`, nothing on stdout, and the work directory
// unchanged (no run directory, no DIR.tmp-* leftover).
inline void expect_usage_error(const Sandbox &box, const std::string &args, const std::string &culprit) {
    const std::set<std::string> before = box.entries();
    Result r = box.run(args);
    CAPTURE(args);
    CAPTURE(r.err);
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    REQUIRE(!r.err.empty());
    CHECK(r.err.back() == '\n');
    CHECK(lines_of(r.err).size() == 1);
    CHECK(r.err.rfind("adalora: ", 0) == 0);
    CHECK(r.err.find(culprit) != std::string::npos);
    CHECK(box.entries() == before);
}

}  // namespace cli
