#include "pipeline/model/record.hpp"

#include "pipeline/model/content_type.hpp"

#include <algorithm>

namespace cachet {

std::vector<std::string> output_paths(const AssetRecord& record)
{
    std::vector<std::string> out;
    for (const auto& o : record.outputs) {
        out.push_back(o.path);
        for (const auto& e : o.encodings)
            out.push_back(e.path);
    }
    return out;
}

const OutputFile* output_for_url(const AssetRecord& record)
{
    if (record.kind != AssetKind::image)
        return record.outputs.empty() ? nullptr : &record.outputs.front();
    int widest = -1; // originals are only there for the source's own URL
    for (const auto& o : record.outputs)
        if (!o.original)
            widest = std::max(widest, o.width);
    auto at_widest = [&](ImageFormat f) -> const OutputFile* {
        for (const auto& o : record.outputs)
            if (o.format == f && o.width == widest && !o.original)
                return &o;
        return nullptr;
    };
    if (const auto own = image_format_of_extension(extension_of(record.source)))
        if (const OutputFile* o = at_widest(*own))
            return o;
    for (const ImageFormat f : k_formats_for_img)
        if (const OutputFile* o = at_widest(f))
            return o;
    return record.outputs.empty() ? nullptr : &record.outputs.front();
}

bool has_modern_format(const AssetRecord& record)
{
    return std::any_of(record.outputs.begin(), record.outputs.end(),
                       [](const OutputFile& o) { return o.format && info(*o.format).modern; });
}

Delivered delivered(const AssetRecord& record)
{
    Delivered out;
    out.plain = output_for_url(record);
    if (!out.plain)
        return out;
    out.plain_bytes = out.plain->bytes;
    out.file = out.plain;
    if (record.kind == AssetKind::image && out.plain->format) {
        for (const auto& o : record.outputs)
            if (!o.original && o.format && o.width == out.plain->width &&
                info(*o.format).preference > info(*out.file->format).preference)
                out.file = &o;
        out.bytes = out.file->bytes;
        out.format = to_string(*out.file->format);
        return out;
    }
    out.bytes = out.file->bytes;
    out.format = "identity";
    for (const auto& e : out.file->encodings)
        if (e.bytes < out.bytes) {
            out.bytes = e.bytes;
            out.format = to_string(e.encoding);
        }
    return out;
}

std::string percent_encoded(std::string_view path)
{
    static constexpr std::string_view k_hex = "0123456789ABCDEF";
    std::string out;
    out.reserve(path.size());
    for (const char c : path) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f || std::string_view("\"'()#?%<>\\,").find(c) != std::string_view::npos) {
            out += '%';
            out += k_hex[u >> 4];
            out += k_hex[u & 15];
        } else {
            out += c;
        }
    }
    return out;
}

} // namespace cachet
