#pragma once
#include "pipeline/model/formats.hpp"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cachet {

enum class Chroma { yuv420, yuv444 };
enum class AvifCodec { aom, svt, rav1e };
// What to do with a file that looks like an image but is not a supported input.
enum class UnsupportedImages { error, passthrough };
// A reference to a file that is not in SRC (or failed): a warning, or the referring file fails.
enum class MissingReferences { warn, fail };
// Wide-gamut input: keep its gamut (tagged outputs) or convert everything to sRGB.
enum class Colour { keep, srgb };

// A fixed encoder quality, or "auto": the lowest quality meeting the Butteraugli target.
enum class QualityMode { fixed, automatic };

struct AvifOptions {
    int quality = 56; // 0..100, mapped onto AV1 quantizers; at the reference size (image/rate.hpp)
    QualityMode quality_mode = QualityMode::fixed;
    int speed = 6;          // 0 (slowest) .. 10 (fastest)
    int alpha_quality = 55; // quality of the alpha plane, never below `quality`
    // Rate control by size (image/rate.hpp): quality lowered by this per doubling of an
    // output's pixels over the reference size (smaller: as set); 0 = one quality at every size.
    double quality_step = 5;
    // Per image: quality raised until its output at the reference size is within this
    // Butteraugli 3-norm distance (one trial encode, more for hard images); 0 = no floor.
    double max_distance = 1.7;
    // The quality_step of an image the floor raised (a hard image: its large outputs lose the
    // most at a low quality), as a fraction of quality_step.
    double raised_step_factor = 1;
    // The width of the floor's trial output (an image narrower keeps its own); 0 = the reference
    // width (images.auto.reference_width).
    int floor_width = 0;
    // Outputs under the reference size: quality lowered by quality_step per halving of pixels
    // under it, to no lower than this (as images.webp.small_quality); 0 = they keep `quality`.
    int small_quality = 0;
    Chroma chroma = Chroma::yuv444;
    AvifCodec codec = AvifCodec::aom;
    // libaom's own options, passed through libavif as they are (tune = "ssimulacra2", ...);
    // used only when codec is aom.
    std::map<std::string, std::string> aom_options{
        {"tune", "ssimulacra2"}, {"enable-cdef", "1"}, {"deltaq-strength", "38"}};

    bool operator==(const AvifOptions&) const = default;
};

struct WebpOptions {
    int quality = 85; // 0..100, at the reference size
    QualityMode quality_mode = QualityMode::fixed;
    double quality_step = 8; // as AvifOptions::quality_step
    // Outputs under the reference size go down by quality_step per halving of their pixels, to
    // no lower than this (nor than quality); 0: they keep quality (docs/rate-control.md).
    int small_quality = 78;
    int effort = 5;         // libwebp "method", 0..6
    bool sharp_yuv = true;  // sharper RGB->YUV conversion
    int alpha_quality = 90; // 0..100
};

// JPEG XL (off by default: add "jxl" to images.formats; docs/jxl.md). Like jpegli it aims at a
// Butteraugli distance, raised by distance_step per doubling of an output's pixels over the
// reference size (image/rate.hpp).
struct JxlOptions {
    double distance = 2.8;
    double distance_step = 0.4;
    int effort = 7; // libjxl's effort 1..9
};

enum class JpegEncoder { jpegli, libjpeg };

struct JpegOptions {
    JpegEncoder encoder = JpegEncoder::jpegli;
    double distance = 1.35;         // jpegli: the Butteraugli distance it aims at, at the reference size
    double distance_step = 0.3;     // jpegli: distance raised by this per doubling over the reference size
    Chroma chroma = Chroma::yuv420; // jpegli (libjpeg follows libvips: 4:2:0 below quality 90)
    int quality = 80;               // libjpeg
    bool progressive = true;
};

struct PngOptions {
    int compression = 9; // zlib level 0..9 (libvips' encoder)
    bool palette = true; // at most 256 colours: an indexed PNG, when it is exact
    // The largest Butteraugli 3-norm distance, at images.auto_reference_width, at which an image
    // is written as a quantized palette PNG (libimagequant); 0 = lossless only.
    double lossy_distance = 0;
    int deflate = 0;       // libdeflate level 1..12 the image data is compressed again at; 0 = zlib's only
    bool quantize = false; // per image, from lossy_distance (not a key): write the quantized palette
    // The largest error per colour sample (0..255 levels) of a near-lossless PNG (png_near.hpp),
    // tried when the quantized palette is not within lossy_distance; 0 = never.
    int near_lossless = 0;
    int near = 0; // per image, from near_lossless and lossy_distance (not a key): write it at this error

    bool operator==(const PngOptions&) const = default;
};

struct ImageSettings;

// [[images.rules]]: image settings for the sources whose path matches one of the globs.
struct ImageRule {
    std::vector<std::string> match;
    std::function<void(ImageSettings&)> apply; // sets the rule's keys, validated at load time
};

