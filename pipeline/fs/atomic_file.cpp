#include "pipeline/fs/atomic_file.hpp"

#include "pipeline/model/error.hpp"
#include "pipeline/model/hash.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

namespace cachet {

namespace fs = std::filesystem;

namespace {

// Creates path's folder if it is not there ("cachet.nginx": the working folder).
void make_parent(const fs::path& path)
{
    std::error_code ec;
    if (!path.parent_path().empty())
        fs::create_directories(path.parent_path(), ec);
    if (ec)
        throw io_error(path.parent_path().string(), "cannot create folder", ec.value());
}

} // namespace

std::string temporary_name(std::string_view name, std::string_view kind)
{
    constexpr std::size_t k_name_max = 255; // NAME_MAX of Linux file systems
    std::string out = std::string(k_temporary_prefix) + std::string(kind) + std::string(name);
    if (out.size() + 7 > k_name_max) // a long name: its digest stands in (".XXXXXX" still fits)
        out = std::string(k_temporary_prefix) + std::string(kind) + sha256_hex(as_bytes(name)).substr(0, 40);
    return out;
}

AtomicFile::AtomicFile(fs::path destination) : m_destination(std::move(destination))
{
    std::string pattern =
        (m_destination.parent_path() / (temporary_name(m_destination.filename().string(), "") + ".XXXXXX")).string();
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

void AtomicFile::write(const std::vector<std::string_view>& pieces)
{
    std::vector<iovec> batch;
    std::size_t next = 0;   // the first piece not wholly written
    std::size_t offset = 0; // how much of it was
    while (true) {
        batch.clear();
        for (std::size_t i = next; i < pieces.size() && batch.size() < IOV_MAX; ++i)
            if (!pieces[i].empty())
                batch.push_back({const_cast<char*>(pieces[i].data()), pieces[i].size()});
        if (batch.empty())
            return;
        batch.front().iov_base = static_cast<char*>(batch.front().iov_base) + offset;
        batch.front().iov_len -= offset;
        const ssize_t n = ::writev(m_fd, batch.data(), static_cast<int>(batch.size()));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            throw io_error(m_destination.string(), "cannot write", n < 0 ? errno : EIO);
        // Past what was written: whole pieces, then part of one.
        auto written = static_cast<std::size_t>(n) + offset;
        while (next < pieces.size() && written >= pieces[next].size()) {
            written -= pieces[next].size();
            ++next;
        }
        offset = written;
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
    make_parent(path);
    AtomicFile file(path);
    file.write(data);
    file.commit(durability);
}

void write_file_atomic(const fs::path& path, const std::vector<std::string_view>& pieces, Durability durability)
{
    make_parent(path);
    AtomicFile file(path);
    file.write(pieces);
    file.commit(durability);
}

void link_atomic(const fs::path& existing, const fs::path& path)
{
    make_parent(path);
    // A temporary name with AtomicFile's prefix (a scan recognises leftovers), one per target:
    // OUT is locked by this build and each target written once.
    const fs::path temporary = path.parent_path() / (temporary_name(path.filename().string(), "") + ".link");
    unlink(temporary.c_str());
    if (link(existing.c_str(), temporary.c_str()) == 0) {
        if (rename(temporary.c_str(), path.c_str()) != 0) {
            const int err = errno;
            unlink(temporary.c_str());
            throw io_error(path.string(), "cannot rename into place", err);
        }
        return;
    }
    if (errno != EXDEV && errno != EPERM && errno != EMLINK && errno != ENOTSUP && errno != ENOSYS)
        throw io_error(path.string(), "cannot link to " + existing.filename().string(), errno);
    // No hard links here: a copy, in pieces.
    const int in = open(existing.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0)
        throw io_error(existing.string(), "cannot read", errno);
    AtomicFile file(path);
    std::uint8_t buffer[1 << 16];
    for (;;) {
        const ssize_t n = ::read(in, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            const int err = errno;
            close(in);
            throw io_error(existing.string(), "cannot read", err);
        }
        if (n == 0)
            break;
        file.write(ByteView(buffer, static_cast<std::size_t>(n)));
    }
    close(in);
    file.commit(Durability::deferred);
}

Bytes read_file(const fs::path& path)
{
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw io_error(path.string(), "cannot read", errno);
    const auto fail = [&](int err) {
        close(fd);
        return io_error(path.string(), "cannot read", err);
    };
    Bytes data;
    struct stat st {};
    std::size_t expected = 0;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
        expected = static_cast<std::size_t>(st.st_size);
    // Straight into the buffer, sized by the stat; a file that grew meanwhile is read on.
    data.resize(expected);
    std::size_t done = 0;
    std::uint8_t more[1 << 16];
    while (true) {
        const bool within = done < data.size();
        const ssize_t n = within ? ::read(fd, data.data() + done, data.size() - done) : ::read(fd, more, sizeof more);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw fail(errno);
        }
        if (n == 0)
            break;
        if (!within)
            data.insert(data.end(), more, more + n);
        done += static_cast<std::size_t>(n);
    }
    close(fd);
    data.resize(done);
    return data;
}

} // namespace cachet
