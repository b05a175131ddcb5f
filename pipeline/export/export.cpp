#include "pipeline/export/export.hpp"

#include "pipeline/export/served.hpp"
#include "pipeline/model/error.hpp"

#include <algorithm>

namespace cachet {
namespace {

// The exporters: a new one is a file in export/ and a row here.
struct Exporter {
    std::string_view name;
    ExportFormat format;
    std::string (*write)(const std::vector<AssetRecord>& records, const ExportOptions& options);
};

constexpr Exporter k_exporters[] = {
    {"headers", ExportFormat::headers, exporting::export_headers},
    {"nginx", ExportFormat::nginx, exporting::export_nginx},
    {"caddy", ExportFormat::caddy, exporting::export_caddy},
    {"s3", ExportFormat::s3, exporting::export_s3},
    {"sw-precache", ExportFormat::sw_precache, exporting::export_sw_precache},
};

} // namespace

ExportFormat export_format_named(std::string_view name)
{
    for (const auto& e : k_exporters)
        if (e.name == name)
            return e.format;
    throw Error(ErrorKind::usage, "unknown export format \"" + std::string(name) +
                                      "\" (expected headers, nginx, caddy, s3 or sw-precache)");
}

std::vector<std::pair<std::string, std::size_t>>
disjoint_patterns(const std::vector<std::pair<std::string, std::size_t>>& given)
{
    auto urls = given;
    std::sort(urls.begin(), urls.end());
    std::vector<char> covered(urls.size(), 0);
    std::vector<std::pair<std::string, std::size_t>> out;
    if (!urls.empty())
        exporting::cover(urls, covered, "/", 0, urls.size(), out);
    std::sort(out.begin(), out.end());
    return out;
}

std::string export_manifest(ExportFormat format, const std::vector<AssetRecord>& records, const ExportOptions& options)
{
    for (const auto& e : k_exporters)
        if (e.format == format)
            return e.write(records, options);
    throw Error(ErrorKind::internal, "unknown export format");
}

} // namespace cachet
