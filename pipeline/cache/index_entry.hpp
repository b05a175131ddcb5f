#pragma once
#include "pipeline/fs/file_stat.hpp"
#include "pipeline/model/bytes.hpp"
#include "pipeline/model/record.hpp"

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cachet {

// What cachet keeps about one built source: enough to publish it again without building it.
struct CacheEntry {
    std::string key;
    AssetRecord record;
    std::vector<std::string> warnings;        // the build's remarks, repeated on every reuse
    std::map<std::string, std::string> blobs; // output path (encoded variants too) -> SHA-256 hex of its bytes
};

// Text an index entry holds: its own, or a view of the index snapshot it was read from (a
// mapped file, which the entry keeps mapped), so that reading 100,000 entries copies none.
class HeldText {
public:
    HeldText() = default;
    HeldText(std::string text) // NOLINT(google-explicit-constructor)
        : m_owned(text.empty() ? nullptr : std::make_unique<std::string>(std::move(text)))
    {
        if (m_owned)
            m_view = *m_owned;
    }
    HeldText(const HeldText& other) : HeldText(other.m_owned ? HeldText(*other.m_owned) : viewing(other.m_view)) {}
    HeldText(HeldText&& other) noexcept : m_view(std::exchange(other.m_view, {})), m_owned(std::move(other.m_owned)) {}
    HeldText& operator=(const HeldText& other)
    {
        if (this != &other)
            *this = HeldText(other);
        return *this;
    }
    HeldText& operator=(HeldText&& other) noexcept
    {
        m_view = std::exchange(other.m_view, {});
        m_owned = std::move(other.m_owned);
        return *this;
    }
    ~HeldText() = default;
    static HeldText viewing(std::string_view text)
    {
        HeldText held;
        held.m_view = text;
        return held;
    }
    std::string_view view() const { return m_view; }
    operator std::string_view() const { return m_view; } // NOLINT(google-explicit-constructor)
    std::string str() const { return std::string(m_view); }
    bool empty() const { return m_view.empty(); }

private:
    std::string_view m_view;              // of *m_owned, or of the snapshot
    std::unique_ptr<std::string> m_owned; // (24 bytes in all: 100,000 entries hold five each)
};

// The CacheEntry of an index entry: read from a snapshot, it stays the snapshot's bytes until
// first asked for (a rebuild decodes the entries of what it builds or republishes, not of the
// 100,000 it reuses as they were). Asking is thread safe: one thread decodes, others wait.
class LazyCacheEntry {
public:
    LazyCacheEntry() = default;
    LazyCacheEntry(const LazyCacheEntry& other);
    LazyCacheEntry(LazyCacheEntry&& other) noexcept;
    LazyCacheEntry& operator=(const LazyCacheEntry& other);
    LazyCacheEntry& operator=(LazyCacheEntry&& other) noexcept;
    ~LazyCacheEntry() = default;

    // The bytes of write_cache_entry() of the source at path: views of a file that whoever
    // holds this keeps (IndexEntry::keep).
    void encoded(std::string_view path, ByteView bytes);
    // The entry, decoded when first asked for. Throws Error(internal) if its bytes do not
    // decode (they passed the snapshot's checksum: a bug).
    const CacheEntry& get() const;
    // Replaces the entry, or moves it out (decoded first): no longer the snapshot's bytes.
    void set(CacheEntry entry);
    CacheEntry take();
    // The snapshot's bytes of the entry while they are what it holds (a snapshot copies them as
    // they are), else empty.
    ByteView bytes() const { return m_state.load(std::memory_order_acquire) == k_encoded ? m_bytes : ByteView(); }
    // How many entries were decoded in this process (for --timings).
    static std::uint64_t decoded_count();

private:
    static constexpr std::uint8_t k_encoded = 0, k_decoding = 1, k_decoded = 2;
    void copy_from(const LazyCacheEntry& other);

    std::string_view m_path;
    ByteView m_bytes;
    mutable std::atomic<std::uint8_t> m_state{k_decoded};
    mutable bool m_broken = false;
    mutable std::unique_ptr<CacheEntry> m_entry; // null: empty (an index entry's node stays small)
};

// One source of the last build into an OUT folder, with the stats that let the next build skip
// it. What a rebuild reads of every source it reuses comes first and is cheap to read: stats,
// settings, names, digests, the outputs' names and stats, the totals' tally; the manifest
// fragment is a view, the cache entry decoded only when asked for (LazyCacheEntry).
struct IndexEntry {
    FileStat source;    // the source when it was digested (all zero: not to be trusted)
    bool taken = false; // in memory only: this build reused the entry
    // In memory only: whether this build found every output in OUT as written (-1: not looked yet).
    signed char in_place = -1;
    bool warned = false;      // entry.get().warnings is not empty
    HeldText fragment;        // manifest_fragment(entry.get().record)
    HeldText fragment_digest; // SHA-256 (hex) of fragment
    HeldText settings;        // the settings part of the entry's key, so an unchanged source needs no hashing
    // Each output file in OUT as written (encode_outputs()): its path and stat, in output_paths()
    // order, so that a look at OUT decodes no entry.
    HeldText outputs;
    HeldText tally;                 // what the build's totals took of the record (opaque to the cache; empty: none)
    std::vector<std::string> loads; // text: the sources it refers to (see rewrite.hpp: Dependencies)
    std::vector<std::string> back;  // ... and those it names by back-reference only
    std::vector<std::string> script_names; // names_in_scripts() of the source
    std::vector<std::string> kept;         // text: the sources of loads and back it left as written
                                           // because scripts name them (sorted)
    LazyCacheEntry entry;
    std::shared_ptr<const void> keep; // the mapped snapshot the views above are of (null: none)

    // Sets entry and warned.
    void set_entry(CacheEntry e)
    {
        warned = !e.warnings.empty();
        entry.set(std::move(e));
    }
};

// IndexEntry::outputs of record's output files with these stats (in output_paths() order; a
// missing stat is all zero, which no file has: the outputs are then never found in place).
std::string encode_outputs(const AssetRecord& record, const std::vector<FileStat>& stats);
// The stats of an IndexEntry::outputs.
std::vector<FileStat> output_stats(std::string_view outputs);
// Calls visit(path, stat) for each output of an IndexEntry::outputs until it returns false;
// whether none did. Throws std::runtime_error if outputs is malformed.
bool each_output(std::string_view outputs, bool (*visit)(void*, std::string_view, const FileStat&), void* context);
template <typename Visit>
bool each_output(std::string_view outputs, Visit&& visit)
{
    return each_output(
        outputs,
        [](void* v, std::string_view path, const FileStat& stat) { return (*static_cast<Visit*>(v))(path, stat); },
        &visit);
}

} // namespace cachet
