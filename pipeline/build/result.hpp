#pragma once
#include "pipeline/publish/manifest.hpp"

#include <string>
#include <vector>

namespace cachet {

// How one asset of a build ended.
struct AssetResult {
    enum class Status { built, cached, failed };
    Status status = Status::built;
    AssetRecord record;                // outputs, when built
    std::string message;               // why, when failed
    std::vector<std::string> warnings; // non-fatal remarks about this asset
    std::string cache_problem;         // a damaged cache entry found (and rebuilt) for this asset
};

} // namespace cachet
