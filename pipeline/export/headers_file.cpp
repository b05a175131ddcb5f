#include "pipeline/export/served.hpp"

#include "pipeline/model/error.hpp"

#include <set>

namespace cachet::exporting {

// Cloudflare Pages' _headers limits (Netlify's are looser).
constexpr std::size_t k_max_header_rules = 100;
constexpr std::size_t k_max_header_line = 2000;

std::string export_headers(const std::vector<AssetRecord>& records, const ExportOptions& options)
{
    // The platform compresses on its own and sends its own Vary; pretty URLs (/about for
    // about.html, /docs/ for docs/index.html) get their page's headers too.
    const auto files = served_files(records, options);
    std::vector<HeaderSet> sets;
    const auto groups = group_by_headers(files, sets, false);
    std::vector<std::pair<std::string, std::size_t>> urls;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < files.size(); ++i) {
        const std::string url = url_of(options.base, files[i].path);
        urls.emplace_back(url, groups[i]);
        seen.insert(url);
    }
    for (std::size_t i = 0; i < files.size(); ++i) {
        const std::string& path = files[i].path;
        if (files[i].content_type.rfind("text/html", 0) != 0 || path.size() < 5 ||
            path.compare(path.size() - 5, 5, ".html") != 0)
            continue;
        std::string pretty = url_of(options.base, path.substr(0, path.size() - 5));
        if (last_segment(path) == "index.html")
            pretty.resize(pretty.size() - 5); // "/docs/index" -> "/docs/"
        if (seen.insert(pretty).second)
            urls.emplace_back(pretty, groups[i]);
    }
    const auto patterns = disjoint_patterns(urls);
    if (patterns.size() > k_max_header_rules)
        throw Error(ErrorKind::config,
                    "_headers: these outputs need " + std::to_string(patterns.size()) +
                        " rules to give every file its own headers, over Cloudflare Pages' limit of " +
                        std::to_string(k_max_header_rules) +
                        " (use [[headers]] rules that follow folders or extensions, or the nginx/caddy export)");
    std::string out = "# _headers for Netlify and Cloudflare Pages, written by `cachet export headers`.\n"
                      "# Each URL matches exactly one rule. The platform compresses and sends Vary itself.\n";
    for (const auto& [pattern, group] : patterns) {
        out += "\n" + pattern + "\n";
        for (const auto& [name, value] : sets[group].lines()) {
            const std::string line = "  " + name + ": " + value;
            if (line.size() > k_max_header_line)
                throw Error(ErrorKind::config,
                            "_headers: the " + name + " header of " + pattern + " is " + std::to_string(line.size()) +
                                " characters long, over the limit of " + std::to_string(k_max_header_line));
            out += line + "\n";
        }
    }
    return out;
}

} // namespace cachet::exporting
