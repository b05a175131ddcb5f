#pragma once
#include "pipeline/config/config.hpp"
#include "pipeline/image/image.hpp"

#include <string>

namespace cachet {

// A JPEG of raster made by jpegli at options.distance (Butteraugli), options.chroma and
// progressive level 2 (or baseline): alpha flattened onto white, the raster's ICC profile and
// EXIF carried. Decodes with any JPEG decoder. Throws Error(install) in a cachet built
// without jpegli (CACHET_JPEGLI_PREFIX=none).
Bytes encode_jpegli(const Raster& raster, const JpegOptions& options);

// "0.11.2", or "" when built without jpegli.
std::string jpegli_version();

} // namespace cachet
