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

// A number of the manifest: an integer (1.0 and 1e30 are not) from lo to hi.
template <class Int>
Int integer(const nlohmann::json& value, Int lo, Int hi)
{
    if (!value.is_number_integer())
        throw std::invalid_argument("the value " + printable(value.dump(), 40) + " is not an integer");
    if (value.is_number_unsigned() ? value.get<std::uint64_t>() > static_cast<std::uint64_t>(hi)
                                   : value.get<std::int64_t>() < static_cast<std::int64_t>(lo) ||
                                         value.get<std::int64_t>() > static_cast<std::int64_t>(hi))
        throw std::invalid_argument("the value " + value.dump() + " is out of range");
    return static_cast<Int>(value.is_number_unsigned() ? static_cast<std::int64_t>(value.get<std::uint64_t>())
                                                       : value.get<std::int64_t>());
}

constexpr std::uint64_t k_max_bytes = std::uint64_t{1} << 50; // far beyond any file cachet writes
constexpr int k_max_side = 1 << 24;

std::uint64_t byte_count(const nlohmann::json& value)
{
    return integer<std::uint64_t>(value, 0, k_max_bytes);
}

// A string of the manifest that exports write out: no control character in it.
std::string string_of(const nlohmann::json& value)
{
    std::string s = value.get<std::string>();
    if (has_control_character(s))
        throw std::invalid_argument("the value \"" + printable(s, 80) + "\" has a control character");
    return s;
}

// The record for source from its manifest JSON; throws std::exception if a field is missing,
// has the wrong type, or is out of range.
AssetRecord record_from_json(const std::string& source, const nlohmann::json& a)
{
    AssetRecord r;
    r.source = checked_path(source);
    r.kind = enum_named(a.at("kind").get<std::string>(),
                        std::initializer_list<AssetKind>{AssetKind::image, AssetKind::text, AssetKind::passthrough});
    r.source_bytes = byte_count(a.at("source").at("bytes"));
    r.source_digest = string_of(a.at("source").at("digest"));
    for (const auto& o : a.at("outputs")) {
        OutputFile out;
        out.path = checked_path(o.at("path").get<std::string>());
        out.bytes = byte_count(o.at("bytes"));
        out.content_type = string_of(o.at("content_type"));
        out.integrity = string_of(o.at("integrity"));
        out.cache_control = string_of(o.at("cache_control"));
        out.fingerprinted = o.at("fingerprinted").get<bool>();
        out.original = o.value("original", false); // absent from older manifests
        out.etag =
            o.contains("etag") ? string_of(o.at("etag")) : std::string(); // absent from manifests before cachet 0.5
        out.vary = o.contains("vary") ? string_of(o.at("vary")) : std::string();
        if (const auto headers = o.find("headers"); headers != o.end())
            for (const auto& [name, value] : headers->items())
                out.headers.emplace_back(string_of(name), string_of(value));
        if (o.contains("format")) {
            const auto name = o.at("format").get<std::string>();
            out.format = image_format_named(name);
            if (!out.format)
                throw std::invalid_argument("unknown value \"" + name + "\"");
            out.width = integer(o.at("width"), 1, k_max_side);
            out.height = integer(o.at("height"), 1, k_max_side);
            out.frames = o.contains("frames") ? integer(o.at("frames"), 1, 1 << 20) : 1;
        }
        if (o.contains("quality"))
            out.quality = integer(o.at("quality"), 0, 100);
        if (o.contains("butteraugli"))
            out.butteraugli = o.at("butteraugli").get<double>(); // JSON has no NaN or infinity
        for (const auto& e : o.value("encodings", nlohmann::json::array()))
            out.encodings.push_back({enum_named(e.at("encoding").get<std::string>(), k_encodings),
                                     checked_path(e.at("path").get<std::string>()), byte_count(e.at("bytes")),
                                     e.contains("etag") ? string_of(e.at("etag")) : std::string()});
        r.outputs.push_back(std::move(out));
    }
    if (a.contains("placeholder"))
        r.placeholder = Placeholder{string_of(a.at("placeholder").at("data_uri")),
                                    string_of(a.at("placeholder").at("dominant_color"))};
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
    ManifestHead own;
    ManifestHead& top = head ? *head : own;
    std::vector<AssetRecord> records = parse_manifest(as_text(text), path.string(), &top);
    if (top.parts.empty())
        return records;
    // A manifest in parts: each part whole, as the top describes it, in source order.
    const std::filesystem::path folder = path.parent_path();
    const std::string name = path.string();
    for (std::size_t i = 0; i < top.parts.size(); ++i) {
        const ManifestPart& part = top.parts[i];
        const std::string part_name = (folder / part.path).string();
        auto wrong = [&](const std::string& why) {
            return Error(ErrorKind::config, name + ": its part " + printable(part_name) + " " + why);
        };
        Bytes bytes;
        try {
            bytes = read_file(folder / part.path);
        } catch (const Error& e) {
            throw wrong("cannot be read: " + std::string(e.what()));
        }
        if (bytes.size() != part.bytes)
            throw wrong("is " + std::to_string(bytes.size()) + " bytes, not the " + std::to_string(part.bytes) +
                        " the manifest says");
        if (sri_sha384(bytes) != part.integrity)
            throw wrong("does not match its integrity in the manifest");
        ManifestHead inner;
        std::vector<AssetRecord> held = parse_manifest(as_text(bytes), part_name, &inner);
        if (!inner.parts.empty())
            throw wrong("names parts itself");
        if (held.size() != part.sources || held.empty() || held.front().source != part.first ||
            held.back().source != part.last)
            throw wrong("does not hold the sources the manifest says (" + std::to_string(part.sources) + ", from \"" +
                        printable(part.first, 80) + "\" to \"" + printable(part.last, 80) + "\")");
        if (!records.empty() && !(records.back().source < held.front().source))
            throw wrong("is out of source order");
        records.insert(records.end(), std::make_move_iterator(held.begin()), std::make_move_iterator(held.end()));
    }
    return records;
}

