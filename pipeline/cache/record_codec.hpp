#pragma once
#include "pipeline/cache/binary.hpp"
#include "pipeline/model/record.hpp"
#include "pipeline/publish/manifest.hpp"

#include <string>
#include <utility>
#include <vector>

namespace cachet {

struct IndexEntry;

// The binary codec of an AssetRecord, as the index holds it (the JSON one, of the manifest
// and cache entries, is manifest_fragment() and parse_record()). tests/test_record.cpp checks
// both against every field.
void write_record(binary::Writer& w, const AssetRecord& r);
// Throws std::runtime_error if the bytes are truncated or malformed.
AssetRecord read_record(binary::Reader& r, std::string source);

// One source's index entry (its path first), as the index's snapshot and journal hold it, and
// the generations a manifest keeps. The readers throw std::runtime_error as read_record does.
void write_entry(binary::Writer& w, const std::string& path, const IndexEntry& e);
std::pair<std::string, IndexEntry> read_entry(binary::Reader& r);
void write_generations(binary::Writer& w, const std::vector<Generation>& generations);
std::vector<Generation> read_generations(binary::Reader& r);

} // namespace cachet
