// run_dir.cpp: a checkpointed run's directory (run_dir.h).
#include "train/run_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

namespace adalora {

namespace fs = std::filesystem;

const char *const kIncompleteMarker = "INCOMPLETE";
const char *const kCheckpointFile = "checkpoint.bin";
const char *const kLockFile = "LOCK";

namespace {
// Options a resumed run may change: they change no value the run computes
// (the log) or only what happens at a non-finite step.
bool may_change_on_resume(const std::string &key) { return key == "log" || key == "on_nonfinite"; }

std::string checkpoint_in(const std::string &dir) { return (fs::path(dir) / kCheckpointFile).string(); }

// DIR must be a checkpointed run that has not finished.
void require_incomplete(const std::string &dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw UsageError("--resume " + dir + ": not a directory");
    if (!fs::exists(fs::path(dir) / kIncompleteMarker, ec))
        throw UsageError("--resume " + dir + ": no " + kIncompleteMarker +
                         " marker: the run is complete or was not started with --save-every/--stop-after");
}
}  // namespace

namespace {
// The run directories this process holds, by the name it was given (one run
// at a time in the driver; tests run several in one process, one after another).
std::mutex held_mutex;
std::map<std::string, int> held;

std::string key_of(const std::string &dir) { return fs::path(without_trailing_slash(dir)).lexically_normal().string(); }

std::string holder_of(const fs::path &lock_file) {
    std::ifstream f(lock_file);
    std::string pid;
    f >> pid;
    return pid.empty() ? "unknown" : pid;
}

// Opens and locks `lock_file` (creating it), writes this process's pid into
// it and keeps the descriptor as DIR's. Throws UsageError when it is held.
void take_lock(const std::string &dir, const fs::path &lock_file) {
    int fd = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw UsageError(dir + ": cannot open its lock file " + lock_file.string() + ": " + std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        ::close(fd);
        if (err != EWOULDBLOCK)
            throw UsageError(dir + ": cannot lock " + lock_file.string() + ": " + std::strerror(err));
        throw UsageError(dir + ": the run is in use by another process (pid " + holder_of(lock_file) +
                         " holds " + kLockFile + "); one process at a time runs a run directory");
    }
    const std::string pid = std::to_string(getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != (ssize_t)pid.size()) {
        ::close(fd);
        throw std::runtime_error(dir + ": cannot write its lock file: " + std::strerror(errno));
    }
    std::lock_guard<std::mutex> g(held_mutex);
    held[key_of(dir)] = fd;
}
}  // namespace

void lock_run_dir(const std::string &dir) { take_lock(dir, fs::path(dir) / kLockFile); }

RunDirLease::~RunDirLease() {
    std::lock_guard<std::mutex> g(held_mutex);
    auto it = held.find(key_of(dir));
    if (it == held.end()) return;
    ::close(it->second);  // drops the flock
    held.erase(it);
}

bool checkpointing(const RunConfig &cfg) { return cfg.save_every > 0 || cfg.stop_after > 0 || !cfg.resume.empty(); }

void create_run_dir(const std::string &dir, const std::string &checkpoint_bytes) {
    check_output_dir(dir);
    fs::path final_dir(without_trailing_slash(dir));
    fs::path tmp = final_dir;
    tmp += ".tmp-" + std::to_string(getpid());
    fs::remove_all(tmp);
    try {
        fs::create_directory(tmp);
        take_lock(dir, tmp / kLockFile);  // the descriptor stays valid across the rename
        write_file_durably((tmp / kIncompleteMarker).string(),
                           "in progress or interrupted: continue with adalora train --resume " + dir + "\n");
        write_file_durably((tmp / kCheckpointFile).string(), checkpoint_bytes);
        std::error_code ec;
        fs::rename(tmp, final_dir, ec);
        if (ec && fs::exists(fs::symlink_status(final_dir)))  // another run made it since the check
            throw UsageError("--out " + dir + ": created meanwhile by another run (pid " +
                             holder_of(final_dir / kLockFile) + ")");
        if (ec) throw fs::filesystem_error("cannot create the run directory", tmp, final_dir, ec);
    } catch (...) {
        RunDirLease drop(dir);
        std::error_code ec;
        fs::remove_all(tmp, ec);
        throw;
    }
}

void save_checkpoint(const std::string &dir, const std::string &checkpoint_bytes) {
    write_file_durably(checkpoint_in(dir), checkpoint_bytes);
}

void finish_run_dir(const std::string &dir, const RunOutput &out) {
    for (const auto &[name, text] : run_files(out)) write_file_durably((fs::path(dir) / name).string(), text);
    fs::remove(fs::path(dir) / kIncompleteMarker);
    fs::remove(fs::path(dir) / kLockFile);  // still held until the run's RunDirLease ends
}

std::vector<std::string> resume_tokens(const std::string &dir) {
    require_incomplete(dir);
    Checkpoint c = read_checkpoint(checkpoint_in(dir));
    nlohmann::json config = nlohmann::json::parse(c.config);  // accept()ed by the parser
    if (!config.is_object()) throw UsageError(checkpoint_in(dir) + ": malformed checkpoint: the config is not an object");
    std::vector<std::string> tokens;
    for (auto &[key, value] : config.items()) {
        // "--key=" would take the next token as its value; the only option
        // stored empty (planted_ranks) is empty by default.
        if (may_change_on_resume(key) || (value.is_string() && value.get<std::string>().empty())) continue;
        if (key == "convention_rows") {
            if (!value.is_object()) throw UsageError(checkpoint_in(dir) + ": malformed checkpoint: convention_rows");
            for (auto &[row, v] : value.items()) tokens.push_back("--" + row + "=" + config_value_text(v, row));
            continue;
        }
        tokens.push_back("--" + key + "=" + config_value_text(value, key));
    }
    tokens.push_back("--out=" + dir);
    return tokens;
}

Checkpoint load_for_resume(const RunConfig &cfg) {
    const std::string &dir = cfg.resume;
    require_incomplete(dir);
    if (fs::path(cfg.out).lexically_normal() != fs::path(dir).lexically_normal())
        throw UsageError("--out " + cfg.out + " differs from --resume " + dir + " (a run resumes in its own directory)");
    Checkpoint c = read_checkpoint(checkpoint_in(dir));
    nlohmann::json stored = nlohmann::json::parse(c.config), now = config_json(cfg);
    for (auto &[key, value] : now.items()) {
        if (may_change_on_resume(key)) continue;
        if (!stored.contains(key) || stored[key] != value)
            throw UsageError("--resume " + dir + ": --" + key + " = " + value.dump() + " differs from the checkpoint's " +
                             (stored.contains(key) ? stored[key].dump() : std::string("(absent)")) +
                             " (a resumed run keeps the options it started with)");
    }
    if (cfg.stop_after > 0 && cfg.stop_after <= c.train.completed)
        throw UsageError("--stop-after = " + std::to_string(cfg.stop_after) + ": the checkpoint in " + dir +
                         " is already at step " + std::to_string(c.train.completed));
    if (c.train.completed > cfg.total_step)
        throw UsageError(checkpoint_in(dir) + ": malformed checkpoint: step " + std::to_string(c.train.completed) +
                         " is past total_step = " + std::to_string(cfg.total_step));
    return c;
}

}  // namespace adalora
