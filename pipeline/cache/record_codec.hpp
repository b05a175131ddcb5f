#pragma once
#include "pipeline/cache/binary.hpp"
#include "pipeline/model/record.hpp"

#include <string>

namespace cachet {

// The binary codec of an AssetRecord, as the index holds it (the JSON one, of the manifest
// and cache entries, is manifest_fragment() and parse_record()). tests/test_record.cpp checks
// both against every field.
void write_record(binary::Writer& w, const AssetRecord& r);
// Throws std::runtime_error if the bytes are truncated or malformed.
AssetRecord read_record(binary::Reader& r, std::string source);

} // namespace cachet
