#include "pipeline/config/config.hpp"

#include "pipeline/fs/atomic_file.hpp"
#include "pipeline/model/error.hpp"
#include "pipeline/fs/glob.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <functional>
#include <map>
#include <locale>
#include <set>
#include <sstream>

namespace cachet {
namespace {

namespace fs = std::filesystem;

struct Where {
    const std::string& source;
    std::string key;
    const toml::node& node;

    [[noreturn]] void fail(const std::string& what) const
    {
        std::ostringstream out;
        out << source << ':' << node.source().begin.line << ": " << key << ' ' << what;
        throw Error(ErrorKind::config, out.str());
    }
};

using Setter = std::function<void(Preset&, const Where&)>;

template <class Field>
Setter integer(Field field, std::int64_t lo, std::int64_t hi)
{
    return [=](Preset& p, const Where& w) {
        const auto v = w.node.value_exact<std::int64_t>();
        if (!v || *v < lo || *v > hi)
            w.fail("must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
        field(p) = static_cast<std::remove_reference_t<decltype(field(p))>>(*v);
    };
}

// An integer 0..100 or "auto".
template <class Quality, class Mode>
Setter quality(Quality quality_field, Mode mode_field)
{
    return [=](Preset& p, const Where& w) {
        if (const auto text = w.node.value_exact<std::string>(); text && *text == "auto") {
            mode_field(p) = QualityMode::automatic;
            return;
        }
        const auto v = w.node.value_exact<std::int64_t>();
        if (!v || *v < 0 || *v > 100)
            w.fail("must be an integer from 0 to 100 or \"auto\"");
        quality_field(p) = static_cast<int>(*v);
        mode_field(p) = QualityMode::fixed;
    };
}

template <class Field>
Setter boolean(Field field)
{
    return [=](Preset& p, const Where& w) {
        const auto v = w.node.value_exact<bool>();
        if (!v)
            w.fail("must be true or false");
        field(p) = *v;
    };
}

template <class Field>
Setter string(Field field)
{
    return [=](Preset& p, const Where& w) {
        const auto v = w.node.value_exact<std::string>();
        if (!v)
            w.fail("must be a string");
        field(p) = *v;
    };
}

std::vector<std::string> string_array(const Where& w)
{
    const auto* array = w.node.as_array();
    if (!array)
        w.fail("must be an array of strings");
    std::vector<std::string> out;
    for (const auto& item : *array) {
        const auto v = item.value_exact<std::string>();
        if (!v)
            Where{w.source, w.key, item}.fail("must contain only strings");
        out.push_back(*v);
    }
    return out;
}

template <class Field>
Setter widths(Field field)
{
    return [=](Preset& p, const Where& w) {
        const auto* array = w.node.as_array();
        if (!array)
            w.fail("must be an array of widths in pixels");
        std::vector<int> out;
        for (const auto& item : *array) {
            const auto v = item.value_exact<std::int64_t>();
            if (!v || *v < 1 || *v > 65535)
                Where{w.source, w.key, item}.fail("must contain only integers from 1 to 65535");
            out.push_back(static_cast<int>(*v));
        }
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
        field(p) = out;
    };
}

template <class Field>
Setter strings(Field field)
{
    return [=](Preset& p, const Where& w) { field(p) = string_array(w); };
}

// A string or an array of strings from a fixed set of names, mapped to enum values.
template <class Enum>
Enum pick(const Where& w, const std::string& name, const std::vector<std::pair<std::string, Enum>>& choices)
{
    std::string list;
    for (const auto& [n, e] : choices) {
        if (n == name)
            return e;
        list += (list.empty() ? "" : ", ") + n;
    }
    w.fail("has unknown value \"" + name + "\" (expected one of: " + list + ")");
}

template <class Field, class Enum>
Setter choice(Field field, std::vector<std::pair<std::string, Enum>> choices)
{
    return [=](Preset& p, const Where& w) {
        const auto v = w.node.value_exact<std::string>();
        if (!v)
            w.fail("must be a string");
        field(p) = pick(w, *v, choices);
    };
}

template <class Field, class Enum>
Setter choices(Field field, std::vector<std::pair<std::string, Enum>> names)
{
    return [=](Preset& p, const Where& w) {
        std::vector<Enum> out;
        for (const auto& n : string_array(w)) {
            const Enum e = pick(w, n, names);
            if (std::find(out.begin(), out.end(), e) != out.end())
                w.fail("lists \"" + n + "\" twice");
            out.push_back(e);
        }
        field(p) = out;
    };
}

// `match`: a glob or a non-empty list of globs.
std::vector<std::string> globs(const Where& w)
{
    if (const auto one = w.node.value_exact<std::string>())
        return {*one};
    auto list = string_array(w);
    if (list.empty())
        w.fail("must name at least one glob");
    return list;
}

void apply_table(Preset& preset, const toml::table& table, const std::string& prefix, const std::string& source,
                 std::string_view skip = {});

// [[images.rules]]: each table needs `match` (a glob or a list of globs) and may set any other
// images.* key; its keys are checked now, against a scratch preset, and kept for later.
Setter image_rules()
{
    return [](Preset& preset, const Where& w) {
        const auto* array = w.node.as_array();
        if (!array || !array->is_array_of_tables())
            w.fail("must be an array of tables ([[images.rules]])");
        preset.images.rules.clear(); // like every array, a later file's rules replace earlier ones
        for (const auto& item : *array) {
            const toml::table& table = *item.as_table();
            const Where at{w.source, w.key, item};
            const toml::node* match = table.get("match");
            if (!match)
                at.fail("needs match = \"glob\" or a list of globs");
            ImageRule rule;
            rule.match = globs(Where{w.source, w.key + ".match", *match});
            for (const char* global : {"rules", "max_pixels", "max_frames", "max_animation_pixels", "unsupported"})
                if (const toml::node* n = table.get(global))
                    Where{w.source, w.key + "." + global, *n}.fail("cannot be set per rule");
            Preset scratch = preset;
            apply_table(scratch, table, "images", w.source, "match"); // on the parsed nodes: file:line
            toml::table settings = table;
            settings.erase("match");
            const std::string source = w.source;
            rule.apply = [settings, source](ImageSettings& images) {
                Preset p;
                p.images = images;
                apply_table(p, settings, "images", source);
                images = std::move(p.images);
            };
            preset.images.rules.push_back(std::move(rule));
        }
    };
}

bool is_header_token(std::string_view name)
{
    static constexpr std::string_view k_specials = "!#$%&'*+-.^_`|~";
    return !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return std::isalnum(c) || k_specials.find(static_cast<char>(c)) != std::string_view::npos;
    });
}

std::string lower(std::string_view text)
{
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

// A header value: printable ASCII and spaces, not empty, no leading or trailing space.
void check_header_value(const Where& w, const std::string& value)
{
    if (value.empty() || value.front() == ' ' || value.back() == ' ' ||
        !std::all_of(value.begin(), value.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7f; }))
        w.fail("must be a non-empty header value of printable ASCII characters");
}

// [[headers]]: each table needs `match` and sets `cache_control`, `extra` or both.
Setter header_rules()
{
    return [](Preset& preset, const Where& w) {
        const auto* array = w.node.as_array();
        if (!array || !array->is_array_of_tables())
            w.fail("must be an array of tables ([[headers]])");
        preset.headers.clear(); // like every array, a later file's rules replace earlier ones
        for (const auto& item : *array) {
            const toml::table& table = *item.as_table();
            const Where at{w.source, w.key, item};
            HeaderRule rule;
            for (const auto& [key, node] : table) {
                const std::string name(key.str());
                const Where field{w.source, w.key + "." + name, node};
                if (name == "match") {
                    rule.match = globs(field);
                } else if (name == "cache_control") {
                    const auto v = node.value_exact<std::string>();
                    if (!v)
                        field.fail("must be a string");
                    check_header_value(field, *v);
                    rule.cache_control = *v;
                } else if (name == "extra") {
                    const auto* headers = node.as_table();
                    if (!headers)
                        field.fail("must be a table of headers (extra = { \"X-Frame-Options\" = \"DENY\" })");
                    std::set<std::string> seen;
                    for (const auto& [header, value] : *headers) {
                        const std::string header_name(header.str());
                        const Where one{w.source, w.key + ".extra." + header_name, value};
                        if (!is_header_token(header_name))
                            one.fail("is not a valid header name");
                        static const std::set<std::string> k_owned = {
                            "cache-control",  "content-encoding", "content-length", "content-type",
                            "etag",           "last-modified",    "transfer-encoding", "vary"};
                        if (k_owned.count(lower(header_name)))
                            one.fail("is set by cachet from the manifest (use cache_control for Cache-Control)");
                        if (!seen.insert(lower(header_name)).second)
                            one.fail("is given twice");
                        const auto v = value.value_exact<std::string>();
                        if (!v)
                            one.fail("must be a string");
                        check_header_value(one, *v);
                        rule.extra.emplace_back(header_name, *v);
                    }
                    std::sort(rule.extra.begin(), rule.extra.end());
                } else {
                    field.fail("is not a known setting of a header rule (match, cache_control, extra)");
                }
            }
            if (rule.match.empty())
                at.fail("needs match = \"glob\" or a list of globs");
            if (rule.cache_control.empty() && rule.extra.empty())
                at.fail("sets nothing: give cache_control, extra or both");
            preset.headers.push_back(std::move(rule));
        }
    };
}

// [[budgets]]: each table needs `match` and `max`; `name`, `encoding` and `per_file` are optional.
Setter budgets()
{
    return [](Preset& preset, const Where& w) {
        const auto* array = w.node.as_array();
        if (!array || !array->is_array_of_tables())
            w.fail("must be an array of tables ([[budgets]])");
        preset.budgets.clear();
        for (const auto& item : *array) {
            const toml::table& table = *item.as_table();
            const Where at{w.source, w.key, item};
            Budget budget;
            bool has_max = false;
            for (const auto& [key, node] : table) {
                const std::string name(key.str());
                const Where field{w.source, w.key + "." + name, node};
                if (name == "match") {
                    budget.match = globs(field);
                } else if (name == "name") {
                    const auto v = node.value_exact<std::string>();
                    if (!v || v->empty())
                        field.fail("must be a non-empty string");
                    budget.name = *v;
                } else if (name == "max") {
                    has_max = true;
                    if (const auto n = node.value_exact<std::int64_t>()) {
                        if (*n < 0)
                            field.fail("must not be negative");
                        budget.max_bytes = static_cast<std::uint64_t>(*n);
                    } else if (const auto text = node.value_exact<std::string>()) {
                        try {
                            budget.max_bytes = parse_size(*text);
                        } catch (const Error& e) {
                            field.fail(std::string("is not a size: ") + e.what());
                        }
                    } else {
                        field.fail("must be a size in bytes or a string such as \"500K\" (powers of 1024)");
                    }
                } else if (name == "encoding") {
                    const auto v = node.value_exact<std::string>();
                    if (!v)
                        field.fail("must be a string");
                    budget.encoding = pick(field, *v,
                                           std::vector<std::pair<std::string, std::optional<Encoding>>>{
                                               {"identity", std::nullopt},
                                               {"gzip", Encoding::gzip},
                                               {"br", Encoding::br},
                                               {"zstd", Encoding::zstd}});
                } else if (name == "per_file") {
                    const auto v = node.value_exact<bool>();
                    if (!v)
                        field.fail("must be true or false");
                    budget.per_file = *v;
                } else {
                    field.fail("is not a known setting of a budget (name, match, max, encoding, per_file)");
                }
            }
            if (budget.match.empty())
                at.fail("needs match = \"glob\" or a list of globs");
            if (!has_max)
                at.fail("needs max = a size (\"500K\", or bytes)");
            if (budget.name.empty()) {
                for (const auto& glob : budget.match)
                    budget.name += (budget.name.empty() ? "" : " ") + glob;
            }
            preset.budgets.push_back(std::move(budget));
        }
    };
}

#define FIELD(expr) [](Preset & p) -> auto& { return p.expr; }

const std::map<std::string, Setter>& setters()
{
    static const std::map<std::string, Setter> table = {
        {"description", string(FIELD(description))},
        {"output.manifest", string(FIELD(output.manifest))},
        {"output.hash_length", integer(FIELD(output.hash_length), 6, 64)},
        {"output.stable", strings(FIELD(output.stable))},
        {"output.ignore", strings(FIELD(output.ignore))},
        {"output.service_worker", strings(FIELD(output.service_worker))},
        {"output.keep", integer(FIELD(output.keep), 0, 1000)},
        {"output.keep_age",
         [](Preset& p, const Where& w) {
             if (const auto n = w.node.value_exact<std::int64_t>(); n && *n >= 0) {
                 p.output.keep_age_s = *n;
                 return;
             }
             const auto text = w.node.value_exact<std::string>();
             if (!text)
                 w.fail("must be a duration: seconds, or a string such as \"30m\", \"1h\", \"2d\"");
             try {
                 p.output.keep_age_s = parse_duration(*text);
             } catch (const Error& e) {
                 w.fail(std::string("is not a duration: ") + e.what());
             }
         }},
        {"references.rewrite", boolean(FIELD(references.rewrite))},
        {"references.base",
         [](Preset& p, const Where& w) {
             const auto text = w.node.value_exact<std::string>();
             if (!text || text->empty() || text->front() != '/' || text->find_first_of("?#\\ ") != std::string::npos ||
                 text->find("//") != std::string::npos)
                 w.fail("must be the URL path SRC is served at, such as \"/\" or \"/static/\"");
             p.references.base = *text;
             if (p.references.base.back() != '/')
                 p.references.base += '/';
         }},
        {"html.picture", boolean(FIELD(html.picture))},
        {"html.integrity", boolean(FIELD(html.integrity))},
        {"headers", header_rules()},
        {"budgets", budgets()},
        {"images.formats",
         choices(FIELD(images.formats), [] { // the modern ones: the fallback is images.fallback
             std::vector<std::pair<std::string, ImageFormat>> modern;
             for (const ImageFormat f : k_modern_formats)
                 modern.emplace_back(std::string(to_string(f)), f);
             return modern;
         }())},
        {"images.fallback", boolean(FIELD(images.fallback))},
        {"images.widths", widths(FIELD(images.widths))},
        {"images.rules", image_rules()},
        {"images.max_pixels", integer(FIELD(images.max_pixels), 1, std::int64_t{1} << 40)},
        {"images.animate", boolean(FIELD(images.animate))},
        {"images.max_frames", integer(FIELD(images.max_frames), 2, 100000)},
        {"images.max_animation_pixels", integer(FIELD(images.max_animation_pixels), 1, std::int64_t{1} << 40)},
        {"images.unsupported",
         choice(FIELD(images.unsupported),
                std::vector<std::pair<std::string, UnsupportedImages>>{
                    {"error", UnsupportedImages::error}, {"passthrough", UnsupportedImages::passthrough}})},
        {"images.colour",
         choice(FIELD(images.colour),
                std::vector<std::pair<std::string, Colour>>{{"keep", Colour::keep}, {"srgb", Colour::srgb}})},
        {"images.avif.quality", quality(FIELD(images.avif.quality), FIELD(images.avif.quality_mode))},
        {"images.keep_metadata",
         choices(FIELD(images.keep_metadata),
                 std::vector<std::pair<std::string, MetadataField>>{{"copyright", MetadataField::copyright},
                                                                    {"artist", MetadataField::artist}})},
        {"images.auto.distance",
         [](Preset& p, const Where& w) {
             const auto v = w.node.value<double>();
             if (!v || *v < 0.1 || *v > 20)
                 w.fail("must be a number from 0.1 to 20 (a Butteraugli 3-norm distance)");
             p.images.auto_distance = *v;
         }},
        {"images.auto.reference_width", integer(FIELD(images.auto_reference_width), 16, 4096)},
        {"images.avif.speed", integer(FIELD(images.avif.speed), 0, 10)},
        {"images.avif.alpha_quality", integer(FIELD(images.avif.alpha_quality), 0, 100)},
        {"images.avif.chroma",
         choice(FIELD(images.avif.chroma),
                std::vector<std::pair<std::string, Chroma>>{{"420", Chroma::yuv420}, {"444", Chroma::yuv444}})},
        {"images.avif.codec",
         choice(FIELD(images.avif.codec),
                std::vector<std::pair<std::string, AvifCodec>>{
                    {"aom", AvifCodec::aom}, {"svt", AvifCodec::svt}, {"rav1e", AvifCodec::rav1e}})},
        {"images.avif.aom_options",
         [](Preset& p, const Where& w) {
             const auto* given = w.node.as_table();
             if (!given)
                 w.fail("must be a table of encoder options (aom_options = { tune = \"iq\" })");
             std::map<std::string, std::string> out;
             for (const auto& [key, value] : *given) {
                 const std::string name(key.str());
                 const Where at{w.source, w.key + "." + name, value};
                 if (name == "row-mt" || name == "threads")
                     at.fail("is set by cachet (one thread per encode keeps outputs independent of -j)");
                 if (const auto s = value.value_exact<std::string>())
                     out[name] = *s;
                 else if (const auto i = value.value_exact<std::int64_t>())
                     out[name] = std::to_string(*i);
                 else if (const auto b = value.value_exact<bool>())
                     out[name] = *b ? "1" : "0";
                 else
                     at.fail("must be a string, an integer or a boolean");
             }
             p.images.avif.aom_options = std::move(out);
         }},
        {"images.webp.quality", quality(FIELD(images.webp.quality), FIELD(images.webp.quality_mode))},
        {"images.webp.effort", integer(FIELD(images.webp.effort), 0, 6)},
        {"images.webp.sharp_yuv", boolean(FIELD(images.webp.sharp_yuv))},
        {"images.webp.alpha_quality", integer(FIELD(images.webp.alpha_quality), 0, 100)},
        {"images.jpeg.quality", integer(FIELD(images.jpeg.quality), 1, 100)},
        {"images.jpeg.progressive", boolean(FIELD(images.jpeg.progressive))},
        {"images.png.compression", integer(FIELD(images.png.compression), 0, 9)},
        {"text.extensions", strings(FIELD(text.extensions))},
        {"text.min_bytes", integer(FIELD(text.min_bytes), 0, std::int64_t{1} << 40)},
        {"text.min_saving",
         [](Preset& p, const Where& w) {
             const auto v = w.node.value<double>(); // integers are accepted too
             if (!v || *v < 0.0 || *v >= 1.0)
                 w.fail("must be a number from 0 up to (not including) 1");
             p.text.min_saving = *v;
         }},
        {"text.encodings",
         choices(FIELD(text.encodings),
                 std::vector<std::pair<std::string, Encoding>>{
                     {"zstd", Encoding::zstd}, {"br", Encoding::br}, {"gzip", Encoding::gzip}})},
        {"text.zstd_level", integer(FIELD(text.zstd_level), 1, 22)},
        {"text.brotli_quality", integer(FIELD(text.brotli_quality), 0, 11)},
        {"text.gzip_level", integer(FIELD(text.gzip_level), 1, 12)},
    };
    return table;
}

#undef FIELD

void apply_table(Preset& preset, const toml::table& table, const std::string& prefix, const std::string& source,
                 std::string_view skip)
{
    for (const auto& [key, node] : table) {
        if (!skip.empty() && key.str() == skip)
            continue;
        const std::string dotted = prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
        const auto& table_setters = setters();
        if (const auto it = table_setters.find(dotted); it != table_setters.end()) {
            it->second(preset, Where{source, dotted, node});
            continue;
        }
        if (const auto* sub = node.as_table()) {
            const bool known_section = std::any_of(table_setters.begin(), table_setters.end(), [&](const auto& kv) {
                return kv.first.rfind(dotted + ".", 0) == 0;
            });
            if (known_section) {
                apply_table(preset, *sub, dotted, source);
                continue;
            }
        }
        Where{source, dotted, node}.fail("is not a known setting");
    }
}

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
    static const std::pair<std::string_view, int> k_units[] = {
        {"", 0}, {"B", 0}, {"K", 1}, {"KB", 1}, {"KIB", 1}, {"M", 2}, {"MB", 2}, {"MIB", 2},
        {"G", 3}, {"GB", 3}, {"GIB", 3}, {"T", 4}, {"TB", 4}, {"TIB", 4}};
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
    static const std::pair<std::string_view, std::int64_t> k_units[] = {
        {"", 1}, {"s", 1}, {"m", 60}, {"min", 60}, {"h", 3600}, {"d", 86400}};
    if (i == 0 || i > 12)
        throw Error(ErrorKind::usage, "\"" + text + "\" is not a duration (examples: 90s, 30m, 1h, 2d, 3600)");
    for (const auto& [name, seconds] : k_units)
        if (unit == name)
            return std::stoll(text.substr(0, i)) * seconds;
    throw Error(ErrorKind::usage, "\"" + text + "\": unknown duration unit (use s, m, h or d)");
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
    // entries; the sizes below fail to compile as a reminder.
    static_assert(sizeof(ImageSettings) == 256 && sizeof(AvifOptions) == 72 && sizeof(WebpOptions) == 20 &&
                      sizeof(JpegOptions) == 8 && sizeof(PngOptions) == 4,
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
    out << "\navif " << a.quality << ' ' << static_cast<int>(a.quality_mode) << ' ' << a.speed << ' '
        << a.alpha_quality << ' ' << static_cast<int>(a.chroma) << ' ' << to_string(a.codec);
    for (const auto& [key, value] : a.aom_options)
        out << ' ' << key << '=' << value;
    const WebpOptions& w = i.webp;
    out << "\nwebp " << w.quality << ' ' << static_cast<int>(w.quality_mode) << ' ' << w.effort << ' '
        << w.sharp_yuv << ' ' << w.alpha_quality;
    out << "\njpeg " << i.jpeg.quality << ' ' << i.jpeg.progressive << "\npng " << i.png.compression << '\n';
    return out.str();
}

std::string settings_key(const TextSettings& t)
{
    static_assert(sizeof(TextSettings) == 80, "update settings_key(TextSettings) for the new field");
    std::ostringstream out;
    out.imbue(std::locale::classic());
    out.precision(17);
    out << "min_bytes " << t.min_bytes << "\nmin_saving " << t.min_saving << "\nencodings";
    for (const auto e : t.encodings)
        out << ' ' << to_string(e);
    out << "\nzstd " << t.zstd_level << "\nbrotli " << t.brotli_quality << "\ngzip " << t.gzip_level << '\n';
    return out.str(); // extensions only decide which files are text, already part of the key's kind
}

std::string settings_key(const ReferenceSettings& references, const HtmlSettings& html)
{
    static_assert(sizeof(ReferenceSettings) == 40 && sizeof(HtmlSettings) == 2,
                  "update settings_key(ReferenceSettings, HtmlSettings) for the new field");
    return "references " + std::to_string(references.rewrite) + " " + references.base + "\nhtml picture " +
           std::to_string(html.picture) + " integrity " + std::to_string(html.integrity) + "\n";
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
    apply_table(preset, table, "", source_name);
    normalise(preset);
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
        apply_config_file(preset, fs::path(name_or_path));
        preset.name = fs::path(name_or_path).stem().string();
    } else if (name_or_path != "default") {
        const auto* named = find_embedded(name_or_path);
        if (!named) {
            std::string names;
            for (const auto& p : embedded_presets())
                names += (names.empty() ? "" : ", ") + std::string(p.name);
            throw Error(ErrorKind::config,
                        "unknown preset \"" + std::string(name_or_path) + "\" (available: " + names + ")");
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
