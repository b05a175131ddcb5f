#include "pipeline/publish/manifest.hpp"

#include "pipeline/fs/atomic_file.hpp"
#include "pipeline/model/error.hpp"
#include "pipeline/model/hash.hpp"
#include "pipeline/model/version.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace cachet {

namespace {
constexpr std::size_t k_build_id_length = 20; // hex digits of SHA-256
}

namespace {

template <class Values>
typename Values::value_type enum_named(const std::string& name, const Values& values)
{
    using Enum = typename Values::value_type;
    for (const Enum e : values)
        if (to_string(e) == name)
            return e;
    throw std::invalid_argument("unknown value \"" + name + "\"");
}

// path, a path of the manifest: throws std::invalid_argument unless it is a relative path that
// stays inside its folder and holds no control character (what exports and markup write out).
const std::string& checked_path(const std::string& path)
{
    if (has_control_character(path))
        throw std::invalid_argument("the path \"" + printable(path, 80) + "\" has a control character");
    bool inside = !path.empty() && path.front() != '/';
    for (std::size_t start = 0; inside && start <= path.size();) {
        const std::size_t slash = std::min(path.find('/', start), path.size());
        const std::string_view segment(path.data() + start, slash - start);
        inside = !segment.empty() && segment != "." && segment != "..";
        start = slash + 1;
    }
    if (!inside)
        throw std::invalid_argument("the path \"" + printable(path, 80) + "\" is not a relative path inside OUT");
    return path;
}

// The record for source from its manifest JSON; throws std::exception if a field is missing or
// has the wrong type.
AssetRecord record_from_json(const std::string& source, const nlohmann::json& a)
{
    AssetRecord r;
    r.source = checked_path(source);
    r.kind = enum_named(a.at("kind").get<std::string>(),
                        std::initializer_list<AssetKind>{AssetKind::image, AssetKind::text, AssetKind::passthrough});
    r.source_bytes = a.at("source").at("bytes").get<std::uint64_t>();
    r.source_digest = a.at("source").at("digest").get<std::string>();
    for (const auto& o : a.at("outputs")) {
        OutputFile out;
        out.path = checked_path(o.at("path").get<std::string>());
        out.bytes = o.at("bytes").get<std::uint64_t>();
        out.content_type = o.at("content_type").get<std::string>();
        out.integrity = o.at("integrity").get<std::string>();
        out.cache_control = o.at("cache_control").get<std::string>();
        out.fingerprinted = o.at("fingerprinted").get<bool>();
        out.original = o.value("original", false); // absent from older manifests
        out.etag = o.value("etag", std::string()); // absent from manifests before cachet 0.5
        out.vary = o.value("vary", std::string());
        if (const auto headers = o.find("headers"); headers != o.end())
            for (const auto& [name, value] : headers->items())
                out.headers.emplace_back(name, value.get<std::string>());
        if (o.contains("format")) {
            const auto name = o.at("format").get<std::string>();
            out.format = image_format_named(name);
            if (!out.format)
                throw std::invalid_argument("unknown value \"" + name + "\"");
            out.width = o.at("width").get<int>();
            out.height = o.at("height").get<int>();
            out.frames = o.value("frames", 1);
        }
        if (o.contains("quality"))
            out.quality = o.at("quality").get<int>();
        if (o.contains("butteraugli"))
            out.butteraugli = o.at("butteraugli").get<double>();
        for (const auto& e : o.value("encodings", nlohmann::json::array()))
            out.encodings.push_back({enum_named(e.at("encoding").get<std::string>(), k_encodings),
                                     checked_path(e.at("path").get<std::string>()), e.at("bytes").get<std::uint64_t>(),
                                     e.value("etag", std::string())});
        r.outputs.push_back(std::move(out));
    }
    if (a.contains("placeholder"))
        r.placeholder = Placeholder{a.at("placeholder").at("data_uri").get<std::string>(),
                                    a.at("placeholder").at("dominant_color").get<std::string>()};
    return r;
}

} // namespace

std::vector<AssetRecord> read_manifest(const std::filesystem::path& path, ManifestHead* head)
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
        if (head) {
            head->preset = doc.value("preset", std::string("default"));
            head->build_id = doc.contains("build_id") ? doc.at("build_id").get<std::string>()
                                                      : sha256_hex(text).substr(0, k_build_id_length);
            head->generations.clear();
            for (const auto& g : doc.value("generations", nlohmann::json::array()))
                head->generations.push_back(
                    {g.at("build_id").get<std::string>(), g.at("outputs").get<std::vector<std::string>>()});
        }
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        throw Error(ErrorKind::config, path.string() + ": not a valid cachet manifest: " + e.what());
    }
    return records;
}

