#pragma once
#include "pipeline/image/png_chunks.hpp"
#include "pipeline/model/bytes.hpp"

#include <optional>

namespace cachet {

// The JPEG file jpeg without its metadata segments (comments, XMP, IPTC and the other
// application segments but JFIF, an ICC profile and Adobe's colour transform), the rest byte for
// byte up to its end of image, so that it can be served instead of a re-encode that came out
// bigger. Nullopt when that would not show what the other outputs show, or might not show in a
// browser: not a well-formed baseline, extended or progressive 8-bit JPEG of 1 or 3 components
// (a segment out of bounds, no end of image, CMYK, 12-bit, lossless, arithmetic coding), EXIF
// (an orientation may depend on it) unless exif is drop, or an ICC profile when profile is
// refuse.
// Whether an EXIF block (bare TIFF, or with the "Exif\0\0" header) leaves the image upright:
// none, or IFD0 has no Orientation tag, or 1. False if it cannot be read.
bool exif_upright(ByteView exif);

std::optional<Bytes> jpeg_without_metadata(ByteView jpeg, PngProfile profile, SourceExif exif = SourceExif::refuse);

} // namespace cachet
