#pragma once
#include "pipeline/publish/budget.hpp"
#include "pipeline/cache/cache.hpp"
#include "pipeline/config/config.hpp"
#include "pipeline/publish/manifest.hpp"
#include "pipeline/fs/scan.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace cachet {

struct AssetResult {
    enum class Status { built, cached, failed };
    Status status = Status::built;
    AssetRecord record;                // outputs, when built
    std::string message;               // why, when failed
    std::vector<std::string> warnings; // non-fatal remarks about this asset
    std::string cache_problem;         // a damaged cache entry found (and rebuilt) for this asset
};

// The widths an image of source_width is built at: every configured width below it, then its own.
std::vector<int> output_widths(const std::vector<int>& widths, int source_width);

// Smallest number of bytes a client downloads for record: the smallest output or encoded variant.
std::uint64_t transfer_bytes(const AssetRecord& record);

// How the core tells the outside world what happens; cli/ decides how to print it.
// Calls are serialised by run(): implementations need no locking.
class Reporter {
public:
    virtual ~Reporter() = default;
    virtual void build_started(std::size_t assets) = 0;
    virtual void asset_started(const Asset& asset) = 0;
    virtual void asset_finished(const Asset& asset, const AssetResult& result) = 0;
    virtual void warning(std::string_view message) = 0;
    // A step of the build just ended ("scanned SRC", "manifest published", ...); for timings.
    // May be called from any thread.
    virtual void phase(std::string_view /*name*/) {}
};

struct FormatTotals {
    std::uint64_t files = 0;
    std::uint64_t bytes = 0;
};

struct KindTotals {
    std::uint64_t assets = 0;
    std::uint64_t cached = 0; // reused from the build cache, not built
    std::uint64_t failed = 0;
    std::uint64_t bytes_in = 0;
    std::map<std::string, FormatTotals> outputs; // by format or encoding: avif, webp, jpeg, png, identity, zstd, br, gzip
};

struct Summary {
    std::map<std::string, KindTotals> kinds;                   // by AssetKind name
    std::vector<std::pair<std::string, std::string>> failures; // (source path, message), sorted by path
    std::string manifest;                                      // path of the published manifest
    std::uint64_t removed = 0; // outputs of earlier builds deleted because no source makes them any more
    bool cache = false;        // whether a build cache was used
    double seconds = 0;
    std::vector<BudgetResult> budgets; // [[budgets]], in the configuration's order
};

// Checks the source and output folders of config: SRC must be a readable folder, OUT must not
// be inside SRC nor SRC inside OUT. Throws Error(usage) otherwise.
void check_folders(const Config& config);

// The folders under SRC a build leaves alone, relative to SRC: the cache folder, if it lies
// inside SRC. Throws Error(usage) if the cache folder lies inside OUT, where it would be deployed.
std::vector<std::string> folders_to_skip(const Config& config);

// What a build of config would process, without writing anything.
ScanResult plan_build(const Config& config);

// The front door: scans SRC, builds every asset on config.jobs threads, writes the outputs
// into OUT and publishes the manifest last, atomically. One bad asset is reported as failed
// and the rest still build. Throws Error(usage|config) for bad folders and Error(io) if OUT
// cannot be written, in which case the previous manifest is left as it was.
// What a watch session keeps between builds: the last build's scan and index, in memory, so a
// rebuild neither reads the index nor walks SRC again.
struct BuildMemory {
    bool valid = false; // false: nothing kept yet, or the last build did not complete
    ScanResult scan;
    BuildIndex index;
    std::string document; // the memory the manifest is rendered into, kept for the next build
};

Summary run(const Config& config, Reporter& reporter);
// The same, keeping what the next build needs in memory. changed: the sources and folders
// ("a/b/") file-system events named since the last build with this memory; every other
// source is then taken as unchanged without a look. nullptr: unknown, look at everything.
Summary run(const Config& config, Reporter& reporter, BuildMemory& memory, const std::vector<std::string>* changed);

} // namespace cachet
