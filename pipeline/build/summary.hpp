#pragma once
#include "pipeline/cache/remote.hpp"
#include "pipeline/config/config.hpp"
#include "pipeline/publish/budget.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cachet {

struct FormatTotals {
    std::uint64_t files = 0;
    std::uint64_t bytes = 0;
};

struct KindTotals {
    std::uint64_t assets = 0;
    std::uint64_t cached = 0; // reused from the build cache, not built
    std::uint64_t failed = 0;
    std::uint64_t bytes_in = 0;
    std::map<std::string, FormatTotals>
        outputs; // by format or encoding: avif, webp, jpeg, png, identity, zstd, br, gzip; and
                 // "originals", the copies at the sources' own URLs (with their variants)

    // What visitors download for these sources at full size (model/record.hpp, Delivered): a
    // current browser (bytes), a plain reference (plain_bytes); and the formats of the first.
    std::uint64_t delivered = 0;
    std::uint64_t plain = 0;
    std::vector<std::string> delivered_as; // "avif", "webp", "br"..., in the order of KindTotals::outputs' slots

    // Assets built by this build: neither failed nor reused.
    std::uint64_t built() const { return assets - failed - cached; }
};

// One source in the report: what it is and what visitors download of it at full size.
struct FileReport {
    std::string path; // relative to SRC
    std::string kind;
    std::uint64_t source_bytes = 0;
    std::uint64_t bytes = 0;       // Delivered::bytes
    std::string format;            // Delivered::format
    std::uint64_t plain_bytes = 0; // Delivered::plain_bytes
};

// Files larger than this as delivered get a warning when no [[budgets]] are set (Vite warns
// at 500 kB for a chunk).
inline constexpr std::uint64_t k_large_file_bytes = std::uint64_t{500} * 1024;

// What a build did, for the report.
struct Summary {
    std::map<std::string, KindTotals> kinds;                   // by AssetKind name
    std::vector<std::pair<std::string, std::string>> failures; // (source path, message), sorted by path
    // (source path, message) of every source's warnings (a broken reference...), reused sources'
    // too, sorted by path; then the build's own, with path "" (a skipped link, the remote cache).
    std::vector<std::pair<std::string, std::string>> warnings;
    std::vector<FileReport> largest; // the 5 largest as delivered, largest first (by path on a tie)
    // Images (and copies) delivered bigger than their source (a fallback heavier than it...), by path.
    std::vector<FileReport> grown;
    std::vector<FileReport> large;       // images and texts over k_large_file_bytes delivered, by path; a warning each
    std::vector<std::string> not_modern; // images with no AVIF or WebP output, by path
    std::string manifest;                // path of the published manifest
    std::uint64_t removed = 0;           // outputs of earlier builds deleted because no source makes them any more
    bool cache = false;                  // whether a build cache was used
    std::string cache_problem;           // why the cache could not be used (or written), if so: the build went on
    bool unpublished = false;            // --strict and a failure: nothing published, OUT as the last build left it
    double seconds = 0;
    std::vector<BudgetResult> budgets; // [[budgets]], in the configuration's order
    // Images built or reused with an output in a modern format (AVIF, WebP) that a page's
    // <picture> or a negotiating server can deliver; the others are served in their fallback
    // format whatever the page or server does.
    std::uint64_t images_modern = 0;
    std::uint64_t images_not_modern = 0;
    bool picture = false;              // html.picture: pages deliver the modern formats themselves
    std::optional<Shard> shard;        // --shard: this build's share
    std::uint64_t skipped = 0;         // ... and the sources left to the other shards and the final build
    std::optional<RemoteStats> remote; // what the remote cache did, if one was set
    std::string remote_servers;        // ... and its servers, as shown (no credentials)
};

// The counters of stats as a JSON object ({"hits": ..., "problems": [...]}), for --json and
// the cache's record of the last build.
std::string remote_stats_json(const RemoteStats& stats);

} // namespace cachet
