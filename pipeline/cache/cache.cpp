#include "pipeline/cache/cache.hpp"

#include "pipeline/cache/layout.hpp"
#include "pipeline/cache/local_storage.hpp"
#include "pipeline/fs/atomic_file.hpp"
#include "pipeline/model/error.hpp"
#include "pipeline/model/hash.hpp"

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

bool Cache::writing(const std::function<void()>& write) const
{
    if (m_unwritable.load())
        return false;
    try {
        write();
        return true;
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::io)
            throw;
        const std::lock_guard lock(m_problem_mutex);
        if (!m_unwritable.exchange(true))
            m_write_problem = e.what();
        return false;
    }
}

std::optional<std::string> Cache::write_problem() const
{
    if (!m_unwritable.load())
        return std::nullopt;
    const std::lock_guard lock(m_problem_mutex);
    return m_write_problem;
}

void Cache::store(const CacheEntry& entry) const
{
    writing(
        [&] { m_local->put(StorageBackend::Space::entries, entry.key, as_bytes(entry_json(entry).dump() + "\n")); });
}

void Cache::store_blob(const std::string& sha256, ByteView data) const
{
    writing([&] {
        if (!m_local->holds(StorageBackend::Space::blobs, sha256, data.size()))
            m_local->put(StorageBackend::Space::blobs, sha256, data); // verified against its name when read
    });
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

} // namespace cachet
