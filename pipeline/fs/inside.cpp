#include "pipeline/fs/inside.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cachet {

namespace {

// A file descriptor closed when it goes.
class Fd {
public:
    explicit Fd(int fd) : m_fd(fd) {}
    ~Fd()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    Fd(Fd&& other) noexcept : m_fd(other.m_fd) { other.m_fd = -1; }
    Fd& operator=(Fd&& other) noexcept
    {
        std::swap(m_fd, other.m_fd);
        return *this;
    }
    int get() const { return m_fd; }

private:
    int m_fd;
};

// Opens the folder that holds the last segment of relative, walking from root one segment at a
// time with O_NOFOLLOW; sets name to that last segment. -1 (in the Fd) if the walk fails.
Fd open_parent(const std::filesystem::path& root, std::string_view relative, std::string& name)
{
    Fd folder(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    std::size_t start = 0;
    for (std::size_t slash; folder.get() >= 0 && (slash = relative.find('/', start)) != std::string_view::npos;
         start = slash + 1) {
        const std::string segment(relative.substr(start, slash - start));
        Fd next(::openat(folder.get(), segment.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        folder = std::move(next);
    }
    name.assign(relative.substr(start));
    return folder;
}

} // namespace

bool remove_inside(const std::filesystem::path& root, std::string_view relative)
{
    std::string name;
    const Fd folder = open_parent(root, relative, name);
    return folder.get() >= 0 && !name.empty() && ::unlinkat(folder.get(), name.c_str(), 0) == 0;
}

bool remove_empty_folder_inside(const std::filesystem::path& root, std::string_view relative)
{
    std::string name;
    const Fd folder = open_parent(root, relative, name);
    // AT_REMOVEDIR on a link fails with ENOTDIR: only a real, empty folder goes.
    return folder.get() >= 0 && !name.empty() && ::unlinkat(folder.get(), name.c_str(), AT_REMOVEDIR) == 0;
}

std::optional<std::string> link_on_the_way(const std::filesystem::path& root, std::string_view folder)
{
    std::string walked;
    for (std::size_t start = 0; start < folder.size();) {
        const std::size_t slash = std::min(folder.find('/', start), folder.size());
        if (!walked.empty())
            walked += '/';
        walked += folder.substr(start, slash - start);
        struct stat st {};
        if (::lstat((root / walked).c_str(), &st) != 0)
            return std::nullopt; // not there yet: the build creates it as a real folder
        if (S_ISLNK(st.st_mode))
            return walked;
        start = slash + 1;
    }
    return std::nullopt;
}

} // namespace cachet
