// read_file.cpp: stat, then open, then read exactly the size stat gave.
#include "base/read_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "base/errors.h"

namespace adalora {

namespace {

// errno's text, thread-safe (parallel sweep cells read files at once).
std::string system_reason() { return std::error_code(errno, std::generic_category()).message(); }

const char *kind_of(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
    return "not a file";
}

// Reads n bytes into `out`, then checks that nothing follows them.
bool read_exactly(int fd, char *out, size_t n) {
    size_t got = 0;
    while (got < n) {
        const ssize_t r = ::read(fd, out + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        got += (size_t)r;
    }
    char probe;
    ssize_t r;
    do r = ::read(fd, &probe, 1);
    while (r < 0 && errno == EINTR);
    return r == 0;
}

}  // namespace

std::string read_file(const std::string &path, uintmax_t max_bytes, const std::string &context) {
    const std::string where = context + path + ": ";
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) throw UsageError(where + "cannot read the file (" + system_reason() + ")");
    if (!S_ISREG(st.st_mode)) throw UsageError(where + "not a regular file (" + kind_of(st.st_mode) + ")");
    const uintmax_t size = (uintmax_t)st.st_size;
    if (size > max_bytes)
        throw UsageError(where + std::to_string(size) + " bytes, more than the " + std::to_string(max_bytes) +
                         " allowed");
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw UsageError(where + "cannot read the file (" + system_reason() + ")");
    std::string bytes((size_t)size, '\0');  // the file, once: no growing copies
    const bool whole = read_exactly(fd, &bytes[0], bytes.size());
    ::close(fd);
    if (!whole) throw UsageError(where + "read error (the file changed while being read?)");
    return bytes;
}

}  // namespace adalora
