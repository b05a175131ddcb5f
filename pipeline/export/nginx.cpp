#include "pipeline/export/served.hpp"

namespace cachet::exporting {

std::string export_nginx(const std::vector<AssetRecord>& records, const ExportOptions& options)
{
    const auto files = served_files(records, options);
    std::vector<HeaderSet> sets;
    const auto groups = group_by_headers(files, sets, true);
    // With negotiation, each fallback image URL has an exact location of its own (exact
    // locations win over every regex one), so it is left out of the patterns.
    const auto negotiated = options.negotiate
                                ? negotiable_images(records)
                                : std::map<std::string, std::vector<std::pair<ImageFormat, std::string>>>{};
    std::vector<std::pair<std::string, std::size_t>> urls;
    std::vector<std::pair<const Served*, std::size_t>> exact_images;
    for (std::size_t i = 0; i < files.size(); ++i) {
        if (negotiated.count(files[i].path))
            exact_images.emplace_back(&files[i], groups[i]);
        else
            urls.emplace_back("/" + files[i].path, groups[i]);
    }
    std::string out = "# nginx include written by `cachet export nginx`: put `include` of this file inside the\n"
                      "# server { } block whose root is the output folder. brotli_static needs ngx_brotli\n"
                      "# (Debian: libnginx-mod-http-brotli-static, loaded with\n"
                      "# load_module modules/ngx_http_brotli_static_module.so; at the top of nginx.conf).\n"
                      "# Each URL matches exactly one location below, so their order does not matter.\n\n";
    out += "types {\n";
    for (const auto& [ext, type] : content_types(files))
        out += "    " + double_quote(type) + " " + ext + ";\n";
    out += "}\ndefault_type application/octet-stream;\n";
    out += "gzip_static on;\nbrotli_static on;\ngzip_vary off;  # Vary comes from the manifest, below\n";
    for (const auto& [pattern, group] : disjoint_patterns(urls)) {
        const bool exact = pattern.find('*') == std::string::npos;
        out += "\nlocation " + std::string(exact ? "= " : "~ ") +
               double_quote(exact ? pattern : pattern_regex(pattern)) + " {\n";
        for (const auto& [name, value] : sets[group].lines())
            out += "    add_header " + name + " " + double_quote(value) + " always;\n";
        out += "}\n";
    }
    for (const auto& [file, group] : exact_images) {
        // The fallback's URL serves the AVIF or the WebP of the same size to browsers that
        // accept it: `rewrite ... break` inside `if` is the use of `if` nginx supports.

        out += "\nlocation = " + double_quote("/" + file->path) + " {\n";
        for (const auto& [name, value] : sets[group].lines())
            if (name != "Vary")
                out += "    add_header " + name + " " + double_quote(value) + " always;\n";
        out += "    add_header Vary \"Accept\" always;\n";
        for (const auto& [format, path] : negotiated.at(file->path))
            out += "    if ($http_accept ~* \"" + std::string(info(format).mime) + "\") {\n        rewrite ^ " +
                   double_quote("/" + path) + " break;\n    }\n";
        out += "}\n";
    }
    return out;
}

} // namespace cachet::exporting
