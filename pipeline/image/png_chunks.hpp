#pragma once
#include "pipeline/model/bytes.hpp"

#include <optional>

namespace cachet {

// What may be done with a source PNG's own bytes, read chunk by chunk (no decoding).
enum class PngProfile { keep, refuse }; // whether an embedded ICC profile (iCCP) may stay
// What to do with EXIF: refuse (an orientation may depend on it), or drop it (its orientation
// is known to be upright and no field is to be kept).
enum class SourceExif { refuse, drop };

// The PNG file png without its metadata chunks (tEXt, zTXt, iTXt, tIME, eXIf), everything
// else byte for byte, so that it can be served instead of a re-encode that came out bigger.
// Nullopt when that would not show what the other outputs show: not a well-formed PNG (a
// chunk out of bounds or with a bad CRC, IHDR not first, no IEND), an animation (acTL), EXIF
// (an orientation may depend on it) unless exif is drop, or an ICC profile when profile is refuse.
std::optional<Bytes> png_without_metadata(ByteView png, PngProfile profile, SourceExif exif = SourceExif::refuse);

// The PNG file png with its image data (the IDAT chunks, inflated) deflated again by libdeflate
// at level (1..12) into one IDAT chunk, every other chunk byte for byte: the same pixels, and
// the same filters. Nullopt when png is not well formed (as above), its image data does not
// inflate to exactly the size its header gives, or the result is not smaller.
std::optional<Bytes> png_recompressed(ByteView png, int level);

// The PNG file png with its header's height set to height and its image data replaced by
// filtered (PNG's filtered rows, as that header describes them) deflated by libdeflate at
// level (1..12), every other chunk byte for byte: png may then be a strip of the image one row
// high, with the chunks (profile...) the whole image's file would have. Nullopt when png is not
// well formed (as above) or filtered is not the size that header gives.
std::optional<Bytes> png_with_image_data(ByteView png, std::uint32_t height, ByteView filtered, int level);

} // namespace cachet
