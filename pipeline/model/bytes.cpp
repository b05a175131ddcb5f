#include "pipeline/model/bytes.hpp"

#include <cstdio>

namespace cachet {

std::string human_bytes(std::uint64_t bytes)
{
    static constexpr const char* k_units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(bytes);
    int unit = 0;
    while (v >= 1024 && unit < 4) {
        v /= 1024;
        ++unit;
    }
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, unit == 0 ? "%.0f %s" : "%.1f %s", v, k_units[unit]);
    return buffer;
}

} // namespace cachet
