#include "pipeline/fs/atomic_file.hpp"

#include "pipeline/model/error.hpp"

#include <cerrno>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cachet {

namespace fs = std::filesystem;

AtomicFile::AtomicFile(fs::path destination) : m_destination(std::move(destination))
{
    std::string pattern = (m_destination.parent_path() /
                           (std::string(k_temporary_prefix) + m_destination.filename().string() + ".XXXXXX"))
                              .string();
    m_fd = mkostemp(pattern.data(), O_CLOEXEC);
    if (m_fd < 0)
        throw io_error(m_destination.string(), "cannot create temporary file", errno);
    m_temporary = pattern;
    fchmod(m_fd, 0644);
}

AtomicFile::~AtomicFile()
{
    if (m_fd >= 0)
        close(m_fd);
    if (!m_temporary.empty())
        unlink(m_temporary.c_str());
}

void AtomicFile::write(ByteView data)
{
    const std::uint8_t* p = data.data();
    std::size_t left = data.size();
    while (left > 0) {
        const ssize_t n = ::write(m_fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw io_error(m_destination.string(), "cannot write", errno);
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

void AtomicFile::commit_as(const fs::path& destination, Durability durability)
{
    m_destination = destination;
    commit(durability);
}

void AtomicFile::commit(Durability durability)
{
    if (durability == Durability::flushed && fdatasync(m_fd) != 0)
        throw io_error(m_destination.string(), "cannot flush", errno);
    const int fd = m_fd;
    m_fd = -1;
    if (close(fd) != 0)
        throw io_error(m_destination.string(), "cannot close", errno);
    if (rename(m_temporary.c_str(), m_destination.c_str()) != 0)
        throw io_error(m_destination.string(), "cannot rename into place", errno);
    m_temporary.clear();
}

void write_file_atomic(const fs::path& path, ByteView data, Durability durability)
{
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec)
        throw io_error(path.parent_path().string(), "cannot create folder", ec.value());
    AtomicFile file(path);
    file.write(data);
    file.commit(durability);
}

Bytes read_file(const fs::path& path)
{
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw io_error(path.string(), "cannot read", errno);
    Bytes data;
    struct stat st {};
    if (fstat(fd, &st) == 0 && st.st_size > 0)
        data.reserve(static_cast<std::size_t>(st.st_size));
    std::uint8_t buffer[1 << 16];
    while (true) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            const int err = errno;
            close(fd);
            throw io_error(path.string(), "cannot read", err);
        }
        if (n == 0)
            break;
        data.insert(data.end(), buffer, buffer + n);
    }
    close(fd);
    return data;
}

} // namespace cachet
