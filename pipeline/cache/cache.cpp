#include "pipeline/cache/cache.hpp"

#include "pipeline/cache/action_result.hpp"
#include "pipeline/cache/layout.hpp"
#include "pipeline/cache/local_storage.hpp"
#include "pipeline/fs/atomic_file.hpp"
#include "pipeline/model/content_type.hpp"
#include "pipeline/model/error.hpp"
#include "pipeline/model/hash.hpp"
#include "pipeline/publish/headers.hpp"

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
        return m_remote ? find_remote(key, problem) : std::nullopt; // not cached here
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
    if (m_remote)
        upload(entry);
}

void Cache::store_blob(const std::string& sha256, ByteView data) const
{
    writing([&] {
        if (!m_local->holds(StorageBackend::Space::blobs, sha256, data.size()))
            m_local->put(StorageBackend::Space::blobs, sha256, data); // verified against its name when read
    });
    if (m_remote && m_remote->upload(RemoteCache::Space::cas, sha256, data)) {
        const std::lock_guard lock(m_uploaded_mutex);
        m_uploaded.emplace(sha256, data.size());
    }
}

namespace {

constexpr std::uint64_t k_max_result_bytes = 1 << 20;
constexpr std::uint64_t k_max_entry_bytes = 16 << 20;

} // namespace

// The job result goes up only after every blob it names is there, from this process (a blob
// that failed to upload leaves the job out: a reader must never find a result without bytes).
void Cache::upload(const CacheEntry& entry) const
{
    if (!m_remote->may_upload(RemoteCache::Space::ac, entry.key))
        return;
    ActionResult result;
    {
        const std::lock_guard lock(m_uploaded_mutex);
        for (const auto& [path, sha256] : entry.blobs) {
            const auto it = m_uploaded.find(sha256);
            if (it == m_uploaded.end())
                return;
            result.outputs.push_back({path, sha256, it->second});
        }
    }
    const std::string text = entry_json(entry).dump() + "\n";
    result.record = {"", sha256_hex(as_bytes(text)), text.size()};
    if (!m_remote->upload(RemoteCache::Space::cas, result.record.sha256, as_bytes(text)))
        return;
    m_remote->upload(RemoteCache::Space::ac, entry.key, encode_action_result(result));
}

