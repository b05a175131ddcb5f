#include "pipeline/image/palette.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <unordered_set>
#include <vector>

namespace cachet {
namespace {

// Pixel i of r as RGBA.
std::array<std::uint8_t, 4> rgba(const Raster& r, std::size_t i)
{
    const auto bands = static_cast<std::size_t>(r.bands);
    const std::uint8_t* p = &r.pixels[i * bands];
    switch (r.bands) {
    case 1: return {p[0], p[0], p[0], 255};
    case 2: return {p[0], p[0], p[0], p[1]};
    case 3: return {p[0], p[1], p[2], 255};
    default: return {p[0], p[1], p[2], p[3]};
    }
}

std::size_t pixel_count(const Raster& r)
{
    return static_cast<std::size_t>(r.width) * static_cast<std::size_t>(r.height);
}

} // namespace

int distinct_colours(const Raster& raster, int limit)
{
    std::unordered_set<std::uint32_t> seen;
    seen.reserve(static_cast<std::size_t>(limit) * 2);
    const std::size_t pixels = pixel_count(raster);
    for (std::size_t i = 0; i < pixels; ++i) {
        const auto c = rgba(raster, i);
        seen.insert(std::uint32_t{c[0]} << 24 | std::uint32_t{c[1]} << 16 | std::uint32_t{c[2]} << 8 | c[3]);
        if (seen.size() > static_cast<std::size_t>(limit))
            break;
    }
    return static_cast<int>(seen.size());
}

bool is_grey(const Raster& raster)
{
    const std::size_t pixels = pixel_count(raster);
    for (std::size_t i = 0; i < pixels && raster.bands >= 3; ++i)
        if (const auto c = rgba(raster, i); c[0] != c[1] || c[1] != c[2])
            return false;
    return true;
}

int palette_bit_depth(int colours)
{
    return colours <= 2 ? 1 : colours <= 4 ? 2 : colours <= 16 ? 4 : 8;
}

bool same_pixels(const Raster& raster, const Raster& decoded)
{
    if (raster.width != decoded.width || raster.height != decoded.height || decoded.bands < 1 || decoded.bands > 4 ||
        decoded.pixels.size() != pixel_count(decoded) * static_cast<std::size_t>(decoded.bands))
        return false;
    const std::size_t pixels = pixel_count(raster);
    for (std::size_t i = 0; i < pixels; ++i)
        if (rgba(raster, i) != rgba(decoded, i))
            return false;
    return true;
}

std::string dominant_colour(const Raster& raster)
{
    std::vector<std::uint32_t> bins(std::size_t{16} * 16 * 16, 0);
    const std::size_t pixels = static_cast<std::size_t>(raster.width) * static_cast<std::size_t>(raster.height);
    const auto bands = static_cast<std::size_t>(raster.bands);
    for (std::size_t i = 0; i < pixels; ++i) {
        const std::uint8_t* p = &raster.pixels[i * bands];
        if (bands == 4 && p[3] < 128)
            continue;
        ++bins[(std::size_t{p[0]} >> 4) << 8 | (std::size_t{p[1]} >> 4) << 4 | (std::size_t{p[2]} >> 4)];
    }
    // The first bin with the highest count wins ties, so the answer is deterministic.
    const std::size_t best = static_cast<std::size_t>(std::max_element(bins.begin(), bins.end()) - bins.begin());
    char out[8];
    std::snprintf(out, sizeof out, "#%02x%02x%02x", static_cast<unsigned>((best >> 8) * 16 + 8),
                  static_cast<unsigned>(((best >> 4) & 15) * 16 + 8), static_cast<unsigned>((best & 15) * 16 + 8));
    return out;
}

} // namespace cachet
