#include "pipeline/fs/folder_lock.hpp"

#include "pipeline/fs/atomic_file.hpp"
#include "pipeline/model/error.hpp"

#include <cerrno>
#include <fcntl.h>
#include <string>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cachet {
namespace {

// The process id its holder wrote in the lock file fd, if it is one (digits only).
std::string holder_of(int fd)
{
    char text[24] = {};
    const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
    std::string pid;
    for (ssize_t i = 0; i < n && text[i] != '\n'; ++i) {
        if (text[i] < '0' || text[i] > '9')
            return {};
        pid += text[i];
    }
    return pid;
}

} // namespace

FolderLock::FolderLock(const std::filesystem::path& file, const std::filesystem::path& folder) : m_file(file)
{
    // A few tries: the last holder may delete the file between our open() and our flock().
    for (int attempt = 0; attempt < 16; ++attempt) {
        int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        const bool created = fd >= 0;
        if (!created) {
            if (errno != EEXIST)
                throw io_error(file.string(), "cannot create the build lock", errno);
            fd = ::open(file.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0) {
                if (errno == ENOENT)
                    continue; // deleted in between: create it
                throw io_error(file.string(), "cannot open the build lock", errno);
            }
        }
        if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
            const int err = errno;
            const std::string holder = err == EWOULDBLOCK ? holder_of(fd) : std::string();
            ::close(fd);
            if (err == EWOULDBLOCK)
                throw Error(ErrorKind::usage, "another cachet is building into " + folder.string() + " (" +
                                                  (holder.empty() ? "it" : "process " + holder) + " holds " +
                                                  file.string() + "); wait for it or stop it");
            throw io_error(file.string(), "cannot lock", err);
        }
        struct stat held {};
        struct stat named {};
        if (::fstat(fd, &held) == 0 && ::lstat(file.c_str(), &named) == 0 && held.st_ino == named.st_ino &&
            held.st_dev == named.st_dev) {
            m_fd = fd;
            m_stale = !created;
            // Its holder's process id, for the message of a build that finds it held (if this
            // fails, only that message lacks it).
            const std::string pid = std::to_string(::getpid()) + "\n";
            const bool written =
                ::ftruncate(fd, 0) == 0 && ::pwrite(fd, pid.data(), pid.size(), 0) == static_cast<ssize_t>(pid.size());
            static_cast<void>(written);
            return;
        }
        ::close(fd); // we locked a file its holder had just deleted: again
    }
    throw Error(ErrorKind::io, file.string() + ": cannot take the build lock (it keeps changing)");
}

std::filesystem::path build_lock_path(const std::filesystem::path& out)
{
    return out / (std::string(k_temporary_prefix) + "build");
}

FolderLock::~FolderLock()
{
    ::unlink(m_file.c_str()); // while still held: no one else can have taken this file
    ::close(m_fd);
}

} // namespace cachet
