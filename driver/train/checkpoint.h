// checkpoint.h: the checkpoint file of a run in progress (RUN_DIR/checkpoint.bin).
//
// Format, version 2 (all integers and floats in the writer's byte order, which
// the reader checks):
//   offset  0  8 bytes  magic "ADACKPT\0"
//           8  u32      format version (2; version 1 had no "blas" and
//                       "blas_changes" records, and is refused)
//          12  u32      byte-order mark 0x01020304
//          16  u32      bytes per real: 4 (float build) or 8 (double build)
//          20  u32      0 (reserved)
//          24  u64      file size in bytes, trailer included
//          32  records, in the fixed order of kRecords (checkpoint.cpp):
//              u32 name length, name, u32 type, u64 count, count values
//       end-4  u32      CRC-32 (zlib) of every byte before it
// The reader checks, in order: magic, version, byte order, size (truncated or
// trailing bytes), checksum (corrupted), precision, then every record's name,
// type and count; each count is checked against the bytes left before anything
// is allocated, so parsing never allocates more than the input's size.
#pragma once

#include <cstdint>
#include <string>

#include "train/run_state.h"

extern "C" {
#include "rng.h"
}

namespace adalora {

struct Task;

constexpr uint32_t kCheckpointVersion = 2;

struct Checkpoint {
    std::string config;     // config_json() of the run, as JSON text
    uint64_t origin = 0;    // origin_hash(): the frozen base and the task data
    std::string blas;       // blas_config() of the process that saved it (machine.h)
    TrainState train;
    ada_rng sampler{};      // the batch sampler's position
    LoopState loop;
};

// The bytes of a checkpoint (appended to `out` after clearing it, so a
// buffer reused across saves keeps its capacity).
void serialize_checkpoint(const Checkpoint &c, std::string &out);

// Parses checkpoint bytes; `name` (a file name) starts every message. Throws
// UsageError saying what is wrong: not a checkpoint, wrong version, byte
// order or precision, truncated, corrupted (checksum), malformed record.
Checkpoint parse_checkpoint(const std::string &bytes, const std::string &name);

// Rewrites the size and checksum fields of checkpoint bytes after an edit
// (tests, fuzzing seeds); bytes shorter than the header are left alone.
void reseal_checkpoint(std::string &bytes);

// Writes bytes to `path` through path + ".tmp": write, fsync, rename, fsync of
// the directory, so a crash leaves the old file or the new one, never a mix.
// Throws std::runtime_error when the system refuses, naming the call and the
// errno text, after removing path + ".tmp".
void write_file_durably(const std::string &path, const std::string &bytes);

// Reads and parses a checkpoint file (UsageError if unreadable or bad).
Checkpoint read_checkpoint(const std::string &path);

// FNV-1a (64 bit) over every module's frozen W0 and bias and every split's
// inputs, targets and labels: a resumed run must start from the same ones.
uint64_t origin_hash(const Task &task, const ada_model *m);

}  // namespace adalora
