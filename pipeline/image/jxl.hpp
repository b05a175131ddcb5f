#pragma once
#include "pipeline/image/encoder.hpp"

namespace cachet {

// Lossy JPEG XL (VarDCT in XYB) via libjxl at images.jxl.distance and effort, single-threaded
// (the same bytes whatever the machine's threads); the raster's ICC profile when it is not
// sRGB, its EXIF in an Exif box. Throws Error(asset).
Bytes encode_jxl(const Raster& raster, const EncodeOptions& options);
// "0.7.0": the libjxl loaded.
std::string jxl_version();
// A JPEG XL file's pixels as 8-bit samples (grey, grey + alpha, RGB or RGBA, as coded) and its
// ICC profile, by libjxl's decoder (libvips' loader is one cachet keeps blocked); for tests and
// checks of what was written. Throws Error(asset).
Raster decode_jxl(ByteView data);

} // namespace cachet
