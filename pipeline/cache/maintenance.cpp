#include "pipeline/cache/cache.hpp"

#include "pipeline/cache/layout.hpp"
#include "pipeline/fs/atomic_file.hpp"
#include "pipeline/model/error.hpp"

#include <algorithm>
#include <chrono>
#include <map>

// What `cachet cache stats` and `cachet cache gc` do to the local cache folder.
namespace cachet {

namespace fs = std::filesystem;
using namespace cache_layout;
using nlohmann::json;

void Cache::save_last_build(const std::string& text) const
{
    writing([&] { write_file_atomic(m_root / "last-build.json", as_bytes(text)); });
}

CacheStats Cache::stats() const
{
    CacheStats s;
    for (const auto& e : fanned_files(m_root / "entries")) {
        ++s.entries;
        s.bytes += size_of(e);
    }
    for (const auto& b : fanned_files(m_root / "blobs")) {
        ++s.blobs;
        s.bytes += size_of(b);
    }
    std::error_code ec;
    for (fs::directory_iterator it(m_root / "index", ec), end; !ec && it != end; it.increment(ec))
        if (it->path().extension() == ".bin") {
            ++s.indexes;
            s.bytes += size_of(*it);
        } else if (it->path().extension() == ".log") {
            s.bytes += size_of(*it);
        }
    try {
        const Bytes last = read_file(m_root / "last-build.json");
        s.last_build = std::string(last.begin(), last.end());
    } catch (const Error&) {
    }
    return s;
}

GcResult Cache::gc(std::uint64_t max_bytes) const
{
    GcResult result;
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    result.temporaries_removed = remove_temporaries_before(
        m_root, std::chrono::duration_cast<std::chrono::nanoseconds>(now - std::chrono::hours(1)).count());
    // When each entry was last used: its own mtime (touched on every lookup) or, for entries the
    // last build into some OUT reused from its index without a lookup, that index's mtime.
    std::map<std::string, std::int64_t> index_use; // key -> newest index naming it
    std::error_code ec;
    for (fs::directory_iterator it(m_root / "index", ec), end; !ec && it != end; it.increment(ec)) {
        if (it->path().extension() != ".bin")
            continue;
        fs::path journal = it->path();
        journal.replace_extension(".log");
        const std::int64_t when = std::max(mtime_of(it->path()), mtime_of(journal)); // 0 if none
        try {
            for (const auto& key : index_keys(it->path())) {
                std::int64_t& use = index_use[key];
                use = std::max(use, when);
            }
        } catch (const std::exception&) {
        }
    }
    struct Item {
        fs::path path;
        std::int64_t used;
        std::uint64_t bytes;
        std::vector<std::string> blobs;
    };
    std::vector<Item> items;
    for (const auto& e : fanned_files(m_root / "entries")) {
        Item item{e.path(), mtime_of(e.path()), size_of(e), {}};
        try {
            const CacheEntry entry = entry_from(json::parse(read_file(e.path())));
            for (const auto& [path, sha] : entry.blobs)
                item.blobs.push_back(sha);
            if (const auto it = index_use.find(entry.key); it != index_use.end())
                item.used = std::max(item.used, it->second);
        } catch (const std::exception&) {
            item.used = 0; // damaged: first to go
        }
        items.push_back(std::move(item));
    }
    std::map<std::string, std::uint64_t> blob_bytes;
    for (const auto& b : fanned_files(m_root / "blobs"))
        if (is_hex_name(b.path().filename().string(), 64))
            blob_bytes[b.path().filename().string()] = size_of(b);
    std::uint64_t total = 0;
    for (const auto& i : items)
        total += i.bytes;
    for (const auto& [sha, n] : blob_bytes)
        total += n;
    result.bytes_before = total;

    // Oldest first; ties broken by path so the result does not depend on listing order.
    std::sort(items.begin(), items.end(),
              [](const Item& a, const Item& b) { return a.used != b.used ? a.used < b.used : a.path < b.path; });
    std::map<std::string, int> needed; // blob -> entries still using it
    for (const auto& i : items)
        for (const auto& sha : i.blobs)
            ++needed[sha];
    for (const auto& i : items) {
        if (total <= max_bytes)
            break;
        remove_quietly(i.path);
        ++result.entries_removed;
        total -= i.bytes;
        for (const auto& sha : i.blobs)
            if (--needed[sha] == 0 && blob_bytes.count(sha)) {
                remove_quietly(m_root / "blobs" / sha.substr(0, 2) / sha);
                total -= blob_bytes[sha];
                blob_bytes.erase(sha);
                ++result.blobs_removed;
            }
    }
    for (const auto& [sha, n] : blob_bytes) // blobs no entry names (left by an interrupted build)
        if (needed[sha] <= 0) {
            remove_quietly(m_root / "blobs" / sha.substr(0, 2) / sha);
            total -= n;
            ++result.blobs_removed;
        }
    result.bytes_after = total;
    return result;
}

} // namespace cachet
