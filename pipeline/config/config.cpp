#include "pipeline/config/config.hpp"

#include "pipeline/config/setters.hpp"
#include "pipeline/fs/atomic_file.hpp"
#include "pipeline/fs/glob.hpp"
#include "pipeline/model/error.hpp"
#include "pipeline/model/fields.hpp"
#include "pipeline/model/hash.hpp"
#include "pipeline/model/suggest.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <functional>
#include <locale>
#include <map>
#include <set>
#include <sstream>

namespace cachet {
namespace {

namespace fs = std::filesystem;
using namespace config_keys;

void normalise(Preset& preset)
{
    for (auto& ext : preset.text.extensions) {
        if (!ext.empty() && ext.front() == '.')
            ext.erase(0, 1);
        std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    }
}

const EmbeddedPreset* find_embedded(std::string_view name)
{
    for (const auto& p : embedded_presets())
        if (p.name == name)
            return &p;
    return nullptr;
}

} // namespace

std::uint64_t parse_size(const std::string& text)
{
    std::size_t i = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])))
        ++i;
    if (i == 0)
        throw Error(ErrorKind::usage, "\"" + text + "\" is not a size (examples: 500M, 2G, 1048576)");
    std::uint64_t n = 0;
    try {
        n = std::stoull(text.substr(0, i));
    } catch (const std::exception&) {
        throw Error(ErrorKind::usage, "\"" + text + "\" is too large a size");
    }
    std::string unit = text.substr(i);
    unit.erase(std::remove(unit.begin(), unit.end(), ' '), unit.end());
    for (auto& c : unit)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    static const std::pair<std::string_view, int> k_units[] = {{"", 0},    {"B", 0},  {"K", 1},   {"KB", 1}, {"KIB", 1},
                                                               {"M", 2},   {"MB", 2}, {"MIB", 2}, {"G", 3},  {"GB", 3},
                                                               {"GIB", 3}, {"T", 4},  {"TB", 4},  {"TIB", 4}};
    for (const auto& [name, power] : k_units)
        if (unit == name) {
            for (int p = 0; p < power; ++p) {
                if (n > (UINT64_MAX >> 10))
                    throw Error(ErrorKind::usage, "\"" + text + "\" is too large a size");
                n <<= 10;
            }
            return n;
        }
    throw Error(ErrorKind::usage, "\"" + text + "\": unknown size unit (use K, M, G or T, powers of 1024)");
}

std::int64_t parse_duration(const std::string& text)
{
    std::size_t i = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])))
        ++i;
    std::string unit = text.substr(i);
    unit.erase(std::remove(unit.begin(), unit.end(), ' '), unit.end());
    static const std::pair<std::string_view, std::int64_t> k_units[] = {{"", 1},     {"s", 1},    {"m", 60},
                                                                        {"min", 60}, {"h", 3600}, {"d", 86400}};
    if (i == 0 || i > 12)
        throw Error(ErrorKind::usage, "\"" + text + "\" is not a duration (examples: 90s, 30m, 1h, 2d, 3600)");
    for (const auto& [name, seconds] : k_units)
        if (unit == name)
            return std::stoll(text.substr(0, i)) * seconds;
    throw Error(ErrorKind::usage, "\"" + text + "\": unknown duration unit (use s, m, h or d)");
}

unsigned shard_of(std::string_view path, unsigned count)
{
    const std::string digest = sha256_hex(as_bytes(path));
    return static_cast<unsigned>(std::stoull(digest.substr(0, 15), nullptr, 16) % count) + 1;
}

std::string shard_manifest_name(const std::string& manifest, const Shard& shard)
{
    const std::string tag = ".shard-" + std::to_string(shard.index) + "-of-" + std::to_string(shard.count);
    const auto slash = manifest.rfind('/');
    const auto dot = manifest.rfind('.');
    if (dot == std::string::npos || (slash != std::string::npos && dot < slash) || dot == 0)
        return manifest + tag;
    return manifest.substr(0, dot) + tag + manifest.substr(dot);
}

