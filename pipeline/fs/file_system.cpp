#include "pipeline/fs/file_system.hpp"

#include "pipeline/model/error.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cachet {
namespace {

class RealFileSystem final : public FileSystem {
public:
    std::optional<FileStat> stat(const std::filesystem::path& path) const override { return stat_file(path); }
    std::optional<FileStat> stat_in(const OpenFolder& folder, const char* path) const override
    {
        return stat_file_at(folder.fd(), path);
    }
    Bytes read(const std::filesystem::path& path) const override { return read_file(path); }
    void write(const std::filesystem::path& path, ByteView data, Durability durability) const override
    {
        write_file_atomic(path, data, durability);
    }
    void write_pieces(const std::filesystem::path& path, const std::vector<std::string_view>& pieces,
                      Durability durability) const override
    {
        write_file_atomic(path, pieces, durability);
    }
    Bytes read_end(const std::filesystem::path& path, std::size_t bytes) const override
    {
        const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            throw io_error(path.string(), "cannot read", errno);
        struct stat st {};
        Bytes data;
        if (fstat(fd, &st) == 0 && st.st_size >= 0) {
            const auto size = static_cast<std::size_t>(st.st_size);
            data.resize(std::min(bytes, size));
            std::size_t done = 0;
            while (done < data.size()) {
                const ssize_t n =
                    pread(fd, data.data() + done, data.size() - done, static_cast<off_t>(size - data.size() + done));
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0) {
                    const int err = n < 0 ? errno : EIO;
                    close(fd);
                    throw io_error(path.string(), "cannot read", err);
                }
                done += static_cast<std::size_t>(n);
            }
        }
        close(fd);
        return data;
    }
};

} // namespace

const FileSystem& real_file_system()
{
    static const RealFileSystem disk;
    return disk;
}

} // namespace cachet
