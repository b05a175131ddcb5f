#pragma once
#include "cachet_version.hpp"

#include <string>

namespace cachet {

// cachet's own version, e.g. "0.1.0".
inline std::string cachet_version()
{
    return CACHET_VERSION;
}

} // namespace cachet
