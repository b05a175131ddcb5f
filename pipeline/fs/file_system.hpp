#pragma once
#include "pipeline/fs/atomic_file.hpp"
#include "pipeline/fs/file_stat.hpp"
#include "pipeline/model/bytes.hpp"

#include <algorithm>
#include <filesystem>
#include <optional>

namespace cachet {

// The files the build engine reads, checks and writes to decide what to reuse and to publish
// (sources, outputs, the manifest), behind a seam, as ninja's DiskInterface: the engine runs
// on the real file system, and its tests put a fake in front of it that records, alters or
// fails what the engine does. (Scanning, flushing, retention and the cache go to the disk
// directly; a passthrough's copy streams to it.)
class FileSystem {
public:
    virtual ~FileSystem() = default;
    // The stat of path (following links), or nullopt if it is not there.
    virtual std::optional<FileStat> stat(const std::filesystem::path& path) const = 0;
    // The same for path relative to the open folder (fstatat: the folder is not looked up again).
    virtual std::optional<FileStat> stat_in(const OpenFolder& folder, const char* path) const = 0;
    // The whole contents of path. Throws Error(io) naming it.
    virtual Bytes read(const std::filesystem::path& path) const = 0;
    // Writes data to path atomically, creating parent folders. Throws Error(io) naming it.
    virtual void write(const std::filesystem::path& path, ByteView data, Durability durability) const = 0;
    // The same with the pieces of data in order, so that a large file made of views of many
    // texts is not first copied into one. (The real one writes them with writev().)
    virtual void write_pieces(const std::filesystem::path& path, const std::vector<std::string_view>& pieces,
                              Durability durability) const
    {
        std::string data;
        for (const std::string_view piece : pieces)
            data += piece;
        write(path, as_bytes(data), durability);
    }
    // The last bytes of path (all of it if it is shorter). Throws Error(io) naming it.
    virtual Bytes read_end(const std::filesystem::path& path, std::size_t bytes) const
    {
        Bytes all = read(path);
        return Bytes(all.end() - static_cast<std::ptrdiff_t>(std::min(bytes, all.size())), all.end());
    }
};

// The file system itself.
const FileSystem& real_file_system();

} // namespace cachet