std::int64_t parse_milliseconds(const std::string& text)
{
    std::string t = text;
    t.erase(std::remove(t.begin(), t.end(), ' '), t.end());
    if (t.size() > 2 && t.ends_with("ms")) {
        const std::string digits = t.substr(0, t.size() - 2);
        if (digits.size() > 12 || !std::all_of(digits.begin(), digits.end(),
                                               [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
            throw Error(ErrorKind::usage, "\"" + text + "\" is not a duration (examples: 250ms, 2s, 1m)");
        return std::stoll(digits);
    }
    return parse_duration(text) * 1000;
}

ImageSettings image_settings_for(const Preset& preset, std::string_view path)
{
    ImageSettings images = preset.images;
    for (const auto& rule : preset.images.rules)
        if (glob_match_any(rule.match, path))
            rule.apply(images);
    images.rules.clear();
    return images;
}

std::string settings_key(const ImageSettings& i)
{
    // A new field in these structs must be added here, or changing it would reuse stale cache
    // entries; the field counts below fail to compile as a reminder (rules are applied already).
    static_assert(field_count<ImageSettings>() == 18 && field_count<AvifOptions>() == 12 &&
                      field_count<WebpOptions>() == 7 && field_count<JpegOptions>() == 6 &&
                      field_count<JxlOptions>() == 3 && field_count<PngOptions>() == 7,
                  "update settings_key(ImageSettings) for the new field");
    std::ostringstream out;
    out.imbue(std::locale::classic());
    out.precision(17);
    out << "formats";
    for (const auto f : i.formats)
        out << ' ' << to_string(f);
    out << "\nfallback " << i.fallback << "\nwidths";
    for (const int w : i.widths)
        out << ' ' << w;
    out << "\nmax_pixels " << i.max_pixels << "\nanimate " << i.animate << "\nmax_frames " << i.max_frames
        << "\nmax_animation_pixels " << i.max_animation_pixels << "\nunsupported " << static_cast<int>(i.unsupported)
        << "\ncolour " << static_cast<int>(i.colour) << "\nkeep_metadata";
    for (const auto m : i.keep_metadata)
        out << ' ' << to_string(m);
    out << "\nauto_distance " << i.auto_distance << "\nauto_reference_width " << i.auto_reference_width;
    const AvifOptions& a = i.avif;
    out << "\navif " << a.quality << ' ' << static_cast<int>(a.quality_mode) << ' ' << a.speed << ' ' << a.alpha_quality
        << ' ' << static_cast<int>(a.chroma) << ' ' << to_string(a.codec) << ' ' << a.quality_step << ' '
        << a.max_distance << ' ' << a.floor_width;
    if (a.raised_step_factor != 1) // (only then: the keys of every other setting stay as they were)
        out << " raised_step_factor " << a.raised_step_factor;
    if (a.small_quality != 0) // (likewise)
        out << " small_quality " << a.small_quality;
    for (const auto& [key, value] : a.aom_options)
        out << ' ' << key << '=' << value;
    const WebpOptions& w = i.webp;
    out << "\nwebp " << w.quality << ' ' << static_cast<int>(w.quality_mode) << ' ' << w.effort << ' ' << w.sharp_yuv
        << ' ' << w.alpha_quality << ' ' << w.quality_step << ' ' << w.small_quality;
    out << "\njxl " << i.jxl.distance << ' ' << i.jxl.distance_step << ' ' << i.jxl.effort;
    out << "\njpeg " << static_cast<int>(i.jpeg.encoder) << ' ' << i.jpeg.distance << ' ' << i.jpeg.distance_step << ' '
        << static_cast<int>(i.jpeg.chroma) << ' ' << i.jpeg.quality << ' ' << i.jpeg.progressive << "\npng "
        << i.png.compression << ' ' << i.png.palette << ' ' << i.png.lossy_distance << ' ' << i.png.deflate << ' '
        << i.png.quantize << ' ' << i.png.near_lossless << ' ' << i.png.near << '\n';
    return out.str();
}

std::string settings_key(const TextSettings& t)
{
    static_assert(field_count<TextSettings>() == 9, "update settings_key(TextSettings) for the new field");
    std::ostringstream out;
    out.imbue(std::locale::classic());
    out.precision(17);
    out << "min_bytes " << t.min_bytes << "\nmin_saving " << t.min_saving << "\nencodings";
    for (const auto e : t.encodings)
        out << ' ' << to_string(e);
    out << "\nzstd " << t.zstd_level << "\nbrotli " << t.brotli_quality << "\ngzip " << t.gzip_level << '\n';
    if (t.minify)
        out << "minify\n";
    // extensions only decide which files are text, already part of the key's kind; esbuild's
    // version, not its path, is in the key (AssetBuilder)
    return out.str();
}

std::string settings_key(const ReferenceSettings& references, const HtmlSettings& html)
{
    static_assert(field_count<ReferenceSettings>() == 3 && field_count<HtmlSettings>() == 2,
                  "update settings_key(ReferenceSettings, HtmlSettings) for the new field");
    return "references " + std::to_string(references.rewrite) + " " + references.base + " trust_scripts " +
           std::to_string(references.trust_scripts) + "\nhtml picture " + std::to_string(html.picture) + " integrity " +
           std::to_string(html.integrity) + "\n";
}

void apply_config_text(Preset& preset, std::string_view text, const std::string& source_name)
{
    toml::table table;
    try {
        table = toml::parse(text, source_name);
    } catch (const toml::parse_error& e) {
        std::ostringstream out;
        out << source_name << ':' << e.source().begin.line << ": " << e.description();
        throw Error(ErrorKind::config, out.str());
    }
    apply_table(preset, table, "", source_name, "preset"); // (config_base_preset() reads that one)
    normalise(preset);
}

std::optional<std::string> config_base_preset(const fs::path& file)
{
    Bytes text;
    try {
        text = read_file(file);
    } catch (const Error& e) {
        throw Error(ErrorKind::config, e.what());
    }
    toml::table table;
    try {
        table = toml::parse(as_text(text), file.string());
    } catch (const toml::parse_error& e) {
        std::ostringstream out;
        out << file.string() << ':' << e.source().begin.line << ": " << e.description();
        throw Error(ErrorKind::config, out.str());
    }
    const toml::node* node = table.get("preset");
    if (!node)
        return std::nullopt;
    const auto line = std::to_string(node->source().begin.line);
    const auto* name = node->as_string();
    if (!name)
        throw Error(ErrorKind::config, file.string() + ":" + line + ": preset must be a preset's name, as a string");
    if (!find_embedded(name->get())) {
        std::vector<std::string> candidates;
        std::string names;
        for (const auto& p : embedded_presets()) {
            candidates.emplace_back(p.name);
            names += (names.empty() ? "" : ", ") + std::string(p.name);
        }
        throw Error(ErrorKind::config, file.string() + ":" + line + ": unknown preset \"" + printable(name->get()) +
                                           "\" (available: " + names + ")" + did_you_mean(name->get(), candidates));
    }
    return name->get();
}

void apply_config_file(Preset& preset, const fs::path& file)
{
    Bytes text;
    try {
        text = read_file(file);
    } catch (const Error& e) {
        throw Error(ErrorKind::config, e.what());
    }
    apply_config_text(preset, as_text(text), file.string());
}

Preset load_preset(std::string_view name_or_path)
{
    Preset preset;
    const auto* base = find_embedded("default");
    if (!base)
        throw Error(ErrorKind::internal, "the default preset is not compiled in");
    apply_config_text(preset, base->text, "presets/default.toml");
    preset.name = "default";

    const bool is_path = name_or_path.find('/') != std::string_view::npos ||
                         (name_or_path.size() > 5 && name_or_path.substr(name_or_path.size() - 5) == ".toml");
    if (is_path) {
        if (const auto builds_on = config_base_preset(fs::path(name_or_path)))
            preset = load_preset(*builds_on); // an embedded name: no deeper
        apply_config_file(preset, fs::path(name_or_path));
        preset.name = fs::path(name_or_path).stem().string();
    } else if (name_or_path != "default") {
        const auto* named = find_embedded(name_or_path);
        if (!named) {
            std::string names;
            std::vector<std::string> candidates;
            for (const auto& p : embedded_presets()) {
                names += (names.empty() ? "" : ", ") + std::string(p.name);
                candidates.emplace_back(p.name);
            }
            throw Error(ErrorKind::config, "unknown preset \"" + std::string(name_or_path) + "\" (available: " + names +
                                               ")" + did_you_mean(name_or_path, candidates));
        }
        apply_config_text(preset, named->text, "presets/" + std::string(named->name) + ".toml");
        preset.name = std::string(name_or_path);
    }
    return preset;
}

QualitySetting quality_setting(ImageSettings& images, ImageFormat format)
{
    switch (format) {
    case ImageFormat::avif: return {&images.avif.quality, &images.avif.quality_mode};
    case ImageFormat::webp: return {&images.webp.quality, &images.webp.quality_mode};
    default: return {};
    }
}

std::string_view to_string(AvifCodec codec)
{
    switch (codec) {
    case AvifCodec::aom: return "aom";
    case AvifCodec::svt: return "svt";
    case AvifCodec::rav1e: return "rav1e";
    }
    return "?";
}

} // namespace cachet
