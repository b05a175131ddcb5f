#include "pipeline/publish/markup.hpp"

#include "pipeline/model/error.hpp"

#include <algorithm>
#include <cstdio>

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

std::optional<PictureParts> picture_parts(const AssetRecord& record)
{
    auto outputs_in = [&](ImageFormat f) {
        std::vector<const OutputFile*> out;
        for (const auto& o : record.outputs)
            if (o.format == f && !o.original) // an original is at the source's URL, for what names it
                out.push_back(&o);
        std::stable_sort(out.begin(), out.end(),
                         [](const OutputFile* a, const OutputFile* b) { return a->width < b->width; });
        return out;
    };
    PictureParts parts;
    for (const auto f : k_formats_for_img)
        if (auto outputs = outputs_in(f); !outputs.empty()) {
            parts.img_format = f;
            parts.img = std::move(outputs);
            break;
        }
    if (parts.img.empty())
        return std::nullopt;
    for (const auto f : k_modern_formats) {
        auto outputs = outputs_in(f);
        if (f != parts.img_format && !outputs.empty() && outputs.back()->width >= parts.img.back()->width)
            parts.sources.emplace_back(f, std::move(outputs));
    }
    return parts;
}

std::string picture_element(const AssetRecord& record, const PictureOptions& options)
{
    if (record.kind != AssetKind::image)
        throw Error(ErrorKind::usage,
                    record.source + " is not an image (it is " + std::string(to_string(record.kind)) + ")");
    const auto parts = picture_parts(record);
    if (!parts)
        throw Error(ErrorKind::usage, record.source + " has no image outputs");
    auto srcset = [&](const std::vector<const OutputFile*>& outputs) {
        std::string s;
        for (const auto* o : outputs)
            s += (s.empty() ? "" : ", ") + options.base + url_path_escape(o->path) + " " + std::to_string(o->width) +
                 "w";
        return s;
    };
    std::string out = "<picture>\n";
    for (const auto& [f, outputs] : parts->sources)
        out += "  <source" + attribute("type", std::string(info(f).mime)) + attribute("srcset", srcset(outputs)) +
               attribute("sizes", options.sizes) + ">\n";
    const OutputFile& largest = *parts->img.back();
    out += "  <img" + attribute("src", options.base + url_path_escape(largest.path)) +
           attribute("srcset", srcset(parts->img)) + attribute("sizes", options.sizes) +
           attribute("width", std::to_string(largest.width)) + attribute("height", std::to_string(largest.height)) +
           attribute("alt", options.alt);
    if (!options.css_class.empty())
        out += attribute("class", options.css_class);
    out += " loading=\"lazy\" decoding=\"async\">\n</picture>\n";
    return out;
}

} // namespace cachet
