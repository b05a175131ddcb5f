#pragma once
#include "pipeline/publish/manifest.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace cachet {

// True if p is a plain relative path that stays inside the folder it is relative to.
bool is_safe_relative(const std::string& p);

// What OUT keeps of earlier builds, and what goes.
struct Retention {
    std::vector<Generation> kept;     // newest first, none empty
    std::vector<std::string> expired; // files to delete once the manifest listing `kept` is out
};

// Sorts the files of candidates (earlier builds, newest first) under out: a file the current
// manifest names (named) or that is gone is dropped; a generation among the first `keep` stays
// whole; after that, a file stays while it is younger than age (by mtime) and expires after.
Retention retain(const std::filesystem::path& out, const std::vector<Generation>& candidates,
                 const std::function<bool(std::string_view)>& named, int keep, std::chrono::seconds age);

// Deletes paths under out (each checked with is_safe_relative), then the folders that leaves
// empty. Returns how many files went.
std::uint64_t remove_outputs(const std::filesystem::path& out, const std::vector<std::string>& paths);

struct CleanResult {
    std::uint64_t removed = 0;   // files deleted
    std::size_t generations = 0; // earlier builds still kept
};

// `cachet clean`: applies retain() to the generations the manifest at out/manifest_name keeps,
// publishes the manifest with what stays (its assets and build id unchanged), then deletes the
// rest. Never touches a file the manifest names. Throws Error(config) if the manifest cannot be
// read, Error(io) if it cannot be written.
CleanResult clean_output(const std::filesystem::path& out, const std::string& manifest_name, int keep,
                         std::chrono::seconds age);

} // namespace cachet
