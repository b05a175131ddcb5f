#include "pipeline/image/png_chunks.hpp"

#include <libdeflate.h>

#include <array>
#include <cstring>
#include <string_view>

namespace cachet {
namespace {

constexpr std::array<std::uint8_t, 8> k_signature{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

std::uint32_t be32(const std::uint8_t* p)
{
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

} // namespace

std::optional<Bytes> png_without_metadata(ByteView png, PngProfile profile, SourceExif exif)
{
    if (png.size() < k_signature.size() || std::memcmp(png.data(), k_signature.data(), k_signature.size()) != 0)
        return std::nullopt;
    Bytes out(png.begin(), png.begin() + k_signature.size());
    std::size_t at = k_signature.size();
    bool first = true;
    while (at + 12 <= png.size()) {
        const std::uint32_t length = be32(png.data() + at);
        if (length > png.size() - at - 12)
            return std::nullopt; // out of bounds
        const std::string_view type(reinterpret_cast<const char*>(png.data() + at + 4), 4);
        const std::uint32_t crc = be32(png.data() + at + 8 + length);
        if (libdeflate_crc32(0, png.data() + at + 4, length + 4) != crc)
            return std::nullopt;
        if (first != (type == "IHDR"))
            return std::nullopt;
        first = false;
        if (type == "acTL" || (type == "eXIf" && exif == SourceExif::refuse) ||
            (type == "iCCP" && profile == PngProfile::refuse))
            return std::nullopt;
        const std::size_t end = at + 12 + length;
        if (type != "tEXt" && type != "zTXt" && type != "iTXt" && type != "tIME" && type != "eXIf")
            out.insert(out.end(), png.begin() + static_cast<std::ptrdiff_t>(at),
                       png.begin() + static_cast<std::ptrdiff_t>(end));
        at = end;
        if (type == "IEND")
            return out;
    }
    return std::nullopt; // no IEND
}

} // namespace cachet
