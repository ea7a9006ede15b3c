// test_base.cpp: the driver's shared helpers (driver/base/): read_file's
// refusals (each one line naming the path, a FIFO refused without blocking),
// FNV-1a 64 against published test vectors, and check() carrying the
// library's own message.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <stdexcept>
#include <string>

#include "base/hash.h"
#include "base/lib_status.h"
#include "base/read_file.h"
#include "base/sha256.h"
#include "base/util.h"
#include "support/test_files.h"
#include "support/test_sandbox.h"

extern "C" {
#include "schedule.h"
}

namespace {

// The refusal's message, checked to be one line that names the path.
std::string refusal(const std::string &path, uintmax_t max_bytes, const std::string &context = "") {
    const std::string msg = test::usage_error([&] { adalora::read_file(path, max_bytes, context); });
    CAPTURE(msg);
    CHECK(msg.rfind(context + path + ": ", 0) == 0);
    CHECK(msg.find('\n') == std::string::npos);
    return msg;
}

}  // namespace

TEST_CASE("read_file: the bytes of a regular file, exactly, binary included") {
    test::Sandbox box;
    const std::string bytes = std::string("a\0b\r\n\xff", 6) + std::string(70000, 'x');
    box.write("f.bin", bytes);
    CHECK(adalora::read_file((box.work / "f.bin").string(), bytes.size()) == bytes);
    box.write("empty", "");
    CHECK(adalora::read_file((box.work / "empty").string(), 0).empty());
}

TEST_CASE("read_file: a missing file, a directory, a FIFO and a too-large file are refused") {
    test::Sandbox box;
    const std::string missing = (box.work / "absent.json").string();
    CHECK(refusal(missing, 100, "--config ") ==
          "--config " + missing + ": cannot read the file (No such file or directory)");

    CHECK(refusal(box.work.string(), 100) == box.work.string() + ": not a regular file (a directory)");

    // Opening a FIFO for reading would wait for a writer forever: the refusal
    // must come from stat, before any open (a hang here is the failure).
    const std::string fifo = (box.work / "pipe").string();
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    CHECK(refusal(fifo, 100, "report: ") == "report: " + fifo + ": not a regular file (a FIFO)");

    CHECK(refusal("/dev/null", 100) == "/dev/null: not a regular file (a device)");

    box.write("big", std::string(101, 'x'));
    const std::string big = (box.work / "big").string();
    CHECK(refusal(big, 100) == big + ": 101 bytes, more than the 100 allowed");
    CHECK(adalora::read_file(big, 101).size() == 101);  // the limit itself is allowed
}

TEST_CASE("read_file: a file without read permission names the system's reason") {
    if (geteuid() == 0) return;  // root reads anything
    test::Sandbox box;
    box.write("locked", "x");
    const std::string locked = (box.work / "locked").string();
    REQUIRE(chmod(locked.c_str(), 0) == 0);
    CHECK(refusal(locked, 100) == locked + ": cannot read the file (Permission denied)");
}

TEST_CASE("sha256_file_hex: FIPS 180-2 vectors read from files, and any split of the stream") {
    test::Sandbox box;
    auto file_hash = [&](const std::string &bytes) {
        box.write("f.bin", bytes);
        return adalora::sha256_file_hex((box.work / "f.bin").string());
    };
    CHECK(file_hash("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(file_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(file_hash("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");  // 448 bits: padding in a second block
    CHECK(file_hash(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    // Longer than the 1 MiB read buffer, and not a multiple of the 64-byte block:
    // the file's hash equals the hash of the same bytes given whole.
    std::string big((1u << 20) * 2 + 37, '\0');
    for (size_t i = 0; i < big.size(); i++) big[i] = (char)(i * 2654435761u >> 13);
    CHECK(file_hash(big) == adalora::sha256_hex(big));
    const std::string msg = test::usage_error([&] { adalora::sha256_file_hex((box.work / "absent").string()); });
    CHECK(msg.find("absent: cannot open") != std::string::npos);
}

TEST_CASE("recorded_path: inside the working directory relative, outside as given") {
    const std::string cwd = std::filesystem::current_path().string();
    CHECK(adalora::recorded_path(cwd + "/build/assets/x") == "build/assets/x");
    CHECK(adalora::recorded_path("build/./assets/x") == "build/assets/x");
    CHECK(adalora::recorded_path("/nonexistent-root-dir/x") == "/nonexistent-root-dir/x");
    CHECK(adalora::recorded_path("../elsewhere/x") == "../elsewhere/x");
}

TEST_CASE("fnv1a: FNV-1a 64 test vectors, whole and in pieces") {
    // The published vectors of the FNV reference code (Noll's test suite).
    CHECK(adalora::fnv1a("", 0) == 0xcbf29ce484222325ULL);
    CHECK(adalora::fnv1a("a", 1) == 0xaf63dc4c8601ec8cULL);
    CHECK(adalora::fnv1a("foobar", 6) == 0x85944171f73967e8ULL);
    // Continuing from a previous hash is hashing the concatenation.
    CHECK(adalora::fnv1a("bar", 3, adalora::fnv1a("foo", 3)) == 0x85944171f73967e8ULL);
    adalora::Fnv1a f;
    f.add("foo", 3);
    f.add("bar", 3);
    CHECK(f.h == 0x85944171f73967e8ULL);
    // A vector is its length, then its bytes: ["ab"] and ["a"]["b"] differ.
    adalora::Fnv1a one, two;
    one.add(std::vector<char>{'a', 'b'});
    two.add(std::vector<char>{'a'});
    two.add(std::vector<char>{'b'});
    CHECK(one.h != two.h);
}

TEST_CASE("check: ADA_OK passes, a failure throws with what and the library's message") {
    long budget = 0;
    CHECK_NOTHROW(adalora::check(ADA_OK, "nothing"));
    const ada_status st = ada_budget_at(&budget, nullptr, 0, nullptr);  // no schedule: refused
    REQUIRE(st != ADA_OK);
    const std::string lib_message = ada_last_error();
    REQUIRE(!lib_message.empty());
    try {
        adalora::check(st, "budget");
        FAIL("check did not throw");
    } catch (const std::runtime_error &e) {
        CHECK(std::string(e.what()) == "budget: " + lib_message);
    }
}