namespace {

// The manifest's "assets" value for record (everything but its source path, the key).
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
                    {"etag", o.etag},
                    {"fingerprinted", o.fingerprinted},
                    {"original", o.original}};
        if (!o.headers.empty()) {
            json headers = json::object();
            for (const auto& [name, value] : o.headers)
                headers[name] = value;
            out["headers"] = std::move(headers);
        }
        if (!o.vary.empty())
            out["vary"] = o.vary;
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
                encodings.push_back(
                    {{"encoding", to_string(e.encoding)}, {"path", e.path}, {"bytes", e.bytes}, {"etag", e.etag}});
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

} // namespace

AssetRecord parse_record(const std::string& source, std::string_view json_text)
{
    return record_from_json(source, nlohmann::json::parse(json_text));
}

std::string manifest_fragment(const AssetRecord& record)
{
    const std::string text = record_to_json(record).dump(2);
    std::string out;
    out.reserve(text.size() + text.size() / 8);
    for (const char c : text) {
        out += c;
        if (c == '\n') // JSON strings never hold a raw newline: this is a line break of dump()
            out += "    ";
    }
    return out;
}

std::string build_id_of(const std::vector<ManifestEntry>& entries)
{
    std::string lines;
    std::size_t size = 0;
    for (const auto& e : entries)
        size += e.source.size() + 66;
    lines.reserve(size);
    for (const auto& e : entries) {
        lines += e.source;
        lines += '\0';
        lines += e.digest.empty() ? sha256_hex(as_bytes(e.fragment)) : std::string(e.digest);
        lines += '\n';
    }
    return sha256_hex(as_bytes(lines)).substr(0, k_build_id_length);
}

std::string render_manifest(const std::vector<AssetRecord>& records, const Preset& preset,
                            const std::vector<Generation>& generations)
{
    std::vector<std::string> fragments;
    fragments.reserve(records.size());
    for (const auto& r : records)
        fragments.push_back(manifest_fragment(r));
    std::vector<ManifestEntry> entries;
    for (std::size_t i = 0; i < records.size(); ++i)
        entries.push_back({records[i].source, fragments[i], {}});
    return render_manifest(std::move(entries), preset, generations);
}

std::string render_manifest(std::vector<ManifestEntry> fragments, const Preset& preset,
                            const std::vector<Generation>& generations)
{
    std::string out;
    render_manifest(out, std::move(fragments), preset, generations);
    return out;
}

void render_manifest(std::string& out, std::vector<ManifestEntry> fragments, const Preset& preset,
                     const std::vector<Generation>& generations)
{
    // What nlohmann::json's dump(2) of {"assets", "generator", "preset", "version"} gives, keys
    // sorted byte-wise, with each asset's value pasted in; tests/test_manifest.cpp checks that.
    auto by_source = [](const ManifestEntry& a, const ManifestEntry& b) { return a.source < b.source; };
    if (!std::is_sorted(fragments.begin(), fragments.end(), by_source)) // run() gives them in SRC order
        std::sort(fragments.begin(), fragments.end(), by_source);
    std::size_t size = 128;
    for (const auto& f : fragments)
        size += f.source.size() + f.fragment.size() + 16;
    out.clear();
    out.reserve(size);
    out += "{\n  \"assets\": ";
    if (fragments.empty()) {
        out += "{}";
    } else {
        out += "{\n";
        for (std::size_t i = 0; i < fragments.size(); ++i) {
            out += "    ";
            const std::string_view key = fragments[i].source;
            if (std::all_of(key.begin(), key.end(),
                            [](char c) { return static_cast<unsigned char>(c) >= 0x20 && c != '"' && c != '\\'; })) {
                out += '"'; // nothing to escape: what dump() would write
                out += key;
                out += '"';
            } else {
                out += nlohmann::json(std::string(key)).dump();
            }
            out += ": ";
            out += fragments[i].fragment;
            out += i + 1 < fragments.size() ? ",\n" : "\n";
        }
        out += "  }";
    }
    out += ",\n  \"build_id\": \"" + build_id_of(fragments) + "\"";
    out += ",\n  \"generations\": ";
    if (generations.empty()) {
        out += "[]";
    } else {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& g : generations)
            list.push_back({{"build_id", g.build_id}, {"outputs", g.outputs}});
        for (const char c : list.dump(2)) {
            out += c;
            if (c == '\n')
                out += "  ";
        }
    }
    out += ",\n  \"generator\": " + nlohmann::json("cachet " + cachet_version()).dump();
    out += ",\n  \"preset\": " + nlohmann::json(preset.name).dump();
    out += ",\n  \"version\": " + std::to_string(k_manifest_version) + "\n}\n";
}

} // namespace cachet
