#include "pipeline/manifest.hpp"
#include "pipeline/manifest_json.hpp"

#include "pipeline/atomic_file.hpp"
#include "pipeline/error.hpp"
#include "pipeline/versions.hpp"

#include <nlohmann/json.hpp>

#include <cmath>

namespace cachet {

std::string cache_control_for(bool fingerprinted)
{
    return fingerprinted ? "public, max-age=31536000, immutable" : "no-cache";
}

namespace {

template <class Enum>
Enum enum_named(const std::string& name, std::initializer_list<Enum> values)
{
    for (const Enum e : values)
        if (to_string(e) == name)
            return e;
    throw std::invalid_argument("unknown value \"" + name + "\"");
}

} // namespace

AssetRecord record_from_json(const std::string& source, const nlohmann::json& a)
{
    AssetRecord r;
    r.source = source;
    r.kind = enum_named(a.at("kind").get<std::string>(), {AssetKind::image, AssetKind::text, AssetKind::passthrough});
    r.source_bytes = a.at("source").at("bytes").get<std::uint64_t>();
    r.source_digest = a.at("source").at("digest").get<std::string>();
    for (const auto& o : a.at("outputs")) {
        OutputFile out;
        out.path = o.at("path").get<std::string>();
        out.bytes = o.at("bytes").get<std::uint64_t>();
        out.content_type = o.at("content_type").get<std::string>();
        out.integrity = o.at("integrity").get<std::string>();
        out.cache_control = o.at("cache_control").get<std::string>();
        out.fingerprinted = o.at("fingerprinted").get<bool>();
        if (o.contains("format")) {
            out.format = enum_named(o.at("format").get<std::string>(),
                                    {ImageFormat::avif, ImageFormat::webp, ImageFormat::jpeg, ImageFormat::png,
                                     ImageFormat::gif});
            out.width = o.at("width").get<int>();
            out.height = o.at("height").get<int>();
            out.frames = o.value("frames", 1);
        }
        if (o.contains("quality"))
            out.quality = o.at("quality").get<int>();
        if (o.contains("butteraugli"))
            out.butteraugli = o.at("butteraugli").get<double>();
        for (const auto& e : o.value("encodings", nlohmann::json::array()))
            out.encodings.push_back({enum_named(e.at("encoding").get<std::string>(),
                                                {Encoding::zstd, Encoding::br, Encoding::gzip}),
                                     e.at("path").get<std::string>(), e.at("bytes").get<std::uint64_t>()});
        r.outputs.push_back(std::move(out));
    }
    if (a.contains("placeholder"))
        r.placeholder = Placeholder{a.at("placeholder").at("data_uri").get<std::string>(),
                                    a.at("placeholder").at("dominant_color").get<std::string>()};
    return r;
}

std::vector<AssetRecord> read_manifest(const std::filesystem::path& path)
{
    Bytes text;
    try {
        text = read_file(path);
    } catch (const Error& e) {
        throw Error(ErrorKind::config, e.what());
    }
    std::vector<AssetRecord> records;
    try {
        const auto doc = nlohmann::json::parse(text.begin(), text.end());
        const auto version = doc.at("version").get<int>();
        if (version != k_manifest_version)
            throw Error(ErrorKind::config, path.string() + ": manifest version " + std::to_string(version) +
                                               " is not supported (this cachet reads version " +
                                               std::to_string(k_manifest_version) + ")");
        for (const auto& [source, asset] : doc.at("assets").items())
            records.push_back(record_from_json(source, asset));
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        throw Error(ErrorKind::config, path.string() + ": not a valid cachet manifest: " + e.what());
    }
    return records;
}

nlohmann::json record_to_json(const AssetRecord& r)
{
    using nlohmann::json;
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
            if (o.frames > 1)
                out["frames"] = o.frames;
        }
        if (o.quality)
            out["quality"] = *o.quality;
        if (o.butteraugli) // three decimals: the same bytes on every machine that computes the same value
            out["butteraugli"] = std::round(*o.butteraugli * 1000.0) / 1000.0;
        if (r.kind == AssetKind::text) {
            json encodings = json::array();
            for (const auto& e : o.encodings)
                encodings.push_back({{"encoding", to_string(e.encoding)}, {"path", e.path}, {"bytes", e.bytes}});
            out["encodings"] = std::move(encodings);
        }
        outputs.push_back(std::move(out));
    }
    json asset = {{"kind", to_string(r.kind)},
                  {"source", {{"bytes", r.source_bytes}, {"digest", r.source_digest}}},
                  {"outputs", std::move(outputs)}};
    if (r.placeholder)
        asset["placeholder"] = {{"data_uri", r.placeholder->data_uri},
                                {"dominant_color", r.placeholder->dominant_color}};
    return asset;
}

std::string render_manifest(const std::vector<AssetRecord>& records, const Preset& preset)
{
    using nlohmann::json;
    json assets = json::object();
    for (const auto& r : records)
        assets[r.source] = record_to_json(r);
    const json doc = {{"version", k_manifest_version},
                      {"generator", "cachet " + cachet_version()},
                      {"preset", preset.name},
                      {"assets", std::move(assets)}};
    return doc.dump(2) + "\n";
}

} // namespace cachet
