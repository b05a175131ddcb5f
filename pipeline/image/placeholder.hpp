#pragma once
#include "pipeline/config/config.hpp"
#include "pipeline/image/image.hpp"

#include <string>

namespace cachet {

inline constexpr std::size_t k_placeholder_max_bytes = 400;

// What a page shows before an image loads, as Next.js's blurDataURL.
struct Placeholder {
    std::string data_uri;       // a tiny WebP (at most 16 px a side) as base64, <= 400 bytes
    std::string dominant_color; // "#rrggbb"
};

// The placeholder of raster; throws Error(asset) if even a 1-pixel one does not fit.
Placeholder make_placeholder(const Raster& raster, const ImageSettings& images);

} // namespace cachet
