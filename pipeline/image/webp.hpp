#pragma once
#include "pipeline/image/encoder.hpp"

namespace cachet {

// Lossy WebP via libwebp's advanced API; throws Error(asset).
Bytes encode_webp(const Raster& raster, const EncodeOptions& options);
// Lossy animated WebP (WebPAnimEncoder) keeping delays and loop count; throws Error(asset).
Bytes encode_webp_animation(const Animation& animation, const EncodeOptions& options);
std::string webp_version();

} // namespace cachet
