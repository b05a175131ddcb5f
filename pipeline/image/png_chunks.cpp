#include "pipeline/image/png_chunks.hpp"

#include <libdeflate.h>

#include <array>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace cachet {
namespace {

constexpr std::array<std::uint8_t, 8> k_signature{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

std::uint32_t be32(const std::uint8_t* p)
{
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

struct Chunk {
    std::string_view type;
    std::size_t at = 0;  // of its length field
    std::size_t end = 0; // just past its CRC
    ByteView data;
};

// The chunks of a well-formed PNG (signature, every chunk in bounds with a good CRC, IHDR
// first, IEND last), or nullopt.
std::optional<std::vector<Chunk>> png_chunks(ByteView png)
{
    if (png.size() < k_signature.size() || std::memcmp(png.data(), k_signature.data(), k_signature.size()) != 0)
        return std::nullopt;
    std::vector<Chunk> chunks;
    std::size_t at = k_signature.size();
    while (at + 12 <= png.size()) {
        const std::uint32_t length = be32(png.data() + at);
        if (length > png.size() - at - 12)
            return std::nullopt; // out of bounds
        const std::string_view type(reinterpret_cast<const char*>(png.data() + at + 4), 4);
        if (libdeflate_crc32(0, png.data() + at + 4, length + 4) != be32(png.data() + at + 8 + length))
            return std::nullopt;
        if (chunks.empty() != (type == "IHDR"))
            return std::nullopt;
        chunks.push_back(Chunk{type, at, at + 12 + length, png.subspan(at + 8, length)});
        at += 12 + std::size_t{length};
        if (type == "IEND")
            return chunks;
    }
    return std::nullopt; // no IEND
}

// The size of the filtered image data a PNG header describes (each row with its filter byte;
// the seven passes of an interlaced image), or 0 if the header is not one.
std::uint64_t filtered_size(ByteView ihdr)
{
    if (ihdr.size() != 13)
        return 0;
    const std::uint64_t width = be32(ihdr.data());
    const std::uint64_t height = be32(ihdr.data() + 4);
    const unsigned depth = ihdr[8];
    const unsigned channels = ihdr[9] == 0   ? 1
                              : ihdr[9] == 2 ? 3
                              : ihdr[9] == 3 ? 1
                              : ihdr[9] == 4 ? 2
                              : ihdr[9] == 6 ? 4
                                             : 0;
    if (channels == 0 || depth == 0 || depth > 16 || width == 0 || height == 0 || width > (1u << 31) ||
        height > (1u << 31) || ihdr[12] > 1)
        return 0;
    auto rows = [&](std::uint64_t w, std::uint64_t h) {
        return w == 0 || h == 0 ? 0 : h * (1 + (w * channels * depth + 7) / 8);
    };
    if (ihdr[12] == 0)
        return rows(width, height);
    constexpr std::array<std::array<std::uint64_t, 4>, 7> passes{
        {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}}};
    std::uint64_t total = 0;
    for (const auto& [x0, y0, dx, dy] : passes)
        total += rows(width > x0 ? (width - x0 + dx - 1) / dx : 0, height > y0 ? (height - y0 + dy - 1) / dy : 0);
    return total;
}

} // namespace

std::optional<Bytes> png_without_metadata(ByteView png, PngProfile profile, SourceExif exif)
{
    const auto chunks = png_chunks(png);
    if (!chunks)
        return std::nullopt;
    Bytes out(png.begin(), png.begin() + k_signature.size());
    for (const Chunk& c : *chunks) {
        if (c.type == "acTL" || (c.type == "eXIf" && exif == SourceExif::refuse) ||
            (c.type == "iCCP" && profile == PngProfile::refuse))
            return std::nullopt;
        if (c.type != "tEXt" && c.type != "zTXt" && c.type != "iTXt" && c.type != "tIME" && c.type != "eXIf")
            append(out, png.subspan(c.at, c.end - c.at));
    }
    return out;
}

namespace {

// Where png's IDAT chunks are (the format requires them consecutive): the index of the first
// and the last, or nullopt when there are none or they are apart.
std::optional<std::pair<std::size_t, std::size_t>> idat_span(const std::vector<Chunk>& chunks)
{
    std::size_t first = 0;
    std::size_t last = 0;
    for (std::size_t i = 0; i < chunks.size(); ++i)
        if (chunks[i].type == "IDAT") {
            if (first != 0 && last + 1 != i)
                return std::nullopt;
            if (first == 0)
                first = i;
            last = i;
        }
    if (first == 0)
        return std::nullopt;
    return std::pair{first, last};
}

// filtered deflated at level, or empty if it cannot be.
Bytes zlib_deflated(ByteView filtered, int level)
{
    const std::unique_ptr<libdeflate_compressor, decltype(&libdeflate_free_compressor)> c(
        libdeflate_alloc_compressor(level), libdeflate_free_compressor);
    if (!c)
        return {};
    Bytes out(libdeflate_zlib_compress_bound(c.get(), filtered.size()));
    out.resize(libdeflate_zlib_compress(c.get(), filtered.data(), filtered.size(), out.data(), out.size()));
    return out;
}

// png with the chunks first..last (its IDATs) replaced by deflated as IDAT chunks.
Bytes with_image_data(ByteView png, const std::vector<Chunk>& chunks, std::pair<std::size_t, std::size_t> idats,
                      ByteView deflated)
{
    Bytes out(png.begin(), png.begin() + static_cast<std::ptrdiff_t>(chunks[idats.first].at));
    // One IDAT chunk, or several when over a chunk's 2^31 - 1 bytes.
    constexpr std::size_t k_chunk = (std::size_t{1} << 31) - 1;
    for (std::size_t at = 0; at < deflated.size(); at += k_chunk) {
        const std::size_t n = std::min(k_chunk, deflated.size() - at);
        put_be32(out, n);
        const std::size_t type_at = out.size();
        append(out, ByteView(reinterpret_cast<const std::uint8_t*>("IDAT"), 4));
        append(out, deflated.subspan(at, n));
        put_be32(out, libdeflate_crc32(0, out.data() + type_at, out.size() - type_at));
    }
    append(out, png.subspan(chunks[idats.second].end));
    return out;
}

} // namespace

std::optional<Bytes> png_recompressed(ByteView png, int level)
{
    const auto chunks = png_chunks(png);
    if (!chunks)
        return std::nullopt;
    const std::uint64_t size = filtered_size(chunks->front().data);
    constexpr std::uint64_t k_limit = std::uint64_t{1} << 34; // (images are bounded by max_pixels long before)
    const auto idats = idat_span(*chunks);
    if (size == 0 || size > k_limit || !idats)
        return std::nullopt;
    Bytes deflated;
    for (std::size_t i = idats->first; i <= idats->second; ++i)
        append(deflated, (*chunks)[i].data);
    // (Deflate inflates at most 1032 times: a header claiming more is not this data's.)
    if (size > std::uint64_t{deflated.size()} * 1032)
        return std::nullopt;
    Bytes filtered(static_cast<std::size_t>(size));
    const std::unique_ptr<libdeflate_decompressor, decltype(&libdeflate_free_decompressor)> d(
        libdeflate_alloc_decompressor(), libdeflate_free_decompressor);
    if (!d || libdeflate_zlib_decompress(d.get(), deflated.data(), deflated.size(), filtered.data(), filtered.size(),
                                         nullptr) != LIBDEFLATE_SUCCESS)
        return std::nullopt;
    const Bytes again = zlib_deflated(filtered, level);
    if (again.empty() || again.size() >= deflated.size())
        return std::nullopt;
    return with_image_data(png, *chunks, *idats, again);
}

std::optional<Bytes> png_with_image_data(ByteView png, std::uint32_t height, ByteView filtered, int level)
{
    const auto chunks = png_chunks(png);
    if (!chunks)
        return std::nullopt;
    const auto idats = idat_span(*chunks);
    if (!idats || height == 0 || height > (1u << 31))
        return std::nullopt;
    // The header (13 bytes: width, height, depth, colour type, compression, filter, interlace)
    // with the height given.
    Bytes ihdr(chunks->front().data.begin(), chunks->front().data.end());
    if (ihdr.size() != 13)
        return std::nullopt;
    for (std::size_t i = 0; i < 4; ++i)
        ihdr[4 + i] = static_cast<std::uint8_t>(height >> (24 - 8 * i));
    if (filtered_size(ihdr) != filtered.size())
        return std::nullopt;
    const Bytes deflated = zlib_deflated(filtered, level);
    if (deflated.empty())
        return std::nullopt;
    Bytes out = with_image_data(png, *chunks, *idats, deflated);
    // (The header is the first chunk: its data at 16, its CRC over type and data at 29.)
    std::copy(ihdr.begin(), ihdr.end(), out.begin() + 16);
    const std::uint32_t crc = libdeflate_crc32(0, out.data() + 12, 17);
    for (std::size_t i = 0; i < 4; ++i)
        out[29 + i] = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
    return out;
}

} // namespace cachet
