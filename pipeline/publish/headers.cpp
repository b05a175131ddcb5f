#include "pipeline/publish/headers.hpp"

#include "pipeline/fs/glob.hpp"

#include <algorithm>

namespace cachet {

bool is_service_worker(const OutputSettings& output, std::string_view path)
{
    return glob_match_any(output.service_worker, path);
}

std::string default_cache_control(const OutputSettings& output, std::string_view source, const OutputFile& file)
{
    const std::string_view type = file.content_type;
    if (is_service_worker(output, source))
        return "no-cache";
    if (file.fingerprinted)
        return "public, max-age=31536000, immutable";
    if (type.rfind("text/html", 0) == 0)
        return "no-cache";
    if (type.rfind("image/", 0) == 0)
        return "public, max-age=86400";
    if (type.rfind("video/", 0) == 0)
        return "public, max-age=604800";
    return "no-cache";
}

bool apply_headers(const Preset& preset, AssetRecord& record)
{
    bool changed = false;
    for (auto& out : record.outputs) {
        std::string cache_control;
        std::vector<std::pair<std::string, std::string>> extra;
        for (const auto& rule : preset.headers) {
            if (!glob_match_any(rule.match, out.path) && !glob_match_any(rule.match, record.source))
                continue;
            if (cache_control.empty())
                cache_control = rule.cache_control;
            for (const auto& header : rule.extra) {
                const auto same = [&](const auto& h) {
                    return std::equal(
                        h.first.begin(), h.first.end(), header.first.begin(), header.first.end(),
                        [](unsigned char a, unsigned char b) { return std::tolower(a) == std::tolower(b); });
                };
                if (std::none_of(extra.begin(), extra.end(), same))
                    extra.push_back(header);
            }
        }
        if (cache_control.empty())
            cache_control = default_cache_control(preset.output, record.source, out);
        std::sort(extra.begin(), extra.end());
        std::string vary = out.encodings.empty() ? "" : "Accept-Encoding";
        if (cache_control != out.cache_control || extra != out.headers || vary != out.vary) {
            out.cache_control = std::move(cache_control);
            out.headers = std::move(extra);
            out.vary = std::move(vary);
            changed = true;
        }
    }
    return changed;
}

std::string headers_key(const Preset& preset)
{
    std::string key = "service_worker";
    for (const auto& glob : preset.output.service_worker)
        key += ' ' + glob;
    for (const auto& rule : preset.headers) {
        key += "\nrule";
        for (const auto& glob : rule.match)
            key += ' ' + glob;
        key += "\n cache_control " + rule.cache_control;
        for (const auto& [name, value] : rule.extra)
            key += "\n " + name + ": " + value;
    }
    return key + '\n';
}

std::string published_key(const Preset& preset)
{
    std::string key = headers_key(preset);
    if (preset.output.manifest_parts > 0)
        key += "manifest_parts " + std::to_string(preset.output.manifest_parts) + "\n";
    return key;
}

std::string strong_etag(std::string_view sha256_hex)
{
    return '"' + std::string(sha256_hex.substr(0, 32)) + '"';
}

} // namespace cachet
