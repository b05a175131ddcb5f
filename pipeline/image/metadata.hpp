#pragma once
#include "pipeline/model/bytes.hpp"
#include "pipeline/model/formats.hpp"

#include <string_view>
#include <vector>

namespace cachet {

// An EXIF block (bare TIFF, or with the "Exif\0\0" header) reduced to the kept fields: a new
// big-endian TIFF payload (no "Exif\0\0" header) holding only those IFD0 tags, or empty if
// the source has none of them or keep is empty. Orientation, GPS, camera data and thumbnails
// never survive. Unreadable EXIF counts as none.
Bytes kept_exif(ByteView exif, const std::vector<MetadataField>& keep);

// The encoded file with an EXIF block (bare TIFF payload) added: a JPEG APP1 segment after
// SOI (and JFIF APP0), or a PNG eXIf chunk after IHDR. Throws Error(internal) if the file is
// not a well-formed JPEG or PNG.
Bytes jpeg_with_exif(const Bytes& jpeg, ByteView tiff);
Bytes png_with_exif(const Bytes& png, ByteView tiff);

} // namespace cachet
