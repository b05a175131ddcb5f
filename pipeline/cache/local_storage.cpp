#include "pipeline/cache/local_storage.hpp"

#include "pipeline/cache/layout.hpp"
#include "pipeline/fs/atomic_file.hpp"
#include "pipeline/fs/file_stat.hpp"
#include "pipeline/model/error.hpp"

#include <fcntl.h>
#include <sys/stat.h>

namespace cachet {

std::filesystem::path LocalStorage::path_of(Space space, const std::string& key) const
{
    return space == Space::entries ? m_root / "entries" / key.substr(0, 2) / (key + ".json")
                                   : m_root / "blobs" / key.substr(0, 2) / key;
}

std::optional<Bytes> LocalStorage::get(Space space, const std::string& key) const
{
    try {
        return read_file(path_of(space, key));
    } catch (const Error&) {
        return std::nullopt;
    }
}

void LocalStorage::put(Space space, const std::string& key, ByteView data) const
{
    // A cache file: atomic, not flushed to disk (every read is verified).
    write_file_atomic(path_of(space, key), data, Durability::cache);
}

void LocalStorage::remove(Space space, const std::string& key) const
{
    cache_layout::remove_quietly(path_of(space, key));
}

bool LocalStorage::holds(Space space, const std::string& key, std::uint64_t size) const
{
    const auto st = stat_file(path_of(space, key));
    return st && st->size == size;
}

void LocalStorage::touch(Space space, const std::string& key) const
{
    ::utimensat(AT_FDCWD, path_of(space, key).c_str(), nullptr, 0);
}

} // namespace cachet
