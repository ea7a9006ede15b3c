// test_sandbox.h: the real `adalora` binary (the one beside the test binary)
// run in a fresh temporary directory, and the check every refused input
// shares: exit code 2, one line on stderr naming the culprit, nothing on
// stdout, nothing written.
#pragma once

#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace test {

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

// Standard output of a shell command, trailing newlines removed.
inline std::string run_text(const std::string &cmd) {
    std::string out;
    if (FILE *p = popen(cmd.c_str(), "r")) {
        char buf[256];
        while (std::fgets(buf, sizeof buf, p)) out += buf;
        pclose(p);
    }
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

inline std::vector<std::string> lines_of(const std::string &text) {
    std::vector<std::string> lines;
    std::stringstream ss(text);
    for (std::string line; std::getline(ss, line);) lines.push_back(line);
    return lines;
}

// A tiny planted-linear run: 6 modules of width 8, 120 steps.
inline const std::string kTiny =
    "--width 8 --layers 1 --train-rows 128 --test-rows 128 --batch 16 --init_r 4 --target_r 2 "
    "--tinit 20 --tfinal 40 --deltaT 10 --total_step 120 --log-every 20 --log quiet";

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
        fs::permissions(work, fs::perms::owner_all, fs::perm_options::add, ec);
        for (auto it = fs::recursive_directory_iterator(work, ec); !ec && it != fs::recursive_directory_iterator();
             it.increment(ec))
            if (it->is_directory(ec)) fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
        fs::remove_all(root, ec);
    }
    Sandbox(const Sandbox &) = delete;
    Sandbox &operator=(const Sandbox &) = delete;
    void write(const std::string &name, const std::string &text) const {
        std::ofstream(work / name, std::ios::binary) << text;
    }
    // The names directly in the work directory.
    std::set<std::string> entries() const {
        std::set<std::string> names;
        for (auto &e : fs::directory_iterator(work)) names.insert(e.path().filename().string());
        return names;
    }
    // Every path under the work directory with its content ("<dir>" for a
    // directory), to show that a refused run created, changed or removed nothing.
    std::map<std::string, std::string> tree() const {
        std::map<std::string, std::string> t;
        for (auto &e : fs::recursive_directory_iterator(work))
            t[fs::relative(e.path(), work).string()] = e.is_directory() ? "<dir>" : read_text(e.path());
        return t;
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

// Runs `args` expecting a usage error: exit code 2, exactly one line on
// stderr, "adalora: ..." naming `culprit` (and `allowed`, the allowed values,
// when given), nothing on stdout, and the work directory exactly as it was
// (no run directory, no DIR.tmp-* leftover, nothing changed).
inline void expect_usage_error(const Sandbox &box, const std::string &args, const std::string &culprit,
                               const std::string &allowed = "") {
    const std::map<std::string, std::string> before = box.tree();
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
    if (!allowed.empty()) CHECK(r.err.find(allowed) != std::string::npos);
    CHECK(box.tree() == before);
}

}  // namespace test
