#include "pipeline/export/served.hpp"

#include "pipeline/model/content_type.hpp"

#include <algorithm>
#include <set>

namespace cachet::exporting {

// Every output of records, then the manifest itself and its parts (named by their content, so
// cached for good), sorted by path.
std::vector<Served> served_files(const std::vector<AssetRecord>& records, const ExportOptions& options)
{
    std::vector<Served> out;
    for (const auto& r : records)
        for (const auto& o : r.outputs)
            out.push_back({o.path, o.content_type, {o.cache_control, o.vary, o.headers}, &o, &r});
    out.push_back({options.manifest_path,
                   std::string(content_type_for(options.manifest_path)),
                   {"no-cache", "", {}},
                   nullptr,
                   nullptr});
    for (const auto& part : options.manifest_parts)
        out.push_back({part,
                       std::string(content_type_for(part)),
                       {"public, max-age=31536000, immutable", "", {}},
                       nullptr,
                       nullptr});
    std::sort(out.begin(), out.end(), [](const Served& a, const Served& b) { return a.path < b.path; });
    return out;
}

std::string last_segment(std::string_view path)
{
    const auto slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// The extension of a URL's last segment, after its last '.', or nullopt.
std::optional<std::string> url_extension(std::string_view url)
{
    const std::string last = last_segment(url);
    const auto dot = last.rfind('.');
    if (dot == std::string::npos)
        return std::nullopt;
    return last.substr(dot + 1);
}

// Groups equal header sets: the index of each file's set in sets.
std::vector<std::size_t> group_by_headers(const std::vector<Served>& files, std::vector<HeaderSet>& sets,
                                          bool with_vary)
{
    std::map<HeaderSet, std::size_t> ids;
    std::vector<std::size_t> groups;
    for (const auto& f : files) {
        HeaderSet h = f.headers;
        if (!with_vary)
            h.vary.clear();
        const auto [it, inserted] = ids.try_emplace(h, sets.size());
        if (inserted)
            sets.push_back(h);
        groups.push_back(it->second);
    }
    return groups;
}

// disjoint_patterns() over the sorted urls [lo, hi), all starting with prefix (a folder URL).
void cover(const std::vector<std::pair<std::string, std::size_t>>& urls, std::vector<char>& covered,
           const std::string& prefix, std::size_t lo, std::size_t hi,
           std::vector<std::pair<std::string, std::size_t>>& out)
{
    bool any_covered = false;
    bool one_group = true;
    bool any_open = false;
    for (std::size_t i = lo; i < hi; ++i) {
        any_covered |= covered[i] != 0;
        any_open |= covered[i] == 0;
        one_group &= urls[i].second == urls[lo].second;
    }
    if (!any_open)
        return;
    auto mark = [&](std::string pattern, std::size_t group, auto&& matches) {
        for (std::size_t i = lo; i < hi; ++i)
            if (matches(urls[i].first))
                covered[i] = 1;
        out.emplace_back(std::move(pattern), group);
    };
    if (!any_covered && one_group) {
        mark(prefix + "*", urls[lo].second, [](const std::string&) { return true; });
        return;
    }
    // prefix*.ext for each extension whose URLs here are all open and in one group.
    std::map<std::string, std::pair<bool, std::set<std::size_t>>> by_extension; // ext -> (all open, groups)
    for (std::size_t i = lo; i < hi; ++i)
        if (const auto ext = url_extension(urls[i].first)) {
            auto& [open, groups] = by_extension[*ext];
            if (groups.empty())
                open = true;
            open &= covered[i] == 0;
            groups.insert(urls[i].second);
        }
    for (const auto& [ext, facts] : by_extension)
        if (facts.first && facts.second.size() == 1) {
            const std::string suffix = "." + ext;
            const std::string& extension = ext; // a lambda captures no structured binding (clang 14)
            mark(prefix + "*" + suffix, *facts.second.begin(), [&](const std::string& url) {
                return url.size() >= suffix.size() && url_extension(url) == extension;
            });
        }
    // What is directly in this folder by its own URL; each subfolder in turn.
    std::size_t i = lo;
    while (i < hi) {
        const std::string& url = urls[i].first;
        const auto slash = url.find('/', prefix.size());
        if (slash == std::string::npos) {
            if (!covered[i]) {
                covered[i] = 1;
                out.emplace_back(url, urls[i].second);
            }
            ++i;
            continue;
        }
        const std::string folder = url.substr(0, slash + 1);
        std::size_t end = i;
        while (end < hi && urls[end].first.compare(0, folder.size(), folder) == 0)
            ++end;
        cover(urls, covered, folder, i, end, out);
        i = end;
    }
}

std::string shell_quote(std::string_view text)
{
    std::string out = "'";
    for (const char c : text) {
        if (c == '\'')
            out += "'\\''";
        else
            out += c;
    }
    return out + "'";
}

// text in double quotes for nginx: '"' and '\' escaped.
std::string double_quote(std::string_view text)
{
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    return out + "\"";
}

// text in double quotes for a Caddyfile, whose lexer unescapes '\"' and nothing else.
std::string caddy_quote(std::string_view text)
{
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"')
            out += '\\';
        out += c;
    }
    return out + "\"";
}

// A regular expression (PCRE and Go RE2 alike) matching the _headers pattern exactly.
std::string pattern_regex(std::string_view pattern)
{
    std::string out = "^";
    for (const char c : pattern) {
        if (c == '*')
            out += ".*";
        else if (std::string_view("\\.+?()[]{}|^$").find(c) != std::string_view::npos)
            (out += '\\') += c;
        else
            out += c;
    }
    return out + "$";
}

std::string url_of(std::string_view base, std::string_view path)
{
    std::string out(base);
    if (out.empty() || out.back() != '/')
        out += '/';
    return out + std::string(path);
}

// Extensions of the served files, each with its content type (one table: content_type_for()).
std::map<std::string, std::string> content_types(const std::vector<Served>& files)
{
    std::map<std::string, std::string> types;
    for (const auto& f : files)
        if (const auto ext = url_extension(f.path); ext && !ext->empty())
            types.emplace(extension_of(f.path), f.content_type);
    return types;
}

std::map<std::string, std::vector<std::pair<ImageFormat, std::string>>>
negotiable_images(const std::vector<AssetRecord>& records)
{
    std::map<std::string, std::vector<std::pair<ImageFormat, std::string>>> out;
    for (const auto& r : records)
        for (const auto& fallback : r.outputs) {
            if (!fallback.format || info(*fallback.format).modern)
                continue;
            std::vector<std::pair<ImageFormat, std::string>> modern;
            for (const ImageFormat f : k_modern_formats)
                for (const auto& o : r.outputs)
                    if (o.format == f && o.width == fallback.width && o.height == fallback.height) {
                        modern.emplace_back(f, o.path);
                        break;
                    }
            if (!modern.empty())
                out.emplace(fallback.path, std::move(modern));
        }
    return out;
}

} // namespace cachet::exporting
