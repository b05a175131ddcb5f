#include "pipeline/export/served.hpp"

#include <set>

namespace cachet::exporting {

std::string export_caddy(const std::vector<AssetRecord>& records, const ExportOptions& options)
{
    // Caddy's file_server adds Vary: Accept-Encoding only to the responses it compressed, so
    // the headers are deferred: set as the response is written, they replace its Vary. Header
    // matchers see the request path, so /docs/ is listed beside /docs/index.html.
    auto files = served_files(records, options);
    // With negotiation, a fallback image URL varies by Accept (and not by encoding: images
    // have no encoded variants).
    const auto negotiated = options.negotiate
                                ? negotiable_images(records)
                                : std::map<std::string, std::vector<std::pair<ImageFormat, std::string>>>{};
    for (auto& f : files)
        if (negotiated.count(f.path))
            f.headers.vary = "Accept";
    std::vector<HeaderSet> sets;
    const auto groups = group_by_headers(files, sets, true);
    std::vector<std::pair<std::string, std::size_t>> urls;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < files.size(); ++i) {
        urls.emplace_back("/" + files[i].path, groups[i]);
        seen.insert(urls.back().first);
    }
    for (std::size_t i = 0; i < files.size(); ++i)
        if (last_segment(files[i].path) == "index.html") {
            const std::string folder = "/" + files[i].path.substr(0, files[i].path.size() - 10);
            if (seen.insert(folder).second)
                urls.emplace_back(folder, groups[i]);
        }
    std::string out = "# Caddyfile snippet written by `cachet export caddy`: `import` it inside the site\n"
                      "# block whose `root` is the output folder. Each URL matches exactly one header matcher.\n\n"
                      "file_server {\n    precompressed zstd br gzip\n}\n";
    std::size_t n = 0;
    for (const auto& [ext, type] : content_types(files)) {
        const std::string name = "@cachet_type" + std::to_string(n++);
        out += "\n" + name + " path_regexp " + caddy_quote("(?i)\\." + ext + "$") + "\n";
        out += "header " + name + " Content-Type " + caddy_quote(type) + "\n";
    }
    // Exact URLs of one group share a matcher; every other pattern has its own.
    std::map<std::size_t, std::vector<std::string>> exact;
    std::vector<std::pair<std::string, std::size_t>> wild;
    for (auto& [pattern, group] : disjoint_patterns(urls)) {
        if (pattern.find('*') == std::string::npos)
            exact[group].push_back(pattern);
        else
            wild.emplace_back(pattern, group);
    }
    n = 0;
    auto headers = [&](const std::string& matcher, std::size_t group) {
        out += "header " + matcher + " {\n";
        for (const auto& [name, value] : sets[group].lines())
            out += "    " + name + " " + caddy_quote(value) + "\n";
        if (sets[group].vary.empty())
            out += "    -Vary\n";
        out += "    defer\n}\n";
    };
    for (const auto& [pattern, group] : wild) {
        const std::string name = "@cachet_headers" + std::to_string(n++);
        out += "\n" + name + " path_regexp " + caddy_quote(pattern_regex(pattern)) + "\n";
        headers(name, group);
    }
    for (const auto& [group, paths] : exact) {
        const std::string name = "@cachet_headers" + std::to_string(n++);
        out += "\n" + name + " {\n";
        for (std::size_t i = 0; i < paths.size(); i += 8) {
            out += "    path";
            for (std::size_t k = i; k < std::min(paths.size(), i + 8); ++k)
                out += " " + caddy_quote(paths[k]);
            out += "\n";
        }
        out += "}\n";
        headers(name, group);
    }
    // Negotiation: `header` runs before `rewrite`, so the URL's own headers (Cache-Control,
    // Vary: Accept) match as above; the served format's Content-Type is set when the response
    // is written, over the one its extension gave.
    n = 0;
    for (const auto& [path, modern] : negotiated) {
        std::string refused; // the formats preferred to this one, which the browser does not accept
        for (const auto& [format, target] : modern) {
            const std::string name = "@cachet_negotiate" + std::to_string(n++);
            const std::string mime(info(format).mime);
            out += "\n" + name + " {\n    path " + caddy_quote("/" + path) + "\n" + refused + "    header Accept " +
                   caddy_quote("*" + mime + "*") + "\n}\n";
            out += "header " + name + " {\n    Content-Type " + caddy_quote(mime) + "\n    defer\n}\n";
            out += "rewrite " + name + " " + caddy_quote("/" + target) + "\n";
            refused += "    not header Accept " + caddy_quote("*" + mime + "*") + "\n";
        }
    }
    return out;
}

} // namespace cachet::exporting
