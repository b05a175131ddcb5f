#include "pipeline/manifest.hpp"

#include "pipeline/versions.hpp"

#include <nlohmann/json.hpp>

namespace cachet {

std::string cache_control_for(bool fingerprinted)
{
    return fingerprinted ? "public, max-age=31536000, immutable" : "no-cache";
}

std::string render_manifest(const std::vector<AssetRecord>& records, const Preset& preset)
{
    using nlohmann::json;
    json assets = json::object();
    for (const auto& r : records) {
        json outputs = json::array();
        for (const auto& o : r.outputs) {
            json out = {{"path", o.path},
                        {"bytes", o.bytes},
                        {"content_type", o.content_type},
                        {"integrity", o.integrity},
                        {"cache_control", o.cache_control},
                        {"fingerprinted", o.fingerprinted}};
            if (o.format) {
                out["format"] = to_string(*o.format);
                out["width"] = o.width;
                out["height"] = o.height;
            }
            if (r.kind == AssetKind::text) {
                json encodings = json::array();
                for (const auto& e : o.encodings)
                    encodings.push_back({{"encoding", to_string(e.encoding)}, {"path", e.path}, {"bytes", e.bytes}});
                out["encodings"] = std::move(encodings);
            }
            outputs.push_back(std::move(out));
        }
        assets[r.source] = {{"kind", to_string(r.kind)},
                            {"source", {{"bytes", r.source_bytes}, {"digest", r.source_digest}}},
                            {"outputs", std::move(outputs)}};
        if (r.placeholder)
            assets[r.source]["placeholder"] = {{"data_uri", r.placeholder->data_uri},
                                               {"dominant_color", r.placeholder->dominant_color}};
    }
    const json doc = {{"version", k_manifest_version},
                      {"generator", "cachet " + cachet_version()},
                      {"preset", preset.name},
                      {"assets", std::move(assets)}};
    return doc.dump(2) + "\n";
}

} // namespace cachet
