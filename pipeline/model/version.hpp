#pragma once
#include "cachet_version.hpp"

#include <string>
#include <utility>
#include <vector>

namespace cachet {

// cachet's own version, e.g. "0.1.0".
inline std::string cachet_version()
{
    return CACHET_VERSION;
}

// "libvips 8.14.1; libwebp 1.2.4; ...": (library, version) pairs on one line.
inline std::string joined_versions(const std::vector<std::pair<std::string, std::string>>& versions)
{
    std::string out;
    for (const auto& [library, version] : versions)
        out += (out.empty() ? "" : "; ") + library + " " + version;
    return out;
}

} // namespace cachet
