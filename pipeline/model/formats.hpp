#pragma once
#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

namespace cachet {

// The image formats cachet writes, in the order of the rows of k_image_formats.
enum class ImageFormat { avif, webp, jpeg, png, gif, jxl };
// The content encodings of a text output's precompressed sidecars.
enum class Encoding { zstd, br, gzip };
// Metadata an image may keep (images.keep_metadata); everything else is stripped.
enum class MetadataField { copyright, artist };

// One row per image format: what cachet knows of it outside its encoder. A new format is a
// new enumerator, its encoder file, and a row here.
struct ImageFormatInfo {
    ImageFormat format;
    std::string_view name;      // in settings, the manifest and exports ("jpeg")
    std::string_view extension; // of its output files ("jpg")
    std::string_view mime;      // its Content-Type and <source type> ("image/jpeg")
    // Modern formats are served only to browsers that accept them (Accept negotiation,
    // <picture> sources) and ship only if smaller than every format less preferred than
    // them; a fallback (jpeg, png, gif) is what any browser can show.
    bool modern;
    // How much a browser that accepts it prefers it: higher first (avif over webp over the
    // fallbacks, whose order is that of a plain <img>'s choice among them).
    int preference;
    std::string_view other_extension; // another extension its files are known by in URLs ("jpeg"), or ""
};

inline constexpr std::array<ImageFormatInfo, 6> k_image_formats{{
    {ImageFormat::avif, "avif", "avif", "image/avif", true, 5, ""},
    {ImageFormat::webp, "webp", "webp", "image/webp", true, 4, ""},
    {ImageFormat::jpeg, "jpeg", "jpg", "image/jpeg", false, 1, "jpeg"},
    {ImageFormat::png, "png", "png", "image/png", false, 2, ""},
    {ImageFormat::gif, "gif", "gif", "image/gif", false, 3, ""},
    // Off by default (docs/jxl.md); preferred to AVIF, so it ships only where it is the smaller.
    {ImageFormat::jxl, "jxl", "jxl", "image/jxl", true, 6, ""},
}};
inline constexpr std::size_t k_image_format_count = k_image_formats.size();

constexpr const ImageFormatInfo& info(ImageFormat format)
{
    return k_image_formats[static_cast<std::size_t>(format)];
}

static_assert(
    [] {
        for (std::size_t i = 0; i < k_image_formats.size(); ++i)
            if (static_cast<std::size_t>(k_image_formats[i].format) != i)
                return false;
        return true;
    }(),
    "k_image_formats has one row per ImageFormat, in the enumeration's order");

inline std::string_view to_string(ImageFormat format)
{
    return info(format).name;
}

// The file name extension of a format's outputs ("jpg" for jpeg).
inline std::string_view file_extension(ImageFormat format)
{
    return info(format).extension;
}

// Every format from the least preferred to the most: the order in which a plain <img> (which
// cannot negotiate) takes the first one an image has.
inline constexpr std::array<ImageFormat, k_image_format_count> k_formats_for_img = [] {
    std::array<ImageFormat, k_image_format_count> out{};
    for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = k_image_formats[i].format;
    for (std::size_t i = 0; i < out.size(); ++i) // a handful: insertion sort, constexpr
        for (std::size_t j = i; j > 0 && info(out[j]).preference < info(out[j - 1]).preference; --j)
            std::swap(out[j], out[j - 1]);
    return out;
}();

// The modern formats, most preferred first: the <source>s of a <picture>, the Accept
// negotiation of the exporters.
inline constexpr auto k_modern_formats = [] {
    constexpr std::size_t count = [] {
        std::size_t n = 0;
        for (const auto& row : k_image_formats)
            n += row.modern ? 1 : 0;
        return n;
    }();
    std::array<ImageFormat, count> out{};
    std::size_t n = 0;
    for (std::size_t i = k_formats_for_img.size(); i-- > 0;)
        if (info(k_formats_for_img[i]).modern)
            out[n++] = k_formats_for_img[i];
    return out;
}();

// The format named name in settings and manifests, if any.
std::optional<ImageFormat> image_format_named(std::string_view name);
// The format of an image file by its extension (lower case, without the dot), if cachet writes it.
std::optional<ImageFormat> image_format_of_extension(std::string_view extension);

inline constexpr std::array<std::string_view, 3> k_encoding_names{"zstd", "br", "gzip"};
inline constexpr std::array<Encoding, 3> k_encodings{Encoding::zstd, Encoding::br, Encoding::gzip};

inline std::string_view to_string(Encoding encoding)
{
    return k_encoding_names[static_cast<std::size_t>(encoding)];
}

inline std::string_view to_string(MetadataField field)
{
    switch (field) {
    case MetadataField::copyright: return "copyright";
    case MetadataField::artist: return "artist";
    }
    return "?";
}

} // namespace cachet
