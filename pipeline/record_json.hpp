#pragma once
// The JSON form of one manifest record, shared by the manifest and the build cache. Only
// pipeline/*.cpp include this (it pulls in nlohmann/json).
#include "pipeline/manifest.hpp"

#include <nlohmann/json.hpp>

namespace cachet {

// The manifest's "assets" value for record (everything but its source path, which is the key).
nlohmann::json record_to_json(const AssetRecord& record);

// The record for source from its manifest JSON; throws std::exception if a field is missing or
// has the wrong type.
AssetRecord record_from_json(const std::string& source, const nlohmann::json& json);

} // namespace cachet
