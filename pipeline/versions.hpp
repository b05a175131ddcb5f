#pragma once
#include <string>
#include <utility>
#include <vector>

namespace cachet {

// cachet's own version, e.g. "0.1.0".
std::string cachet_version();

// (library, version) for every codec library cachet runs with, in a fixed order.
std::vector<std::pair<std::string, std::string>> library_versions();
// One line naming cachet and every codec library version, for cache keys: outputs built by other
// versions are never reused. The environment variable CACHET_TEST_CODEC_VERSIONS, if set,
// replaces the library part (a test hook that simulates a codec upgrade).
std::string codec_fingerprint();

// Throws Error(internal) when the libaom loaded is not the one cachet was built against
// (CACHET_AOM_PREFIX): AVIF bytes depend on the encoder version.
void check_codec_versions();

} // namespace cachet
