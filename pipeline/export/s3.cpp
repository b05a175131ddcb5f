#include "pipeline/export/served.hpp"

#include "pipeline/fs/glob.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace cachet::exporting {
namespace {

// One object of the plan: a file or an encoded variant, and everything S3 stores with it.
struct Upload {
    std::string path;
    int rank = 0; // the order of upload: see export_s3()
    std::string content_type;
    std::string encoding; // "" for the identity file
    const Served* served = nullptr;
};

// The headers S3 stores beside Content-Type and Content-Encoding, as aws s3 cp options;
// the others go to unsupported.
std::string header_options(const Served& f, std::set<std::string>& unsupported)
{
    std::string out = " --cache-control " + shell_quote(f.headers.cache_control);
    for (const auto& [name, value] : f.headers.extra) {
        std::string lower = name;
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
        if (lower == "content-disposition" || lower == "content-language" || lower == "expires")
            out += " --" + lower + " " + shell_quote(value);
        else
            unsupported.insert(name);
    }
    return out;
}

// text as an aws CLI filter that matches only itself (fnmatch: '*', '?' and '[' are special).
std::string literal_filter(std::string_view text)
{
    std::string out;
    for (const char c : text) {
        if (c == '*' || c == '?' || c == '[')
            out += std::string("[") + c + "]";
        else
            out += c;
    }
    return out;
}

} // namespace

std::string export_s3(const std::vector<AssetRecord>& records, const ExportOptions& options)
{
    const auto files = served_files(records, options);
    // Readers must never see a reference to an object not there yet: what is named by its
    // hash first, then other files, then HTML, then service workers, then the manifest; a
    // file's encoded variants before it.
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
    std::vector<Upload> uploads;
    for (const auto& f : files) {
        if (f.output)
            for (const auto& e : f.output->encodings)
                uploads.push_back({e.path, rank(f), f.content_type, std::string(to_string(e.encoding)), &f});
        uploads.push_back({f.path, rank(f), f.content_type, "", &f});
    }
    std::set<std::string> unsupported;
    std::string out = "#!/bin/sh\n"
                      "# S3 upload plan written by `cachet export s3`, for the aws CLI: each group of objects\n"
                      "# that S3 stores with the same Content-Type, Content-Encoding and Cache-Control goes up\n"
                      "# in one `aws s3 cp --recursive` with include filters (--per-object: one command each).\n"
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
                      "out=${CACHET_OUT:-" +
                      shell_quote(options.out_dir) +
                      "}\n"
                      "aws=${AWS:-aws}\n\n";
    const auto options_of = [&](const Upload& u) {
        std::string text = " --content-type " + shell_quote(u.content_type);
        if (!u.encoding.empty())
            text += " --content-encoding " + u.encoding;
        return text + header_options(*u.served, unsupported);
    };
    if (options.s3_per_object) {
        std::stable_sort(uploads.begin(), uploads.end(),
                         [](const Upload& a, const Upload& b) { return a.rank < b.rank; });
        for (const auto& u : uploads)
            out += "$aws s3 cp --only-show-errors \"$out\"/" + shell_quote(u.path) + " \"$dest\"/" +
                   shell_quote(u.path) + options_of(u) + " \"$@\"\n";
    } else {
        // Groups by (rank, variants before files, the options S3 stores); each group's files as
        // the fewest filters that match them and no other object of the plan: a folder, a
        // folder's files of one extension, or the file itself (as _headers rules are chosen).
        using Key = std::tuple<int, bool, std::string>;
        std::map<Key, std::size_t> ids;
        std::vector<Key> keys;
        std::vector<std::pair<std::string, std::size_t>> urls;
        for (const auto& u : uploads) {
            const Key key{u.rank, u.encoding.empty(), options_of(u)};
            const auto [it, inserted] = ids.try_emplace(key, keys.size());
            if (inserted)
                keys.push_back(key);
            urls.emplace_back("/" + u.path, it->second);
        }
        std::set<std::string> paths;
        for (const auto& [url, group] : urls)
            paths.insert(url);
        std::vector<std::vector<std::string>> filters(keys.size());
        for (const auto& [pattern, group] : disjoint_patterns(urls)) {
            if (paths.count(pattern)) {
                filters[group].push_back(literal_filter(pattern.substr(1)));
                continue;
            }
            const auto star = pattern.rfind('/') + 1; // a folder's "*" or "*.ext": the one wildcard
            filters[group].push_back(literal_filter(pattern.substr(1, star - 1)) + "*" +
                                     literal_filter(pattern.substr(star + 1)));
        }
        std::vector<std::size_t> order(keys.size());
        for (std::size_t i = 0; i < order.size(); ++i)
            order[i] = i;
        std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return keys[a] < keys[b]; });
        for (const std::size_t g : order) {
            out += "$aws s3 cp --only-show-errors --recursive \"$out\" \"$dest\" --exclude '*'";
            for (const auto& filter : filters[g])
                out += " \\\n    --include " + shell_quote(filter);
            out += " \\\n   " + std::get<2>(keys[g]) + " \"$@\"\n";
        }
    }
    if (!unsupported.empty()) {
        std::string names;
        for (const auto& n : unsupported)
            names += (names.empty() ? "" : ", ") + n;
        out += "# S3 cannot store these headers; set them at the CDN: " + names + "\n";
    }
    return out;
}

} // namespace cachet::exporting
