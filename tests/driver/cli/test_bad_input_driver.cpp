// test_bad_input_driver.cpp: bad input end to end. One table feeds the real
// `adalora` binary every class of bad input (unknown option, value out of
// range, inconsistent schedule, unreadable or malformed config, missing or
// unwritable output directory, malformed data file, ...) and checks for each
// row: exit code 2, exactly one line on stderr naming the problem (and the
// allowed values where there are any), nothing on stdout, and nothing
// written: the sandbox the binary runs in is byte for byte what it was.
// (test_bad_input.cpp does the same for the library's entry points.)
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "support/test_files.h"
#include "support/test_sandbox.h"

#include "train/checkpoint.h"
#include "train/run_dir.h"

namespace fs = std::filesystem;

namespace {

using test::expect_usage_error;
using test::kTiny;
using test::Sandbox;

struct Row {
    std::string what;     // the class of bad input
    std::string args;     // after `adalora`
    std::string culprit;  // the message names it
    std::string allowed;  // the message lists them ("": no list of allowed values)
    std::function<void(const Sandbox &)> setup = nullptr;  // files the row needs, made first
};

const std::string T = "train " + kTiny;

// A copy of the vendored digits file, changed by `corrupt`, as DIR/digits.csv.gz.
std::function<void(const Sandbox &)> digits_file(const std::string &dir,
                                                   std::function<std::string(std::string)> corrupt) {
    return [dir, corrupt](const Sandbox &box) {
        fs::create_directory(box.work / dir);
        box.write(dir + "/digits.csv.gz", corrupt(test::read_text(test::vendored_file())));
    };
}

std::function<void(const Sandbox &)> file(const std::string &name, const std::string &text) {
    return [name, text](const Sandbox &box) { box.write(name, text); };
}

std::function<void(const Sandbox &)> directory(const std::string &name) {
    return [name](const Sandbox &box) { fs::create_directory(box.work / name); };
}

std::function<void(const Sandbox &)> symlink(const std::string &target, const std::string &name) {
    return [target, name](const Sandbox &box) { fs::create_symlink(target, box.work / name); };
}

const std::string kMethods = "adalora, lora, lora-orth, svd-lora, prune-lora, svd-proj, head-only";

std::vector<Row> rows() {
    return {
        // ---- the command line
        {"unknown option", T + " --bogus-flag 3 --out run", "--bogus-flag", ""},
        {"unknown subcommand", "trian --out run", "unknown subcommand 'trian'",
         "train, compare, sweep, report, export, import, conventions, schedule, trace-diff"},
        {"no subcommand", "", "a subcommand is required", "train, compare, sweep, report, export, import, conventions, schedule, trace-diff"},
        {"option without its value", T + " --out", "--out", ""},
        {"no --out", T, "--out is required", ""},
        {"unknown method", T + " --method adalora2 --out run", "--method = 'adalora2'", kMethods},
        {"unknown task", T + " --task mnist --out run", "--task = 'mnist'", "planted-linear, planted-mlp, digits"},
        {"unknown log mode", T + " --log loud --out run", "--log = 'loud'", "auto, lines, progress, quiet"},
        {"unknown convention preset", T + " --convention hf --out run", "--convention = 'hf'", "paper, peft, original"},
        {"unknown value of a convention row", T + " --ties random --out run", "--ties = 'random'", "allowed values are"},
        {"unknown method in compare --methods", "compare " + kTiny + " --methods adalora,lora5 --out cmp",
         "--method = 'lora5'", kMethods},
        // ---- values out of range
        {"beta1 >= 1", T + " --beta1 1.5 --out run", "--beta1 = 1.5", "0 < beta1 < 1"},
        {"negative orth_reg_weight", T + " --orth_reg_weight -0.5 --out run", "--orth_reg_weight", ">= 0"},
        {"batch 0", T + " --batch 0 --out run", "--batch = 0", "1..65536"},
        {"width too large", T + " --width 9000 --out run", "--width = 9000", "1..8192"},
        {"lr NaN", T + " --lr nan --out run", "--lr", "finite and > 0"},
        {"negative seed", T + " --seed -1 --out run", "--seed", ">= 0"},
        {"non-numeric value", T + " --lr abc --out run", "--lr", ""},
        {"sweep --jobs 0", "sweep allocation --jobs 0 --out s", "--jobs", "1 to 256"},
        {"sweep --shard 3/2", "sweep allocation --shard 3/2 --out s", "--shard 3/2", "1 <= i <= N"},
        // ---- inconsistent schedules
        {"tinit + tfinal >= total_step", T + " --tinit 300 --tfinal 300 --total_step 500 --out run", "--tinit",
         "< --total_step = 500"},
        {"target_r > init_r", T + " --target_r 9 --init_r 8 --out run", "--target_r = 9", "0..init_r = 8"},
        {"deltaT 0", T + " --deltaT 0 --out run", "--deltaT = 0", ">= 1"},
        {"target budget above the initial budget", T + " --target-budget 100 --out run", "--target-budget", ""},
        {"schedule: b(T) > b(0)", "schedule --init-bgt 10 --target-bgt 48 --tinit 10 --tfinal 20 --total-step 100",
         "--target-bgt = 48", "0..init-bgt = 10"},
        // ---- config files
        {"config file missing", T + " --config absent.toml --out run", "absent.toml: cannot read", ""},
        {"config is a directory (JSON)", T + " --config folder.json --out run", "folder.json: not a regular file (a directory)", "",
         directory("folder.json")},
        {"config is a directory (TOML)", T + " --config folder.toml --out run", "folder.toml: not a regular file (a directory)", "",
         directory("folder.toml")},
        {"config of unknown type", T + " --config run.yaml --out run", "run.yaml", ".toml, .json",
         file("run.yaml", "lr: 0.01\n")},
        {"malformed TOML", T + " --config run.toml --out run", "run.toml: TOML error at line 2", "",
         file("run.toml", "lr = 0.01\nseed = = 3\n")},
        {"malformed JSON", T + " --config run.json --out run", "run.json: JSON error", "",
         file("run.json", "{\"lr\": 0.01,")},
        {"TOML that failed toml++'s internal check (fuzz regression)", T + " --config run.toml --out run",
         "run.toml: TOML error", "", file("run.toml", "seed = 1979-05-27T:07\n")},
        {"JSON number beyond a double (fuzz regression)", T + " --config run.json --out run",
         "run.json: JSON error: number overflow parsing '2e308'", "", file("run.json", "{\"lr\": 2e308}")},
        {"non-ASCII TOML (fuzz regression)", T + " --config run.toml --out run",
         "run.toml: TOML error at line 2: a non-ASCII byte", "allowed: ASCII",
         file("run.toml", "lr = 0.01\nm\xc3\xa9thod = 1\n")},
        {"JSON not an object", T + " --config run.json --out run", "top level must be an object", "",
         file("run.json", "[1, 2]")},
        {"TOML table", T + " --config run.toml --out run", "key 'quick' is a table", "the train options",
         file("run.toml", "[quick]\nlr = 0.1\n")},
        {"JSON object value", T + " --config run.json --out run", "key 'lr' is an object", "the train options",
         file("run.json", "{\"lr\": {\"value\": 0.1}}")},
        {"unknown TOML key", T + " --config run.toml --out run", "unknown key 'bogus_key'", "",
         file("run.toml", "lr = 0.01\nbogus_key = 3\n")},
        {"unknown JSON key", T + " --config run.json --out run", "unknown key 'bogus_key'", "",
         file("run.json", "{\"lr\": 0.01, \"bogus_key\": 3}")},
        {"TOML value of an unsupported type", T + " --config run.toml --out run", "key 'seed'",
         "string, number, boolean", file("run.toml", "seed = 1979-05-27\n")},
        {"config value out of range", T + " --config run.toml --out run", "--beta2 = 0", "0 < beta2 < 1",
         file("run.toml", "beta2 = 0.0\n")},
        {"config value of the wrong type", T + " --config run.toml --out run", "key 'seed' = \"three\"", "an integer",
         file("run.toml", "seed = \"three\"\n")},
        // ---- no silent coercion: every key has one type (before: all accepted)
        {"a flag given a string", T + " --config run.toml --out run", "key 'no_prune' = \"yes\"", "a boolean",
         file("run.toml", "no_prune = \"yes\"\n")},
        {"a flag given 2", T + " --config run.toml --out run", "key 'no_prune' = 2", "a boolean",
         file("run.toml", "no_prune = 2\n")},
        {"a flag given -1 (JSON)", T + " --config run.json --out run", "key 'no_prune' = -1", "a boolean",
         file("run.json", "{\"no_prune\": -1}")},
        {"a number given as a string", T + " --config run.toml --out run", "key 'total_step' = \"20\"", "an integer",
         file("run.toml", "total_step = \"20\"\n")},
        {"an integer given a fraction", T + " --config run.json --out run", "key 'init_r' = 2.5", "an integer",
         file("run.json", "{\"init_r\": 2.5}")},
        {"a duplicate JSON key", T + " --config run.json --out run", "key 'lr' appears twice", "each key once",
         file("run.json", "{\"lr\": 0.01, \"lr\": 0.02}")},
        {"a second --config", T + " --config a.toml --config b.toml --out run", "--config given 2 times", "allowed once",
         [](const Sandbox &box) { box.write("a.toml", "lr = 0.01\n"); box.write("b.toml", "lr = 0.02\n"); }},
        {"a suite value of the wrong type", "sweep bad.toml --out sw", "key 'no_prune' = \"yes\"", "a boolean",
         file("bad.toml", "description = \"x\"\nno_prune = \"yes\"\n")},
        {"--planted-ranks above the matrix (was clamped)", T + " --planted-ranks 9,1,1,1,1,1 --out run",
         "--planted-ranks: rank 9 of module l0.q", "0..8"},
        // ---- output directories
        {"--out whose parent does not exist", T + " --out missing/run", "parent directory missing does not exist", ""},
        {"--out that exists (left untouched)", T + " --out taken", "--out taken: already exists", "",
         file("taken", "precious\n")},
        {"--out that exists, a directory", T + " --out taken/", "already exists", "",
         [](const Sandbox &box) {
             fs::create_directory(box.work / "taken");
             box.write("taken/keep.txt", "precious\n");
         }},
        {"--out in a file system that refuses new entries", T + " --out /proc/adalora-bad-input-run",
         "parent directory /proc is not writable", ""},
        {"--out a dangling symbolic link (found before training)", T + " --out link", "--out link: is a symbolic link (dangling)",
         "", symlink("nowhere/run", "link")},
        {"--out a symbolic link to a directory", T + " --out link", "--out link: is a symbolic link", "",
         [](const Sandbox &box) {
             fs::create_directory(box.work / "d");
             fs::create_directory_symlink("d", box.work / "link");
         }},
        {"--out of a checkpointed run a dangling symbolic link", T + " --stop-after 20 --out link",
         "--out link: is a symbolic link (dangling)", "", symlink("gone", "link")},
        {"--trace a dangling symbolic link", T + " --out run --trace link", "--trace link: is a symbolic link (dangling)",
         "", symlink("gone", "link")},
        {"--dump-init a dangling symbolic link", T + " --out run --dump-init link",
         "--dump-init link: is a symbolic link (dangling)", "", symlink("gone", "link")},
        {"--trace whose parent does not exist", T + " --out run --trace missing/t", "parent directory missing does not exist",
         ""},
        {"--dump-init that exists", T + " --out run --dump-init taken", "--dump-init taken: already exists", "",
         directory("taken")},
        // ---- sizes that cannot fit (estimated before anything is allocated)
        {"--init_r far too large", "train --init_r 100000000 --out run", "the run needs about", "more than this machine's"},
        {"--train-rows far too large", "train --train-rows 2000000000 --out run", "the run needs about", "more than this machine's"},
        {"--width 8192 --layers 4", "train --width 8192 --layers 4 --out run", "the run needs about",
         "more than this machine's"},
        {"compare --out that exists", "compare " + kTiny + " --methods adalora,lora --out cmp", "already exists", "",
         directory("cmp")},
        // ---- data files (digits via --data-dir; refused before any pretraining)
        {"digits data missing", T + " --task digits --data-dir nowhere --cache-dir cache --out run",
         "nowhere/digits.csv.gz: no such file", ""},
        {"digits data truncated", T + " --task digits --data-dir bad --cache-dir cache --out run",
         "bad/digits.csv.gz", "corrupt or truncated gzip stream",
         digits_file("bad", [](std::string gz) { return gz.substr(0, gz.size() / 2); })},
        {"digits data with a bad CRC", T + " --task digits --data-dir bad --cache-dir cache --out run",
         "bad/digits.csv.gz", "incorrect data check", digits_file("bad", [](std::string gz) {
             gz[gz.size() - 8] ^= 0x5a;  // the trailer's CRC-32
             return gz;
         })},
        {"digits data not gzip", T + " --task digits --data-dir bad --cache-dir cache --out run",
         "bad/digits.csv.gz: not a gzip file", "",
         digits_file("bad", [](std::string) { return std::string("0,1,2\n"); })},
        // ---- sweeps and reports
        {"unknown suite", "sweep no-such-suite --out s", "no-such-suite", ""},
        {"malformed suite file", "sweep suite.toml --out s", "suite.toml: TOML error", "",
         file("suite.toml", "seeds = [\n")},
        {"suite key unknown", "sweep suite.toml --out s", "unknown key 'bogus'", "the train options",
         file("suite.toml", "bogus = 1\n")},
    };
}

// ---- malformed checkpoint, .npy and safetensors files ----
// A tiny run stopped with a checkpoint after step 60 as run/, its checkpoint
// then changed by `edit`.
std::function<void(const Sandbox &)> stopped_run(std::function<void(std::string &)> edit = nullptr) {
    return [edit](const Sandbox &box) {
        REQUIRE(box.run(T + " --stop-after 60 --out run").code == 0);
        const std::string path = "run/" + std::string(adalora::kCheckpointFile);
        std::string bytes = test::read_text(box.work / path);
        if (edit) edit(bytes);
        box.write(path, bytes);
    };
}

// A --dump-init directory d/ of a tiny run, one of its .npy files replaced.
std::function<void(const Sandbox &)> dumped_init(const std::string &file, const std::string &text) {
    return [file, text](const Sandbox &box) {
        REQUIRE(box.run(T + " --out r0 --dump-init d").code == 0);
        box.write("d/" + file, text);
    };
}

std::vector<Row> file_rows() {
    const size_t kPrecisionOffset = 16;  // checkpoint header: magic, version, byte-order mark, bytes per value
    return {
        {"--resume from a directory that does not exist", "train --resume nowhere", "nowhere", ""},
        {"--resume from a directory without a checkpoint", "train --resume empty", "empty", "", directory("empty")},
        {"truncated checkpoint", "train --resume run", "truncated checkpoint", "",
         stopped_run([](std::string &b) { b.resize(b.size() / 2); })},
        {"corrupted checkpoint", "train --resume run", "corrupted checkpoint (CRC-32 mismatch)", "",
         stopped_run([](std::string &b) { b[b.size() / 2] ^= 0x5a; })},
        {"checkpoint of another format version", "train --resume run", "wrong format version", "",
         stopped_run([](std::string &b) { b[8] ^= 0x40; })},
        {"checkpoint of another precision", "train --resume run", "wrong precision", "",
         stopped_run([kPrecisionOffset](std::string &b) {
             b[kPrecisionOffset] = b[kPrecisionOffset] == 4 ? 8 : 4;
             adalora::reseal_checkpoint(b);  // a valid checksum: the precision check itself refuses it
         })},
        {"--resume with an option that changes the run", "train --resume run --lr 0.1",
         "--lr = 0.1 differs from the checkpoint's 0.005", "", stopped_run()},
        {"malformed .npy in an --init-from directory", T + " --init-from d --out run", "d/l0.q.P.npy: not a valid .npy file",
         "", dumped_init("l0.q.P.npy", "garbage")},
        {".npy of the wrong shape in an --init-from directory", T + " --init-from d --out run", "l0.q.P.npy", "",
         [](const Sandbox &box) {
             REQUIRE(box.run(T + " --out r0 --dump-init d").code == 0);
             box.write("d/l0.q.P.npy", test::read_text(box.work / "d" / "l0.q.lam.npy"));
         }},
        {"truncated safetensors file for --base-weights", T + " --base-weights w.safetensors --out run",
         "w.safetensors: truncated", "", file("w.safetensors", test::safetensors_bytes("{\"l0.q.W0\": {}}", 0).substr(0, 12))},
        {"safetensors offsets past the end", T + " --base-weights w.safetensors --out run", "w.safetensors", "",
         file("w.safetensors",
              test::safetensors_bytes(R"({"l0.q.W0":{"dtype":"F32","shape":[8,8],"data_offsets":[0,256]}})", 16))},
        {"import of a directory without an adapter", "import nothing-here", "nothing-here", "", directory("nothing-here")},
    };
}

std::string help_text() {
    Sandbox box;
    std::string all;
    for (const char *sub : {"", "train", "compare", "sweep"}) all += box.run(std::string(sub) + " --help").out;
    return all;
}

}  // namespace

