#pragma once
#include "pipeline/build/memory.hpp"
#include "pipeline/build/reporter.hpp"
#include "pipeline/build/run.hpp"
#include "pipeline/build/scan.hpp"
#include "pipeline/cache/cache.hpp"
#include "pipeline/config/config.hpp"
#include "pipeline/fs/file_system.hpp"
#include "pipeline/fs/folder_lock.hpp"
#include "pipeline/publish/manifest.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace cachet {

// What a build starts from: SRC as it is now, and what the last build into OUT left.
struct Session {
    // Checks the folders, creates and locks OUT, opens the cache, and scans SRC while the last
    // build's index is read and the outputs it names are looked at in OUT (check_outputs()), or
    // takes both from memory. Throws Error as run() does.
    Session(const Config& config, const FileSystem& fs, Reporter& reporter, BuildMemory::Kept* memory,
            const std::vector<std::string>* changed);
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    ~Session();

    std::filesystem::path manifest; // where the manifest is published
    std::optional<Cache> cache;     // none without a cache folder, or if it cannot be created
    std::string source_root;        // absolute, canonical SRC
    // Stats taken now are trusted next time only for files last modified well before now: a
    // file changed twice within one tick of its file system's clock keeps its mtime.
    std::int64_t scan_time_ns = 0;
    // LazyCacheEntry::decoded_count() when the session began (--timings says how many index
    // entries a build decoded: a rebuild decodes those of what it builds or republishes).
    std::uint64_t decoded_before = LazyCacheEntry::decoded_count();
    ScanResult scan;
    bool incremental = false;         // only the sources the watch events named need a look
    BuildIndex previous;              // the last build's index (empty without a cache, or if none)
    std::vector<IndexEntry*> pairing; // each source's entry in previous, when memory kept it (else empty)
    // Which sources the last build found named by scripts (Targets::set_named()), when memory
    // kept it and the sources are the same (else empty).
    std::vector<char> named_before;
    ManifestHead last;                      // the last build's id and the builds it keeps
    std::set<std::string> published_before; // what the last build wrote to OUT, if no index says

    std::optional<FolderLock> lock; // OUT/.cachet-tmp-build while this build runs
    std::string cache_problem;      // why the cache folder could not be used at all, if it could not

    // What the index may trust next time about asset's stat.
    FileStat trusted_stat(const Asset& asset) const
    {
        return asset.mtime_ns < scan_time_ns - 1'000'000'000 ? FileStat{asset.bytes, asset.mtime_ns, asset.inode}
                                                             : FileStat{};
    }
};

// Removes the temporary and staged files (k_temporary_prefix) a stopped build left in OUT, but
// the build marker; how many.
std::size_t remove_temporaries(const std::filesystem::path& out);

// The manifest's path in OUT; throws Error(config) if output.manifest leaves OUT.
std::filesystem::path manifest_path(const Config& config);

} // namespace cachet
