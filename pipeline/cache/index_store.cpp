#include "pipeline/cache/cache.hpp"

#include "pipeline/cache/binary.hpp"
#include "pipeline/cache/layout.hpp"
#include "pipeline/cache/record_codec.hpp"
#include "pipeline/fs/atomic_file.hpp"
#include "pipeline/fs/mapped_file.hpp"
#include "pipeline/model/error.hpp"
#include "pipeline/model/hash.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <latch>
#include <map>
#include <thread>
#include <unistd.h>
#include <utility>

// The index of the last build into each OUT folder, and the policy of its persistence: a
// snapshot, and a journal of the builds after it while they change little.
namespace cachet {

namespace fs = std::filesystem;
using namespace cache_layout;
using binary::Reader;
using binary::Writer;

namespace {

// An index file ends with the manifest's build id (zero-padded), its stat (3 x u64), a
// checksum (u64) and where the table of chunks starts (u64). The table, after the entries,
// gives the checksum of the header (the bytes before the first chunk), then the offset, the
// number of entries and the checksum of each chunk of k_chunk_entries, so that chunks decode
// (and are checked) side by side. The trailer's checksum covers the table and the trailer.
// Every checksum is checksum64() (XXH3): a snapshot is not flushed to disk (a cache file), so
// after a crash it may hold zeroes or another file's blocks, and a disk or a tool may damage
// it; a record read from it would be published as it is, so no damaged byte may be used.
constexpr std::size_t k_trailer_id_size = 32;
constexpr std::size_t k_trailer_size = k_trailer_id_size + 5 * sizeof(std::uint64_t);
constexpr std::string_view k_index_magic = "cachet-index 11\n";
constexpr std::size_t k_chunk_entries = 1024;

struct Chunk {
    std::size_t offset = 0;
    std::size_t entries = 0;
    std::uint64_t checksum = 0;
};

// The journal (.log beside the snapshot .bin) holds the builds since the snapshot, so that a
// build that changed a few sources writes a few records, not the whole index again. It is a
// sequence of frames: payload size (u64 LE), FNV-1a 64 of the payload (u64 LE), payload. The
// first frame names the snapshot it extends (its stat); then, per build, one frame per
// changed source ('E' + entry), per source gone ('D' + path), and last the head ('H': SRC,
// headers, generations, manifest stat, build id). Reading stops at the first damaged frame (a
// torn append): what came before still holds, as every reuse is checked against the files.
constexpr std::string_view k_journal_magic = "cachet-index-journal 1";
constexpr std::size_t k_frame_header = 16;

void append_frame(std::string& out, std::string_view payload)
{
    const std::uint64_t header[2] = {payload.size(), fnv1a(payload)};
    out.append(reinterpret_cast<const char*>(header), sizeof header);
    out.append(payload);
}

std::string head_frame(const std::string& source_root, const std::string& headers,
                       const std::vector<Generation>& generations, const FileStat& manifest,
                       const std::string& build_id)
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
                auto [path, entry] = read_entry(r, nullptr); // (the journal is read into memory that goes)
                index.journaled.push_back(path);
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

// The chunks of a snapshot from its table, checked against its layout: the first starts where
// the header ends, each after the one before, within the entries. header_checksum gets the
// header's checksum.
std::vector<Chunk> read_chunks(ByteView table, std::size_t first, std::size_t end, std::uint64_t count,
                               std::uint64_t& header_checksum)
{
    Reader t(table);
    header_checksum = t.u();
    std::vector<Chunk> chunks(t.capacity_for(t.u()));
    std::uint64_t entries = 0;
    for (std::size_t c = 0; c < chunks.size(); ++c) {
        const std::uint64_t offset = t.u();
        const std::uint64_t n = t.u();
        const std::uint64_t checksum = t.u();
        if (c == 0 ? offset != first : (offset <= chunks[c - 1].offset || offset > end) || n > count)
            throw std::runtime_error("bad chunk table");
        chunks[c] = {static_cast<std::size_t>(offset), static_cast<std::size_t>(n), checksum};
        entries += n;
    }
    if (!t.done() || entries != count || (chunks.empty() && first != end))
        throw std::runtime_error("bad chunk table");
    return chunks;
}

// The snapshot at base_path and its journal, read into an index (empty if unreadable). Its
// chunks are decoded by the calling thread and threads - 1 helpers, the first of which runs
// `beside` first; each chunk is passed to visit on the thread that decoded it.
BuildIndex read_index(const fs::path& base_path, unsigned threads, const Cache::ChunkVisitor& visit,
                      const std::function<void()>& beside)
{
    BuildIndex index;
    // (A snapshot is only ever replaced by a rename, never cut in place.) The entries keep it
    // mapped: their texts and cache entries are read where they are, when asked for.
    std::shared_ptr<const MappedFile> mapped;
    ByteView data;
    std::size_t table = 0;
    std::vector<Chunk> chunks;
    std::vector<std::map<std::string, IndexEntry>> decoded;
    std::atomic<std::size_t> next{0};
    std::atomic<bool> damaged{false};
    std::latch known(1); // the chunks are known (none if the snapshot cannot be read)
    auto work = [&] {
        try {
            for (std::size_t c = next++; c < chunks.size(); c = next++) {
                const std::size_t end = c + 1 < chunks.size() ? chunks[c + 1].offset : table;
                const ByteView bytes = data.subspan(chunks[c].offset, end - chunks[c].offset);
                if (checksum64(bytes) != chunks[c].checksum)
                    throw std::runtime_error("damaged chunk");
                Reader r(bytes);
                for (std::size_t n = 0; n < chunks[c].entries; ++n) {
                    auto [path, entry] = read_entry(r, mapped);
                    decoded[c].emplace_hint(decoded[c].end(), std::move(path), std::move(entry));
                }
                if (!r.done())
                    throw std::runtime_error("chunk of another length");
                if (visit)
                    visit(decoded[c]);
            }
        } catch (const std::exception&) {
            damaged = true;
        }
    };
    std::vector<std::jthread> helpers;
    for (unsigned w = 1; w < threads; ++w)
        helpers.emplace_back([&, w] {
            if (w == 1 && beside)
                beside();
            known.wait();
            work();
        });
    if (threads <= 1 && beside)
        beside();
    struct Known {
        std::latch& latch;
        bool told = false;
        void tell()
        {
            if (!std::exchange(told, true))
                latch.count_down();
        }
        ~Known() { tell(); }
    } tell_helpers{known};
    try {
        mapped = std::make_shared<const MappedFile>(base_path);
    } catch (const Error&) {
        return index;
    }
    data = mapped->bytes();
    const FileStat base = mapped->stat();
    try {
        // The manifest's build id and stat are a fixed-size trailer, written last.
        if (data.size() < k_trailer_size)
            throw std::runtime_error("truncated");
        const std::uint8_t* tail = data.data() + data.size() - k_trailer_size;
        index.build_id.assign(reinterpret_cast<const char*>(tail), k_trailer_id_size);
        index.build_id.erase(index.build_id.find('\0') == std::string::npos ? index.build_id.size()
                                                                            : index.build_id.find('\0'));
        std::uint64_t trailer[5]; // manifest stat, checksum, table offset
        std::memcpy(trailer, tail + k_trailer_id_size, sizeof trailer);
        index.manifest = FileStat{trailer[0], static_cast<std::int64_t>(trailer[1]), trailer[2]};
        if (trailer[4] > data.size() - k_trailer_size)
            throw std::runtime_error("bad table offset");
        table = static_cast<std::size_t>(trailer[4]);
        if (checksum64(data.subspan(table, data.size() - table - 2 * sizeof(std::uint64_t))) !=
            (trailer[3] ^ trailer[4]))
            throw std::runtime_error("damaged table");
        Reader r(data.first(table));
        if (r.s() != k_index_magic)
            throw std::runtime_error("not an index");
        index.source_root = r.s();
        index.headers = r.s();
        index.generations = read_generations(r);
        const std::uint64_t count = r.u();
        const std::size_t header_end = table - r.left();
        std::uint64_t header_checksum = 0;
        chunks = read_chunks(data.subspan(table, data.size() - k_trailer_size - table), header_end, table, count,
                             header_checksum);
        if (checksum64(data.first(header_end)) != header_checksum)
            throw std::runtime_error("damaged header");
        decoded.resize(chunks.size());
        tell_helpers.tell();
        work();
        for (auto& h : helpers)
            h.join();
        if (damaged)
            throw std::runtime_error("damaged chunk");
        for (auto& chunk : decoded) // (the nodes move, unchanged)
            while (!chunk.empty())
                index.assets.insert(index.assets.end(), chunk.extract(chunk.begin()));
    } catch (const std::exception&) {
        chunks.clear();
        return BuildIndex{}; // a damaged index only costs hashing the sources again
    }
    index.files.base = base;
    index.files.base_bytes = data.size();
    fs::path journal = base_path;
    journal.replace_extension(".log");
    try {
        // Read, not mapped: a build appending to it cuts a torn tail off in place (ftruncate),
        // which would fault a reader that had it mapped (cachet cache stats, say).
        const Bytes log = read_file(journal);
        index.files.journal_bytes = apply_journal(index, log, base);
    } catch (const Error&) {
        // no journal: the snapshot is the last build
    }
    return index;
}

} // namespace

BuildIndex Cache::load_index(const fs::path& out, unsigned threads, const ChunkVisitor& visit,
                             const std::function<void()>& beside) const
{
    return read_index(m_root / "index" / (index_name(out) + ".bin"), threads, visit, beside);
}

std::uint64_t Cache::index_bytes(const fs::path& dir, const fs::path& out)
{
    std::error_code ec;
    const std::uintmax_t bytes =
        fs::file_size(dir / ("v" + std::to_string(k_cache_format)) / "index" / (index_name(out) + ".bin"), ec);
    return ec ? 0 : static_cast<std::uint64_t>(bytes);
}

IndexFiles Cache::save_index(const fs::path& out, const BuildIndex& index) const
{
    return save_index(out, encode_index(index), index.manifest, index.build_id);
}

IndexFiles Cache::save_index(const fs::path& out, std::string encoded, const FileStat& manifest,
                             const std::string& build_id) const
{
    IndexFiles files;
    if (!writing([&] { files = write_snapshot(out, std::move(encoded), manifest, build_id); }))
        remove_index(out); // the last one no longer describes OUT: better none
    return files;
}

IndexFiles Cache::write_snapshot(const fs::path& out, std::string encoded, const FileStat& manifest,
                                 const std::string& build_id) const
{
    // encode_index() ends with the table's offset: it goes into the trailer, after the
    // checksum of the table and the trailer before it (the offset is mixed into the checksum).
    std::uint64_t table = 0;
    if (encoded.size() >= sizeof table) {
        std::memcpy(&table, encoded.data() + encoded.size() - sizeof table, sizeof table);
        encoded.resize(encoded.size() - sizeof table);
    }
    table = std::min<std::uint64_t>(table, encoded.size());
    std::string id = build_id.substr(0, k_trailer_id_size);
    id.resize(k_trailer_id_size, '\0');
    encoded += id;
    const std::uint64_t stat[3] = {manifest.size, static_cast<std::uint64_t>(manifest.mtime_ns), manifest.inode};
    encoded.append(reinterpret_cast<const char*>(stat), sizeof stat);
    const std::uint64_t check[2] = {
        checksum64(as_bytes(std::string_view(encoded).substr(static_cast<std::size_t>(table)))) ^ table, table};
    encoded.append(reinterpret_cast<const char*>(check), sizeof check);
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
        size += path.size() + e.fragment.view().size() + e.outputs.view().size() +
                (e.entry.bytes().empty() ? 2048 : e.entry.bytes().size()) + 512;
    w.text().reserve(size);
    w.s(k_index_magic);
    w.s(index.source_root);
    w.s(index.headers);
    write_generations(w, index.generations);
    w.u(index.assets.size());
    const std::size_t header_end = w.text().size();
    std::vector<Chunk> chunks;
    for (const auto& [path, e] : index.assets) {
        if (chunks.empty() || chunks.back().entries == k_chunk_entries)
            chunks.push_back({w.text().size(), 0, 0});
        write_entry(w, path, e, e.source);
        ++chunks.back().entries;
    }
    // The table, then its offset in 8 bytes (write_snapshot() moves them into the trailer).
    const std::uint64_t table = w.text().size();
    const std::string_view text = w.text();
    for (std::size_t c = 0; c < chunks.size(); ++c)
        chunks[c].checksum = checksum64(as_bytes(
            text.substr(chunks[c].offset, (c + 1 < chunks.size() ? chunks[c + 1].offset : table) - chunks[c].offset)));
    w.u(checksum64(as_bytes(text.substr(0, header_end))));
    w.u(chunks.size());
    for (const auto& c : chunks) {
        w.u(c.offset);
        w.u(c.entries);
        w.u(c.checksum);
    }
    w.text().append(reinterpret_cast<const char*>(&table), sizeof table);
    return std::move(w.text());
}

std::string Cache::encode_journal_entry(const std::string& path, const IndexEntry& entry, const FileStat& source)
{
    Writer w;
    w.s("E");
    write_entry(w, path, entry, source);
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

IndexFiles Cache::append_index(const fs::path& out, const IndexFiles& files, const std::string& records,
                               const BuildIndex& head, const std::function<std::string()>& snapshot) const
{
    if (!journal_has_room(files, records.size() + 4096))
        return save_index(out, snapshot(), head.manifest, head.build_id);
    IndexFiles appended;
    if (!writing([&] { appended = write_journal(out, files, records, head); }))
        remove_index(out); // a torn journal, or one that misses this build: better none
    return appended;
}

IndexFiles Cache::write_journal(const fs::path& out, const IndexFiles& files, const std::string& records,
                                const BuildIndex& head) const
{
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
        const ssize_t n =
            ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(files.journal_bytes + done));
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
    const BuildIndex index = read_index(file, 1, {}, {});
    std::vector<std::string> keys;
    for (const auto& [path, e] : index.assets)
        keys.push_back(e.entry.get().key);
    return keys;
}

void Cache::remove_index(const fs::path& out) const
{
    remove_quietly(m_root / "index" / (index_name(out) + ".bin"));
    remove_quietly(m_root / "index" / (index_name(out) + ".log"));
}

} // namespace cachet
