#include "pipeline/cache/cache.hpp"

#include "pipeline/fs/atomic_file.hpp"
#include "pipeline/model/error.hpp"
#include "pipeline/model/hash.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <cstring>
#include <fcntl.h>
#include <set>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cachet {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json entry_json(const CacheEntry& e)
{
    return json{{"key", e.key},
                {"source", e.record.source},
                {"record", json::parse(manifest_fragment(e.record))},
                {"warnings", e.warnings},
                {"blobs", e.blobs}};
}

CacheEntry entry_from(const json& j)
{
    CacheEntry e;
    e.key = j.at("key").get<std::string>();
    e.record = parse_record(j.at("source").get<std::string>(), j.at("record").dump());
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
                      as_bytes(entry_json(entry).dump() + "\n"), Durability::cache);
}

void Cache::store_blob(const std::string& sha256, ByteView data) const
{
    const fs::path path = m_root / "blobs" / sha256.substr(0, 2) / sha256;
    if (const auto st = stat_file(path); st && st->size == data.size())
        return;
    write_file_atomic(path, data, Durability::cache); // verified against its name when read
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

namespace {

// The index is read and written on every build, so it is a compact binary file rather than
// JSON: varint integers and length-prefixed strings, read with bounds checks.
// An index file ends with the manifest's build id (zero-padded) and its stat (3 x u64).
constexpr std::size_t k_trailer_id_size = 32;
constexpr std::size_t k_trailer_size = k_trailer_id_size + 3 * sizeof(std::uint64_t);
constexpr std::string_view k_index_magic = "cachet-index 6\n";

class Writer {
public:
    void u(std::uint64_t v)
    {
        while (v >= 0x80) {
            m_out.push_back(static_cast<char>(v | 0x80));
            v >>= 7;
        }
        m_out.push_back(static_cast<char>(v));
    }
    void i(std::int64_t v) { u((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63)); }
    void s(std::string_view v)
    {
        u(v.size());
        m_out.append(v);
    }
    void stat(const FileStat& f)
    {
        u(f.size);
        i(f.mtime_ns);
        u(f.inode);
    }
    std::string& text() { return m_out; }

private:
    std::string m_out;
};

class Reader {
public:
    explicit Reader(ByteView data) : m_p(data.data()), m_end(data.data() + data.size()) {}
    std::uint64_t u()
    {
        std::uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (m_p == m_end)
                throw std::runtime_error("truncated");
            const std::uint8_t b = *m_p++;
            v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
            if (!(b & 0x80))
                return v;
        }
        throw std::runtime_error("bad number");
    }
    std::int64_t i()
    {
        const std::uint64_t v = u();
        return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
    }
    int small() { return static_cast<int>(u() & 0x7fffffff); }
    std::string s()
    {
        const std::uint64_t n = u();
        if (n > static_cast<std::uint64_t>(m_end - m_p))
            throw std::runtime_error("truncated");
        std::string v(reinterpret_cast<const char*>(m_p), static_cast<std::size_t>(n));
        m_p += n;
        return v;
    }
    FileStat stat()
    {
        FileStat f;
        f.size = u();
        f.mtime_ns = i();
        f.inode = u();
        return f;
    }
    bool done() const { return m_p == m_end; }

private:
    const std::uint8_t* m_p;
    const std::uint8_t* m_end;
};

void write_record(Writer& w, const AssetRecord& r)
{
    w.u(static_cast<std::uint64_t>(r.kind));
    w.u(r.source_bytes);
    w.s(r.source_digest);
    w.u(r.outputs.size());
    for (const auto& o : r.outputs) {
        w.s(o.path);
        w.u(o.bytes);
        w.s(o.content_type);
        w.s(o.integrity);
        w.s(o.cache_control);
        w.u(o.headers.size());
        for (const auto& [name, value] : o.headers) {
            w.s(name);
            w.s(value);
        }
        w.s(o.vary);
        w.s(o.etag);
        w.u(o.fingerprinted);
        w.u(o.format ? static_cast<std::uint64_t>(*o.format) + 1 : 0);
        w.u(static_cast<std::uint64_t>(o.width));
        w.u(static_cast<std::uint64_t>(o.height));
        w.u(static_cast<std::uint64_t>(o.frames));
        w.u(o.quality ? static_cast<std::uint64_t>(*o.quality) + 1 : 0);
        w.u(o.butteraugli.has_value());
        if (o.butteraugli) {
            std::uint64_t bits = 0;
            std::memcpy(&bits, &*o.butteraugli, sizeof bits);
            w.u(bits);
        }
        w.u(o.encodings.size());
        for (const auto& e : o.encodings) {
            w.u(static_cast<std::uint64_t>(e.encoding));
            w.s(e.path);
            w.u(e.bytes);
            w.s(e.etag);
        }
    }
    w.u(r.placeholder.has_value());
    if (r.placeholder) {
        w.s(r.placeholder->data_uri);
        w.s(r.placeholder->dominant_color);
    }
}

template <class Enum>
Enum enum_at(std::uint64_t v, Enum last)
{
    if (v > static_cast<std::uint64_t>(last))
        throw std::runtime_error("bad enum");
    return static_cast<Enum>(v);
}

AssetRecord read_record(Reader& r, std::string source)
{
    AssetRecord a;
    a.source = std::move(source);
    a.kind = enum_at(r.u(), AssetKind::unsupported);
    a.source_bytes = r.u();
    a.source_digest = r.s();
    const std::uint64_t outputs = r.u();
    for (std::uint64_t n = 0; n < outputs; ++n) {
        OutputFile o;
        o.path = r.s();
        o.bytes = r.u();
        o.content_type = r.s();
        o.integrity = r.s();
        o.cache_control = r.s();
        const std::uint64_t headers = r.u();
        for (std::uint64_t k = 0; k < headers; ++k) {
            std::string name = r.s();
            o.headers.emplace_back(std::move(name), r.s());
        }
        o.vary = r.s();
        o.etag = r.s();
        o.fingerprinted = r.u() != 0;
        if (const std::uint64_t f = r.u(); f != 0)
            o.format = enum_at(f - 1, static_cast<ImageFormat>(k_image_format_count - 1));
        o.width = r.small();
        o.height = r.small();
        o.frames = r.small();
        if (const std::uint64_t q = r.u(); q != 0)
            o.quality = static_cast<int>(q - 1);
        if (r.u() != 0) {
            const std::uint64_t bits = r.u();
            double d = 0;
            std::memcpy(&d, &bits, sizeof d);
            o.butteraugli = d;
        }
        const std::uint64_t encodings = r.u();
        for (std::uint64_t k = 0; k < encodings; ++k) {
            EncodedFile e;
            e.encoding = enum_at(r.u(), Encoding::gzip);
            e.path = r.s();
            e.bytes = r.u();
            e.etag = r.s();
            o.encodings.push_back(std::move(e));
        }
        a.outputs.push_back(std::move(o));
    }
    if (r.u() != 0) {
        a.placeholder = Placeholder{};
        a.placeholder->data_uri = r.s();
        a.placeholder->dominant_color = r.s();
    }
    return a;
}

} // namespace

