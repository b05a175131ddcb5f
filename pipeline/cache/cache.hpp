#pragma once
#include "pipeline/cache/index_entry.hpp"
#include "pipeline/cache/remote.hpp"
#include "pipeline/cache/storage.hpp"
#include "pipeline/fs/file_stat.hpp"
#include "pipeline/model/bytes.hpp"
#include "pipeline/publish/manifest.hpp"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace cachet {

// Bumped whenever what a cache entry means changes; part of every key and of the folder name.
inline constexpr int k_cache_format = 5;

// Why entry's record does not describe the bytes of its outputs (path -> bytes, each already
// found to have the SHA-256 its blob names): a size, an integrity or an ETag of another file,
// a content type not its name's.
// Empty if it describes them. An entry is a file in the cache (or a remote server's answer)
// and may be damaged; what it says of its bytes is published as it is.
std::string misdescribed(const CacheEntry& entry, const std::map<std::string, ByteView>& files);

// Where the index of one OUT stands on disk: a snapshot and the journal of builds after it.
struct IndexFiles {
    FileStat base;                   // the snapshot's stat (the journal names it)
    std::uint64_t base_bytes = 0;    // 0: no snapshot (the next save writes one)
    std::uint64_t journal_bytes = 0; // the journal's frames read whole (0: none)
    bool has_snapshot() const { return base_bytes > 0; }
};

// The last build into one OUT folder.
struct BuildIndex {
    std::string source_root;             // absolute SRC of that build
    std::string headers;                 // headers_key() of its settings
    std::string build_id;                // of the manifest it published (kept in the trailer)
    std::vector<Generation> generations; // the earlier builds that manifest keeps
    FileStat manifest;                   // the manifest it published
    std::map<std::string, IndexEntry> assets;
    IndexFiles files; // in memory only: where load_index() found it
    // In memory only: the sources load_index() took from the journal (after the snapshot's
    // chunks, whose outputs it had looked at), in the order read; a path may be gone since.
    std::vector<std::string> journaled;
};

struct CacheStats {
    std::uint64_t entries = 0;
    std::uint64_t blobs = 0;
    std::uint64_t bytes = 0; // entries, blobs and indexes
    std::uint64_t indexes = 0;
    std::optional<std::string> last_build; // the last build's counts, as JSON
};

struct GcResult {
    std::uint64_t entries_removed = 0;
    std::uint64_t blobs_removed = 0;
    std::uint64_t temporaries_removed = 0; // left by writers killed more than an hour ago
    std::uint64_t bytes_before = 0;
    std::uint64_t bytes_after = 0;
};

// The content-addressed build cache in a folder (cachet build --cache-dir). Entries are keyed by
// cache_key(); output bytes are stored once per SHA-256 as blobs, whatever produced them; one
// index per OUT folder remembers the last build into it. Every file is written atomically, so
// several cachet processes may share the folder. The constructor throws Error(io) naming the
// path when the folder cannot be created. The cache is only an optimisation: the first write
// that fails (a full disk, a read-only folder) turns writing off for the rest of the process,
// write_problem() says why, and the build goes on; reading goes on too (what is read is checked).
class Cache {
public:
    explicit Cache(std::filesystem::path dir);

    const std::filesystem::path& dir() const { return m_dir; }

    // The entry stored under key, or nullopt. A damaged entry (unreadable, wrong shape, another
    // key) is deleted and described in problem.
    std::optional<CacheEntry> find(const std::string& key, std::string& problem) const;
    // Stores entry under entry.key; its blobs must already be stored.
    void store(const CacheEntry& entry) const;
    // Stores data as the blob named by its SHA-256 (a no-op if it is there).
    void store_blob(const std::string& sha256, ByteView data) const;
    // The blob's bytes, verified against sha256; nullopt with problem set if missing, truncated
    // or altered (the bad blob is deleted).
    std::optional<Bytes> blob(const std::string& sha256, std::string& problem) const;

    // Adds a shared remote cache behind the local one, like ccache's secondary storage: find()
    // asks it when the local cache has no entry (an entry comes only with every blob, each
    // verified, and is then kept locally), store_blob() and store() upload what this build
    // made (every blob first, then the entry), a local hit is never uploaded again.
    void attach_remote(std::unique_ptr<RemoteCache> remote) { m_remote = std::move(remote); }
    const RemoteCache* remote() const { return m_remote.get(); }

