#include "pipeline/export/export.hpp"

#include "pipeline/model/content_type.hpp"
#include "pipeline/model/error.hpp"
#include "pipeline/fs/glob.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>

namespace cachet {
namespace {

// Cloudflare Pages' _headers limits (Netlify's are looser).
constexpr std::size_t k_max_header_rules = 100;
constexpr std::size_t k_max_header_line = 2000;

// The headers a server sends with one URL, beside Content-Type and Content-Encoding.
struct HeaderSet {
    std::string cache_control;
    std::string vary;
    std::vector<std::pair<std::string, std::string>> extra;
    auto operator<=>(const HeaderSet&) const = default;

    // (name, value) in the order they are written.
    std::vector<std::pair<std::string, std::string>> lines() const
    {
        std::vector<std::pair<std::string, std::string>> out{{"Cache-Control", cache_control}};
        if (!vary.empty())
            out.emplace_back("Vary", vary);
        out.insert(out.end(), extra.begin(), extra.end());
        return out;
    }
};

// One file a server sends: its path in OUT and what goes with it.
struct Served {
    std::string path;
    std::string content_type;
    HeaderSet headers;
    const OutputFile* output = nullptr; // null for the manifest
    const AssetRecord* record = nullptr;
};

// Every output of records, then the manifest itself, sorted by path.
std::vector<Served> served_files(const std::vector<AssetRecord>& records, const ExportOptions& options)
{
    std::vector<Served> out;
    for (const auto& r : records)
        for (const auto& o : r.outputs)
            out.push_back({o.path, o.content_type, {o.cache_control, o.vary, o.headers}, &o, &r});
    out.push_back({options.manifest_path, std::string(content_type_for(options.manifest_path)), {"no-cache", "", {}},
                   nullptr, nullptr});
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
            mark(prefix + "*" + suffix, *facts.second.begin(), [&](const std::string& url) {
                return url.size() >= suffix.size() && url_extension(url) == ext;
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

// ---------------------------------------------------------------------------------------------

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
                throw Error(ErrorKind::config, "_headers: the " + name + " header of " + pattern + " is " +
                                                   std::to_string(line.size()) + " characters long, over the limit of " +
                                                   std::to_string(k_max_header_line));
            out += line + "\n";
        }
    }
    return out;
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

// For each fallback image output (JPEG, PNG, GIF): the AVIF and the WebP of the same size, where
// they shipped ("" where not), when at least one did.
std::map<std::string, std::pair<std::string, std::string>> negotiable_images(const std::vector<AssetRecord>& records)
{
    std::map<std::string, std::pair<std::string, std::string>> out;
    for (const auto& r : records)
        for (const auto& fallback : r.outputs) {
            if (!fallback.format || *fallback.format == ImageFormat::avif || *fallback.format == ImageFormat::webp)
                continue;
            std::pair<std::string, std::string> modern;
            for (const auto& o : r.outputs)
                if (o.format && o.width == fallback.width && o.height == fallback.height) {
                    if (*o.format == ImageFormat::avif)
                        modern.first = o.path;
                    else if (*o.format == ImageFormat::webp)
                        modern.second = o.path;
                }
            if (!modern.first.empty() || !modern.second.empty())
                out.emplace(fallback.path, modern);
        }
    return out;
}

std::string export_nginx(const std::vector<AssetRecord>& records, const ExportOptions& options)
{
    const auto files = served_files(records, options);
    std::vector<HeaderSet> sets;
    const auto groups = group_by_headers(files, sets, true);
    // With negotiation, each fallback image URL has an exact location of its own (exact
    // locations win over every regex one), so it is left out of the patterns.
    const auto negotiated = options.negotiate ? negotiable_images(records)
                                              : std::map<std::string, std::pair<std::string, std::string>>{};
    std::vector<std::pair<std::string, std::size_t>> urls;
    std::vector<std::pair<const Served*, std::size_t>> exact_images;
    for (std::size_t i = 0; i < files.size(); ++i) {
        if (negotiated.count(files[i].path))
            exact_images.emplace_back(&files[i], groups[i]);
        else
            urls.emplace_back("/" + files[i].path, groups[i]);
    }
    std::string out =
        "# nginx include written by `cachet export nginx`: put `include` of this file inside the\n"
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
        out += "\nlocation " + std::string(exact ? "= " : "~ ") + double_quote(exact ? pattern : pattern_regex(pattern)) +
               " {\n";
        for (const auto& [name, value] : sets[group].lines())
            out += "    add_header " + name + " " + double_quote(value) + " always;\n";
        out += "}\n";
    }
    for (const auto& [file, group] : exact_images) {
        // The fallback's URL serves the AVIF or the WebP of the same size to browsers that
        // accept it: `rewrite ... break` inside `if` is the use of `if` nginx supports.
        const auto& [avif, webp] = negotiated.at(file->path);
        out += "\nlocation = " + double_quote("/" + file->path) + " {\n";
        for (const auto& [name, value] : sets[group].lines())
            if (name != "Vary")
                out += "    add_header " + name + " " + double_quote(value) + " always;\n";
        out += "    add_header Vary \"Accept\" always;\n";
        if (!avif.empty())
            out += "    if ($http_accept ~* \"image/avif\") {\n        rewrite ^ " + double_quote("/" + avif) +
                   " break;\n    }\n";
        if (!webp.empty())
            out += "    if ($http_accept ~* \"image/webp\") {\n        rewrite ^ " + double_quote("/" + webp) +
                   " break;\n    }\n";
        out += "}\n";
    }
    return out;
}

std::string export_caddy(const std::vector<AssetRecord>& records, const ExportOptions& options)
{
    // Caddy's file_server adds Vary: Accept-Encoding only to the responses it compressed, so
    // the headers are deferred: set as the response is written, they replace its Vary. Header
    // matchers see the request path, so /docs/ is listed beside /docs/index.html.
    const auto files = served_files(records, options);
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
    return out;
}

std::string export_s3(const std::vector<AssetRecord>& records, const ExportOptions& options)
{
    const auto files = served_files(records, options);
    // Readers must never see a reference to an object not there yet: what is named by its
    // hash first, then other files, then HTML, then service workers, then the manifest.
    auto rank = [&](const Served& f) {
        if (!f.output)
            return 4;
        if (f.output->fingerprinted)
            return 0;
        if (glob_match_any(options.service_worker, f.path))
            return 3;
        if (f.content_type.rfind("text/html", 0) == 0)
            return 2;
        return 1;
    };
    std::vector<const Served*> order;
    for (const auto& f : files)
        order.push_back(&f);
    std::stable_sort(order.begin(), order.end(), [&](const Served* a, const Served* b) { return rank(*a) < rank(*b); });

    std::string out =
        "#!/bin/sh\n"
        "# S3 upload plan written by `cachet export s3`: one `aws s3 cp` per object, with its\n"
        "# Content-Type, Content-Encoding and Cache-Control from the manifest.\n"
        "#\n"
        "#   sh upload.sh s3://BUCKET[/PREFIX] [more aws s3 cp options, e.g. --endpoint-url URL]\n"
        "#\n"
        "# Order: fingerprinted files first, then the other files, then HTML, then service workers,\n"
        "# then the manifest, so that no reader ever sees a reference to a missing object.\n"
        "# S3 does not negotiate encodings: each encoded variant is its own object at the file's\n"
        "# key plus .zst, .br or .gz, stored with Content-Encoding and the file's Content-Type, and\n"
        "# the CDN in front picks the key from the request's Accept-Encoding. $CACHET_OUT overrides\n"
        "# the folder the files are read from; $AWS the aws command.\n"
        "set -eu\n"
        "dest=${1:?usage: sh upload.sh s3://BUCKET[/PREFIX] [aws s3 cp options]}\n"
        "shift\n"
        "dest=${dest%/}\n"
        "out=${CACHET_OUT:-" + shell_quote(options.out_dir) + "}\n"
        "aws=${AWS:-aws}\n";
    std::set<std::string> unsupported;
    auto line = [&](const std::string& path, const Served& f, std::string_view encoding) {
        out += "$aws s3 cp --only-show-errors \"$out\"/" + shell_quote(path) + " \"$dest\"/" + shell_quote(path) +
               " --content-type " + shell_quote(f.content_type);
        if (!encoding.empty())
            out += " --content-encoding " + std::string(encoding);
        out += " --cache-control " + shell_quote(f.headers.cache_control);
        for (const auto& [name, value] : f.headers.extra) {
            std::string lower = name;
            std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
            if (lower == "content-disposition" || lower == "content-language" || lower == "expires")
                out += " --" + lower + " " + shell_quote(value);
            else
                unsupported.insert(name);
        }
        out += " \"$@\"\n";
    };
    out += "\n";
    for (const Served* f : order) {
        if (f->output)
            for (const auto& e : f->output->encodings)
                line(e.path, *f, to_string(e.encoding));
        line(f->path, *f, "");
    }
    if (!unsupported.empty()) {
        std::string names;
        for (const auto& n : unsupported)
            names += (names.empty() ? "" : ", ") + n;
        out += "# S3 cannot store these headers; set them at the CDN: " + names + "\n";
    }
    return out;
}

std::string export_sw_precache(const std::vector<AssetRecord>& records, const ExportOptions& options)
{
    nlohmann::json list = nlohmann::json::array();
    std::vector<std::pair<std::string, const OutputFile*>> picked;
    for (const auto& r : records)
        for (const auto& o : r.outputs)
            if (glob_match_any(options.precache, o.path) && !glob_match_any(options.service_worker, o.path))
                picked.emplace_back(url_of(options.base, o.path), &o);
    std::sort(picked.begin(), picked.end());
    for (const auto& [url, o] : picked) {
        // A fingerprinted URL is its own revision; any other file is revisioned by its bytes.
        nlohmann::json revision = nullptr;
        if (!o->fingerprinted)
            revision = o->etag.size() > 2 ? o->etag.substr(1, o->etag.size() - 2) : o->integrity;
        list.push_back({{"url", url}, {"revision", revision}, {"integrity", o->integrity}});
    }
    return list.dump(2) + "\n";
}

} // namespace

ExportFormat export_format_named(std::string_view name)
{
    static constexpr std::pair<std::string_view, ExportFormat> k_formats[] = {
        {"headers", ExportFormat::headers}, {"nginx", ExportFormat::nginx},
        {"caddy", ExportFormat::caddy},     {"s3", ExportFormat::s3},
        {"sw-precache", ExportFormat::sw_precache}};
    for (const auto& [n, f] : k_formats)
        if (n == name)
            return f;
    throw Error(ErrorKind::usage,
                "unknown export format \"" + std::string(name) + "\" (expected headers, nginx, caddy, s3 or sw-precache)");
}

std::vector<std::pair<std::string, std::size_t>>
disjoint_patterns(const std::vector<std::pair<std::string, std::size_t>>& given)
{
    auto urls = given;
    std::sort(urls.begin(), urls.end());
    std::vector<char> covered(urls.size(), 0);
    std::vector<std::pair<std::string, std::size_t>> out;
    if (!urls.empty())
        cover(urls, covered, "/", 0, urls.size(), out);
    std::sort(out.begin(), out.end());
    return out;
}

std::string export_manifest(ExportFormat format, const std::vector<AssetRecord>& records,
                            const ExportOptions& options)
{
    switch (format) {
    case ExportFormat::headers: return export_headers(records, options);
    case ExportFormat::nginx: return export_nginx(records, options);
    case ExportFormat::caddy: return export_caddy(records, options);
    case ExportFormat::s3: return export_s3(records, options);
    case ExportFormat::sw_precache: return export_sw_precache(records, options);
    }
    throw Error(ErrorKind::internal, "unknown export format");
}

} // namespace cachet
