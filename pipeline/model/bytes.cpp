#include "pipeline/model/bytes.hpp"

#include <cstdio>
#include <string_view>

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

std::string percent_change(std::uint64_t before, std::uint64_t after)
{
    if (before == 0)
        return "";
    const double percent =
        100.0 * (static_cast<double>(after) - static_cast<double>(before)) / static_cast<double>(before);
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%+.0f%%", percent);
    return std::string_view(buffer) == "+0%" || std::string_view(buffer) == "-0%" ? "0%" : buffer;
}

} // namespace cachet