    // The index of the last build into out (empty if none or unreadable): its snapshot with its
    // journal applied. The snapshot's chunks (about a thousand entries each) are decoded on up
    // to `threads` threads, and each is passed to visit (if any) on the thread that decoded it,
    // before the index holds it: visit may change the entries (not their paths), and must be
    // thread safe. The journal's entries are not passed to it. beside (if any) is run first by
    // the first helper thread, which then decodes chunks too (on the calling thread if threads
    // is 1): the scan of SRC, say, so that the threads stay busy and no more than `threads`.
    using ChunkVisitor = std::function<void(std::map<std::string, IndexEntry>& chunk)>;
    BuildIndex load_index(const std::filesystem::path& out, unsigned threads = 1, const ChunkVisitor& visit = {},
                          const std::function<void()>& beside = {}) const;
    // The size of that index's snapshot in the cache folder dir (0: none), without opening the
    // cache: how much the next build into out will read.
    static std::uint64_t index_bytes(const std::filesystem::path& dir, const std::filesystem::path& out);
    // Writes a new snapshot of the whole index (and drops the journal).
    IndexFiles save_index(const std::filesystem::path& out, const BuildIndex& index) const;
    // save_index() in two steps, so that the slow first one can run beside other work: the
    // index without its manifest's stat and build id, then the file with them.
    static std::string encode_index(const BuildIndex& index);
    IndexFiles save_index(const std::filesystem::path& out, std::string encoded, const FileStat& manifest,
                          const std::string& build_id) const;
    // Whether a build that changed `changes` of its `assets` sources (entries changed, sources
    // gone) should append them to the journal rather than write a new snapshot: when there is
    // a snapshot and at most an eighth of the sources changed.
    static bool journal_suits(const IndexFiles& files, std::size_t changes, std::size_t assets);
    // The journal's records (these two, concatenated) of an entry that changed and of a source gone.
    // (entry as it is but for its source's stat, source.)
    static std::string encode_journal_entry(const std::string& path, const IndexEntry& entry, const FileStat& source);
    static std::string encode_journal_removal(const std::string& path);
    // Appends records to the journal, then the head of `head` (SRC, headers, generations,
    // manifest stat, build id; its assets are not read). When the journal has no room left
    // for them (past a quarter of the snapshot's size, at least 1 MiB, a new snapshot is
    // cheaper to read), writes the snapshot encode_index() of snapshot() instead, with head's
    // manifest stat and build id.
    IndexFiles append_index(const std::filesystem::path& out, const IndexFiles& files, const std::string& records,
                            const BuildIndex& head, const std::function<std::string()>& snapshot) const;
    void remove_index(const std::filesystem::path& out) const;
    // Why writing was turned off (the first failure's message), or nullopt if it was not.
    std::optional<std::string> write_problem() const;

    // Records the last build's counts (a JSON object) for stats().
    void save_last_build(const std::string& json) const;
    CacheStats stats() const;
    // Deletes least recently used entries until the cache holds at most max_bytes, then every
    // blob no entry needs, and the temporary files of writes stopped over an hour ago (younger
    // ones may be another cachet's, writing now).
    GcResult gc(std::uint64_t max_bytes) const;

    Cache(const Cache&) = delete;
    Cache& operator=(const Cache&) = delete;
    ~Cache() = default;

private:
    static bool journal_has_room(const IndexFiles& files, std::uint64_t more);
    // Runs write() unless writing is off; an Error(io) from it turns writing off. Whether it ran
    // to the end.
    bool writing(const std::function<void()>& write) const;
    IndexFiles write_snapshot(const std::filesystem::path& out, std::string encoded, const FileStat& manifest,
                              const std::string& build_id) const;
    IndexFiles write_journal(const std::filesystem::path& out, const IndexFiles& files, const std::string& records,
                             const BuildIndex& head) const;
    std::optional<CacheEntry> find_remote(const std::string& key, std::string& problem) const;
    void upload(const CacheEntry& entry) const;
    // The keys an index file names; throws std::exception if it is damaged.
    static std::vector<std::string> index_keys(const std::filesystem::path& file);

    std::filesystem::path m_dir;             // as given
    std::filesystem::path m_root;            // m_dir / "v<format>"
    std::unique_ptr<StorageBackend> m_local; // entries and blobs, in m_root
    std::unique_ptr<RemoteCache> m_remote;   // null: none
    mutable std::mutex m_uploaded_mutex;
    mutable std::map<std::string, std::uint64_t> m_uploaded; // blobs this process stored remotely: sizes
    mutable std::mutex m_fetched_mutex;
    mutable std::map<std::string, Bytes> m_fetched; // blobs of remote hits, until blob() takes them
    mutable std::atomic<bool> m_unwritable{false};
    mutable std::mutex m_problem_mutex;
    mutable std::string m_write_problem; // the first failed write's message
};

} // namespace cachet
