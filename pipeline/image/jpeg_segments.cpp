#include "pipeline/image/jpeg_segments.hpp"

#include <cstring>

namespace cachet {
namespace {

bool starts(ByteView segment, std::size_t at, const char* text)
{
    const std::size_t n = std::strlen(text) + 1; // with its NUL, as the identifiers are written
    return segment.size() >= at + n && std::memcmp(segment.data() + at, text, n) == 0;
}

} // namespace

bool exif_upright(ByteView exif)
{
    if (exif.empty())
        return true;
    if (exif.size() >= 6 && std::memcmp(exif.data(), "Exif\0\0", 6) == 0)
        exif = exif.subspan(6);
    if (exif.size() < 8)
        return false;
    const bool little = exif[0] == 'I' && exif[1] == 'I';
    if (!little && !(exif[0] == 'M' && exif[1] == 'M'))
        return false;
    auto u16 = [&](std::size_t at) {
        return little ? static_cast<unsigned>(exif[at] | (exif[at + 1] << 8))
                      : static_cast<unsigned>((exif[at] << 8) | exif[at + 1]);
    };
    auto u32 = [&](std::size_t at) {
        return little ? (std::uint32_t{u16(at + 2)} << 16) | u16(at) : (std::uint32_t{u16(at)} << 16) | u16(at + 2);
    };
    const std::uint32_t ifd = u32(4);
    if (ifd > exif.size() - 2)
        return false;
    const unsigned count = u16(ifd);
    if (count > (exif.size() - ifd - 2) / 12)
        return false;
    for (unsigned i = 0; i < count; ++i) {
        const std::size_t entry = ifd + 2 + 12 * std::size_t{i};
        if (u16(entry) == 0x0112) // Orientation: SHORT, one value, in the entry itself
            return u16(entry + 2) == 3 && u32(entry + 4) == 1 && u16(entry + 8) == 1;
    }
    return true;
}

std::optional<Bytes> jpeg_without_metadata(ByteView jpeg, PngProfile profile, SourceExif exif)
{
    if (jpeg.size() < 4 || jpeg[0] != 0xff || jpeg[1] != 0xd8)
        return std::nullopt;
    Bytes out{0xff, 0xd8};
    std::size_t at = 2;
    bool frame = false;
    while (at + 4 <= jpeg.size()) {
        if (jpeg[at] != 0xff)
            return std::nullopt;
        const std::uint8_t marker = jpeg[at + 1];
        if (marker == 0xff) { // fill byte
            ++at;
            continue;
        }
        const std::size_t length = (std::size_t{jpeg[at + 2]} << 8) | jpeg[at + 3];
        if (length < 2 || length > jpeg.size() - at - 2)
            return std::nullopt;
        const std::size_t end = at + 2 + length;
        const ByteView segment = jpeg.subspan(at + 4, length - 2);
        bool keep = true;
        if (marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc) {
            // A frame: baseline, extended or progressive Huffman, 8-bit, grey or YCbCr/RGB.
            if (marker > 0xc2 || segment.size() < 6 || segment[0] != 8 || (segment[5] != 1 && segment[5] != 3) || frame)
                return std::nullopt;
            frame = true;
        } else if (marker == 0xe1) {
            if (starts(segment, 0, "Exif") && exif == SourceExif::refuse)
                return std::nullopt;
            keep = false; // XMP and the like
        } else if (marker == 0xe2) {
            if (starts(segment, 0, "ICC_PROFILE") && profile == PngProfile::refuse)
                return std::nullopt;
            keep = starts(segment, 0, "ICC_PROFILE"); // not MPF: its images are dropped below
        } else if (marker == 0xe0) {
            keep = starts(segment, 0, "JFIF");
        } else if (marker == 0xee) {
            keep = segment.size() >= 5 && std::memcmp(segment.data(), "Adobe", 5) == 0;
        } else if ((marker >= 0xe3 && marker <= 0xef) || marker == 0xfe) {
            keep = false; // other application segments, comments
        } else if (marker == 0xd9 || (marker >= 0xd0 && marker <= 0xd8) || marker == 0x01) {
            return std::nullopt; // no length: not expected before the scan
        }
        if (keep)
            out.insert(out.end(), jpeg.begin() + static_cast<std::ptrdiff_t>(at),
                       jpeg.begin() + static_cast<std::ptrdiff_t>(end));
        at = end;
        if (marker != 0xda)
            continue;
        if (!frame)
            return std::nullopt;
        // The scans: entropy-coded data (0xff is stuffed as ff 00, restarts are ff d0-d7), then
        // a marker: the end of image, or a segment between progressive scans (with its length,
        // read by the loop). Anything after the end of image (MPF's other images, trailing
        // bytes) is not the picture.
        std::size_t i = at;
        while (i + 1 < jpeg.size() && !(jpeg[i] == 0xff && jpeg[i + 1] != 0 && jpeg[i + 1] != 0xff &&
                                        (jpeg[i + 1] < 0xd0 || jpeg[i + 1] > 0xd7)))
            ++i;
        if (i + 1 >= jpeg.size())
            return std::nullopt;
        out.insert(out.end(), jpeg.begin() + static_cast<std::ptrdiff_t>(at),
                   jpeg.begin() + static_cast<std::ptrdiff_t>(i));
        at = i;
        if (jpeg[i + 1] == 0xd9) {
            out.push_back(0xff);
            out.push_back(0xd9);
            return out;
        }
    }
    return std::nullopt;
}

} // namespace cachet
