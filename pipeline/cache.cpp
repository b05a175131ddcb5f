#include "pipeline/cache.hpp"

#include "pipeline/atomic_file.hpp"
#include "pipeline/error.hpp"
#include "pipeline/hash.hpp"
#include "pipeline/manifest_json.hpp"

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <fcntl.h>
#include <set>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cachet {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json stat_json(const FileStat& s)
{
    return json::array({s.size, s.mtime_ns, s.inode});
}

FileStat stat_from(const json& j)
{
    return FileStat{j.at(0).get<std::uint64_t>(), j.at(1).get<std::int64_t>(), j.at(2).get<std::uint64_t>()};
}

json entry_json(const CacheEntry& e)
{
    return json{{"key", e.key},
                {"source", e.record.source},
                {"record", record_to_json(e.record)},
                {"warnings", e.warnings},
                {"blobs", e.blobs}};
}

CacheEntry entry_from(const json& j)
{
    CacheEntry e;
    e.key = j.at("key").get<std::string>();
    e.record = record_from_json(j.at("source").get<std::string>(), j.at("record"));
    e.warnings = j.at("warnings").get<std::vector<std::string>>();
    e.blobs = j.at("blobs").get<std::map<std::string, std::string>>();
    return e;
}

bool is_hex_name(const std::string& name, std::size_t length)
{
    return name.size() == length &&
           std::all_of(name.begin(), name.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

// Files directly inside the two-level fan-out folders under dir (entries/ab/<name>).
std::vector<fs::directory_entry> fanned_files(const fs::path& dir)
{
    std::vector<fs::directory_entry> out;
    std::error_code ec;
    for (fs::directory_iterator outer(dir, ec), end; !ec && outer != end; outer.increment(ec)) {
        if (!outer->is_directory(ec))
            continue;
        for (fs::directory_iterator inner(outer->path(), ec); !ec && inner != end; inner.increment(ec))
            if (inner->is_regular_file(ec) &&
                !inner->path().filename().string().starts_with(k_temporary_prefix))
                out.push_back(*inner);
    }
    return out;
}

std::uint64_t size_of(const fs::directory_entry& e)
{
    std::error_code ec;
    const auto n = e.file_size(ec);
    return ec ? 0 : n;
}

std::int64_t mtime_of(const fs::path& p)
{
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0)
        return 0;
    return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

void remove_quietly(const fs::path& p)
{
    std::error_code ec;
    fs::remove(p, ec);
}

} // namespace

std::optional<FileStat> stat_file(const fs::path& path)
{
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return std::nullopt;
    return FileStat{static_cast<std::uint64_t>(st.st_size),
                    static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
                    static_cast<std::uint64_t>(st.st_ino)};
}

std::vector<std::string> output_paths(const AssetRecord& record)
{
    std::vector<std::string> out;
    for (const auto& o : record.outputs) {
        out.push_back(o.path);
        for (const auto& e : o.encodings)
            out.push_back(e.path);
    }
    return out;
}

Cache::Cache(fs::path dir) : m_dir(std::move(dir)), m_root(m_dir / ("v" + std::to_string(k_cache_format)))
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
    const fs::path path = m_root / "entries" / key.substr(0, 2) / (key + ".json");
    Bytes text;
    try {
        text = read_file(path);
    } catch (const Error&) {
        return std::nullopt; // not cached
    }
    try {
        CacheEntry entry = entry_from(json::parse(text.begin(), text.end()));
        if (entry.key != key)
            throw std::runtime_error("it is stored under another key");
        ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0); // last use, for gc
        return entry;
    } catch (const std::exception& e) {
        problem = "cache entry " + path.string() + " is damaged (" + e.what() + "); rebuilt";
        remove_quietly(path);
        return std::nullopt;
    }
}

void Cache::store(const CacheEntry& entry) const
{
    write_file_atomic(m_root / "entries" / entry.key.substr(0, 2) / (entry.key + ".json"),
                      as_bytes(entry_json(entry).dump() + "\n"));
}

void Cache::store_blob(const std::string& sha256, ByteView data) const
{
    const fs::path path = m_root / "blobs" / sha256.substr(0, 2) / sha256;
    if (const auto st = stat_file(path); st && st->size == data.size())
        return;
    write_file_atomic(path, data);
}

std::optional<Bytes> Cache::blob(const std::string& sha256, std::string& problem) const
{
    const fs::path path = m_root / "blobs" / sha256.substr(0, 2) / sha256;
    Bytes data;
    try {
        data = read_file(path);
    } catch (const Error& e) {
        problem = "cache blob " + path.string() + " is missing; rebuilt";
        return std::nullopt;
    }
    if (sha256_hex(data) != sha256) {
        problem = "cache blob " + path.string() + " is damaged (its bytes do not match its digest); rebuilt";
        remove_quietly(path);
        return std::nullopt;
    }
    return data;
}

