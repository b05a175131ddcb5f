#include "pipeline/fs/file_stat.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cachet {

std::optional<FileStat> stat_file(const std::filesystem::path& path)
{
    return stat_file_at(AT_FDCWD, path.c_str());
}

std::optional<FileStat> stat_file_at(int dir_fd, const char* path)
{
    struct stat st {};
    if (::fstatat(dir_fd, path, &st, 0) != 0)
        return std::nullopt;
    return FileStat{static_cast<std::uint64_t>(st.st_size),
                    static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
                    static_cast<std::uint64_t>(st.st_ino)};
}

OpenFolder::OpenFolder(const std::filesystem::path& path) : m_fd(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC))
{}

OpenFolder::~OpenFolder()
{
    if (m_fd >= 0)
        close(m_fd);
}

} // namespace cachet
