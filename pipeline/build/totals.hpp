#pragma once
#include "pipeline/build/result.hpp"
#include "pipeline/build/scan.hpp"
#include "pipeline/build/summary.hpp"

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace cachet {

// What Totals::add takes from the record and warnings of one source that did not fail, so that
// a watch session need not read them again for the sources it reuses as they were (Tallies).
struct Tally {
    struct Slot {
        std::uint8_t slot = 0; // Totals' output slot
        std::uint32_t files = 0;
        std::uint64_t bytes = 0;
    };
    static constexpr std::size_t k_slots = 8;
    bool ok = false;        // made (else the record is read)
    bool delivered = false; // Delivered::file is set
    bool modern = false;    // has_modern_format()
    bool warned = false;    // has warnings
    std::uint8_t slot = 0;  // the delivered file's slot
    std::uint8_t slots_used = 0;
    std::uint64_t bytes = 0; // Delivered::bytes
    std::uint64_t plain = 0; // Delivered::plain_bytes
    std::string_view format; // Delivered::format (static text)
    std::array<Slot, k_slots> outputs{};
};

// A tally as an index entry keeps it (IndexEntry::tally), and back: nullopt if text is not one.
// Empty for a tally that is not ok (its record is read instead).
std::string encode_tally(const Tally& tally);
std::optional<Tally> decode_tally(std::string_view text);

// The tallies of a watch session's last build, by source: valid for a source whose result
// points at the same index entry (AssetResult::entry) when the sources are the same as then.
struct Tallies {
    std::vector<Tally> by_source;
    bool same_sources = false; // this build's sources are by_source's
};

// Summary::kinds and failures, counted in arrays (by kind, and by format or encoding: a build
// adds up 10,000s of assets) and named once at the end.
class Totals {
public:
    // large_bytes: texts and images delivered bigger than this go to Summary::large and get a
    // warning (0: none).
    explicit Totals(std::uint64_t large_bytes = 0) : m_large_bytes(large_bytes) {}
    void add(const Asset& asset, const AssetResult& result, Summary& summary);
    // The same, with what add() takes from result's record in tally (tally_of() of it).
    void add(const Asset& asset, const AssetResult& result, const Tally& tally, Summary& summary);
    // What add() takes from result's record (never ok if it has more output slots than a Tally).
    static Tally tally_of(const Asset& asset, const AssetResult& result);
    // Adds what other counted (with into_other, its lists) after this one: as if other's assets
    // had been added here, in their order, after this one's.
    void merge(const Totals& other, Summary& summary, Summary&& into_other);
    void name(Summary& summary) const;

    // Output slots: one per image format, then identity (text and passthrough), then one per
    // encoding, then the originals (with their encoded variants).
    static constexpr std::size_t k_identity = k_image_format_count;
    static constexpr std::size_t k_originals = k_identity + 1 + k_encodings.size();

private:
    static std::string_view slot_name(std::size_t slot);
    static constexpr std::size_t k_kinds = static_cast<std::size_t>(AssetKind::unsupported) + 1;
    struct Kind {
        KindTotals totals;
        std::array<FormatTotals, k_originals + 1> outputs{};
        std::array<bool, k_originals + 1> delivered_as{};
    };
    std::uint64_t m_large_bytes;
    std::array<Kind, k_kinds> m_kinds{}; // by AssetKind
};

// Totals of every source not skipped, added on up to workers threads (a watch rebuild of
// 100,000 sources counts them all) and named into summary: the same as adding them in order.
// tallies, if given, are used where valid and left holding every source's (a watch session's).
void count_all(const std::vector<Asset>& assets, const std::vector<AssetResult>& results,
               const std::vector<char>& skipped, std::uint64_t large_bytes, unsigned workers, Summary& summary,
               Tallies* tallies = nullptr);

// The warning of a file delivered bigger than limit.
std::string large_file_message(const FileReport& file, std::uint64_t limit);

// The counts of a build, as JSON, for `cachet cache stats`.
std::string last_build_json(const Summary& summary);

} // namespace cachet
