#include "pipeline/markup.hpp"

#include "pipeline/error.hpp"

#include <cstdio>
#include <map>

namespace cachet {
namespace {

std::string attribute(std::string_view name, std::string_view value)
{
    return " " + std::string(name) + "=\"" + html_escape(value) + "\"";
}

} // namespace

std::string html_escape(std::string_view text)
{
    std::string out;
    for (const char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
        }
    }
    return out;
}

std::string url_path_escape(std::string_view path)
{
    std::string out;
    for (const char c : path) {
        const auto u = static_cast<unsigned char>(c);
        if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~' || c == '/') {
            out += c;
        } else {
            char hex[4];
            std::snprintf(hex, sizeof hex, "%%%02X", u);
            out += hex;
        }
    }
    return out;
}

std::string picture_element(const AssetRecord& record, const PictureOptions& options)
{
    if (record.kind != AssetKind::image)
        throw Error(ErrorKind::usage, record.source + " is not an image (it is " +
                                          std::string(to_string(record.kind)) + ")");
    // format -> width -> URL, in ascending width order
    std::map<ImageFormat, std::map<int, std::string>> by_format;
    int width = 0;
    int height = 0;
    for (const auto& o : record.outputs) {
        if (!o.format)
            continue;
        by_format[*o.format][o.width] = options.base + url_path_escape(o.path);
        if (o.width > width) {
            width = o.width;
            height = o.height;
        }
    }
    auto srcset = [&](ImageFormat f) {
        std::string s;
        for (const auto& [w, url] : by_format[f])
            s += (s.empty() ? "" : ", ") + url + " " + std::to_string(w) + "w";
        return s;
    };
    // The <img> carries the most widely supported format that exists.
    ImageFormat img_format = ImageFormat::avif;
    for (const auto f : {ImageFormat::jpeg, ImageFormat::png, ImageFormat::gif, ImageFormat::webp, ImageFormat::avif})
        if (by_format.count(f)) {
            img_format = f;
            break;
        }
    std::string out = "<picture>\n";
    for (const auto f : {ImageFormat::avif, ImageFormat::webp}) {
        if (f == img_format || !by_format.count(f))
            continue;
        out += "  <source" + attribute("type", "image/" + std::string(to_string(f))) + attribute("srcset", srcset(f)) +
               attribute("sizes", options.sizes) + ">\n";
    }
    out += "  <img" + attribute("src", by_format[img_format].rbegin()->second) +
           attribute("srcset", srcset(img_format)) + attribute("sizes", options.sizes) +
           attribute("width", std::to_string(width)) + attribute("height", std::to_string(height)) +
           attribute("alt", options.alt);
    if (!options.css_class.empty())
        out += attribute("class", options.css_class);
    out += " loading=\"lazy\" decoding=\"async\">\n</picture>\n";
    return out;
}

} // namespace cachet
