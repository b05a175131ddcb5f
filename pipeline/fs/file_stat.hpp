#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>

namespace cachet {

// What a stat() says about a file, enough to notice that it changed.
struct FileStat {
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
    std::uint64_t inode = 0;
    bool operator==(const FileStat&) const = default;
};

// The stat of path, following symbolic links; nullopt if it does not exist or cannot be read.
std::optional<FileStat> stat_file(const std::filesystem::path& path);
// The same for path relative to the open folder dir_fd (fstatat: the folder is not looked up again).
std::optional<FileStat> stat_file_at(int dir_fd, const char* path);

// A folder opened for fstatat (O_PATH). fd() is -1 if it could not be opened (it does not
// exist yet): every lookup relative to it then fails, as it would.
class OpenFolder {
public:
    explicit OpenFolder(const std::filesystem::path& path);
    ~OpenFolder();
    OpenFolder(const OpenFolder&) = delete;
    OpenFolder& operator=(const OpenFolder&) = delete;
    int fd() const { return m_fd; }

private:
    int m_fd;
};

} // namespace cachet
