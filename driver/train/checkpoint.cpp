// checkpoint.cpp: the checkpoint file format (checkpoint.h): one list of
// records, walked by a writer and a reader, so the two cannot drift apart.
#include "train/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "base/hash.h"
#include "base/read_file.h"
#include "config/run_config.h"
#include "tasks/sentence_tasks.h"
#include "tasks/tasks.h"

namespace adalora {

namespace {

const char kMagic[8] = {'A', 'D', 'A', 'C', 'K', 'P', 'T', '\0'};
constexpr uint32_t kByteOrderMark = 0x01020304u;
constexpr size_t kHeaderBytes = 32, kTrailerBytes = 4;
constexpr size_t kSizeOffset = 24;

enum RecordType : uint32_t { kText = 1, kReal = 2, kU8 = 3, kI64 = 4, kF64 = 5, kU64 = 6, kI32 = 7 };
static_assert(sizeof(int) == 4, "ada_rng.has_spare is stored as a 32-bit integer");

template <class T> constexpr RecordType type_of();
template <> constexpr RecordType type_of<char>() { return kText; }
template <> constexpr RecordType type_of<uint8_t>() { return kU8; }
template <> constexpr RecordType type_of<int64_t>() { return kI64; }
template <> constexpr RecordType type_of<double>() { return kF64; }
template <> constexpr RecordType type_of<uint64_t>() { return kU64; }
template <> constexpr RecordType type_of<int>() { return kI32; }

// Every record, in file order. IO is Writer or Reader: fixed() for a known
// number of values, vec() / text() for a stored length, tensor() for the
// real-valued arenas (type kReal, whatever `real` is in this build).
template <class IO> void records(IO &io, Checkpoint &c) {
    io.text("config", c.config);
    io.fixed("origin", &c.origin, 1);
    io.text("blas", c.blas);
    io.fixed("completed", &c.train.completed, 1);
    io.fixed("updates", &c.train.updates, 1);
    io.tensor("params", c.train.params);
    io.tensor("m1", c.train.m1);
    io.tensor("m2", c.train.m2);
    io.tensor("ibar", c.train.ibar);
    io.tensor("ubar", c.train.ubar);
    io.tensor("scores", c.train.scores);
    io.vec("keep", c.train.keep);
    io.vec("prev_keep", c.train.prev_keep);
    io.fixed("rng_state", c.sampler.s, 4);
    io.fixed("rng_spare", &c.sampler.spare, 1);
    io.fixed("rng_has_spare", &c.sampler.has_spare, 1);
    io.fixed("revived", &c.loop.revived, 1);
    io.fixed("pruned", &c.loop.pruned, 1);
    io.fixed("jumps", &c.loop.jumps, 1);
    io.fixed("jump_sum", &c.loop.jump_sum, 1);
    io.fixed("skipped", &c.loop.skipped, 1);
    io.fixed("train_seconds", &c.loop.train_seconds, 1);
    io.fixed("svd_ms", &c.loop.svd_ms, 1);
    io.fixed("phase_ms", c.loop.ms, ADA_TIME_COUNT);
    io.text("metrics_csv", c.loop.metrics_csv);
    io.text("ranks_csv", c.loop.ranks_csv);
    io.text("blas_changes", c.loop.blas_changes);
}

struct Writer {
    std::string &out;
    template <class T> void raw(const T *p, size_t n) { out.append(reinterpret_cast<const char *>(p), n * sizeof(T)); }
    void head(const char *name, uint64_t count, uint32_t type) {
        uint32_t len = (uint32_t)std::strlen(name);
        raw(&len, 1);
        out.append(name, len);
        raw(&type, 1);
        raw(&count, 1);
    }
    template <class T> void fixed(const char *name, const T *p, size_t n, uint32_t type = type_of<T>()) {
        head(name, n, type);
        raw(p, n);
    }
    template <class T> void vec(const char *name, const std::vector<T> &v) { fixed(name, v.data(), v.size()); }
    void tensor(const char *name, const std::vector<real> &v) { fixed(name, v.data(), v.size(), kReal); }
    void text(const char *name, const std::string &s) { fixed(name, s.data(), s.size()); }
};

struct Reader {
    const std::string &in;
    const std::string &name;
    size_t pos, end;  // end: where the trailer starts
    int index = 0;

