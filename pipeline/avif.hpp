#pragma once
#include "pipeline/encoder.hpp"

namespace cachet {

// AVIF via libavif with the configured AV1 codec; throws Error(asset).
Bytes encode_avif(const Raster& raster, const EncodeOptions& options);
// "libavif 0.11.1 (aom [enc/dec]:v3.6.0, ...)"
std::string avif_version();

} // namespace cachet