namespace {

// One source's entry, as the snapshot and the journal hold it.
void write_entry(Writer& w, const std::string& path, const IndexEntry& e)
{
    w.s(path);
    w.stat(e.source);
    w.s(e.entry.key);
    write_record(w, e.entry.record);
    w.u(e.entry.warnings.size());
    for (const auto& warning : e.entry.warnings)
        w.s(warning);
    w.u(e.entry.blobs.size());
    for (const auto& [p, sha] : e.entry.blobs) {
        w.s(p);
        w.s(sha);
    }
    w.u(e.outputs.size());
    for (const auto& s : e.outputs)
        w.stat(s);
    w.s(e.fragment);
    w.s(e.settings);
    for (const auto* paths : {&e.loads, &e.back}) {
        w.u(paths->size());
        for (const auto& p : *paths)
            w.s(p);
    }
    w.s(e.fragment_digest);
}

std::pair<std::string, IndexEntry> read_entry(Reader& r)
{
    std::string path = r.s();
    IndexEntry e;
    e.source = r.stat();
    e.entry.key = r.s();
    e.entry.record = read_record(r, path);
    for (std::uint64_t k = r.u(); k > 0; --k)
        e.entry.warnings.push_back(r.s());
    for (std::uint64_t k = r.u(); k > 0; --k) {
        std::string p = r.s();
        e.entry.blobs.emplace_hint(e.entry.blobs.end(), std::move(p), r.s());
    }
    for (std::uint64_t k = r.u(); k > 0; --k)
        e.outputs.push_back(r.stat());
    e.fragment = r.s();
    e.settings = r.s();
    for (std::uint64_t k = r.u(); k > 0; --k)
        e.loads.push_back(r.s());
    for (std::uint64_t k = r.u(); k > 0; --k)
        e.back.push_back(r.s());
    e.fragment_digest = r.s();
    return {std::move(path), std::move(e)};
}

void write_generations(Writer& w, const std::vector<Generation>& generations)
{
    w.u(generations.size());
    for (const auto& g : generations) {
        w.s(g.build_id);
        w.u(g.outputs.size());
        for (const auto& o : g.outputs)
            w.s(o);
    }
}

std::vector<Generation> read_generations(Reader& r)
{
    std::vector<Generation> generations;
    for (std::uint64_t g = r.u(); g > 0; --g) {
        Generation generation{r.s(), {}};
        for (std::uint64_t k = r.u(); k > 0; --k)
            generation.outputs.push_back(r.s());
        generations.push_back(std::move(generation));
    }
    return generations;
}

// The journal (.log beside the snapshot .bin) holds the builds since the snapshot, so that a
// build that changed a few sources writes a few records, not the whole index again. It is a
// sequence of frames: payload size (u64 LE), FNV-1a 64 of the payload (u64 LE), payload. The
// first frame names the snapshot it extends (its stat); then, per build, one frame per
// changed source ('E' + entry), per source gone ('D' + path), and last the head ('H': SRC,
// headers, generations, manifest stat, build id). Reading stops at the first damaged frame (a
// torn append): what came before still holds, as every reuse is checked against the files.
constexpr std::string_view k_journal_magic = "cachet-index-journal 1";
constexpr std::size_t k_frame_header = 16;

std::uint64_t fnv1a(std::string_view data)
{
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const char c : data) {
        h ^= static_cast<std::uint8_t>(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}

void append_frame(std::string& out, std::string_view payload)
{
    const std::uint64_t header[2] = {payload.size(), fnv1a(payload)};
    out.append(reinterpret_cast<const char*>(header), sizeof header);
    out.append(payload);
}

std::string head_frame(const std::string& source_root, const std::string& headers,
                       const std::vector<Generation>& generations, const FileStat& manifest, const std::string& build_id)
{
    Writer w;
    w.s("H");
    w.s(source_root);
    w.s(headers);
    write_generations(w, generations);
    w.stat(manifest);
    w.s(build_id);
    return std::move(w.text());
}

// Applies the journal in data to index (whose snapshot is `base`); returns the size of its
// frames that were read whole (0 if it belongs to another snapshot).
std::uint64_t apply_journal(BuildIndex& index, ByteView data, const FileStat& base)
{
    std::size_t at = 0;
    std::uint64_t good = 0;
    bool first = true;
    while (data.size() - at >= k_frame_header) {
        std::uint64_t header[2];
        std::memcpy(header, data.data() + at, sizeof header);
        if (header[0] > data.size() - at - k_frame_header)
            break;
        const ByteView payload = data.subspan(at + k_frame_header, static_cast<std::size_t>(header[0]));
        if (fnv1a(as_text(payload)) != header[1])
            break;
        try {
            Reader r(payload);
            const std::string type = r.s();
            if (first) {
                if (type != k_journal_magic || r.stat() != base)
                    return 0;
                first = false;
            } else if (type == "E") {
                auto [path, entry] = read_entry(r);
                index.assets.insert_or_assign(std::move(path), std::move(entry));
            } else if (type == "D") {
                index.assets.erase(r.s());
            } else if (type == "H") {
                index.source_root = r.s();
                index.headers = r.s();
                index.generations = read_generations(r);
                index.manifest = r.stat();
                index.build_id = r.s();
            } else {
                break;
            }
            if (!r.done())
                break;
        } catch (const std::exception&) {
            break;
        }
        at += k_frame_header + payload.size();
        good = at;
    }
    return good;
}

// The snapshot at base_path and its journal, read into an index (empty if unreadable).
BuildIndex read_index(const fs::path& base_path)
{
    BuildIndex index;
    Bytes data;
    try {
        data = read_file(base_path);
    } catch (const Error&) {
        return index;
    }
    const FileStat base = stat_file(base_path).value_or(FileStat{});
    try {
        // The manifest's build id and stat are a fixed-size trailer, written last.
        if (data.size() < k_trailer_size)
            throw std::runtime_error("truncated");
        const std::uint8_t* tail = data.data() + data.size() - k_trailer_size;
        index.build_id.assign(reinterpret_cast<const char*>(tail), k_trailer_id_size);
        index.build_id.erase(index.build_id.find('\0') == std::string::npos ? index.build_id.size()
                                                                            : index.build_id.find('\0'));
        std::uint64_t trailer[3];
        std::memcpy(trailer, tail + k_trailer_id_size, sizeof trailer);
        index.manifest = FileStat{trailer[0], static_cast<std::int64_t>(trailer[1]), trailer[2]};
        Reader r(ByteView(data).first(data.size() - k_trailer_size));
        if (r.s() != k_index_magic)
            throw std::runtime_error("not an index");
        index.source_root = r.s();
        index.headers = r.s();
        index.generations = read_generations(r);
        const std::uint64_t count = r.u();
        for (std::uint64_t n = 0; n < count; ++n) {
            auto [path, entry] = read_entry(r);
            index.assets.emplace_hint(index.assets.end(), std::move(path), std::move(entry));
        }
        if (!r.done())
            throw std::runtime_error("trailing bytes");
    } catch (const std::exception&) {
        return BuildIndex{}; // a damaged index only costs hashing the sources again
    }
    index.files.base = base;
    index.files.base_bytes = data.size();
    fs::path journal = base_path;
    journal.replace_extension(".log");
    try {
        const Bytes log = read_file(journal);
        index.files.journal_bytes = apply_journal(index, log, base);
    } catch (const Error&) {
        // no journal: the snapshot is the last build
    }
    return index;
}

} // namespace

BuildIndex Cache::load_index(const fs::path& out) const
{
    return read_index(m_root / "index" / (index_name(out) + ".bin"));
}

IndexFiles Cache::save_index(const fs::path& out, const BuildIndex& index) const
{
    return save_index(out, encode_index(index), index.manifest, index.build_id);
}

IndexFiles Cache::save_index(const fs::path& out, std::string encoded, const FileStat& manifest,
                             const std::string& build_id) const
{
    std::string id = build_id.substr(0, k_trailer_id_size);
    id.resize(k_trailer_id_size, '\0');
    encoded += id;
    const std::uint64_t trailer[3] = {manifest.size, static_cast<std::uint64_t>(manifest.mtime_ns), manifest.inode};
    encoded.append(reinterpret_cast<const char*>(trailer), sizeof trailer);
    // A cache file: atomic, but not flushed to disk (a torn index after a crash is only
    // unreadable, which costs one full hashing pass). The journal of the snapshot it replaces
    // goes after it (were it left, its first frame no longer matches).
    const fs::path base = m_root / "index" / (index_name(out) + ".bin");
    write_file_atomic(base, as_bytes(encoded), Durability::cache);
    remove_quietly(m_root / "index" / (index_name(out) + ".log"));
    return IndexFiles{stat_file(base).value_or(FileStat{}), encoded.size(), 0};
}

std::string Cache::encode_index(const BuildIndex& index)
{
    Writer w;
    std::size_t size = 1024;
    for (const auto& [path, e] : index.assets)
        size += path.size() * 3 + e.fragment.size() + e.entry.key.size() + e.settings.size() + 512;
    w.text().reserve(size);
    w.s(k_index_magic);
    w.s(index.source_root);
    w.s(index.headers);
    write_generations(w, index.generations);
    w.u(index.assets.size());
    for (const auto& [path, e] : index.assets)
        write_entry(w, path, e);
    return std::move(w.text());
}

std::string Cache::encode_journal_entry(const std::string& path, const IndexEntry& entry)
{
    Writer w;
    w.s("E");
    write_entry(w, path, entry);
    std::string out;
    append_frame(out, w.text());
    return out;
}

std::string Cache::encode_journal_removal(const std::string& path)
{
    Writer w;
    w.s("D");
    w.s(path);
    std::string out;
    append_frame(out, w.text());
    return out;
}

bool Cache::journal_has_room(const IndexFiles& files, std::uint64_t more)
{
    return files.base_bytes > 0 &&
           files.journal_bytes + more <= std::max<std::uint64_t>(files.base_bytes / 4, std::uint64_t{1} << 20);
}

bool Cache::journal_suits(const IndexFiles& files, std::size_t changes, std::size_t assets)
{
    return files.has_snapshot() && changes <= assets / 8 + 16;
}

IndexFiles Cache::append_index(const fs::path& out, const IndexFiles& files, std::string records,
                               const BuildIndex& head, const std::function<std::string()>& snapshot) const
{
    if (!journal_has_room(files, records.size() + 4096))
        return save_index(out, snapshot(), head.manifest, head.build_id);
    const fs::path path = m_root / "index" / (index_name(out) + ".log");
    std::string data;
    if (files.journal_bytes == 0) {
        Writer w;
        w.s(k_journal_magic);
        w.stat(files.base);
        append_frame(data, w.text());
    }
    data += records;
    append_frame(data, head_frame(head.source_root, head.headers, head.generations, head.manifest, head.build_id));
    // Not flushed, as the snapshot is not: a torn tail is cut off when read. Whatever follows
    // the frames read whole (a torn append) is cut off first.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        throw io_error(path.string(), "cannot open", errno);
    const auto fail = [&](const char* what) {
        const int err = errno;
        close(fd);
        return io_error(path.string(), what, err);
    };
    if (ftruncate(fd, static_cast<off_t>(files.journal_bytes)) != 0)
        throw fail("cannot truncate");
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done,
                                   static_cast<off_t>(files.journal_bytes + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            throw fail("cannot write");
        done += static_cast<std::size_t>(n);
    }
    close(fd);
    return IndexFiles{files.base, files.base_bytes, files.journal_bytes + data.size()};
}

std::vector<std::string> Cache::index_keys(const fs::path& file)
{
    const BuildIndex index = read_index(file);
    std::vector<std::string> keys;
    for (const auto& [path, e] : index.assets)
        keys.push_back(e.entry.key);
    return keys;
}

void Cache::remove_index(const fs::path& out) const
{
    remove_quietly(m_root / "index" / (index_name(out) + ".bin"));
    remove_quietly(m_root / "index" / (index_name(out) + ".log"));
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
