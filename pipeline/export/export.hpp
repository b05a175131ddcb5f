#pragma once
#include "pipeline/publish/manifest.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace cachet {

// What `cachet export` can write from a manifest.
enum class ExportFormat { headers, nginx, caddy, s3, sw_precache };

// The format named name ("headers", "nginx", "caddy", "s3", "sw-precache"); throws
// Error(usage) listing the names otherwise.
ExportFormat export_format_named(std::string_view name);

struct ExportOptions {
    std::string manifest_path = "cachet-manifest.json"; // the manifest's own path in OUT
    std::vector<std::string> manifest_parts;            // a manifest in parts': their paths in OUT
    std::string out_dir = "out";                        // s3: where the upload script finds OUT
    std::string base = "/";                             // headers, sw-precache: the URL OUT is served at
    std::vector<std::string> precache{"*.js", "*.mjs", "*.css", "*.html"}; // sw-precache: output globs
    // Service worker scripts (as output.service_worker): never precached; uploaded after pages.
    std::vector<std::string> service_worker{"sw.js", "service-worker.js"};
    // nginx, caddy: the fallback image URLs (an image's original URL among them) serve the AVIF
    // or WebP of the same size to browsers whose Accept header names it (with Vary: Accept).
    bool negotiate = true;
    // s3: one `aws s3 cp` per object instead of one `--recursive` copy per group of objects
    // with the same stored headers.
    bool s3_per_object = false;
};

// The text of format for the outputs of records (as read_manifest() gives them):
// - headers: a Netlify / Cloudflare Pages _headers file, one rule per group of URLs with the
//   same headers (throws Error(config) if it needs more than 100 rules or a line over 2,000
//   characters, Cloudflare's limits);
// - nginx: an include for a server block whose root is OUT (types, gzip_static and
//   brotli_static, headers per location);
// - caddy: a Caddyfile snippet for a site block whose root is OUT (file_server with
//   precompressed zstd br gzip, Content-Type and headers per matcher);
// - s3: a POSIX shell script of `aws s3 cp` commands, one per group of objects stored with the
//   same headers (include filters) or one per object, fingerprinted outputs first, then the
//   other files, HTML and service workers, and the manifest last;
// - sw-precache: a Workbox precache list [{url, revision, integrity}] as JSON.
// The same records and options always give the same bytes.
std::string export_manifest(ExportFormat format, const std::vector<AssetRecord>& records, const ExportOptions& options);

// Patterns in _headers' syntax ('/'-rooted, one '*' matching any characters, '/' included)
// covering each of urls exactly once, each pattern matching only urls of one group: the
// pattern and its group, sorted by pattern. urls are (URL path, group) pairs, paths distinct.
std::vector<std::pair<std::string, std::size_t>>
disjoint_patterns(const std::vector<std::pair<std::string, std::size_t>>& urls);

} // namespace cachet
