#include "pipeline/export/served.hpp"

#include "pipeline/fs/glob.hpp"

#include <nlohmann/json.hpp>

namespace cachet::exporting {

std::string export_sw_precache(const std::vector<AssetRecord>& records, const ExportOptions& options)
{
    nlohmann::json list = nlohmann::json::array();
    std::vector<std::pair<std::string, const OutputFile*>> picked;
    for (const auto& r : records)
        for (const auto& o : r.outputs)
            if (!o.original && glob_match_any(options.precache, o.path) &&
                !glob_match_any(options.service_worker, o.path))
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

} // namespace cachet::exporting
