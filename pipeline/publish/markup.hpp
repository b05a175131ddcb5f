#pragma once
#include "pipeline/publish/manifest.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cachet {

struct PictureOptions {
    std::string sizes = "100vw";
    std::string alt;
    std::string css_class;
    std::string base = "/"; // prefix of every URL; manifest paths are relative to OUT
};

// What a <picture> for an image record holds: the <img>'s format (the most widely supported
// one that shipped: JPEG, PNG, GIF, WebP, AVIF) with its outputs, and a <source> per modern
// format (AVIF, then WebP) that shipped at the <img>'s largest width (so that no browser
// upscales; a width it lacks costs a larger candidate), with its outputs. Narrowest first.
struct PictureParts {
    ImageFormat img_format = ImageFormat::jpeg;
    std::vector<const OutputFile*> img;
    std::vector<std::pair<ImageFormat, std::vector<const OutputFile*>>> sources;
};
// Nullopt if record has no image outputs.
std::optional<PictureParts> picture_parts(const AssetRecord& record);

// A <picture> for an image record (picture_parts()): an AVIF and a WebP <source> with every
// width at which that format shipped, and an <img> with the fallback's srcset, its largest width as src, the
// intrinsic width and height, loading="lazy" and decoding="async". References only files the
// record names. Throws Error(usage) if record is not an image.
std::string picture_element(const AssetRecord& record, const PictureOptions& options);

// text with & < > " ' replaced by character references.
std::string html_escape(std::string_view text);

// path percent-encoded for use in a URL (and in srcset, where ',' and spaces are separators):
// unreserved characters and '/' stay, every other byte becomes %XX.
std::string url_path_escape(std::string_view path);

} // namespace cachet