TEST_CASE("bad input, end to end: every class exits 2 with one line naming it, and writes nothing") {
    for (const Row &r : rows()) {
        CAPTURE(r.what);
        Sandbox box;
        if (r.setup) r.setup(box);
        expect_usage_error(box, r.args, r.culprit, r.allowed);
    }
}

TEST_CASE("bad input, end to end: an output directory the user may not write") {
    if (geteuid() == 0) {
        // root writes anywhere a file system allows; the /proc row of the
        // table covers that case.
        MESSAGE("running as root: the read-only directory row needs another user");
        return;
    }
    Sandbox box;
    fs::create_directory(box.work / "ro");
    fs::permissions(box.work / "ro", fs::perms::owner_read | fs::perms::owner_exec);
    expect_usage_error(box, T + " --out ro/run", "parent directory ro is not writable");
}

TEST_CASE("bad input, end to end: malformed checkpoint, .npy and safetensors files") {
    for (const Row &r : file_rows()) {
        CAPTURE(r.what);
        Sandbox box;
        r.setup ? r.setup(box) : void();
        expect_usage_error(box, r.args, r.culprit, r.allowed);
    }
    // Every file reader the driver offers (seen in its --help) is fed a bad file above.
    const std::string help = help_text();
    REQUIRE(help.find("--out") != std::string::npos);  // the help was read
    for (const char *input : {"--init-from", "--base-weights", "--resume"}) {
        CAPTURE(input);
        CHECK(help.find(input) != std::string::npos);
        bool fed = false;
        for (const Row &r : file_rows()) fed = fed || r.args.find(input) != std::string::npos;
        CHECK(fed);
    }
}