namespace {

std::string index_name(const fs::path& out)
{
    std::error_code ec;
    const fs::path canonical = fs::weakly_canonical(fs::absolute(out), ec);
    return sha256_hex(as_bytes(canonical.string())).substr(0, 32);
}

} // namespace

BuildIndex Cache::load_index(const fs::path& out) const
{
    BuildIndex index;
    Bytes data;
    try {
        data = read_file(m_root / "index" / (index_name(out) + ".msgpack"));
    } catch (const Error&) {
        return index;
    }
    try {
        const json doc = json::from_msgpack(data);
        index.source_root = doc.at("source_root").get<std::string>();
        for (const auto& [path, a] : doc.at("assets").items()) {
            IndexEntry e;
            e.source = stat_from(a.at("stat"));
            e.entry.key = a.at("key").get<std::string>();
            e.entry.record = record_from_json(path, a.at("record"));
            e.entry.warnings = a.at("warnings").get<std::vector<std::string>>();
            e.entry.blobs = a.at("blobs").get<std::map<std::string, std::string>>();
            for (const auto& s : a.at("outputs"))
                e.outputs.push_back(stat_from(s));
            index.assets.emplace(path, std::move(e));
        }
    } catch (const std::exception&) {
        return BuildIndex{}; // a damaged index only costs hashing the sources again
    }
    return index;
}

void Cache::save_index(const fs::path& out, const BuildIndex& index) const
{
    json assets = json::object();
    for (const auto& [path, e] : index.assets) {
        json outputs = json::array();
        for (const auto& s : e.outputs)
            outputs.push_back(stat_json(s));
        assets[path] = {{"stat", stat_json(e.source)},
                        {"key", e.entry.key},
                        {"record", record_to_json(e.entry.record)},
                        {"warnings", e.entry.warnings},
                        {"blobs", e.entry.blobs},
                        {"outputs", std::move(outputs)}};
    }
    std::error_code ec;
    const json doc = {{"out", fs::weakly_canonical(fs::absolute(out), ec).string()},
                      {"source_root", index.source_root},
                      {"assets", std::move(assets)}};
    write_file_atomic(m_root / "index" / (index_name(out) + ".msgpack"), json::to_msgpack(doc));
}

void Cache::remove_index(const fs::path& out) const
{
    remove_quietly(m_root / "index" / (index_name(out) + ".msgpack"));
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

void Cache::save_last_build(const std::string& text) const
{
    write_file_atomic(m_root / "last-build.json", as_bytes(text));
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
        if (it->path().extension() == ".msgpack") {
            ++s.indexes;
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
    // When each entry was last used: its own mtime (touched on every lookup) or, for entries the
    // last build into some OUT reused from its index without a lookup, that index's mtime.
    std::map<std::string, std::int64_t> index_use; // key -> newest index naming it
    std::error_code ec;
    for (fs::directory_iterator it(m_root / "index", ec), end; !ec && it != end; it.increment(ec)) {
        if (it->path().extension() != ".msgpack")
            continue;
        const std::int64_t when = mtime_of(it->path());
        try {
            const json doc = json::from_msgpack(read_file(it->path()));
            for (const auto& [path, a] : doc.at("assets").items()) {
                std::int64_t& use = index_use[a.at("key").get<std::string>()];
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

std::uint64_t parse_size(const std::string& text)
{
    std::size_t i = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])))
        ++i;
    if (i == 0)
        throw Error(ErrorKind::usage, "\"" + text + "\" is not a size (examples: 500M, 2G, 1048576)");
    std::uint64_t n = 0;
    try {
        n = std::stoull(text.substr(0, i));
    } catch (const std::exception&) {
        throw Error(ErrorKind::usage, "\"" + text + "\" is too large a size");
    }
    std::string unit = text.substr(i);
    unit.erase(std::remove(unit.begin(), unit.end(), ' '), unit.end());
    for (auto& c : unit)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    static const std::pair<std::string_view, int> k_units[] = {
        {"", 0}, {"B", 0}, {"K", 1}, {"KB", 1}, {"KIB", 1}, {"M", 2}, {"MB", 2}, {"MIB", 2},
        {"G", 3}, {"GB", 3}, {"GIB", 3}, {"T", 4}, {"TB", 4}, {"TIB", 4}};
    for (const auto& [name, power] : k_units)
        if (unit == name) {
            for (int p = 0; p < power; ++p) {
                if (n > (UINT64_MAX >> 10))
                    throw Error(ErrorKind::usage, "\"" + text + "\" is too large a size");
                n <<= 10;
            }
            return n;
        }
    throw Error(ErrorKind::usage, "\"" + text + "\": unknown size unit (use K, M, G or T, powers of 1024)");
}

} // namespace cachet
