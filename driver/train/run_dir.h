// run_dir.h: how a checkpointed run owns its directory.
//
// A run with --save-every or --stop-after claims its directory when it starts:
// DIR is assembled as DIR.tmp-PID holding
//   DIR/INCOMPLETE      the marker: in progress, interrupted or stopped
//   DIR/checkpoint.bin  the last checkpoint (checkpoint.h), here the step-0 one
// and renamed to DIR, so DIR never exists without both. Each later checkpoint
// replaces checkpoint.bin atomically (write_file_durably). At the end the
// final checkpoint (step total_step, the trained adapters) is written, then
// the run files of run.h, each atomically, and INCOMPLETE is removed last:
// a directory without INCOMPLETE is complete. `--resume DIR` needs the marker
// and a valid checkpoint; it takes the run's options from the checkpoint
// (flags may repeat them, but one that changes the run is refused).
// One writer per run directory: DIR/LOCK is locked (flock, advisory) by the
// process running the run, from the directory's creation or the resume's
// start to the end of the run, and holds its pid. The kernel drops the lock
// when the process ends, however it ends (SIGKILL too), so a stale LOCK file
// never blocks a resume; a second process is refused naming the holder.
// A run without checkpoints writes its directory only at the end (run.h).
#pragma once

#include <string>
#include <vector>

#include "train/checkpoint.h"
#include "config/run_config.h"
#include "train/run.h"

namespace adalora {

extern const char *const kIncompleteMarker;    // "INCOMPLETE"
extern const char *const kCheckpointFile;      // "checkpoint.bin"
extern const char *const kLockFile;            // "LOCK"

// Locks an existing run directory for this process (see above); throws
// UsageError naming the holder's pid when another process holds it.
void lock_run_dir(const std::string &dir);

// Drops this process's lock of DIR (if held) when the scope ends.
struct RunDirLease {
    explicit RunDirLease(std::string dir) : dir(std::move(dir)) {}
    ~RunDirLease();
    RunDirLease(const RunDirLease &) = delete;
    RunDirLease &operator=(const RunDirLease &) = delete;
    std::string dir;
};

// Whether this run writes checkpoints (--save-every or --stop-after or --resume).
bool checkpointing(const RunConfig &cfg);

// Creates DIR holding the marker, the lock (held from then on) and the first
// checkpoint (see above).
void create_run_dir(const std::string &dir, const std::string &checkpoint_bytes);

// Replaces DIR's checkpoint atomically.
void save_checkpoint(const std::string &dir, const std::string &checkpoint_bytes);

// Adds the run files to DIR, each atomically, then removes the marker.
void finish_run_dir(const std::string &dir, const RunOutput &out);

// The command-line tokens ("--key=value") of the options stored in DIR's
// checkpoint, then "--out=DIR": main parses them before the user's flags.
// Throws UsageError when DIR is not an interrupted run or its checkpoint is bad.
std::vector<std::string> resume_tokens(const std::string &dir);

// Loads DIR's checkpoint for cfg (parsed from resume_tokens and the flags)
// and refuses, naming the option, a flag that changes the run (all options but
// --log and --on-nonfinite), and a --stop-after the run has passed.
Checkpoint load_for_resume(const RunConfig &cfg);

}  // namespace adalora