struct ImageSettings {
    std::vector<ImageFormat> formats{ImageFormat::avif, ImageFormat::webp};
    bool fallback = true;
    // Responsive widths: every listed width below the image's own, plus its own; never upscaled.
    std::vector<int> widths{640, 750, 828, 1080, 1200, 1920, 2048, 3840};
    std::uint64_t max_pixels = 268402689;
    bool animate = true;                            // animated GIF/WebP -> animated outputs
    int max_frames = 1000;                          // more frames: the asset fails
    std::uint64_t max_animation_pixels = 100000000; // width x height x frames
    UnsupportedImages unsupported = UnsupportedImages::error;
    Colour colour = Colour::keep;
    std::vector<MetadataField> keep_metadata; // EXIF fields kept; everything else is stripped
    double auto_distance = 1.5;               // quality = "auto": Butteraugli 3-norm target
    int auto_reference_width = 640;           // quality = "auto": searched once at this width (or less)
    AvifOptions avif;
    WebpOptions webp;
    JxlOptions jxl;
    JpegOptions jpeg;
    PngOptions png;
    std::vector<ImageRule> rules; // applied in order, later rules winning
};

struct TextSettings {
    std::vector<std::string> extensions; // lower case, without the dot
    std::uint64_t min_bytes = 1024;
    double min_saving = 0.10;
    std::vector<Encoding> encodings{Encoding::zstd, Encoding::br, Encoding::gzip};
    int zstd_level = 19;
    int brotli_quality = 11;
    int gzip_level = 12;
    // Scripts and stylesheets not minified already go through esbuild (text/minify.hpp).
    bool minify = true;
    std::string esbuild = "esbuild"; // a path, or a name looked up on PATH
};

struct OutputSettings {
    std::string manifest = "cachet-manifest.json";
    // 0: the manifest is one file. N: a top file naming parts of about N sources each (beside
    // it in "<name>.parts/"), so that a build that changed a few sources writes a few parts.
    int manifest_parts = 0;
    int hash_length = 10;
    std::vector<std::string> stable; // globs of outputs kept at their source name
    // Every source's own URL keeps answering: beside its fingerprinted outputs, a copy of what
    // it became (the rewritten text, the image in its own format at its own width, the file)
    // at its own name.
    bool originals = true;
    std::vector<std::string> ignore; // globs of sources not processed at all
    // Globs of service worker scripts: kept at their source name and never cached by browsers.
    std::vector<std::string> service_worker{"sw.js", "service-worker.js"};
    // Retention: outputs of the previous `keep` builds stay in OUT, and older ones until they
    // are keep_age_s seconds old (by mtime), for pages of those builds still open.
    int keep = 2;
    std::int64_t keep_age_s = 3600;
};

// How references between files are rewritten to their outputs' final names (rewrite.hpp).
struct ReferenceSettings {
    bool rewrite = true;
    std::string base = "/"; // the URL path SRC is served at: root-relative URLs start with it
    // References to a file whose name the site's scripts spell (names_in_script()) are left as
    // written unless this is set: a script may build, slice or compare that URL.
    bool trust_scripts = false;
};

// [build]: how a build may use the machine (never what it makes).
struct BuildSettings {
    // The memory the work in flight may take at once, as estimated from each image's header:
    // images wait for room, and one that cannot fit even alone fails before it is decoded.
    std::uint64_t memory = std::uint64_t{1} << 30;
};

// [cache]: the shared remote cache a build reads and fills beside the local one
// (docs/remote-cache.md). None of it changes what is built, so it is in no cache key.
struct RemoteCacheSettings {
    // Each a server: http(s)://[user:password@]host[:port]/path (the Bazel HTTP cache
    // protocol) or s3://bucket[/prefix] (S3 itself, signed with the AWS_* environment), with
    // optional |attributes: |read-only, |weight=N (share of the keys, 1 to 1000).
    std::vector<std::string> urls;
    bool read_only = false;                // fetch, never upload (pull requests from forks)
    std::int64_t timeout_ms = 10000;       // a whole request
    std::int64_t connect_timeout_ms = 100; // a connection
};

struct HtmlSettings {
    bool picture = false;   // <img src> of an image becomes a <picture> with every format and width
    bool integrity = false; // <script src> and <link rel=stylesheet|preload|modulepreload> get integrity
};

// [[headers]]: response headers for the outputs whose path, or whose source's path, matches
// one of the globs.
struct HeaderRule {
    std::vector<std::string> match;
    std::string cache_control;                              // "" = the rule does not set it
    std::vector<std::pair<std::string, std::string>> extra; // other headers, sorted by name
};

// [[budgets]]: a limit on the size of the outputs whose path, or whose source's path, matches
// one of the globs.
struct Budget {
    std::string name; // shown in the budget table
    std::vector<std::string> match;
    std::uint64_t max_bytes = 0;
    std::optional<Encoding> encoding = Encoding::br; // measured on; nullopt: identity
    bool per_file = false;                           // the limit applies to each file, not the total
};

