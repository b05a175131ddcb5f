#pragma once
// What the exporters share (export/*.cpp): the files a server sends, their headers, and the
// quoting of each target's syntax. Not part of the library's interface.
#include "pipeline/export/export.hpp"

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cachet::exporting {

// The headers a server sends with one URL, beside Content-Type and Content-Encoding.
struct HeaderSet {
    std::string cache_control;
    std::string vary;
    std::vector<std::pair<std::string, std::string>> extra;
    auto operator<=>(const HeaderSet&) const = default; // NOLINT(modernize-use-nullptr): clang-tidy 14 misreads <=>

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
std::vector<Served> served_files(const std::vector<AssetRecord>& records, const ExportOptions& options);

std::string last_segment(std::string_view path);

// The extension of a URL's last segment, after its last '.', or nullopt.
std::optional<std::string> url_extension(std::string_view url);

// Groups equal header sets: the index of each file's set in sets.
std::vector<std::size_t> group_by_headers(const std::vector<Served>& files, std::vector<HeaderSet>& sets,
                                          bool with_vary);

// disjoint_patterns() over the sorted urls [lo, hi), all starting with prefix (a folder URL).
void cover(const std::vector<std::pair<std::string, std::size_t>>& urls, std::vector<char>& covered,
           const std::string& prefix, std::size_t lo, std::size_t hi,
           std::vector<std::pair<std::string, std::size_t>>& out);

// One aws CLI filter of an S3 upload command.
struct S3Filter {
    bool include = true; // --include, else --exclude
    std::string pattern; // Python fnmatch: '*' matches '/' too
};

// For objects (key, group of 0..groups-1): each group's filters, to follow --exclude '*',
// that make the aws CLI take that group's keys and no other key of objects: a folder, a
// folder's files of one extension, with or without a fingerprint before it, or the key itself.
// Checked by simulating the aws CLI on every key before they are returned.
std::vector<std::vector<S3Filter>> s3_filters(const std::vector<std::pair<std::string, std::size_t>>& objects,
                                              std::size_t groups);

// text in single quotes for a POSIX shell.
std::string shell_quote(std::string_view text);
// text in double quotes for nginx: '"' and '\' escaped.
std::string double_quote(std::string_view text);
// text in double quotes for a Caddyfile, whose lexer unescapes '\"' and nothing else.
std::string caddy_quote(std::string_view text);
// A regular expression (PCRE and Go RE2 alike) matching the _headers pattern exactly.
std::string pattern_regex(std::string_view pattern);

std::string url_of(std::string_view base, std::string_view path);

// Extensions of the served files, each with its content type (one table: content_type_for()).
std::map<std::string, std::string> content_types(const std::vector<Served>& files);

// For each fallback image output (JPEG, PNG, GIF): the modern formats of the same size that
// shipped, most preferred first, when at least one did.
std::map<std::string, std::vector<std::pair<ImageFormat, std::string>>>
negotiable_images(const std::vector<AssetRecord>& records);

// One exporter per file, each in export/<name>.cpp.
std::string export_headers(const std::vector<AssetRecord>& records, const ExportOptions& options);
std::string export_nginx(const std::vector<AssetRecord>& records, const ExportOptions& options);
std::string export_caddy(const std::vector<AssetRecord>& records, const ExportOptions& options);
std::string export_s3(const std::vector<AssetRecord>& records, const ExportOptions& options);
std::string export_sw_precache(const std::vector<AssetRecord>& records, const ExportOptions& options);

} // namespace cachet::exporting
