// staged_dir.cpp: whole-or-nothing output directories.
#include "formats/staged_dir.h"

#include <unistd.h>

#include <fstream>
#include <stdexcept>

#include "base/errors.h"
#include "base/util.h"

namespace adalora {

namespace fs = std::filesystem;

std::string without_trailing_slash(std::string dir) {
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    return dir;
}

void check_output_dir(const std::string &dir, const std::string &option) {
    fs::path p(without_trailing_slash(dir));
    std::error_code ec;
    // symlink_status: a link is never followed, so a dangling one is found
    // here, not by the rename at the end of the work.
    const fs::file_status st = fs::symlink_status(p, ec);
    if (fs::is_symlink(st))
        throw UsageError(option + " " + dir + ": is a symbolic link" + (fs::exists(p, ec) ? "" : " (dangling)") +
                         " (choose a new directory)");
    if (fs::exists(st)) throw UsageError(option + " " + dir + ": already exists (choose a new directory)");
    fs::path parent = p.has_parent_path() ? p.parent_path() : fs::path(".");
    if (!fs::is_directory(parent, ec))
        throw UsageError(option + " " + dir + ": parent directory " + parent.string() + " does not exist");
    // access(W_OK) says yes to root even where mkdir fails (a read-only or
    // virtual file system such as /proc), so try to create an entry there.
    fs::path probe = p;
    probe += ".probe-" + std::to_string(getpid());
    if (!fs::create_directory(probe, ec) && ec)
        throw UsageError(option + " " + dir + ": parent directory " + parent.string() + " is not writable (" +
                         ec.message() + ")");
    fs::remove(probe, ec);
}

StagedDir::StagedDir(const std::string &dir, const std::string &option)
    : final_(without_trailing_slash(dir)), option_(option) {
    check_output_dir(dir, option);
    tmp_ = final_;
    tmp_ += ".tmp-" + std::to_string(getpid());
    fs::remove_all(tmp_);
    fs::create_directory(tmp_);
}

StagedDir::~StagedDir() {
    if (committed_) return;
    std::error_code ec;
    fs::remove_all(tmp_, ec);
}

void StagedDir::commit() {
    check_output_dir(final_.string(), option_);
    fs::rename(tmp_, final_);
    committed_ = true;
}

void write_text_file(const fs::path &path, const std::string &text) {
    std::ofstream f(path, std::ios::binary);
    f << text;
    f.flush();
    if (!f) throw std::runtime_error("cannot write " + path.string());
}

void write_dir_atomic(const std::string &dir, const std::vector<std::pair<std::string, std::string>> &files) {
    StagedDir staged(dir, "--out");
    for (const auto &[name, text] : files) write_text_file(staged.tmp() / name, text);
    staged.commit();
}

}  // namespace adalora