// Everything a preset file can set.
// Where a setting's value came from, for `cachet config`.
struct SettingOrigin {
    std::string from;  // "presets/default.toml:41", "cachet.toml:2", "--memory", "CACHET_REMOTE_CACHE"
    std::string value; // as TOML: "[320, 640]", "\"auto\""
    bool operator==(const SettingOrigin&) const = default;
};

struct Preset {
    std::string name;
    std::string description;
    OutputSettings output;
    ImageSettings images;
    TextSettings text;
    ReferenceSettings references;
    HtmlSettings html;
    BuildSettings build;
    RemoteCacheSettings cache;
    std::vector<HeaderRule> headers; // tried in order (see headers.hpp)
    std::vector<Budget> budgets;
    // Every setting a TOML layer (a preset, the configuration file) or a flag set, by dotted
    // key ("images.widths"): the last one to set it. Not part of any settings key.
    std::map<std::string, SettingOrigin> origins;
};

// One of N builds that share a site's images out between them (cachet build --shard i/N).
struct Shard {
    unsigned index = 1; // 1..count
    unsigned count = 1;
};

// One build, fully resolved: what the CLI hands to run().
struct Config {
    std::filesystem::path source;
    std::filesystem::path output;
    Preset preset;
    unsigned jobs = 1;
    MissingReferences missing_references = MissingReferences::warn; // --strict: fail
    std::filesystem::path cache_dir; // the build cache; empty: build everything, keep nothing
    // Set: build only the images whose path hashes to this shard, into the caches, and write a
    // partial manifest beside where the manifest goes (see shard_manifest_name()); a build
    // without it then finds them all done.
    std::optional<Shard> shard;
    std::filesystem::path config_file; // the configuration file applied on top of the preset, if any
};

// Which shard of count the source at path belongs to (1..count): a stable hash of the path, so
// every shard agrees without talking to the others.
unsigned shard_of(std::string_view path, unsigned count);

// The name of a shard's partial manifest, beside the manifest: "cachet-manifest.json" ->
// "cachet-manifest.shard-2-of-4.json". Never the manifest itself, so that a shard's OUT cannot
// be deployed as a whole site by mistake.
std::string shard_manifest_name(const std::string& manifest, const Shard& shard);

struct EmbeddedPreset {
    std::string_view name;
    std::string_view text;
};

// The presets compiled in from presets/*.toml, sorted by name.
const std::vector<EmbeddedPreset>& embedded_presets();

// The preset named by name_or_path: an embedded name, or a path to a TOML file (anything with
// a '/' or ending in .toml). Other presets are applied on top of "default". Throws Error(config)
// naming file:line for unknown keys, wrong types, out-of-range values and TOML syntax errors.
Preset load_preset(std::string_view name_or_path);

// Where images keeps the quality of format's encoder, for the formats whose quality may be
// "auto" (mode set); both null for the others.
struct QualitySetting {
    int* quality = nullptr;
    QualityMode* mode = nullptr;
};
QualitySetting quality_setting(ImageSettings& images, ImageFormat format);

// The image settings for the source at path: preset.images with every matching rule applied
// in order (a later rule's keys win).
ImageSettings image_settings_for(const Preset& preset, std::string_view path);

// "512M", "2G", "1500000", "10 KiB"...: a size in bytes (K, M, G, T are powers of 1024).
// Throws Error(usage) naming text.
std::uint64_t parse_size(const std::string& text);

// "90s", "30m", "1h", "2d", "3600" (seconds): a duration in seconds. Throws Error(usage)
// naming text.
std::int64_t parse_duration(const std::string& text);
// The same with "ms" allowed ("250ms", "2s", "1.5"): a duration in milliseconds. Throws
// Error(usage) naming text.
std::int64_t parse_milliseconds(const std::string& text);

// Canonical text of every setting that shapes an image's outputs (rules already applied), for
// cache keys: two settings give the same text exactly when they build the same outputs.
std::string settings_key(const ImageSettings& images);
// The same for text assets.
std::string settings_key(const TextSettings& text);
// The same for how references in text assets are rewritten.
std::string settings_key(const ReferenceSettings& references, const HtmlSettings& html);

// Applies the keys of a TOML file on top of preset (an override such as cachet.toml). Its
// top-level `preset` key is not applied: config_base_preset() reads it.
void apply_config_file(Preset& preset, const std::filesystem::path& file);

// The preset a configuration file builds on (its top-level `preset = "fast"`), if it names one.
// Throws Error(config) naming file:line if the file cannot be read or parsed, if `preset` is not
// a string, or if it names no embedded preset (a file's base is a name, not another file).
std::optional<std::string> config_base_preset(const std::filesystem::path& file);

// Applies TOML text on top of preset; source_name is used in error messages.
void apply_config_text(Preset& preset, std::string_view text, const std::string& source_name);

std::string_view to_string(AvifCodec codec);

} // namespace cachet
