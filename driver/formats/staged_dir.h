// staged_dir.h: a directory written whole or not at all. Its files go into
// DIR.tmp-PID beside DIR, which is renamed to DIR by commit(); destroyed
// without a commit (an exception, a failed run), the temporary is removed.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace adalora {

// "runs/x/" names the directory runs/x.
std::string without_trailing_slash(std::string dir);

// Refuses an output directory that exists or whose parent does not (or is
// not writable); `option` names it in the UsageError ("--out", "--trace", ...).
void check_output_dir(const std::string &dir, const std::string &option = "--out");

class StagedDir {
public:
    StagedDir(const std::string &dir, const std::string &option);
    ~StagedDir();
    StagedDir(const StagedDir &) = delete;
    StagedDir &operator=(const StagedDir &) = delete;

    const std::filesystem::path &tmp() const { return tmp_; }
    void commit();  // checks DIR is still free, then renames the temporary to it

private:
    std::filesystem::path final_, tmp_;
    std::string option_;
    bool committed_ = false;
};

// Writes `text` into `path` (std::runtime_error when it cannot).
void write_text_file(const std::filesystem::path &path, const std::string &text);

// Writes files (name, content) into `dir` through a StagedDir: all or none
// (dir must not exist; its parent must).
void write_dir_atomic(const std::string &dir, const std::vector<std::pair<std::string, std::string>> &files);

}  // namespace adalora