    [[noreturn]] void fail(const std::string &what) const { throw UsageError(name + ": malformed checkpoint: " + what); }
    template <class T> void raw(T *p, size_t n) {
        if (n == 0) return;  // an empty record: p may be a null data() (memcpy's arguments must not be)
        std::memcpy(p, in.data() + pos, n * sizeof(T));
        pos += n * sizeof(T);
    }
    // Reads a record's head, checks its name and type, returns its count
    // after checking the values fit in the bytes left.
    template <class T> uint64_t head(const char *want, uint32_t want_type = type_of<T>()) {
        index++;
        const std::string where = "record " + std::to_string(index) + " ('" + want + "')";
        uint32_t len, type;
        if (end - pos < sizeof len) fail(where + " is missing");
        raw(&len, 1);
        if (len != std::strlen(want) || end - pos < len || in.compare(pos, len, want) != 0)
            fail(where + ": found another name");
        pos += len;
        uint64_t count;
        if (end - pos < sizeof type + sizeof count) fail(where + ": header cut short");
        raw(&type, 1);
        raw(&count, 1);
        if (type != want_type)
            fail(where + ": type " + std::to_string(type) + ", expected " + std::to_string(want_type));
        if (count > (end - pos) / sizeof(T))
            fail(where + ": " + std::to_string(count) + " values, more than the " + std::to_string(end - pos) +
                 " bytes left");
        return count;
    }
    template <class T> void fixed(const char *want, T *p, size_t n) {
        uint64_t count = head<T>(want);
        if (count != n)
            fail(std::string("record '") + want + "': " + std::to_string(count) + " values, expected " + std::to_string(n));
        raw(p, n);
    }
    template <class T> void vec(const char *want, std::vector<T> &v, uint32_t want_type = type_of<T>()) {
        v.resize(head<T>(want, want_type));
        raw(v.data(), v.size());
    }
    void tensor(const char *want, std::vector<real> &v) { vec(want, v, kReal); }
    void text(const char *want, std::string &s) {
        s.assign(in, pos, head<char>(want));
        pos += s.size();
    }
};

template <class T> void put(std::string &b, size_t at, T v) { std::memcpy(&b[at], &v, sizeof v); }
template <class T> T get(const std::string &b, size_t at) {
    T v;
    std::memcpy(&v, b.data() + at, sizeof v);
    return v;
}

uint32_t crc_of(const std::string &b, size_t n) {
    return (uint32_t)crc32_z(crc32_z(0L, Z_NULL, 0), reinterpret_cast<const Bytef *>(b.data()), n);
}

const char *precision_name(uint32_t bytes) { return bytes == 4 ? "float" : bytes == 8 ? "double" : "unknown"; }

template <class T> bool all_finite(const std::vector<T> &v) {
    for (T x : v)
        if (!std::isfinite(x)) return false;
    return true;
}

// What the records say must hold together (a valid checksum only proves the
// bytes are the writer's).
void check_consistent(const Checkpoint &c, const std::string &name) {
    auto fail = [&](const std::string &what) { throw UsageError(name + ": malformed checkpoint: " + what); };
    const auto &t = c.train;
    const size_t n = t.params.size(), nt = t.keep.size();
    if (t.m1.size() != n || t.m2.size() != n || t.ibar.size() != n || t.ubar.size() != n)
        fail("params, m1, m2, ibar and ubar differ in length");
    if (t.scores.size() != nt || t.prev_keep.size() != nt) fail("keep, prev_keep and scores differ in length");
    for (size_t i = 0; i < nt; i++)
        if (t.keep[i] > 1 || t.prev_keep[i] > 1) fail("a keep flag is not 0 or 1");
    if (!all_finite(t.params) || !all_finite(t.m1) || !all_finite(t.m2) || !all_finite(t.ibar) || !all_finite(t.ubar))
        fail("a parameter, moment or EMA is NaN or Inf");
    for (real s : t.scores)  // hard_delete stores -inf for a pruned triplet
        if (std::isnan(s) || s == (real)INFINITY) fail("a score is NaN or +Inf");
    if (t.completed < 0 || t.updates < 0 || t.updates > t.completed)
        fail("step counts completed = " + std::to_string(t.completed) + ", updates = " + std::to_string(t.updates));
    const LoopState &l = c.loop;
    if (l.revived < 0 || l.pruned < 0 || l.jumps < 0 || l.skipped < 0) fail("a negative counter");
    double sums[] = {l.jump_sum, l.train_seconds, l.svd_ms, l.ms[0], l.ms[1], l.ms[2], l.ms[3], l.ms[4]};
    for (double v : sums)
        if (!std::isfinite(v)) fail("a time or sum is NaN or Inf");
    ada_rng probe;
    if (ada_rng_set_state(&probe, c.sampler.s, c.sampler.spare, c.sampler.has_spare) != ADA_OK)
        fail(std::string("sampler state: ") + ada_last_error());
    if (!nlohmann::json::accept(c.config)) fail("the config is not JSON");
    if (!nlohmann::json::accept(c.loop.blas_changes) || !nlohmann::json::parse(c.loop.blas_changes).is_array())
        fail("blas_changes is not a JSON array");
}

}  // namespace

void serialize_checkpoint(const Checkpoint &c, std::string &out) {
    out.clear();
    out.append(kMagic, sizeof kMagic);
    Writer w{out};
    const uint32_t header[4] = {kCheckpointVersion, kByteOrderMark, (uint32_t)sizeof(real), 0};
    w.raw(header, 4);
    const uint64_t size_placeholder = 0;
    w.raw(&size_placeholder, 1);
    records(w, const_cast<Checkpoint &>(c));  // the writer only reads
    out.append(kTrailerBytes, '\0');
    reseal_checkpoint(out);
}

void reseal_checkpoint(std::string &bytes) {
    if (bytes.size() < kHeaderBytes + kTrailerBytes) return;
    put<uint64_t>(bytes, kSizeOffset, bytes.size());
    put<uint32_t>(bytes, bytes.size() - kTrailerBytes, crc_of(bytes, bytes.size() - kTrailerBytes));
}

Checkpoint parse_checkpoint(const std::string &bytes, const std::string &name) {
    if (bytes.size() < sizeof kMagic || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
        throw UsageError(name + ": not an adalora checkpoint (no ADACKPT magic)");
    if (bytes.size() < kHeaderBytes + kTrailerBytes)
        throw UsageError(name + ": truncated checkpoint (" + std::to_string(bytes.size()) + " bytes, less than a header)");
    const uint32_t version = get<uint32_t>(bytes, 8), mark = get<uint32_t>(bytes, 12);
    if (version != kCheckpointVersion && __builtin_bswap32(version) != kCheckpointVersion)
        throw UsageError(name + ": wrong format version: checkpoint version " + std::to_string(version) + ", this build reads version " +
                         std::to_string(kCheckpointVersion));
    if (mark != kByteOrderMark)
        throw UsageError(name + ": wrong byte order: the checkpoint was written on a machine of the other byte order");
    const uint64_t size = get<uint64_t>(bytes, kSizeOffset);
    if (bytes.size() < size)
        throw UsageError(name + ": truncated checkpoint (" + std::to_string(bytes.size()) + " of " + std::to_string(size) +
                         " bytes)");
    if (bytes.size() > size || size < kHeaderBytes + kTrailerBytes)
        throw UsageError(name + ": malformed checkpoint (" + std::to_string(bytes.size()) + " bytes, the header says " +
                         std::to_string(size) + ")");
    if (get<uint32_t>(bytes, size - kTrailerBytes) != crc_of(bytes, size - kTrailerBytes))
        throw UsageError(name + ": corrupted checkpoint (CRC-32 mismatch)");
    const uint32_t real_bytes = get<uint32_t>(bytes, 16);
    if (real_bytes != sizeof(real))
        throw UsageError(name + ": wrong precision: checkpoint of a " + precision_name(real_bytes) + " build (" + std::to_string(real_bytes) +
                         "-byte values), this build is " + ADA_PRECISION_NAME);
    Checkpoint c;
    Reader r{bytes, name, kHeaderBytes, size - kTrailerBytes};
    records(r, c);
    if (r.pos != r.end) r.fail(std::to_string(r.end - r.pos) + " bytes after the last record");
    check_consistent(c, name);
    return c;
}

void write_file_durably(const std::string &path, const std::string &bytes) {
    const std::string tmp = path + ".tmp";
    // A failed save (a full disk, EACCES) leaves no temporary file behind and
    // says why; the last good file is untouched.
    auto fail = [&](const std::string &what) {
        const int err = errno;
        ::unlink(tmp.c_str());
        throw std::runtime_error("cannot write " + path + ": " + what + ": " + std::strerror(err));
    };
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) fail("open " + tmp);
    for (size_t done = 0; done < bytes.size();) {
        ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ::close(fd);
            fail("write");
        }
        done += (size_t)n;
    }
    if (::fsync(fd) != 0) {
        ::close(fd);
        fail("fsync");
    }
    if (::close(fd) != 0) fail("close");
    if (::rename(tmp.c_str(), path.c_str()) != 0) fail("rename");
    // The rename itself reaches the disk with the directory.
    std::string dir = std::filesystem::path(path).parent_path().string();
    int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

Checkpoint read_checkpoint(const std::string &path) {
    return parse_checkpoint(read_file(path, kDataFileLimit, "checkpoint "), path);
}

uint64_t origin_hash(const Task &task, const ada_model *m) {
    Fnv1a f;
    for (int k = 0; k < m->n_modules; k++) {
        const ada_module &mod = m->modules[k];
        if (!mod.W0) continue;  // an encoder's matrices: hashed from its checkpoint below
        f.add(mod.W0, sizeof(real) * (size_t)mod.d_out * mod.d_in);
        if (mod.bias) f.add(mod.bias, sizeof(real) * (size_t)mod.d_out);
    }
    if (task.has_encoder()) {  // (only then, so the MLP tasks' hashes stay as they were)
        for (const auto &[name, tensor] : task.encoder->checkpoint.tensors) f.add(tensor.data);
        for (const Split *s : {&task.train, &task.dev, &task.test}) {
            f.add(s->tokens.ids);
            f.add(s->tokens.mask);
            f.add(s->tokens.labels);
            f.add(s->tokens.targets);
        }
    }
    for (const Split *s : {&task.train, &task.test})
        for (const ChainData &c : s->chains) {
            f.add(c.x);
            f.add(c.y);
            f.add(c.labels);
        }
    return f.h;
}

}  // namespace adalora
