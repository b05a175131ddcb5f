#include "pipeline/fs/file_system.hpp"

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
};

} // namespace

const FileSystem& real_file_system()
{
    static const RealFileSystem disk;
    return disk;
}

} // namespace cachet
