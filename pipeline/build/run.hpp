#pragma once
#include "pipeline/build/reporter.hpp"
#include "pipeline/build/scan.hpp"
#include "pipeline/build/summary.hpp"
#include "pipeline/config/config.hpp"
#include "pipeline/fs/file_system.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cachet {

// What run() does with its working memory at the end: free it, or leave it to a process that
// is about to exit (the CLI's build), which saves tens of milliseconds on a large tree.
enum class Teardown { free, leave };
// Whether a build waits for its outputs and manifest to reach the disk before publishing (a
// deploy must survive a power cut) or only renames them into place atomically (a development
// watch: readers never see a partial file, and a crash costs a rebuild).
enum class SyncWrites { yes, no };

// How the process running a build wants it run: policy of the caller, not user settings.
struct RunOptions {
    Teardown teardown = Teardown::free;
    SyncWrites sync = SyncWrites::yes;
    const std::atomic<bool>* cancel = nullptr; // when it turns true, run() stops early and publishes nothing
    // Replaces the codec libraries' versions in cache keys when not empty (tests simulate an
    // upgrade with it).
    std::string codec_versions;
    // The files the engine reads, checks and writes go through this (null: real_file_system());
    // tests put a fake in front.
    const FileSystem* file_system = nullptr;
};

// Checks the source and output folders of config: SRC must be a readable folder, OUT must not
// be inside SRC nor SRC inside OUT. Throws Error(usage) otherwise.
void check_folders(const Config& config);

// The folders under SRC a build leaves alone, relative to SRC: the cache folder, if it lies
// inside SRC. Throws Error(usage) if the cache folder lies inside OUT, where it would be deployed.
std::vector<std::string> folders_to_skip(const Config& config);

// What a build of config would process, without writing anything.
ScanResult plan_build(const Config& config);

// What a watch session keeps between builds: the last build's scan and index, in memory, so a
// rebuild neither reads the index nor walks SRC again. Only run() looks inside.
class BuildMemory {
public:
    struct Kept; // build/memory.hpp
    BuildMemory();
    ~BuildMemory();
    BuildMemory(const BuildMemory&) = delete;
    BuildMemory& operator=(const BuildMemory&) = delete;
    Kept& kept() { return *m_kept; }

private:
    std::unique_ptr<Kept> m_kept;
};

// The front door: scans SRC, builds every asset on config.jobs threads, writes the outputs
// into OUT and publishes the manifest last, atomically. One bad asset is reported as failed
// and the rest still build. Throws Error(usage|config) for bad folders, Error(io) if OUT
// cannot be written and Error(interrupted) if options.cancel turned true; in each case the
// previous manifest is left as it was.
Summary run(const Config& config, Reporter& reporter, const RunOptions& options = {});

// The same, keeping what the next build needs in memory. changed: the sources and folders
// ("a/b/") file-system events named since the last build with this memory; every other
// source is then taken as unchanged without a look. nullptr: unknown, look at everything.
Summary run(const Config& config, Reporter& reporter, const RunOptions& options, BuildMemory& memory,
            const std::vector<std::string>* changed);

} // namespace cachet
