#pragma once
#include "pipeline/cache/binary.hpp"
#include "pipeline/model/record.hpp"
#include "pipeline/publish/manifest.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cachet {

struct IndexEntry;
struct CacheEntry;

// The binary codec of an AssetRecord, as the index holds it (the JSON one, of the manifest
// and cache entries, is manifest_fragment() and parse_record()). tests/test_record.cpp checks
// both against every field.
void write_record(binary::Writer& w, const AssetRecord& r);
// Throws std::runtime_error if the bytes are truncated or malformed.
AssetRecord read_record(binary::Reader& r, std::string source);

// A cache entry as an index entry holds it (its record's source is the entry's path).
void write_cache_entry(binary::Writer& w, const CacheEntry& e);
CacheEntry read_cache_entry(binary::Reader& r, std::string source);

// One source's index entry (its path first), as the index's snapshot and journal hold it, with
// source as its source's stat, and the generations a manifest keeps. The readers throw
// std::runtime_error as read_record does. read_entry() with keep (the mapped snapshot r reads)
// leaves the entry's texts and cache entry where they are (views, IndexEntry::keep); without,
// it copies and decodes them.
void write_entry(binary::Writer& w, std::string_view path, const IndexEntry& e, const FileStat& source);
std::pair<std::string, IndexEntry> read_entry(binary::Reader& r, const std::shared_ptr<const void>& keep);
void write_generations(binary::Writer& w, const std::vector<Generation>& generations);
std::vector<Generation> read_generations(binary::Reader& r);

} // namespace cachet
