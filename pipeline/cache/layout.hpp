#pragma once
// How the local cache folder is laid out, for the files of cache/ (not part of the library's
// interface): v<format>/entries/ab/<key>.json, v<format>/blobs/ab/<sha256>, and per OUT
// folder v<format>/index/<name>.{bin,log,lock}.
#include "pipeline/cache/cache.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace cachet::cache_layout {

// A cache entry as JSON, and back (throws std::exception if it has the wrong shape).
nlohmann::json entry_json(const CacheEntry& e);
CacheEntry entry_from(const nlohmann::json& j);

bool is_hex_name(const std::string& name, std::size_t length);
// Files directly inside the two-level fan-out folders under dir (entries/ab/<name>).
std::vector<std::filesystem::directory_entry> fanned_files(const std::filesystem::path& dir);
std::uint64_t size_of(const std::filesystem::directory_entry& e);
// Deletes the temporary files (k_temporary_prefix) under dir last modified before
// older_than_ns (ns since the epoch); how many.
std::uint64_t remove_temporaries_before(const std::filesystem::path& dir, std::int64_t older_than_ns);
std::int64_t mtime_of(const std::filesystem::path& p);
void remove_quietly(const std::filesystem::path& p);
// The name of out's index files: a digest of its canonical path.
std::string index_name(const std::filesystem::path& out);

} // namespace cachet::cache_layout
