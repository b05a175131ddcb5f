#include "pipeline/model/content_type.hpp"

#include "pipeline/model/formats.hpp"

#include <algorithm>
#include <utility>

namespace cachet {

std::string extension_of(std::string_view path)
{
    const auto slash = path.rfind('/');
    const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
    const auto dot = name.rfind('.');
    if (dot == std::string_view::npos || dot == 0)
        return {};
    std::string ext(name.substr(dot + 1));
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    return ext;
}

std::string_view content_type_for(std::string_view path)
{
    static constexpr std::pair<std::string_view, std::string_view> k_types[] = {
        {"bmp", "image/bmp"},
        {"cjs", "text/javascript; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},
        {"csv", "text/csv; charset=utf-8"},
        {"eot", "application/vnd.ms-fontobject"},
        {"htm", "text/html; charset=utf-8"},
        {"html", "text/html; charset=utf-8"},
        {"ico", "image/x-icon"},
        {"js", "text/javascript; charset=utf-8"},
        {"json", "application/json; charset=utf-8"},
        {"map", "application/json; charset=utf-8"},
        {"md", "text/markdown; charset=utf-8"},
        {"mjs", "text/javascript; charset=utf-8"},
        {"mp3", "audio/mpeg"},
        {"mp4", "video/mp4"},
        {"ogg", "audio/ogg"},
        {"otf", "font/otf"},
        {"pdf", "application/pdf"},
        {"svg", "image/svg+xml; charset=utf-8"},
        {"tif", "image/tiff"},
        {"tiff", "image/tiff"},
        {"ttf", "font/ttf"},
        {"txt", "text/plain; charset=utf-8"},
        {"wasm", "application/wasm"},
        {"webm", "video/webm"},
        {"webmanifest", "application/manifest+json; charset=utf-8"},
        {"woff", "font/woff"},
        {"woff2", "font/woff2"},
        {"xml", "application/xml; charset=utf-8"},
        {"zip", "application/zip"},
    };
    const std::string ext = extension_of(path);
    if (const auto format = image_format_of_extension(ext)) // the formats cachet writes: their row says
        return info(*format).mime;
    const auto it = std::lower_bound(std::begin(k_types), std::end(k_types), ext,
                                     [](const auto& row, const std::string& e) { return row.first < e; });
    if (it != std::end(k_types) && it->first == ext)
        return it->second;
    return "application/octet-stream";
}

} // namespace cachet
