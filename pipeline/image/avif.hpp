#pragma once
#include "pipeline/image/encoder.hpp"

namespace cachet {

// AVIF via libavif with the configured AV1 codec; throws Error(asset).
Bytes encode_avif(const Raster& raster, const EncodeOptions& options);
// An AVIF image sequence with the frames' durations. libavif 0.11 cannot record a loop count
// (players loop sequences forever), so callers must not use it for a finite-loop animation.
Bytes encode_avif_animation(const Animation& animation, const EncodeOptions& options);
// "libavif 0.11.1 (aom [enc/dec]:v3.6.0, ...)"
std::string avif_version();
// The libaom actually loaded ("3.12.1"), or "" when libavif has no aom.
std::string aom_version();

} // namespace cachet
