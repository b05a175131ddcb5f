#pragma once
#include "pipeline/model/bytes.hpp"

#include <filesystem>
#include <string_view>
#include <vector>

namespace cachet {

// How hard commit() works. flushed: the data reaches the disk before the rename. deferred: the
// caller flushes later (run() syncs OUT once before it publishes the manifest). cache: never
// flushed (cache files are verified when read, so a torn one is only a miss).
enum class Durability { flushed, deferred, cache };

// A file written to a temporary name beside its destination and renamed into place by
// commit(), so readers see either the old file or the whole new one. A file not committed
// is removed by the destructor. Every failure throws Error(io) naming the destination.
class AtomicFile {
public:
    explicit AtomicFile(std::filesystem::path destination);
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;
    ~AtomicFile();

    void write(ByteView data);
    void write(const std::vector<std::string_view>& pieces); // in order, gathered (writev())
    // Flushes to disk (unless durability is cache) and renames over the destination.
    void commit(Durability durability = Durability::flushed);
    // The same, renaming to another name in the same folder (one known only once the content is).
    void commit_as(const std::filesystem::path& destination, Durability durability = Durability::flushed);

private:
    std::filesystem::path m_destination;
    std::filesystem::path m_temporary;
    int m_fd = -1;
};

// Writes data to path atomically, creating parent folders.
void write_file_atomic(const std::filesystem::path& path, ByteView data, Durability durability = Durability::flushed);
void write_file_atomic(const std::filesystem::path& path, const std::vector<std::string_view>& pieces,
                       Durability durability);

// Makes path name the same file as existing, atomically (a hard link renamed into place),
// or a copy of it where the file system has no hard links. Unflushed. Throws Error(io).
void link_atomic(const std::filesystem::path& existing, const std::filesystem::path& path);

// The whole contents of path; throws Error(io) naming it.
Bytes read_file(const std::filesystem::path& path);

// Prefix of the temporary files AtomicFile creates, so a scan can recognise leftovers.
inline constexpr std::string_view k_temporary_prefix = ".cachet-tmp-";

// A temporary name for a file named name: k_temporary_prefix, kind, then name, or a digest of
// name where that would leave no room in a file name (255 bytes) for a 7-character suffix.
std::string temporary_name(std::string_view name, std::string_view kind);

} // namespace cachet
