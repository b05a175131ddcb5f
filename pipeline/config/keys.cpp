#include "pipeline/config/setters.hpp"

#include "pipeline/fs/glob.hpp"
#include "pipeline/model/suggest.hpp"

#include <charconv>
#include <cstdio>

namespace cachet::config_keys {

// The member of a Preset a key sets (expr is a member path: it cannot be parenthesised).
// clang-format off
#define FIELD(expr) [](Preset& p) -> auto& { return p.expr; } // NOLINT(bugprone-macro-parentheses)
// clang-format on

namespace {

// output.keep_age: seconds, or a duration string ("30m", "1h", "2d").
void set_keep_age(Preset& p, const Where& w)
{
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
}

// references.base: the URL path SRC is served at, ending in '/'.
void set_base(Preset& p, const Where& w)
{
    const auto text = w.node.value_exact<std::string>();
    if (!text || text->empty() || text->front() != '/' || text->find_first_of("?#\\ ") != std::string::npos ||
        text->find("//") != std::string::npos)
        w.fail("must be the URL path SRC is served at, such as \"/\" or \"/static/\"");
    p.references.base = *text;
    if (p.references.base.back() != '/')
        p.references.base += '/';
}

// build.memory: bytes, or a size string ("512M", "2G"); at least 1 MiB.
void set_memory(Preset& p, const Where& w)
{
    if (const auto n = w.node.value_exact<std::int64_t>(); n && *n >= (1 << 20)) {
        p.build.memory = static_cast<std::uint64_t>(*n);
        return;
    }
    const auto text = w.node.value_exact<std::string>();
    if (!text)
        w.fail("must be a size of at least 1 MiB: bytes, or a string such as \"512M\", \"2G\"");
    try {
        p.build.memory = parse_size(*text);
    } catch (const Error& e) {
        w.fail(std::string("is not a size: ") + e.what());
    }
    if (p.build.memory < (1 << 20))
        w.fail("must be at least 1 MiB");
}

// cache.remote: one server URL, or a list of them.
void set_remote_servers(Preset& p, const Where& w)
{
    if (const auto one = w.node.value_exact<std::string>())
        p.cache.urls = {*one};
    else
        p.cache.urls = string_array(w);
    for (const auto& url : p.cache.urls)
        if (url.empty())
            w.fail("must name servers (an empty string is no server)");
}

// images.avif.aom_options: a table of libaom options, as strings (threads are cachet's).
void set_aom_options(Preset& p, const Where& w)
{
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
}

} // namespace

const std::map<std::string, Setter>& setters()
{
    static const std::map<std::string, Setter> table = {
        {"description", string(FIELD(description))},
        {"output.manifest", string(FIELD(output.manifest))},
        {"output.manifest_parts", integer(FIELD(output.manifest_parts), 0, 1000000)},
        {"output.hash_length", integer(FIELD(output.hash_length), 6, 64)},
        {"output.stable", strings(FIELD(output.stable))},
        {"output.originals", boolean(FIELD(output.originals))},
        {"output.ignore", strings(FIELD(output.ignore))},
        {"output.service_worker", strings(FIELD(output.service_worker))},
        {"output.keep", integer(FIELD(output.keep), 0, 1000)},
        {"output.keep_age", set_keep_age},
        {"references.rewrite", boolean(FIELD(references.rewrite))},
        {"references.trust_scripts", boolean(FIELD(references.trust_scripts))},
        {"references.base", set_base},
        {"build.memory", set_memory},
        {"cache.remote", set_remote_servers},
        {"cache.remote_read_only", boolean(FIELD(cache.read_only))},
        {"cache.remote_timeout", milliseconds(FIELD(cache.timeout_ms), 1, std::int64_t{3600} * 1000)},
        {"cache.remote_connect_timeout", milliseconds(FIELD(cache.connect_timeout_ms), 1, std::int64_t{60} * 1000)},
        {"html.picture", boolean(FIELD(html.picture))},
        {"html.integrity", boolean(FIELD(html.integrity))},
        {"headers", header_rules()},
        {"budgets", budgets()},
        {"images.formats", choices(FIELD(images.formats),
                                   [] { // the modern ones: the fallback is images.fallback
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
         number(FIELD(images.auto_distance), 0.1, 20, false, " (a Butteraugli 3-norm distance)")},
        {"images.auto.reference_width", integer(FIELD(images.auto_reference_width), 16, 4096)},
        {"images.avif.speed", integer(FIELD(images.avif.speed), 0, 10)},
        {"images.avif.alpha_quality", integer(FIELD(images.avif.alpha_quality), 0, 100)},
        {"images.avif.quality_step",
         number(FIELD(images.avif.quality_step), 0, 20, false, " (quality per doubling of an output's pixels)")},
        {"images.avif.max_distance",
         number(FIELD(images.avif.max_distance), 0, 20, false, " (a Butteraugli 3-norm distance, 0 = no floor)")},
        {"images.avif.raised_step_factor", number(FIELD(images.avif.raised_step_factor), 0, 1, false,
                                                  " (a fraction of quality_step, for an image max_distance raised)")},
        {"images.avif.floor_width", integer(FIELD(images.avif.floor_width), 0, 8192)},
        {"images.avif.chroma",
         choice(FIELD(images.avif.chroma),
                std::vector<std::pair<std::string, Chroma>>{{"420", Chroma::yuv420}, {"444", Chroma::yuv444}})},
        {"images.avif.codec",
         choice(FIELD(images.avif.codec), std::vector<std::pair<std::string, AvifCodec>>{{"aom", AvifCodec::aom},
                                                                                         {"svt", AvifCodec::svt},
                                                                                         {"rav1e", AvifCodec::rav1e}})},
        {"images.avif.aom_options", set_aom_options},
        {"images.webp.quality", quality(FIELD(images.webp.quality), FIELD(images.webp.quality_mode))},
        {"images.webp.effort", integer(FIELD(images.webp.effort), 0, 6)},
        {"images.webp.quality_step",
         number(FIELD(images.webp.quality_step), 0, 20, false, " (quality per doubling of an output's pixels)")},
        {"images.webp.small_quality", integer(FIELD(images.webp.small_quality), 0, 100)},
        {"images.avif.small_quality", integer(FIELD(images.avif.small_quality), 0, 100)},
        {"images.webp.sharp_yuv", boolean(FIELD(images.webp.sharp_yuv))},
        {"images.webp.alpha_quality", integer(FIELD(images.webp.alpha_quality), 0, 100)},
        {"images.jxl.distance", number(FIELD(images.jxl.distance), 0.1, 25, false, " (a Butteraugli distance)")},
        {"images.jxl.distance_step",
         number(FIELD(images.jxl.distance_step), 0, 5, false, " (distance per doubling of an output's pixels)")},
        {"images.jxl.effort", integer(FIELD(images.jxl.effort), 1, 9)},
        {"images.jpeg.encoder", choice(FIELD(images.jpeg.encoder),
                                       std::vector<std::pair<std::string, JpegEncoder>>{
                                           {"jpegli", JpegEncoder::jpegli}, {"libjpeg", JpegEncoder::libjpeg}})},
        {"images.jpeg.distance", number(FIELD(images.jpeg.distance), 0.1, 25, false, " (a Butteraugli distance)")},
        {"images.jpeg.distance_step",
         number(FIELD(images.jpeg.distance_step), 0, 5, false, " (distance per doubling of an output's pixels)")},
        {"images.jpeg.chroma",
         choice(FIELD(images.jpeg.chroma),
                std::vector<std::pair<std::string, Chroma>>{{"420", Chroma::yuv420}, {"444", Chroma::yuv444}})},
        {"images.jpeg.quality", integer(FIELD(images.jpeg.quality), 1, 100)},
        {"images.jpeg.progressive", boolean(FIELD(images.jpeg.progressive))},
        {"images.png.compression", integer(FIELD(images.png.compression), 0, 9)},
        {"images.png.palette", boolean(FIELD(images.png.palette))},
        {"images.png.lossy_distance",
         number(FIELD(images.png.lossy_distance), 0, 20, false, " (a Butteraugli 3-norm distance, 0 = lossless only)")},
        {"images.png.deflate", integer(FIELD(images.png.deflate), 0, 12)},
        {"images.png.near_lossless", integer(FIELD(images.png.near_lossless), 0, 8)},
        {"text.extensions", strings(FIELD(text.extensions))},
        {"text.min_bytes", integer(FIELD(text.min_bytes), 0, std::int64_t{1} << 40)},
        {"text.min_saving", number(FIELD(text.min_saving), 0, 1, true, "")},
        {"text.encodings", choices(FIELD(text.encodings),
                                   std::vector<std::pair<std::string, Encoding>>{
                                       {"zstd", Encoding::zstd}, {"br", Encoding::br}, {"gzip", Encoding::gzip}})},
        {"text.zstd_level", integer(FIELD(text.zstd_level), 1, 22)},
        {"text.brotli_quality", integer(FIELD(text.brotli_quality), 0, 11)},
        {"text.gzip_level", integer(FIELD(text.gzip_level), 1, 12)},
        {"text.minify", boolean(FIELD(text.minify))},
        {"text.esbuild", string(FIELD(text.esbuild))},
    };
    return table;
}

#undef FIELD

namespace {

// s as a TOML basic string.
std::string toml_quoted(std::string_view s)
{
    std::string out = "\"";
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20 || u == 0x7f) {
            char buffer[8];
            std::snprintf(buffer, sizeof buffer, "\\u%04x", u);
            out += buffer;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

} // namespace

std::string toml_text(const toml::node& node)
{
    std::string out;
    if (const auto* array = node.as_array()) {
        out = "[";
        for (const auto& item : *array)
            out += (out.size() > 1 ? ", " : "") + toml_text(item);
        return out + "]";
    }
    if (const auto* table = node.as_table()) {
        out = "{";
        for (const auto& [key, value] : *table) {
            const bool bare =
                !key.str().empty() &&
                key.str().find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") ==
                    std::string_view::npos;
            out += (out.size() > 1 ? ", " : " ") + (bare ? std::string(key.str()) : toml_quoted(key.str())) + " = " +
                   toml_text(value);
        }
        return out + (out.size() > 1 ? " }" : "}");
    }
    if (const auto* text = node.as_string())
        return toml_quoted(text->get());
    if (const auto* number = node.as_floating_point()) {
        char buffer[64];
        const auto end = std::to_chars(buffer, buffer + sizeof buffer, number->get()).ptr;
        std::string v(buffer, end);
        return v.find_first_of(".einf") == std::string::npos ? v + ".0" : v;
    }
    std::ostringstream value; // integers, booleans, dates
    node.visit([&](const auto& n) { value << n; });
    return value.str();
}

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
            preset.origins[dotted] = {source + ":" + std::to_string(node.source().begin.line), toml_text(node)};
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
        std::vector<std::string> known; // the settings of this table, and its sections
        for (const auto& [name, setter] : table_setters)
            if (prefix.empty() || name.rfind(prefix + ".", 0) == 0) {
                known.push_back(name);
                for (auto dot = name.find('.'); dot != std::string::npos; dot = name.find('.', dot + 1))
                    known.push_back(name.substr(0, dot));
            }
        Where{source, dotted, node}.fail("is not a known setting" + did_you_mean(dotted, known));
    }
}

} // namespace cachet::config_keys
