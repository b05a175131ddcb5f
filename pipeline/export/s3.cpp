#include "pipeline/export/served.hpp"

#include "pipeline/fs/glob.hpp"

#include <algorithm>
#include <fnmatch.h>
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

// The extension a filter names a key by: its last, or its last two when the last is an
// encoded variant's ("css.br"); "" for none.
std::string extension_of_key(std::string_view key)
{
    const auto slash = key.rfind('/');
    const std::string_view name = slash == std::string_view::npos ? key : key.substr(slash + 1);
    auto dot = name.rfind('.');
    if (dot == std::string_view::npos || dot == 0)
        return "";
    const std::string_view last = name.substr(dot + 1);
    if ((last == "zst" || last == "br" || last == "gz") && dot > 0) {
        const auto before = name.rfind('.', dot - 1);
        if (before != std::string_view::npos && before > 0)
            return std::string(name.substr(before + 1));
    }
    return std::string(last);
}

// Whether key's name ends with ".<length hex digits>.<ext>": a fingerprint before its extension.
bool hashed(std::string_view key, const std::string& ext, std::size_t length)
{
    const std::size_t tail = ext.size() + 1;
    if (ext.empty() || key.size() < tail + length + 1)
        return false;
    const std::string_view hash = key.substr(key.size() - tail - length, length);
    return key[key.size() - tail - length - 1] == '.' && std::all_of(hash.begin(), hash.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

// What the aws CLI does with a command's filters: everything, then --exclude '*', then each
// filter in turn, the last that matches deciding (Python's fnmatch: '*' matches '/' too, no
// backslash escapes).
bool uploads_key(const std::vector<S3Filter>& filters, const std::string& key)
{
    bool in = false;
    for (const auto& f : filters)
        if (fnmatch(f.pattern.c_str(), key.c_str(), FNM_NOESCAPE) == 0)
            in = f.include;
    return in;
}

} // namespace

std::vector<std::vector<S3Filter>> s3_filters(const std::vector<std::pair<std::string, std::size_t>>& objects,
                                              std::size_t groups)
{
    // The fingerprint's length: the most common run of hex digits before an extension.
    std::map<std::size_t, std::size_t> lengths;
    for (const auto& [key, group] : objects) {
        const std::string ext = extension_of_key(key);
        for (std::size_t n = 8; n <= 16; ++n)
            if (hashed(key, ext, n))
                ++lengths[n];
    }
    std::size_t length = 10;
    for (const auto& [n, count] : lengths)
        if (count > lengths[length])
            length = n;
    std::string hex;
    for (std::size_t i = 0; i < length; ++i)
        hex += "[0-9a-f]";
    // Each key's candidates, from the widest: under each of its folders (the root first), all;
    // those of its extension; those of its extension with a fingerprint, or without one (an
    // include, then an exclude of the fingerprinted). A key matches a candidate exactly when
    // it would generate it, so a candidate is usable for a group when every key generating it
    // is in that group.
    struct Candidate {
        std::vector<S3Filter> filters;
    };
    auto candidates = [&](const std::string& key) {
        std::vector<std::pair<std::string, Candidate>> out; // (identity, filters)
        const std::string ext = extension_of_key(key);
        const bool fingerprinted = hashed(key, ext, length);
        std::vector<std::string> prefixes{""};
        for (auto at = key.find('/'); at != std::string::npos; at = key.find('/', at + 1))
            prefixes.push_back(key.substr(0, at + 1));
        for (const auto& prefix : prefixes) {
            const std::string p = literal_filter(prefix);
            out.push_back({"A" + prefix, {{{true, p + "*"}}}});
            if (ext.empty())
                continue;
            const std::string e = literal_filter("." + ext);
            out.push_back({"E" + prefix + "\n" + ext, {{{true, p + "*" + e}}}});
            if (fingerprinted)
                out.push_back({"H" + prefix + "\n" + ext, {{{true, p + "*." + hex + e}}}});
            else
                out.push_back({"N" + prefix + "\n" + ext, {{{true, p + "*" + e}, {false, p + "*." + hex + e}}}});
        }
        return out;
    };
    constexpr std::size_t k_mixed = static_cast<std::size_t>(-1);
    std::map<std::string, std::size_t> owner; // candidate -> its one group, or k_mixed
    for (const auto& [key, group] : objects)
        for (const auto& [id, candidate] : candidates(key)) {
            const auto [it, inserted] = owner.try_emplace(id, group);
            if (!inserted && it->second != group)
                it->second = k_mixed;
        }
    std::vector<std::vector<S3Filter>> pairs(groups), singles(groups); // include+exclude pairs go first
    std::vector<std::set<std::string>> chosen(groups);
    for (const auto& [key, group] : objects) {
        bool done = false;
        for (const auto& [id, candidate] : candidates(key)) {
            if (owner[id] != group)
                continue;
            if (chosen[group].insert(id).second)
                for (const auto& f : candidate.filters)
                    (candidate.filters.size() > 1 ? pairs : singles)[group].push_back(f);
            done = true;
            break;
        }
        if (!done && chosen[group].insert("X" + key).second)
            singles[group].push_back({true, literal_filter(key)});
    }
    std::vector<std::vector<S3Filter>> out(groups);
    for (std::size_t g = 0; g < groups; ++g) {
        out[g] = pairs[g];
        out[g].insert(out[g].end(), singles[g].begin(), singles[g].end());
    }
    // Checked as the aws CLI will run them: each object by its own group's command only. A
    // group that fails (it should not) lists its keys one by one.
    std::vector<char> wrong(groups, 0);
    for (const auto& [key, group] : objects)
        for (std::size_t g = 0; g < groups; ++g)
            if (uploads_key(out[g], key) != (g == group))
                wrong[g] = wrong[group] = 1;
    for (std::size_t g = 0; g < groups; ++g)
        if (wrong[g])
            out[g].clear();
    for (const auto& [key, group] : objects)
        if (wrong[group])
            out[group].push_back({true, literal_filter(key)});
    return out;
}

std::string export_s3(const std::vector<AssetRecord>& records, const ExportOptions& options)
{
    const auto files = served_files(records, options);
    // Readers must never see a reference to an object not there yet: what is named by its
    // hash first, then other files, then HTML, then service workers, then the manifest's parts,
    // then the manifest; a file's encoded variants before it.
    auto rank = [&](const Served& f) {
        if (!f.output)
            return f.path == options.manifest_path ? 5 : 4;
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
                      "# then the manifest's parts if it has any, then the manifest, so that no reader ever sees a\n"
                      "# reference to a missing object.\n"
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
        // few aws filters as match them and no other object of the plan (s3_filters()).
        using Key = std::tuple<int, bool, std::string>;
        std::map<Key, std::size_t> ids;
        std::vector<Key> keys;
        std::vector<std::pair<std::string, std::size_t>> objects;
        for (const auto& u : uploads) {
            const Key key{u.rank, u.encoding.empty(), options_of(u)};
            const auto [it, inserted] = ids.try_emplace(key, keys.size());
            if (inserted)
                keys.push_back(key);
            objects.emplace_back(u.path, it->second);
        }
        const std::vector<std::vector<S3Filter>> filters = s3_filters(objects, keys.size());
        std::vector<std::size_t> order(keys.size());
        for (std::size_t i = 0; i < order.size(); ++i)
            order[i] = i;
        std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return keys[a] < keys[b]; });
        for (const std::size_t g : order) {
            out += "$aws s3 cp --only-show-errors --recursive \"$out\" \"$dest\" --exclude '*'";
            for (const auto& filter : filters[g])
                out += std::string(" \\\n    ") + (filter.include ? "--include " : "--exclude ") +
                       shell_quote(filter.pattern);
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