std::vector<AssetRecord> parse_manifest(std::string_view text, const std::string& name, ManifestHead* head)
{
    std::vector<AssetRecord> records;
    try {
        const auto doc = nlohmann::json::parse(text.begin(), text.end());
        const auto version = integer(doc.at("version"), 0, 1 << 20); // 1.0 is not a version
        if (version < k_oldest_manifest_version || version > k_newest_manifest_version)
            throw Error(ErrorKind::config, name + ": manifest version " + std::to_string(version) +
                                               " is not supported (this cachet reads versions " +
                                               std::to_string(k_oldest_manifest_version) + " to " +
                                               std::to_string(k_newest_manifest_version) + ")");
        std::vector<ManifestPart> parts;
        if (version == k_manifest_parts_version && doc.contains("parts")) { // the top of a manifest in parts
            if (doc.contains("assets"))
                throw std::invalid_argument("it has both \"assets\" and \"parts\"");
            for (const auto& p : doc.at("parts"))
                parts.push_back(ManifestPart{checked_path(p.at("path").get<std::string>()), byte_count(p.at("bytes")),
                                             string_of(p.at("integrity")),
                                             checked_path(p.at("first").get<std::string>()),
                                             checked_path(p.at("last").get<std::string>()),
                                             integer<std::uint64_t>(p.at("sources"), 1, k_max_bytes)});
        } else {
            for (const auto& [source, asset] : doc.at("assets").items())
                records.push_back(record_from_json(source, asset));
        }
        if (head) {
            head->preset = doc.contains("preset") ? string_of(doc.at("preset")) : std::string("default");
            head->build_id = doc.contains("build_id") ? string_of(doc.at("build_id"))
                                                      : sha256_hex(as_bytes(text)).substr(0, k_build_id_length);
            head->generations.clear();
            for (const auto& g : doc.value("generations", nlohmann::json::array())) {
                Generation generation{string_of(g.at("build_id")), {}};
                for (const auto& output : g.at("outputs")) // retention deletes these: inside OUT only
                    generation.outputs.push_back(checked_path(output.get<std::string>()));
                head->generations.push_back(std::move(generation));
            }
            head->parts = std::move(parts);
        }
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        throw Error(ErrorKind::config, name + ": not a valid cachet manifest: " + printable(e.what()));
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

std::string manifest_fragment(const AssetRecord& record, std::string_view base)
{
    nlohmann::json asset = record_to_json(record);
    if (const OutputFile* o = output_for_url(record)) {
        std::string url(base);
        if (url.empty() || url.back() != '/')
            url += '/';
        asset["url"] = url + percent_encoded(o->path);
    }
    return asset.dump();
}

std::string record_json(const AssetRecord& record)
{
    return record_to_json(record).dump();
}

std::string render_manifest(const std::vector<AssetRecord>& records, const Preset& preset,
                            const std::vector<Generation>& generations)
{
    std::vector<std::string> fragments;
    fragments.reserve(records.size());
    for (const auto& r : records)
        fragments.push_back(manifest_fragment(r, preset.references.base));
    std::vector<ManifestEntry> entries;
    for (std::size_t i = 0; i < records.size(); ++i)
        entries.push_back({records[i].source, fragments[i], {}});
    return render_manifest(std::move(entries), preset, generations);
}

std::string render_manifest(std::vector<ManifestEntry> fragments, const Preset& preset,
                            const std::vector<Generation>& generations)
{
    ManifestText out;
    render_manifest(out, std::move(fragments), preset, generations);
    return out.joined();
}

void ManifestText::clear()
{
    m_pieces.clear();
    m_held.clear();
    m_views.clear();
    m_size = 0;
}

void ManifestText::view(std::string_view text)
{
    if (!text.empty())
        m_pieces.push_back({text.data(), text.size()});
    m_size += text.size();
}

void ManifestText::copy(std::string_view text)
{
    if (text.empty())
        return;
    if (!m_pieces.empty() && m_pieces.back().data == nullptr) // one piece with the last
        m_pieces.back().size += text.size();
    else
        m_pieces.push_back({nullptr, text.size()});
    m_held += text;
    m_size += text.size();
}

void ManifestText::finish()
{
    m_views.clear();
    m_views.reserve(m_pieces.size());
    std::size_t held = 0;
    for (const Piece& p : m_pieces) {
        m_views.emplace_back(p.data ? p.data : m_held.data() + held, p.size);
        held += p.data ? 0 : p.size;
    }
}

std::string ManifestText::joined() const
{
    std::string out;
    out.reserve(m_size);
    for (const std::string_view piece : m_views)
        out += piece;
    return out;
}

bool ManifestText::operator==(std::string_view bytes) const
{
    if (bytes.size() != m_size)
        return false;
    std::size_t at = 0;
    for (const std::string_view piece : m_views) {
        if (bytes.substr(at, piece.size()) != piece)
            return false;
        at += piece.size();
    }
    return true;
}

namespace {

// append_assets() into one string (a ManifestText is the other place it writes to).
struct StringSink {
    std::string& out;
    void view(std::string_view text) { out += text; }
    void copy(std::string_view text) { out += text; }
};

// The document's opening and its "assets" member, one line per asset: '{"assets":{...}'.
template <typename Sink>
void append_assets(Sink& out, const ManifestEntry* begin, const ManifestEntry* end)
{
    out.view("{\"assets\":{");
    for (const ManifestEntry* e = begin; e != end; ++e) {
        out.copy(e == begin ? "\n\"" : ",\n\"");
        const std::string_view key = e->source;
        if (std::all_of(key.begin(), key.end(),
                        [](char c) { return static_cast<unsigned char>(c) >= 0x20 && c != '"' && c != '\\'; })) {
            out.copy(key); // nothing to escape: what dump() would write
        } else {
            const std::string quoted = nlohmann::json(std::string(key)).dump();
            out.copy(std::string_view(quoted).substr(1, quoted.size() - 2));
        }
        out.copy("\":");
        out.view(e->fragment);
    }
    out.view(begin == end ? "}" : "\n}");
}

std::size_t rendered_size(const ManifestEntry* begin, const ManifestEntry* end)
{
    std::size_t size = 256;
    for (const ManifestEntry* e = begin; e != end; ++e)
        size += e->source.size() + e->fragment.size() + 8;
    return size;
}

// The members after "assets"/"parts": generations, generator, preset, version.
void append_tail(std::string& out, const Preset& preset, const std::vector<Generation>& generations, int version)
{
    nlohmann::json list = nlohmann::json::array();
    for (const auto& g : generations)
        list.push_back({{"build_id", g.build_id}, {"outputs", g.outputs}});
    out += ",\"generations\":" + list.dump();
    out += ",\"generator\":" + nlohmann::json("cachet " + cachet_version()).dump();
    out += ",\"preset\":" + nlohmann::json(preset.name).dump();
    out += ",\"version\":" + std::to_string(version) + "}\n";
}

} // namespace

std::string render_manifest(ManifestText& out, std::vector<ManifestEntry> fragments, const Preset& preset,
                            const std::vector<Generation>& generations)
{
    // What nlohmann::json's dump() of {"assets", "build_id", "generations", "generator", "preset",
    // "version"} gives, keys sorted byte-wise, with each asset's value pasted in on a line of its
    // own; tests/test_manifest.cpp checks that.
    auto by_source = [](const ManifestEntry& a, const ManifestEntry& b) { return a.source < b.source; };
    if (!std::is_sorted(fragments.begin(), fragments.end(), by_source)) // run() gives them in SRC order
        std::sort(fragments.begin(), fragments.end(), by_source);
    const ManifestEntry* begin = fragments.data();
    const ManifestEntry* end = begin + fragments.size();
    out.clear();
    append_assets(out, begin, end);
    std::string build_id = build_id_of(fragments);
    out.copy(manifest_tail(build_id, preset, generations));
    out.finish();
    return build_id;
}

std::string manifest_tail(const std::string& build_id, const Preset& preset, const std::vector<Generation>& generations)
{
    std::string out = ",\"build_id\":\"" + build_id + "\"";
    append_tail(out, preset, generations, k_manifest_version);
    return out;
}

std::string manifest_parts_folder(std::string_view manifest_name)
{
    std::string folder(manifest_name);
    const std::size_t slash = folder.rfind('/');
    if (folder.ends_with(".json") && folder.size() - 5 > (slash == std::string::npos ? 0 : slash + 1))
        folder.resize(folder.size() - 5);
    folder = slash == std::string::npos ? folder : folder.substr(slash + 1);
    return folder + ".parts";
}

void render_manifest_part(std::string& out, const ManifestEntry* begin, const ManifestEntry* end)
{
    out.clear();
    out.reserve(rendered_size(begin, end));
    StringSink sink{out};
    append_assets(sink, begin, end);
    out += ",\"version\":" + std::to_string(k_manifest_parts_version) + "}\n";
}

std::string render_manifest_top(const std::vector<ManifestPart>& parts, const std::string& build_id,
                                const Preset& preset, const std::vector<Generation>& generations)
{
    std::string out = "{\"build_id\":\"" + build_id + "\"";
    std::string list;
    for (const ManifestPart& p : parts)
        list += (list.empty() ? "\n" : ",\n") + nlohmann::json{{"bytes", p.bytes},         {"first", p.first},
                                                               {"integrity", p.integrity}, {"last", p.last},
                                                               {"path", p.path},           {"sources", p.sources}}
                                                    .dump();
    // generations, generator, then parts, preset, version: byte-wise key order, as dump() sorts
    std::string tail;
    append_tail(tail, preset, generations, k_manifest_parts_version);
    const std::size_t preset_at = tail.find(",\"preset\":");
    out += tail.substr(0, preset_at);
    out += ",\"parts\":[" + list + (list.empty() ? "]" : "\n]");
    out += tail.substr(preset_at);
    return out;
}

} // namespace cachet
