#include "pipeline/cache/cache.hpp"

#include "pipeline/cache/layout.hpp"
#include "pipeline/cache/local_storage.hpp"
#include "pipeline/fs/atomic_file.hpp"
#include "pipeline/model/error.hpp"
#include "pipeline/model/hash.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace cachet {

namespace fs = std::filesystem;
using namespace cache_layout;
using nlohmann::json;

Cache::Cache(fs::path dir)
    : m_dir(std::move(dir)), m_root(m_dir / ("v" + std::to_string(k_cache_format))),
      m_local(std::make_unique<LocalStorage>(m_root))
{
    std::error_code ec;
    fs::create_directories(m_root, ec);
    if (ec)
        throw io_error(m_root.string(), "cannot create cache folder", ec.value());
    // The standard tag that tells backup tools a folder holds a cache (bford.info/cachedir).
    const fs::path tag = m_dir / "CACHEDIR.TAG";
    if (!fs::exists(tag, ec))
        write_file_atomic(tag, as_bytes("Signature: 8a477f597d28d172789f06886806bc55\n"
                                        "# This file is a cache directory tag created by cachet.\n"));
}

Cache::~Cache()
{
    if (m_lock_fd >= 0)
        close(m_lock_fd); // releases the flock
}

std::optional<CacheEntry> Cache::find(const std::string& key, std::string& problem) const
{
    const auto text = m_local->get(StorageBackend::Space::entries, key);
    if (!text)
        return std::nullopt; // not cached
    try {
        CacheEntry entry = entry_from(json::parse(text->begin(), text->end()));
        if (entry.key != key)
            throw std::runtime_error("it is stored under another key");
        m_local->touch(StorageBackend::Space::entries, key); // last use, for gc
        return entry;
    } catch (const std::exception& e) {
        problem = "cache entry " + m_local->where(StorageBackend::Space::entries, key) + " is damaged (" + e.what() +
                  "); rebuilt";
        m_local->remove(StorageBackend::Space::entries, key);
        return std::nullopt;
    }
}

void Cache::store(const CacheEntry& entry) const
{
    m_local->put(StorageBackend::Space::entries, entry.key, as_bytes(entry_json(entry).dump() + "\n"));
}

void Cache::store_blob(const std::string& sha256, ByteView data) const
{
    if (m_local->holds(StorageBackend::Space::blobs, sha256, data.size()))
        return;
    m_local->put(StorageBackend::Space::blobs, sha256, data); // verified against its name when read
}

std::optional<Bytes> Cache::blob(const std::string& sha256, std::string& problem) const
{
    auto data = m_local->get(StorageBackend::Space::blobs, sha256);
    if (!data) {
        problem = "cache blob " + m_local->where(StorageBackend::Space::blobs, sha256) + " is missing; rebuilt";
        return std::nullopt;
    }
    if (sha256_hex(*data) != sha256) {
        problem = "cache blob " + m_local->where(StorageBackend::Space::blobs, sha256) +
                  " is damaged (its bytes do not match its digest); rebuilt";
        m_local->remove(StorageBackend::Space::blobs, sha256);
        return std::nullopt;
    }
    return data;
}

void Cache::lock(const fs::path& out)
{
    const fs::path path = m_root / "index" / (index_name(out) + ".lock");
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        throw io_error(path.string(), "cannot create lock file", errno);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        close(fd);
        if (err == EWOULDBLOCK)
            throw Error(ErrorKind::usage, "another cachet is building into " + out.string() + " (lock " +
                                              path.string() + "); wait for it or stop it");
        throw io_error(path.string(), "cannot lock", err);
    }
    m_lock_fd = fd;
}

} // namespace cachet
