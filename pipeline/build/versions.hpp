#pragma once
#include "pipeline/model/version.hpp"

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace cachet {

// (library, version) for every codec library cachet runs with, in a fixed order (loads the
// image stack).
std::vector<std::pair<std::string, std::string>> library_versions();

// One line naming cachet and every codec library version, for cache keys: outputs built by other
// versions are never reused. The image libraries' versions are kept in cache_dir (see
// image_library_versions). replaced_versions, if not empty, replaces the library part (see
// RunOptions::codec_versions).
std::string codec_fingerprint(const std::filesystem::path& cache_dir = {}, const std::string& replaced_versions = {});

} // namespace cachet
