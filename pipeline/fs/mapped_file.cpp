#include "pipeline/fs/mapped_file.hpp"

#include "pipeline/model/error.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cachet {

MappedFile::MappedFile(const std::filesystem::path& path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw io_error(path.string(), "cannot read", errno);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        const int err = errno;
        ::close(fd);
        throw io_error(path.string(), "cannot read", S_ISREG(st.st_mode) ? err : EINVAL);
    }
    m_size = static_cast<std::size_t>(st.st_size);
    m_stat = FileStat{m_size, static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
                      static_cast<std::uint64_t>(st.st_ino)};
    if (m_size > 0) {
        // MAP_POPULATE: the pages are mapped in one call rather than faulted in one by one.
        void* p = ::mmap(nullptr, m_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (p == MAP_FAILED) {
            const int err = errno;
            ::close(fd);
            throw io_error(path.string(), "cannot map", err);
        }
        m_data = static_cast<const std::uint8_t*>(p);
    }
    ::close(fd); // the mapping keeps the file
}

MappedFile::~MappedFile()
{
    if (m_data)
        ::munmap(const_cast<std::uint8_t*>(m_data), m_size);
}

} // namespace cachet