// A FIFO opened for reading waits for a writer forever: every file input is
// refused from its stat before it is opened (base/read_file.h). The FIFOs
// live beside the work directory, which the refusal check reads whole.
TEST_CASE("a FIFO as a config, base weights, checkpoint or trace index is refused, not waited on") {
    Sandbox box;
    auto fifo = [&](const fs::path &p) {
        fs::create_directories(p.parent_path());
        REQUIRE(mkfifo(p.c_str(), 0600) == 0);
        return p.string();
    };
    const std::string config = fifo(box.root / "pipe.toml");
    expect_usage_error(box, T + " --config " + config + " --out run", config + ": not a regular file (a FIFO)");
    const std::string weights = fifo(box.root / "weights.safetensors");
    expect_usage_error(box, T + " --base-weights " + weights + " --out run", weights + ": not a regular file (a FIFO)");
    const fs::path resume = box.root / "stopped";
    const std::string checkpoint = fifo(resume / adalora::kCheckpointFile);
    std::ofstream(resume / adalora::kIncompleteMarker) << "";
    expect_usage_error(box, "train --resume " + resume.string(), checkpoint + ": not a regular file (a FIFO)");
    const std::string index = fifo(box.root / "trace" / "index.json");
    expect_usage_error(box, "trace-diff " + (box.root / "trace").string() + " " + (box.root / "trace").string(),
                       index + ": not a regular file (a FIFO)");
}