// A job result from the remote cache, whole and verified, kept in the local cache as it comes;
// anything missing, short or altered is a miss.
std::optional<CacheEntry> Cache::find_remote(const std::string& key, std::string& problem) const
{
    (void)problem; // a remote miss is no problem of this build's: the counters tell
    const auto miss = [&](const std::string& damage) -> std::optional<CacheEntry> {
        if (!damage.empty())
            m_remote->note_damaged(damage);
        m_remote->note_miss();
        return std::nullopt;
    };
    const auto result = m_remote->fetch(RemoteCache::Space::ac, key, k_max_result_bytes);
    if (!result)
        return miss("");
    const auto action = decode_action_result(*result);
    if (!action)
        return miss("ac/" + key + " is not an ActionResult of cachet's");
    std::map<std::string, ActionOutput> by_path;
    for (const auto& o : action->outputs)
        by_path.emplace(o.path, o);
    if (action->record.bytes > k_max_entry_bytes)
        return miss("ac/" + key + " names an entry too large to be cachet's");
    // Each blob is fetched by its digest and kept only if its bytes have that digest and size.
    const auto fetch_blob = [&](const ActionOutput& o) -> std::optional<Bytes> {
        auto data = m_remote->fetch(RemoteCache::Space::cas, o.sha256, o.bytes);
        if (data && (data->size() != o.bytes || sha256_hex(*data) != o.sha256)) {
            m_remote->note_damaged("cas/" + o.sha256 + " does not have the bytes of its digest");
            return std::nullopt;
        }
        return data;
    };
    const auto text = fetch_blob(action->record);
    if (!text)
        return miss("");
    CacheEntry entry;
    try {
        entry = entry_from(json::parse(text->begin(), text->end()));
        if (entry.key != key)
            throw std::runtime_error("it is stored under another key");
    } catch (const std::exception& e) {
        return miss("ac/" + key + " names a damaged cachet entry (" + e.what() + ")");
    }
    std::map<std::string, std::uint64_t> wanted; // (two outputs may have the same bytes)
    for (const auto& [path, sha256] : entry.blobs) {
        const auto o = by_path.find(path);
        if (o == by_path.end() || o->second.sha256 != sha256)
            return miss("ac/" + key + " does not list " + path + " as its entry does");
        wanted.emplace(sha256, o->second.bytes);
    }
    const std::vector<std::pair<std::string, std::uint64_t>> list(wanted.begin(), wanted.end());
    std::vector<std::optional<Bytes>> fetched = m_remote->fetch_blobs(list);
    std::vector<std::pair<std::string, Bytes>> blobs;
    for (std::size_t i = 0; i < list.size(); ++i) {
        if (!fetched[i])
            return miss("");
        if (fetched[i]->size() != list[i].second || sha256_hex(*fetched[i]) != list[i].first) {
            m_remote->note_damaged("cas/" + list[i].first + " does not have the bytes of its digest");
            return miss("");
        }
        blobs.emplace_back(list[i].first, std::move(*fetched[i]));
    }
    writing([&] {
        for (const auto& [sha256, data] : blobs)
            if (!m_local->holds(StorageBackend::Space::blobs, sha256, data.size()))
                m_local->put(StorageBackend::Space::blobs, sha256, data);
        m_local->put(StorageBackend::Space::entries, key, *text);
    });
    {
        const std::lock_guard lock(m_fetched_mutex); // for blob(), which comes next: no reading back
        for (auto& [sha256, data] : blobs)
            m_fetched.emplace(sha256, std::move(data));
    }
    m_remote->note_hit();
    return entry;
}

std::optional<Bytes> Cache::blob(const std::string& sha256, std::string& problem) const
{
    if (m_remote) {
        const std::lock_guard lock(m_fetched_mutex);
        if (auto it = m_fetched.find(sha256); it != m_fetched.end()) { // verified when fetched
            Bytes data = std::move(it->second);
            m_fetched.erase(it);
            return data;
        }
    }
    auto data = m_local->get(StorageBackend::Space::blobs, sha256);
    if (!data && m_remote) // fetched, but the local cache could not keep it
        data = m_remote->fetch(RemoteCache::Space::cas, sha256, k_max_entry_bytes * 64);
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

std::string misdescribed(const CacheEntry& entry, const std::map<std::string, ByteView>& files)
{
    // (Sizes and ETags first: they cost nothing; the integrity is a SHA-384 of the bytes.)
    auto check = [&](const std::string& path, std::uint64_t bytes, const std::string& etag,
                     const std::string* integrity) -> std::string {
        const auto file = files.find(path);
        const auto blob = entry.blobs.find(path);
        if (file == files.end() || blob == entry.blobs.end())
            return "it names " + path + " without its bytes";
        if (file->second.size() != bytes)
            return "the size it gives " + path + " is not its size";
        if (etag != strong_etag(blob->second))
            return "the ETag it gives " + path + " is not its bytes'";
        if (integrity && *integrity != sri_sha384(file->second))
            return "the integrity it gives " + path + " is not its bytes'";
        return {};
    };
    for (const auto& o : entry.record.outputs) {
        if (o.content_type != content_type_for(o.path)) // (always the path's: outputs.cpp)
            return "the type it gives " + o.path + " is not its name's";
        if (std::string why = check(o.path, o.bytes, o.etag, &o.integrity); !why.empty())
            return why;
        for (const auto& e : o.encodings)
            if (std::string why = check(e.path, e.bytes, e.etag, nullptr); !why.empty())
                return why;
    }
    return {};
}

} // namespace cachet
