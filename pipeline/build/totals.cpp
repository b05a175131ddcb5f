#include "pipeline/build/totals.hpp"

#include "pipeline/model/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace cachet {

void Totals::add(const Asset& asset, const AssetResult& result, Summary& summary)
{
    Kind& kind = m_kinds[static_cast<std::size_t>(asset.kind)];
    ++kind.totals.assets;
    kind.totals.bytes_in += asset.bytes;
    if (result.status == AssetResult::Status::failed) {
        ++kind.totals.failed;
        summary.failures.emplace_back(asset.path, result.message);
        return;
    }
    for (const auto& w : result.warnings)
        summary.warnings.emplace_back(asset.path, w);
    if (result.status == AssetResult::Status::cached)
        ++kind.totals.cached;
    if (asset.kind == AssetKind::image) {
        const bool modern = std::any_of(result.record.outputs.begin(), result.record.outputs.end(),
                                        [](const OutputFile& o) { return o.format && info(*o.format).modern; });
        ++(modern ? summary.images_modern : summary.images_not_modern);
    }
    for (const auto& o : result.record.outputs) {
        if (o.original) {
            FormatTotals& f = kind.outputs[k_originals];
            ++f.files;
            f.bytes += o.bytes;
            for (const auto& e : o.encodings)
                f.bytes += e.bytes;
            continue;
        }
        FormatTotals& f = kind.outputs[o.format ? static_cast<std::size_t>(*o.format) : k_identity];
        ++f.files;
        f.bytes += o.bytes;
        for (const auto& e : o.encodings) {
            FormatTotals& enc = kind.outputs[k_identity + 1 + static_cast<std::size_t>(e.encoding)];
            ++enc.files;
            enc.bytes += e.bytes;
        }
    }
}

void Totals::name(Summary& summary) const
{
    for (std::size_t k = 0; k < m_kinds.size(); ++k) {
        const Kind& kind = m_kinds[k];
        if (kind.totals.assets == 0)
            continue;
        KindTotals& totals = summary.kinds[std::string(to_string(static_cast<AssetKind>(k)))];
        totals = kind.totals;
        for (std::size_t o = 0; o < kind.outputs.size(); ++o) {
            if (kind.outputs[o].files == 0)
                continue;
            const std::string_view output_name = o < k_identity    ? to_string(static_cast<ImageFormat>(o))
                                                 : o == k_identity ? std::string_view("identity")
                                                 : o == k_originals
                                                     ? std::string_view("originals")
                                                     : to_string(static_cast<Encoding>(o - k_identity - 1));
            totals.outputs[std::string(output_name)] = kind.outputs[o];
        }
    }
}

std::string last_build_json(const Summary& summary)
{
    std::uint64_t built = 0, cached = 0;
    std::string kinds;
    for (const auto& [kind, t] : summary.kinds) {
        built += t.built();
        cached += t.cached;
        kinds += (kinds.empty() ? "" : ", ") + ("\"" + kind + "\": {\"built\": " + std::to_string(t.built()) +
                                                ", \"cached\": " + std::to_string(t.cached) + "}");
    }
    return "{\"built\": " + std::to_string(built) + ", \"cached\": " + std::to_string(cached) + ", \"kinds\": {" +
           kinds + "}" + (summary.remote ? ", \"remote\": " + remote_stats_json(*summary.remote) : "") + "}\n";
}

std::string remote_stats_json(const RemoteStats& s)
{
    nlohmann::json problems = nlohmann::json::array();
    for (const auto& p : s.problems)
        problems.push_back(printable(p));
    return nlohmann::json{{"hits", s.hits},         {"misses", s.misses},         {"damaged", s.damaged},
                          {"errors", s.errors},     {"timeouts", s.timeouts},     {"uploads", s.uploads},
                          {"bytes_up", s.bytes_up}, {"bytes_down", s.bytes_down}, {"problems", problems}}
        .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace cachet
