// End-to-end tests: the real cachet binary on the fixture site, outputs checked with
// independent decoders (libvips/libheif/libwebp for images, the compression libraries'
// one-shot APIs for sidecars, OpenSSL for digests, python3-jsonschema for the schema).
#include "pipeline/model/content_type.hpp"
#include "pipeline/model/hash.hpp"
#include "pipeline/text/compress.hpp"
#include "pipeline/text/minify.hpp"
#include "pipeline/text/references.hpp"
#include "tests/test_support.hpp"

#include <catch2/catch.hpp>
#include <vips/vips8>

#include <cmath>
#include <map>
#include <regex>
#include <set>

using namespace cachet;
using nlohmann::json;
using vips::VImage;
namespace fs = std::filesystem;

namespace {

VImage load(const fs::path& path)
{
    if (vips_init("cachet-tests") != 0)
        throw std::runtime_error("vips_init failed");
    return VImage::new_from_file(path.c_str());
}

// The source as a browser should show it: oriented, in sRGB, 8-bit, RGB(A).
VImage reference(const fs::path& source)
{
    VImage image = load(source).autorot();
    if (image.get_typeof(VIPS_META_ICC_NAME) != 0)
        image = image.icc_transform("srgb", VImage::option()->set("embedded", true)->set("depth", 8));
    image = image.colourspace(VIPS_INTERPRETATION_sRGB).cast(VIPS_FORMAT_UCHAR);
    if (image.bands() < 3)
        image = image.extract_band(0).bandjoin({image.extract_band(0), image.extract_band(0)});
    return image;
}

// The output as a browser shows it: through its ICC profile, or its CICP primaries for AVIF
// (libvips reads AVIF profiles but not CICP).
VImage as_displayed(const fs::path& path)
{
    VImage image = load(path);
    auto convert = VImage::option()->set("depth", 8);
    if (image.get_typeof(VIPS_META_ICC_NAME) != 0)
        return image.icc_transform("srgb", convert->set("embedded", true));
    if (path.extension() == ".avif" && test::avif_tags(test::slurp(path)).primaries == 12)
        return image.icc_transform("srgb", convert->set("input_profile", "p3"));
    delete convert;
    return image;
}

struct Pixels {
    int width = 0, height = 0, bands = 0;
    std::vector<std::uint8_t> data;
};

Pixels pixels_of(VImage image)
{
    image = image.colourspace(VIPS_INTERPRETATION_sRGB).cast(VIPS_FORMAT_UCHAR);
    std::size_t size = 0;
    void* memory = image.write_to_memory(&size);
    Pixels p{image.width(), image.height(), image.bands(), {}};
    p.data.assign(static_cast<std::uint8_t*>(memory), static_cast<std::uint8_t*>(memory) + size);
    g_free(memory);
    return p;
}

// Mean absolute colour difference over pixels the reference shows opaque.
double difference(VImage decoded, VImage reference_image)
{
    const Pixels a = pixels_of(decoded);
    const Pixels r = pixels_of(reference_image);
    REQUIRE(a.width == r.width);
    REQUIRE(a.height == r.height);
    REQUIRE(a.bands >= 3);
    double sum = 0;
    long count = 0;
    for (std::size_t i = 0; i < static_cast<std::size_t>(r.width) * static_cast<std::size_t>(r.height); ++i) {
        if (r.bands == 4 && r.data[i * 4 + 3] < 255)
            continue;
        for (std::size_t c = 0; c < 3; ++c)
            sum += std::abs(int(a.data[i * a.bands + c]) - int(r.data[i * r.bands + c]));
        count += 3;
    }
    REQUIRE(count > 0);
    return sum / double(count);
}

std::string hex_prefix(const fs::path& file, std::size_t n)
{
    return sha256_hex(test::slurp(file)).substr(0, n);
}

// dir/src holding the given fixtures (path under fixtures/ -> name under src), for one test.
fs::path fixture_source(const test::TempDir& dir, std::initializer_list<std::pair<std::string, std::string>> files)
{
    const fs::path src = dir / "src";
    for (const auto& [fixture, name] : files) {
        fs::create_directories((src / name).parent_path());
        fs::copy_file(test::fixtures() / fixture, src / name);
    }
    return src;
}

test::Process build(const fs::path& src, const fs::path& out, std::vector<std::string> extra = {})
{
    std::vector<std::string> args{"build", src.string(), "-o", out.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return test::run_cachet(args);
}

// text without the URLs of its references.
std::string without_urls(std::string_view path, std::string_view text)
{
    std::string out;
    std::size_t at = 0;
    for (const auto& r : find_references(path, text)) {
        out.append(text.substr(at, r.begin - at));
        at = r.end;
    }
    return out.append(text.substr(at));
}

// A text output is its source with reference URLs changed, nothing else (a script or stylesheet
// is minified too: it keeps as many references), and every URL it holds that names a file of the
// site names a file in OUT. (A source map's "file" is the exception: it names its script, whose
// sourceMappingURL names the map, so one of the two cannot hold the other's fingerprint; the
// map's note gives way and stays as written.)
void check_rewritten(std::string_view source, std::string_view source_text, const std::string& path,
                     std::string_view text, const fs::path& out)
{
    if (minifiable(source) == Minifiable::no || !left_as_is(source_text).empty() ||
        find_references(source, source_text).size() != find_references(path, text).size())
        CHECK(without_urls(source, source_text) == without_urls(source, text));
    for (const auto& r : find_references(path, text)) {
        INFO("reference " << r.url);
        if (r.role == Reference::Role::back)
            continue;
        if (const auto target = resolve_reference(path, r.url))
            CHECK(fs::is_regular_file(out / *target));
    }
}

} // namespace

TEST_CASE("cachet build: every output exists, decodes and matches its manifest entry", "[e2e]")
{
    test::TempDir dir;
    const fs::path src = test::fixtures() / "site";
    const fs::path out = dir / "out";
    const auto p = build(src, out, {"--json", "-j", "2"});
    INFO(p.err);
    REQUIRE(p.exit_code == 0);

    const json summary = json::parse(p.out);
    CHECK(summary["status"] == "ok");
    CHECK(summary["failed"] == 0);
    CHECK(summary["kinds"]["image"]["assets"] == 12);
    const auto& image_outputs = summary["kinds"]["image"]["outputs"];
    CHECK(image_outputs["jpeg"]["files"].get<int>() + image_outputs["png"]["files"].get<int>() +
              image_outputs["gif"]["files"].get<int>() ==
          12); // one fallback each
    CHECK(image_outputs["avif"]["files"].get<int>() >= 6);
    // Which images a negotiating server or <picture> can deliver in a modern format.
    CHECK(summary["images_modern"].get<int>() + summary["images_not_modern"].get<int>() == 12);
    CHECK(summary["images_modern"].get<int>() >= 10);
    CHECK_THAT(p.err, Catch::Contains(
                          "modern formats: " + std::to_string(summary["images_modern"].get<int>()) +
                          " of 12 images have a modern format (AVIF, WebP or JPEG XL), served by Accept negotiation"));

    const json manifest = test::read_json(out / "cachet-manifest.json");
    CHECK(manifest["version"] == 2);
    std::set<std::string> named{"cachet-manifest.json"};
    CHECK(manifest["assets"].size() == test::list_files(src).size());

    for (const auto& [source, asset] : manifest["assets"].items()) {
        INFO("source " << source);
        const Bytes source_bytes = test::slurp(src / source);
        CHECK(asset["source"]["bytes"] == source_bytes.size());
        CHECK(asset["source"]["digest"] == "sha256-" + sha256_hex(source_bytes));
        for (const auto& o : asset["outputs"]) {
            const std::string path = o["path"];
            INFO("output " << path);
            named.insert(path);
            const fs::path file = out / path;
            REQUIRE(fs::is_regular_file(file));
            const Bytes bytes = test::slurp(file);
            CHECK(o["bytes"] == bytes.size());
            CHECK(o["integrity"] == sri_sha384(bytes));
            if (o["fingerprinted"]) {
                // name.<10 hex of sha256 of the file's own bytes>.ext
                const std::string hash = hex_prefix(file, 10);
                CHECK(path.find("." + hash + ".") != std::string::npos);
                CHECK(o["cache_control"] == "public, max-age=31536000, immutable");
            } else {
                const bool image = o["content_type"].get<std::string>().starts_with("image/");
                CHECK(o["cache_control"] == (image ? "public, max-age=86400" : "no-cache"));
            }
            if (o["original"]) { // the source's own URL answers, with the same kind of content
                CHECK(path == source);
                CHECK(!o["fingerprinted"]);
                CHECK(o["content_type"] == std::string(content_type_for(source)));
                if (asset["kind"] == "passthrough")
                    CHECK(bytes == source_bytes);
                if (asset["kind"] == "image")
                    CHECK(bytes.size() <= source_bytes.size()); // never heavier
            }
            if (asset["kind"] == "image") {
                const VImage decoded = as_displayed(file);
                const VImage ref = reference(src / source);
                CHECK(difference(decoded, ref) < 8.0);
                if (o.contains("format")) {
                    CHECK(o["width"] == decoded.width());
                    CHECK(o["height"] == decoded.height());
                    const std::string format = o["format"];
                    CHECK(o["content_type"] == "image/" + format);
                } else { // a source cachet does not encode in kind (TIFF), at its own URL as it is
                    CHECK(o["original"]);
                    CHECK(bytes == source_bytes);
                }
            }
            if (asset["kind"] == "text") {
                check_rewritten(source, as_text(source_bytes), path, as_text(bytes), out);
                for (const auto& e : o["encodings"]) {
                    const std::string epath = e["path"];
                    named.insert(epath);
                    const Bytes packed = test::slurp(out / epath);
                    CHECK(e["bytes"] == packed.size());
                    CHECK(packed.size() <= bytes.size() * 9 / 10);
                    if (e["encoding"] == "zstd")
                        CHECK(test::unzstd(packed) == bytes);
                    else if (e["encoding"] == "br")
                        CHECK(test::unbrotli(packed, bytes.size()) == bytes);
                    else
                        CHECK(test::gunzip(packed, bytes.size()) == bytes);
                    CHECK(epath == path + "." +
                                       (e["encoding"] == "zstd" ? "zst"
                                        : e["encoding"] == "br" ? "br"
                                                                : "gz"));
                }
                if (bytes.size() < 1024)
                    CHECK(o["encodings"].empty());
            }
        }
    }
    // Never bigger, never upscaled: per source and width, AVIF < WebP < fallback where shipped.
    for (const auto& [source, asset] : manifest["assets"].items()) {
        if (asset["kind"] != "image")
            continue;
        INFO("source " << source);
        const VImage original = reference(src / source);
        std::map<int, std::map<std::string, std::uint64_t>> by_width;
        for (const auto& o : asset["outputs"]) {
            if (o["original"])
                continue; // checked above
            CHECK(o["width"].get<int>() <= original.width());
            by_width[o["width"].get<int>()][o["format"].get<std::string>()] = o["bytes"].get<std::uint64_t>();
        }
        CHECK(by_width.rbegin()->first == original.width());
        const std::string uri = asset["placeholder"]["data_uri"];
        CHECK(uri.size() <= 400);
        const VImage tiny = test::decode_data_uri(uri);
        CHECK(std::max(tiny.width(), tiny.height()) <= 16);
        CHECK(std::abs(double(tiny.width()) / tiny.height() - double(original.width()) / original.height()) < 0.5);
        CHECK_THAT(asset["placeholder"]["dominant_color"].get<std::string>(), Catch::Matches("#[0-9a-f]{6}"));
        for (const auto& [width, sizes] : by_width) {
            const std::uint64_t fallback = sizes.count("jpeg")  ? sizes.at("jpeg")
                                           : sizes.count("png") ? sizes.at("png")
                                                                : sizes.at("gif");
            if (sizes.count("webp"))
                CHECK(sizes.at("webp") < fallback);
            if (sizes.count("avif"))
                CHECK(sizes.at("avif") < std::min(fallback, sizes.count("webp") ? sizes.at("webp") : fallback));
        }
    }

    // Nothing in OUT that the manifest does not name.
    for (const auto& f : test::list_files(out))
        CHECK(named.count(f) == 1);

    SECTION("the camera-rotated JPEG comes out upright")
    {
        for (const auto& o : manifest["assets"]["img/rotated.jpg"]["outputs"]) {
            CHECK(o["width"] == 96);
            CHECK(o["height"] == 64);
        }
    }
    SECTION("fallbacks follow the source family; stable names keep their name")
    {
        CHECK(manifest["assets"]["img/hero.jpg"]["outputs"].back()["format"] == "jpeg");
        CHECK(manifest["assets"]["img/logo.png"]["outputs"].back()["format"] == "png");
        CHECK(manifest["assets"]["img/spinner.gif"]["outputs"].back()["format"] == "gif");
        // Smaller than every configured width: one width, its own, named with it.
        CHECK_THAT(manifest["assets"]["img/hero.jpg"]["outputs"][0]["path"].get<std::string>(),
                   Catch::StartsWith("img/hero-480w."));
        CHECK(manifest["assets"]["index.html"]["outputs"][0]["path"] == "index.html");
        CHECK(manifest["assets"]["robots.txt"]["outputs"][0]["path"] == "robots.txt");
        CHECK(manifest["assets"]["site.webmanifest"]["outputs"][0]["path"] == "site.webmanifest");
        CHECK(manifest["assets"]["js/app.js.map"]["outputs"][0]["path"].get<std::string>().ends_with(".js.map"));
        CHECK(manifest["assets"]["fonts/dejavu-sans.woff2"]["kind"] == "passthrough");
    }
    SECTION("the manifest validates against docs/manifest.schema.json, and a broken one does not")
    {
        const auto ok = test::run_program({"/usr/bin/python3", CACHET_FIXTURES "/../tests/validate_manifest.py",
                                           CACHET_SCHEMA, (out / "cachet-manifest.json").string()});
        INFO(ok.out << ok.err);
        CHECK(ok.exit_code == 0);
        const std::vector<std::pair<std::string, json::json_pointer>> mutations = {
            {"integrity", json::json_pointer("/assets/js~1app.js/outputs/0/integrity")},
            {"placeholder", json::json_pointer("/assets/img~1hero.jpg/placeholder")},
        };
        for (const auto& [what, pointer] : mutations) {
            json broken = manifest;
            broken[pointer.parent_pointer()].erase(pointer.back());
            test::spit(dir / "broken.json", broken.dump());
            const auto bad = test::run_program({"/usr/bin/python3", CACHET_FIXTURES "/../tests/validate_manifest.py",
                                                CACHET_SCHEMA, (dir / "broken.json").string()});
            CHECK(bad.exit_code == 1);
            CHECK_THAT(bad.out, Catch::Contains(what));
        }
    }
}

TEST_CASE("cachet build: two builds are byte-identical whatever -j", "[e2e]")
{
    test::TempDir dir;
    const fs::path src = test::fixtures() / "site";
    REQUIRE(build(src, dir / "a", {"-j", "1"}).exit_code == 0);
    REQUIRE(build(src, dir / "b", {"-j", "2"}).exit_code == 0);
    REQUIRE(build(src, dir / "c", {"-j", "7"}).exit_code == 0);
    const auto files = test::list_files(dir / "a");
    CHECK(files.size() > 40);
    CHECK(test::list_files(dir / "b") == files);
    CHECK(test::list_files(dir / "c") == files);
    for (const auto& f : files) {
        INFO(f);
        CHECK(test::slurp(dir / "a" / f) == test::slurp(dir / "b" / f));
        CHECK(test::slurp(dir / "a" / f) == test::slurp(dir / "c" / f));
    }
}

TEST_CASE("cachet build: a lone image is byte-identical at -j1 and -j2 (encoder threads vary)", "[e2e]")
{
    test::TempDir dir;
    const fs::path src = fixture_source(dir, {{"site/img/hero.jpg", "hero.jpg"}});
    REQUIRE(build(src, dir / "a", {"-j", "1"}).exit_code == 0);
    REQUIRE(build(src, dir / "b", {"-j", "2"}).exit_code == 0);
    const auto files = test::list_files(dir / "a");
    REQUIRE(test::list_files(dir / "b") == files);
    for (const auto& f : files)
        CHECK(test::slurp(dir / "a" / f) == test::slurp(dir / "b" / f));
}

TEST_CASE("cachet build: each image gets every configured width below its own, plus its own", "[e2e]")
{
    test::TempDir dir;
    const fs::path src =
        fixture_source(dir, {{"site/img/hero.jpg", "hero.jpg"}, {"site/img/rotated.jpg", "rotated.jpg"}});
    test::spit(dir / "w.toml", "[images]\nwidths = [1000, 200, 100, 200]\n");
    REQUIRE(build(src, dir / "out", {"--config", (dir / "w.toml").string()}).exit_code == 0);
    const json m = test::read_json(dir / "out/cachet-manifest.json");
    std::map<int, std::set<std::string>> hero;
    for (const auto& o : m["assets"]["hero.jpg"]["outputs"]) {
        const std::string path = o["path"];
        const int width = o["width"];
        INFO(path);
        hero[width].insert(o["format"].get<std::string>());
        CHECK_THAT(path, Catch::StartsWith(o["original"] ? "hero.jpg" : "hero-" + std::to_string(width) + "w."));
        const VImage decoded = load(dir / "out" / path);
        CHECK(decoded.width() == width);
        CHECK(o["height"] == decoded.height());
        CHECK(decoded.height() == static_cast<int>(std::lround(320.0 * width / 480.0)));
        CHECK(difference(decoded, reference(src / "hero.jpg").resize(double(width) / 480.0)) < 12.0);
    }
    CHECK(hero.size() == 3);
    CHECK(hero.count(100) == 1);
    CHECK(hero.count(200) == 1);
    CHECK(hero.count(480) == 1); // own width; 1000 would be an upscale
    for (const auto& [width, formats] : hero)
        CHECK(formats.count("jpeg") == 1);
    std::set<int> rotated;
    for (const auto& o : m["assets"]["rotated.jpg"]["outputs"])
        rotated.insert(o["width"].get<int>());
    CHECK(rotated == std::set<int>{96});
}

TEST_CASE("cachet build: per-path image rules choose widths, formats and quality", "[e2e]")
{
    test::TempDir dir;
    const fs::path src = dir / "src";
    for (const char* d : {"icons", "thumbs", "photos", "plain"})
        fs::create_directories(src / d);
    const fs::path hero = test::fixtures() / "site/img/hero.jpg";
    for (const char* d : {"icons", "thumbs", "photos", "plain"})
        fs::copy_file(hero, src / d / "hero.jpg");
    // (A WebP no smaller than its JPEG does not ship; at the default WebP quality this photo's
    // small outputs are not: a lower one keeps every format this test is about.)
    test::spit(dir / "cachet.toml", "[images]\nwidths = [200]\n[images.webp]\nquality = 75\n"
                                    "[[images.rules]]\nmatch = \"icons/**\"\nwidths = []\n"
                                    "[[images.rules]]\nmatch = \"thumbs/**\"\nformats = [\"webp\"]\n"
                                    "[[images.rules]]\nmatch = \"photos/**\"\navif.quality = 20\n"
                                    "avif.max_distance = 0\n"); // (the floor would raise it)
    const auto p = test::run_cachet({"build", "src", "-o", "out"}, dir.path());
    INFO(p.err);
    REQUIRE(p.exit_code == 0);
    const json m = test::read_json(dir / "out/cachet-manifest.json");
    auto summary = [&](const std::string& source) {
        std::set<std::string> out;
        for (const auto& o : m["assets"][source]["outputs"])
            out.insert(std::to_string(o["width"].get<int>()) + ":" + o["format"].get<std::string>());
        return out;
    };
    CHECK(summary("plain/hero.jpg") ==
          std::set<std::string>{"200:avif", "200:webp", "200:jpeg", "480:avif", "480:webp", "480:jpeg"});
    CHECK(summary("icons/hero.jpg") == std::set<std::string>{"480:avif", "480:webp", "480:jpeg"});
    CHECK_THAT(m["assets"]["icons/hero.jpg"]["outputs"][0]["path"].get<std::string>(),
               Catch::StartsWith("icons/hero."));
    CHECK(summary("thumbs/hero.jpg") == std::set<std::string>{"200:webp", "200:jpeg", "480:webp", "480:jpeg"});
    auto avif_bytes = [&](const std::string& source) {
        for (const auto& o : m["assets"][source]["outputs"])
            if (o["format"] == "avif" && o["width"] == 480)
                return o["bytes"].get<std::uint64_t>();
        return std::uint64_t{0};
    };
    CHECK(avif_bytes("photos/hero.jpg") > 0);
    CHECK(avif_bytes("photos/hero.jpg") < avif_bytes("plain/hero.jpg") * 2 / 3); // q20 vs q50
    const auto plan = test::run_cachet({"build", "src", "-o", "out2", "--dry-run"}, dir.path());
    CHECK_THAT(plan.out, Catch::Contains("thumbs/hero.jpg  image") && Catch::Contains("webp +fallback at widths 200"));
}

TEST_CASE("cachet picture prints markup that references only files in OUT", "[e2e]")
{
    test::TempDir dir;
    const fs::path src =
        fixture_source(dir, {{"site/img/hero.jpg", "img/hero photo.jpg"}, {"site/img/logo.png", "img/logo.png"}});
    test::spit(dir / "w.toml", "[images]\nwidths = [100, 200]\n");
    REQUIRE(build(src, dir / "out", {"--config", (dir / "w.toml").string()}).exit_code == 0);
    const std::string manifest = (dir / "out/cachet-manifest.json").string();
    for (const std::string source : {"img/hero photo.jpg", "img/logo.png"}) {
        INFO(source);
        const auto p = test::run_cachet({"picture", source, "--manifest", manifest, "--alt", "x"});
        REQUIRE(p.exit_code == 0);
        CHECK_THAT(p.out, Catch::StartsWith("<picture>") && Catch::Contains("loading=\"lazy\" decoding=\"async\""));
        // Every URL in src/srcset names a file in OUT (after undoing the %20 escape).
        const std::regex url_pattern("/(img/[^ \",]+)");
        int urls = 0;
        for (std::sregex_iterator it(p.out.begin(), p.out.end(), url_pattern), end; it != end; ++it) {
            std::string url = (*it)[1];
            for (std::size_t pct; (pct = url.find("%20")) != std::string::npos;)
                url.replace(pct, 3, " ");
            CHECK(fs::is_regular_file(dir / "out" / url));
            ++urls;
        }
        CHECK(urls >= 3);
    }
    const auto logo = test::run_cachet({"picture", "img/logo.png", "--manifest", manifest});
    CHECK_THAT(logo.out, Catch::Contains("width=\"128\" height=\"128\"") && Catch::Contains(".png 128w"));
    auto p = test::run_cachet({"picture", "img/missing.jpg", "--manifest", manifest});
    CHECK(p.exit_code == 2);
    CHECK_THAT(p.err, Catch::Contains("has no source \"img/missing.jpg\""));
    p = test::run_cachet({"picture", "img/logo.png", "--manifest", (dir / "nope.json").string()});
    CHECK(p.exit_code == 2);
    CHECK_THAT(p.err, Catch::Contains("nope.json"));
}

TEST_CASE("cachet build: awkward images (1x1, CMYK, palette with tRNS) build and decode", "[e2e]")
{
    test::TempDir dir;
    const fs::path src = fixture_source(dir, {{"images/one-pixel.png", "one-pixel.png"},
                                              {"images/cmyk.jpg", "cmyk.jpg"},
                                              {"images/palette-trns.png", "palette-trns.png"}});
    const auto p = build(src, dir / "out");
    INFO(p.err);
    REQUIRE(p.exit_code == 0);
    const json m = test::read_json(dir / "out/cachet-manifest.json");
    for (const auto& [source, asset] : m["assets"].items()) {
        INFO(source);
        for (const auto& o : asset["outputs"]) {
            const VImage decoded = load(dir / "out" / o["path"].get<std::string>());
            CHECK(decoded.width() == o["width"].get<int>());
            CHECK(difference(decoded, reference(src / source)) < 10.0);
        }
    }
    CHECK(m["assets"]["one-pixel.png"]["outputs"].back()["width"] == 1);
    CHECK(m["assets"]["cmyk.jpg"]["outputs"].back()["format"] == "jpeg");
    CHECK(m["assets"]["palette-trns.png"]["outputs"].back()["format"] == "png");
    CHECK(load(dir / "out" / m["assets"]["palette-trns.png"]["outputs"].back()["path"].get<std::string>()).has_alpha());
}

TEST_CASE("cachet build: wide-gamut images keep their gamut, or convert with colour = srgb", "[e2e]")
{
    test::TempDir dir;
    const fs::path src = fixture_source(dir, {{"site/img/display-p3.jpg", "p3.jpg"},
                                              {"images/adobe-rgb.jpg", "adobe.jpg"},
                                              {"images/srgb-tagged.jpg", "srgb.jpg"}});
    test::spit(dir / "keep.toml", "[images]\nwidths = []\n");
    test::spit(dir / "srgb.toml", "[images]\nwidths = []\ncolour = \"srgb\"\n");
    for (const std::string mode : {"keep", "srgb"}) {
        INFO(mode);
        const fs::path out = dir / mode;
        REQUIRE(build(src, out, {"--config", (dir / (mode + ".toml")).string()}).exit_code == 0);
        const json m = test::read_json(out / "cachet-manifest.json");
        for (const std::string source : {"p3.jpg", "adobe.jpg", "srgb.jpg"}) {
            INFO(source);
            const bool tagged = mode == "keep" && source != "srgb.jpg";
            for (const auto& o : m["assets"][source]["outputs"]) {
                const fs::path file = out / o["path"].get<std::string>();
                INFO(file.filename());
                CHECK(difference(as_displayed(file), reference(src / source)) < 6.0); // right colours either way
                if (o["format"] == "avif") {
                    const auto tags = test::avif_tags(test::slurp(file));
                    CHECK(tags.primaries == (tagged && source == "p3.jpg" ? 12 : tagged ? 2 : 1));
                    CHECK((tags.icc > 0) == (tagged && source == "adobe.jpg"));
                } else {
                    CHECK((load(file).get_typeof(VIPS_META_ICC_NAME) != 0) == tagged);
                }
            }
        }
    }
}

TEST_CASE("cachet build: quality = \"auto\" records the chosen quality and Butteraugli distance", "[e2e]")
{
    test::TempDir dir;
    const fs::path src = fixture_source(dir, {{"site/img/hero.jpg", "hero.jpg"}, {"site/img/logo.png", "logo.png"}});
    test::spit(dir / "auto.toml", "[images]\nwidths = [200]\n[images.auto]\ndistance = 1.6\n"
                                  "[images.avif]\nquality = \"auto\"\n[images.webp]\nquality = \"auto\"\n");
    REQUIRE(build(src, dir / "out", {"--config", (dir / "auto.toml").string()}).exit_code == 0);
    const json m = test::read_json(dir / "out/cachet-manifest.json");
    int measured = 0;
    for (const auto& [source, asset] : m["assets"].items())
        for (const auto& o : asset["outputs"]) {
            INFO(source << " " << o["path"]);
            if (o["format"] == "avif" || o["format"] == "webp") {
                REQUIRE(o.contains("quality"));
                CHECK(o["butteraugli"].get<double>() <= 1.6);
                ++measured;
            } else {
                CHECK_FALSE(o.contains("butteraugli")); // the fallback keeps its fixed quality
            }
        }
    CHECK(measured >= 4);
    // The search is deterministic: another build at another -j gives the same bytes.
    REQUIRE(build(src, dir / "again", {"--config", (dir / "auto.toml").string(), "-j", "1"}).exit_code == 0);
    CHECK(test::slurp(dir / "again/cachet-manifest.json") == test::slurp(dir / "out/cachet-manifest.json"));
    const auto ok = test::run_program({"/usr/bin/python3", CACHET_FIXTURES "/../tests/validate_manifest.py",
                                       CACHET_SCHEMA, (dir / "out/cachet-manifest.json").string()});
    CHECK(ok.exit_code == 0);
}

TEST_CASE("cachet build: the rate control lowers AVIF and WebP quality as outputs grow and records it", "[e2e][rate]")
{
    test::TempDir dir;
    const fs::path src = fixture_source(dir, {{"site/img/hero.jpg", "hero.jpg"}});
    // hero.jpg is 480x320: 120 px wide is the reference size, 240 two doublings over, 480 four.
    auto rate = [](const std::string& avif) {
        return "[images]\nwidths = [120, 240]\n[images.auto]\nreference_width = 120\n"
               "[images.avif]\nquality = 50\nquality_step = 4\n" +
               avif + "[images.webp]\nquality = 75\nquality_step = 2\n[images.jpeg]\ndistance_step = 0\n";
    };
    test::spit(dir / "rate.toml", rate("max_distance = 0\n"));
    test::spit(dir / "fixed.toml",
               "[images]\nwidths = [120, 240]\n[images.avif]\nquality = 50\nquality_step = 0\n"
               "max_distance = 0\n[images.webp]\nquality = 75\nquality_step = 0\n[images.jpeg]\ndistance_step = 0\n");
    REQUIRE(build(src, dir / "out", {"--config", (dir / "rate.toml").string()}).exit_code == 0);
    REQUIRE(build(src, dir / "fixed", {"--config", (dir / "fixed.toml").string()}).exit_code == 0);
    auto outputs = [&](const fs::path& out) {
        std::map<std::pair<std::string, int>, json> by;
        const json manifest = test::read_json(out / "cachet-manifest.json");
        for (const auto& o : manifest["assets"]["hero.jpg"]["outputs"])
            if (!o.value("original", false))
                by[{o["format"].get<std::string>(), o["width"].get<int>()}] = o;
        return by;
    };
    const auto rated = outputs(dir / "out");
    const auto fixed = outputs(dir / "fixed");
    CHECK_FALSE(rated.at({"webp", 120}).contains("quality")); // the reference size: as configured
    CHECK(rated.at({"avif", 240}).at("quality") == 42);
    CHECK(rated.at({"avif", 480}).at("quality") == 34);
    CHECK(rated.at({"webp", 240}).at("quality") == 71);
    CHECK(rated.at({"webp", 480}).at("quality") == 67);
    CHECK_FALSE(fixed.at({"avif", 480}).contains("quality"));
    CHECK(rated.at({"webp", 120}).at("bytes") == fixed.at({"webp", 120}).at("bytes"));
    CHECK(rated.at({"avif", 480}).at("bytes").get<int>() < fixed.at({"avif", 480}).at("bytes").get<int>());
    CHECK(rated.at({"webp", 480}).at("bytes").get<int>() < fixed.at({"webp", 480}).at("bytes").get<int>());

    // The floor: a distance the reference size misses at quality 50 raises every width.
    // (At 120 px the AVIF is not smaller than the WebP, so it does not ship.)
    test::spit(dir / "floor.toml", rate("max_distance = 1.2\nraised_step_factor = 1\n"));
    REQUIRE(build(src, dir / "floor", {"--config", (dir / "floor.toml").string(), "-j", "1"}).exit_code == 0);
    const auto floored = outputs(dir / "floor");
    const int raised = floored.at({"avif", 240}).at("quality").get<int>();
    CHECK(raised > 42);
    CHECK(floored.at({"avif", 480}).at("quality") == raised - 8);
    // An image the floor raised steps down at raised_step_factor times the step (the raise is
    // found at the reference size, so it is the same raise).
    test::spit(dir / "gentle.toml", rate("max_distance = 1.2\nraised_step_factor = 0.5\n"));
    REQUIRE(build(src, dir / "gentle", {"--config", (dir / "gentle.toml").string(), "-j", "1"}).exit_code == 0);
    const auto gentle = outputs(dir / "gentle");
    CHECK(gentle.at({"avif", 240}).value("quality", 50) == raised + 4);
    CHECK(gentle.at({"avif", 480}).value("quality", 50) == raised);
    // Deterministic: the same build at another -j gives the same manifest.
    REQUIRE(build(src, dir / "again", {"--config", (dir / "floor.toml").string(), "-j", "2"}).exit_code == 0);
    CHECK(test::slurp(dir / "again/cachet-manifest.json") == test::slurp(dir / "floor/cachet-manifest.json"));
    const auto ok = test::run_program({"/usr/bin/python3", CACHET_FIXTURES "/../tests/validate_manifest.py",
                                       CACHET_SCHEMA, (dir / "floor/cachet-manifest.json").string()});
    CHECK(ok.exit_code == 0);
}

TEST_CASE("cachet build: a corrupt image fails with its path while every other asset builds", "[e2e]")
{
    test::TempDir dir;
    const fs::path src = test::copy_site(dir);
    Bytes truncated = test::slurp(src / "img/hero.jpg");
    truncated.resize(truncated.size() / 3);
    test::spit(src / "img/broken.jpg", std::string(truncated.begin(), truncated.end()));
    test::spit(src / "img/garbage.png", "this is not a PNG at all");
    const auto p = build(src, dir / "out", {"--json"});
    CHECK(p.exit_code == 1);
    CHECK_THAT(p.err, Catch::Contains("img/broken.jpg: cannot decode image"));
    CHECK_THAT(p.err, Catch::Contains("img/garbage.png: not a supported image"));
    const json summary = json::parse(p.out);
    CHECK(summary["status"] == "failed");
    CHECK(summary["failed"] == 2);
    CHECK(summary["failures"][0]["path"] == "img/broken.jpg");
    CHECK(summary["failures"][1]["path"] == "img/garbage.png");
    const json manifest = test::read_json(dir / "out/cachet-manifest.json");
    CHECK(manifest["assets"].size() == test::list_files(src).size() - 2);
    CHECK_FALSE(manifest["assets"].contains("img/broken.jpg"));
    CHECK(manifest["assets"].contains("img/hero.jpg"));
}

TEST_CASE("cachet build: unsupported image types fail, or pass through when configured", "[e2e]")
{
    test::TempDir dir;
    const fs::path src = dir / "src";
    test::spit(src / "a.bmp", "BM fake bitmap");
    test::spit(src / "b.css", "body{}");
    auto p = build(src, dir / "out");
    CHECK(p.exit_code == 1);
    CHECK_THAT(p.err, Catch::Contains("a.bmp: unsupported image type .bmp"));
    test::spit(dir / "cachet.toml", "[images]\nunsupported = \"passthrough\"\n");
    p = test::run_cachet({"build", "src", "-o", "out2"}, dir.path());
    CHECK(p.exit_code == 0);
    CHECK(test::read_json(dir / "out2/cachet-manifest.json")["assets"]["a.bmp"]["kind"] == "passthrough");
}

TEST_CASE("cachet build: a file name that is not UTF-8 fails clearly, and the rest builds", "[e2e]")
{
    test::TempDir dir;
    const fs::path src = dir / "src";
    test::spit(src / "caf\xe9.css", "a{}");
    test::spit(src / "ok.css", "b{}");
    const auto p = build(src, dir / "out", {"--json"});
    CHECK(p.exit_code == 1);
    CHECK_THAT(p.err, Catch::Contains("not valid UTF-8"));
    const json summary = json::parse(p.out);
    CHECK(summary["failed"] == 1);
    CHECK(test::read_json(dir / "out/cachet-manifest.json")["assets"].contains("ok.css"));
}

TEST_CASE("cachet build: large passthrough files are copied exactly and named by their bytes", "[e2e]")
{
    test::TempDir dir;
    const fs::path src = dir / "src";
    std::string video(24 * 1024 * 1024 + 123, '\0');
    std::uint32_t x = 7;
    for (auto& c : video) {
        x = x * 1664525u + 1013904223u;
        c = static_cast<char>(x >> 24);
    }
    test::spit(src / "media/intro.mp4", video);
    REQUIRE(build(src, dir / "out").exit_code == 0);
    const json o = test::read_json(dir / "out/cachet-manifest.json")["assets"]["media/intro.mp4"]["outputs"][0];
    const std::string path = o["path"];
    const Bytes copied = test::slurp(dir / "out" / path);
    CHECK(copied.size() == video.size());
    CHECK(as_text(copied) == video);
    CHECK(path == "media/intro." + sha256_hex(copied).substr(0, 10) + ".mp4");
    CHECK(o["integrity"] == sri_sha384(copied));
    CHECK(o["content_type"] == "video/mp4");
    // Its own URL too: a hard link to the same bytes.
    const json original = test::read_json(dir / "out/cachet-manifest.json")["assets"]["media/intro.mp4"]["outputs"][1];
    CHECK(original["path"] == "media/intro.mp4");
    CHECK(original["original"] == true);
    CHECK(original["cache_control"] == "public, max-age=604800");
    CHECK(fs::equivalent(dir / "out/media/intro.mp4", dir / "out" / path));
    CHECK(fs::hard_link_count(dir / "out/media/intro.mp4") == 2);
    // The copy, its original and the manifest: no temporary left.
    CHECK(test::list_files(dir / "out").size() == 3);
}

namespace {

// The frames of an animated GIF or WebP as libvips decodes them, with delays and loop count.
struct Frames {
    std::vector<VImage> frames;
    std::vector<int> delays;
    int loop = -1;
};

Frames frames_of(const fs::path& path)
{
    load(path); // starts libvips
    const bool animated_type = path.extension() == ".gif" || path.extension() == ".webp";
    const VImage all = animated_type ? VImage::new_from_file(path.c_str(), VImage::option()->set("n", -1)) : load(path);
    Frames f;
    const int page_height =
        all.get_typeof(VIPS_META_PAGE_HEIGHT) != 0 ? all.get_int(VIPS_META_PAGE_HEIGHT) : all.height();
    for (int top = 0; top < all.height(); top += page_height)
        f.frames.push_back(all.extract_area(0, top, all.width(), page_height));
    if (all.get_typeof("delay") != 0)
        f.delays = all.get_array_int("delay");
    if (all.get_typeof("loop") != 0)
        f.loop = all.get_int("loop");
    return f;
}

const std::vector<int> k_spinner_delays{80, 120, 200, 160, 300};

} // namespace

TEST_CASE("cachet build: animated GIF and WebP become animated WebP and GIF with their timing", "[e2e][animation]")
{
    test::TempDir dir;
    const fs::path src = fixture_source(dir, {{"site/img/spinner.gif", "spinner.gif"},
                                              {"site/img/spinner-anim.webp", "spinner-anim.webp"},
                                              {"images/plays-three-times.gif", "three.gif"}});
    test::spit(dir / "w.toml", "[images]\nwidths = [24]\n");
    const auto p = build(src, dir / "out", {"--config", (dir / "w.toml").string()});
    INFO(p.err);
    REQUIRE(p.exit_code == 0);
    const json m = test::read_json(dir / "out/cachet-manifest.json");

    for (const std::string source : {"spinner.gif", "spinner-anim.webp"}) {
        INFO(source);
        const Frames original = frames_of(src / source);
        REQUIRE(original.frames.size() == 5);
        std::set<std::pair<int, std::string>> shipped;
        for (const auto& o : m["assets"][source]["outputs"]) {
            const std::string path = o["path"];
            INFO(path);
            shipped.insert({o["width"].get<int>(), o["format"].get<std::string>()});
            CHECK(o["frames"] == 5);
            if (o["format"] == "avif")
                continue; // checked through libavif below
            const Frames out = frames_of(dir / "out" / path);
            REQUIRE(out.frames.size() == 5);
            CHECK(out.delays == k_spinner_delays);
            CHECK(out.loop == 0);
            for (std::size_t i = 0; i < 5; ++i) {
                INFO("frame " << i);
                CHECK(out.frames[i].width() == o["width"].get<int>());
                const VImage ref = original.frames[i].resize(double(o["width"].get<int>()) / 48.0);
                // Palette GIFs dither; lossy WebP blurs; the ball moves ~10 px a frame, so a frame
                // shown out of order would differ by far more than this.
                CHECK(difference(out.frames[i], ref) < (o["format"] == "gif" ? 14.0 : 10.0));
            }
        }
        CHECK(shipped.count({24, "webp"}) == 1);
        CHECK(shipped.count({48, "webp"}) == 1);
        CHECK(shipped.count({24, "gif"}) == 1);
        CHECK(shipped.count({48, "gif"}) == 1);
    }
    // The last frame only repaints an 8x8 block: the outputs hold it composited over frame 4.
    const Frames spinner = frames_of(src / "spinner.gif");
    const auto& spinner_webp = m["assets"]["spinner.gif"]["outputs"];
    for (const auto& o : spinner_webp)
        if (o["format"] == "webp" && o["width"] == 48) {
            const Frames out = frames_of(dir / "out" / o["path"].get<std::string>());
            CHECK(difference(out.frames[4], spinner.frames[4]) < 10.0);
            CHECK(difference(out.frames[4].extract_area(20, 0, 28, 32), spinner.frames[3].extract_area(20, 0, 28, 32)) <
                  10.0);
        }

    // An animation that plays three times keeps that count, and gets no AVIF: libavif 0.11
    // cannot write a loop count, and a sequence without one loops forever.
    CHECK_THAT(p.err, Catch::Contains("three.gif") && Catch::Contains("no AVIF: the animation plays 3 time(s)"));
    for (const auto& o : m["assets"]["three.gif"]["outputs"]) {
        INFO(o["path"]);
        CHECK(o["format"] != "avif");
        const Frames out = frames_of(dir / "out" / o["path"].get<std::string>());
        CHECK(out.loop == 3);
        CHECK(out.delays == std::vector<int>{100, 200, 300});
    }
}

TEST_CASE("cachet build: animated AVIF is an image sequence with the source's frames and timing", "[e2e][animation]")
{
    test::TempDir dir;
    const fs::path src = fixture_source(dir, {{"site/img/spinner.gif", "spinner.gif"}});
    // AVIF only (for a 48x32 graphic WebP is smaller, and never-bigger would drop the AVIF).
    test::spit(dir / "avif.toml", "[images]\nformats = [\"avif\"]\nfallback = false\n");
    const auto p = build(src, dir / "out", {"--config", (dir / "avif.toml").string()});
    INFO(p.err);
    REQUIRE(p.exit_code == 0);
    const json m = test::read_json(dir / "out/cachet-manifest.json");
    const auto& outputs = m["assets"]["spinner.gif"]["outputs"];
    REQUIRE(outputs.size() == 2);
    CHECK(outputs[1]["original"] == true); // spinner.gif as it was: no GIF among the formats
    CHECK(test::slurp(dir / "out/spinner.gif") == test::slurp(src / "spinner.gif"));
    CHECK(outputs[0]["format"] == "avif");
    CHECK(outputs[0]["frames"] == 5);
    const test::AvifSequence sequence =
        test::avif_sequence(test::slurp(dir / "out" / outputs[0]["path"].get<std::string>()));
    REQUIRE(sequence.frames.size() == 5);
    CHECK(sequence.durations_ms == k_spinner_delays);
    const Frames original = frames_of(src / "spinner.gif");
    for (std::size_t i = 0; i < 5; ++i) {
        INFO("frame " << i);
        const auto& rgb = sequence.frames[i];
        const VImage decoded = VImage::new_from_memory(const_cast<std::uint8_t*>(rgb.data()), rgb.size(),
                                                       sequence.width, sequence.height, 3, VIPS_FORMAT_UCHAR);
        CHECK(difference(decoded, original.frames[i]) < 10.0);
    }
}

TEST_CASE("cachet build: animation limits and animate = false", "[e2e][animation]")
{
    test::TempDir dir;
    const fs::path src = fixture_source(dir, {{"site/img/spinner.gif", "spinner.gif"}});
    SECTION("too many frames")
    {
        test::spit(dir / "l.toml", "[images]\nmax_frames = 4\n");
        const auto p = build(src, dir / "out", {"--config", (dir / "l.toml").string()});
        CHECK(p.exit_code == 1);
        CHECK_THAT(p.err,
                   Catch::Contains("spinner.gif: animation has 5 frames, over the limit of 4 (images.max_frames)"));
    }
    SECTION("too many pixels across frames")
    {
        test::spit(dir / "l.toml", "[images]\nmax_animation_pixels = 7000\n");
        const auto p = build(src, dir / "out", {"--config", (dir / "l.toml").string()});
        CHECK(p.exit_code == 1);
        CHECK_THAT(p.err, Catch::Contains("spinner.gif: animation is 5 frames of 48x32 = 7680 pixels, over the limit "
                                          "of 7000 (images.max_animation_pixels)"));
    }
    SECTION("animate = false: the first frame, as a still")
    {
        test::spit(dir / "l.toml", "[images]\nanimate = false\n");
        const auto p = build(src, dir / "out", {"--config", (dir / "l.toml").string()});
        REQUIRE(p.exit_code == 0);
        const json m = test::read_json(dir / "out/cachet-manifest.json");
        for (const auto& o : m["assets"]["spinner.gif"]["outputs"]) {
            if (o["original"]) { // its own URL still answers as it did: with the source
                CHECK(test::slurp(dir / "out" / o["path"].get<std::string>()) == test::slurp(src / "spinner.gif"));
                continue;
            }
            CHECK_FALSE(o.contains("frames"));
            CHECK(o["format"] != "gif"); // a still GIF source gets a PNG fallback
            CHECK(frames_of(dir / "out" / o["path"].get<std::string>()).frames.size() == 1);
        }
    }
}

TEST_CASE("cachet build: metadata is stripped except the EXIF fields keep_metadata names", "[e2e][metadata]")
{
    test::TempDir dir;
    const fs::path src = fixture_source(dir, {{"images/exif-credits.jpg", "credits.jpg"}});
    auto exif_field = [](const fs::path& file, const char* name) {
        const VImage image = load(file);
        return image.get_typeof(name) == 0 ? std::string() : std::string(image.get_string(name));
    };
    SECTION("default: nothing kept, orientation applied to the pixels")
    {
        REQUIRE(build(src, dir / "out").exit_code == 0);
        const json m = test::read_json(dir / "out/cachet-manifest.json");
        for (const auto& o : m["assets"]["credits.jpg"]["outputs"]) {
            INFO(o["path"]);
            CHECK(load(dir / "out" / o["path"].get<std::string>()).get_typeof(VIPS_META_EXIF_NAME) == 0);
            CHECK(o["width"] == 96);
        }
    }
    for (const std::string format : {"avif", "webp"}) {
        SECTION("keep_metadata = [\"copyright\"] with " + format)
        {
            test::spit(dir / "keep.toml",
                       "[images]\nkeep_metadata = [\"copyright\"]\nformats = [\"" + format + "\"]\n");
            const auto p = build(src, dir / "out", {"--config", (dir / "keep.toml").string()});
            INFO(p.err);
            REQUIRE(p.exit_code == 0);
            const json m = test::read_json(dir / "out/cachet-manifest.json");
            std::set<std::string> formats;
            for (const auto& o : m["assets"]["credits.jpg"]["outputs"]) {
                const fs::path file = dir / "out" / o["path"].get<std::string>();
                INFO(file);
                formats.insert(o["format"].get<std::string>());
                CHECK_THAT(exif_field(file, "exif-ifd0-Copyright"), Catch::StartsWith("(c) 2026 Cachet Fixtures"));
                CHECK(exif_field(file, "exif-ifd0-Artist").empty());
                CHECK(exif_field(file, "exif-ifd0-Make").empty());
                CHECK(exif_field(file, "exif-ifd0-Orientation").empty());
                CHECK(exif_field(file, "exif-ifd3-GPSLatitudeRef").empty());
                CHECK(difference(as_displayed(file), reference(src / "credits.jpg")) < 8.0); // upright
            }
            CHECK(formats == std::set<std::string>{format, "jpeg"});
        }
    }
}

TEST_CASE("cachet build: over-limit images are rejected with the setting named", "[e2e]")
{
    test::TempDir dir;
    test::spit(dir / "limit.toml", "[images]\nmax_pixels = 10000\n");
    const auto p = build(test::fixtures() / "site", dir / "out", {"--config", (dir / "limit.toml").string()});
    CHECK(p.exit_code == 1);
    CHECK_THAT(p.err, Catch::Contains("img/hero.jpg: image is 480x320 = 153600 pixels, over the limit of 10000"));
}

TEST_CASE("cachet build: sidecars only when big enough and worth it", "[e2e]")
{
    test::TempDir dir;
    const fs::path src = dir / "src";
    std::string random_text;
    std::uint32_t x = 12345;
    for (int i = 0; i < 4000; ++i) {
        x = x * 1103515245u + 12345u;
        random_text += static_cast<char>(33 + (x >> 16) % 94);
    }
    test::spit(src / "noise.txt", random_text);
    test::spit(src / "small.js", "console.log(1)");
    test::spit(src / "big.js", std::string(5000, 'a'));
    REQUIRE(build(src, dir / "out").exit_code == 0);
    const json m = test::read_json(dir / "out/cachet-manifest.json");
    CHECK(m["assets"]["small.js"]["outputs"][0]["encodings"].empty());
    CHECK(m["assets"]["big.js"]["outputs"][0]["encodings"].size() == 3);
    // Printable random bytes compress by about 18% at most with every codec: gzip/zstd keep
    // little, so some variants may be dropped at the 10% gate. Raise the gate to drop them all.
    test::spit(dir / "strict.toml", "[text]\nmin_saving = 0.5\n");
    REQUIRE(build(src, dir / "out2", {"--config", (dir / "strict.toml").string()}).exit_code == 0);
    const json m2 = test::read_json(dir / "out2/cachet-manifest.json");
    CHECK(m2["assets"]["noise.txt"]["outputs"][0]["encodings"].empty());
    CHECK(m2["assets"]["big.js"]["outputs"][0]["encodings"].size() == 3);
}

TEST_CASE("cachet build: a large text's sidecars, made side by side, are the same bytes at -j1 and -j2 and decode "
          "to it",
          "[e2e]")
{
    test::TempDir dir;
    const fs::path src = dir / "src";
    std::string css;
    std::string log;
    for (int i = 0; i < 900; ++i) { // 40 KB and 16 KB: over the size whose encodings get threads
        css += ".rule" + std::to_string(i) + " { color: #" + std::to_string(100 + i % 900) +
               "; margin: " + std::to_string(i % 17) + "px }\n";
        if (i < 600)
            log += "line " + std::to_string(i * 7919 % 1000) + " of the log\n";
    }
    test::spit(src / "site.css", css);
    test::spit(src / "notes.txt", log);
    REQUIRE(build(src, dir / "a", {"-j", "1"}).exit_code == 0);
    REQUIRE(build(src, dir / "b", {"-j", "2"}).exit_code == 0);
    const auto files = test::list_files(dir / "a");
    REQUIRE(test::list_files(dir / "b") == files);
    for (const auto& f : files) {
        INFO(f);
        CHECK(test::slurp(dir / "a" / f) == test::slurp(dir / "b" / f));
    }
    const json m = test::read_json(dir / "b/cachet-manifest.json");
    for (const char* source : {"site.css", "notes.txt"}) {
        INFO(source);
        const json& out = m["assets"][source]["outputs"][0];
        REQUIRE(out["encodings"].size() == 3);
        const Bytes plain = test::slurp(dir / "b" / out["path"].get<std::string>());
        CHECK(plain.size() > 8 * 1024);
        for (const auto& e : out["encodings"]) {
            INFO(e["path"].get<std::string>());
            const std::string name = e["encoding"].get<std::string>();
            const Encoding encoding = name == "zstd" ? Encoding::zstd : name == "br" ? Encoding::br : Encoding::gzip;
            CHECK(to_string(encoding) == name);
            CHECK(decompress(encoding, test::slurp(dir / "b" / e["path"].get<std::string>())) == plain);
        }
    }
}

TEST_CASE("cachet build: two different outputs with one name are an error naming both", "[e2e]")
{
    test::TempDir dir;
    const fs::path src = fixture_source(dir, {{"site/img/hero.jpg", "pic.jpg"}, {"site/img/logo.png", "pic.png"}});
    test::spit(dir / "stable.toml", "[output]\nstable = [\"pic.*\"]\n[images]\nwidths = []\n");
    const auto p = build(src, dir / "out", {"--config", (dir / "stable.toml").string(), "-j", "1"});
    CHECK(p.exit_code == 1);
    CHECK_THAT(p.err, Catch::Contains("output name collision: pic.avif would be written by both pic.jpg and pic.png"));
}

TEST_CASE("cachet build: refuses OUT inside SRC and SRC inside OUT", "[e2e]")
{
    test::TempDir dir;
    const fs::path src = test::copy_site(dir);
    auto p = build(src, src / "dist");
    CHECK(p.exit_code == 2);
    CHECK_THAT(p.err, Catch::Contains("is inside source folder"));
    CHECK_FALSE(fs::exists(src / "dist"));
    p = build(src, dir.path());
    CHECK(p.exit_code == 2);
    CHECK_THAT(p.err, Catch::Contains("is inside output folder"));
    p = build(dir / "missing", dir / "out");
    CHECK(p.exit_code == 2);
    CHECK_THAT(p.err, Catch::Contains("missing: source is not a folder"));
}

TEST_CASE("cachet build: I/O errors exit 3 and leave the previous manifest in place", "[e2e]")
{
    test::TempDir dir;
    const fs::path src = test::copy_site(dir);
    const fs::path out = dir / "out";
    REQUIRE(build(src, out).exit_code == 0);
    const Bytes before = test::slurp(out / "cachet-manifest.json");
    // Make the next build's img/ outputs unwritable: img becomes a file.
    fs::remove_all(out / "img");
    test::spit(out / "img", "in the way");
    test::spit(src / "css/new.css", "a{}");
    const auto p = build(src, out, {"--json"});
    CHECK(p.exit_code == 3);
    CHECK_THAT(p.err, Catch::Contains("cachet: error: ") && Catch::Contains("img"));
    CHECK(json::parse(p.out)["status"] == "error");
    CHECK(test::slurp(out / "cachet-manifest.json") == before);
    for (const auto& f : test::list_files(out))
        CHECK(f.find(".cachet-tmp-") == std::string::npos);

    test::spit(dir / "file-in-the-way", "x");
    const auto r = build(src, dir / "file-in-the-way/x");
    CHECK(r.exit_code == 3);
    CHECK_THAT(r.err, Catch::Contains("cannot create output folder"));
}

TEST_CASE("cachet build --dry-run prints the plan and writes nothing", "[e2e]")
{
    test::TempDir dir;
    const auto p = build(test::fixtures() / "site", dir / "out", {"--dry-run"});
    CHECK(p.exit_code == 0);
    CHECK_THAT(p.out, Catch::Contains("img/hero.jpg  image") && Catch::Contains("avif webp +fallback"));
    CHECK_THAT(p.out, Catch::Contains("js/app.js  text") && Catch::Contains("identity zstd br gzip"));
    CHECK_FALSE(fs::exists(dir / "out"));
    const auto j = build(test::fixtures() / "site", dir / "out", {"--dry-run", "--json"});
    CHECK(json::parse(j.out)["assets"].size() == test::list_files(test::fixtures() / "site").size());
    CHECK_FALSE(fs::exists(dir / "out"));
}

TEST_CASE("cachet: config errors name file:line and exit 2", "[e2e]")
{
    test::TempDir dir;
    test::spit(dir / "bad.toml", "[images.avif]\nspeed = 6\nqualty = 40\n");
    auto p = build(test::fixtures() / "site", dir / "out", {"--config", (dir / "bad.toml").string()});
    CHECK(p.exit_code == 2);
    CHECK_THAT(p.err, Catch::Contains("bad.toml:3: images.avif.qualty is not a known setting"));
    p = build(test::fixtures() / "site", dir / "out", {"--preset", "nope"});
    CHECK(p.exit_code == 2);
    CHECK_THAT(p.err, Catch::Contains("unknown preset \"nope\""));
    p = test::run_cachet({"build"});
    CHECK(p.exit_code == 2);
    p = test::run_cachet({"build", "x", "-o", "y", "-j", "0"});
    CHECK(p.exit_code == 2);
}

TEST_CASE("cachet --version names the codec libraries, and cachet presets lists presets", "[e2e]")
{
    auto p = test::run_cachet({"--version"});
    CHECK(p.exit_code == 0);
    for (const char* lib :
         {"cachet 0.", "libvips 8.", "libwebp 1.", "libavif 0.", "aom", "zstd 1.", "brotli 1.", "gzip libdeflate"})
        CHECK_THAT(p.out, Catch::Contains(lib));
    p = test::run_cachet({"presets"});
    CHECK(p.exit_code == 0);
    CHECK_THAT(p.out, Catch::Contains("default") && Catch::Contains("fast") && Catch::Contains("high-quality"));
}

TEST_CASE("cachet build: plain lines when not a terminal, nothing but errors with --quiet", "[e2e]")
{
    test::TempDir dir;
    auto p = build(test::fixtures() / "site", dir / "a");
    CHECK_THAT(p.err, Catch::Contains("built img/hero.jpg (image,"));
    CHECK_THAT(p.err, Catch::Contains("manifest: "));
    CHECK(p.out.empty());
    p = build(test::fixtures() / "site", dir / "b", {"--quiet"});
    CHECK(p.exit_code == 0);
    CHECK(p.err.empty());
    CHECK(p.out.empty());
}

TEST_CASE("cachet build --timings prints each step's end, in order, even with --quiet", "[e2e]")
{
    test::TempDir dir;
    const auto p = test::run_cachet({"build", (test::fixtures() / "site").string(), "-o", (dir / "out").string(),
                                     "--cache-dir", (dir / "cache").string(), "--quiet", "--timings"});
    REQUIRE(p.exit_code == 0);
    std::size_t at = 0;
    for (const char* step : {"unchanged sources checked", "the others built", "manifest rendered", "outputs flushed",
                             "manifest published", "index saved", "build done"}) {
        INFO(p.err);
        at = p.err.find(step, at);
        REQUIRE(at != std::string::npos);
    }
    CHECK_THAT(p.err, Catch::Contains("SRC scanned"));
    CHECK_THAT(p.err, Catch::StartsWith("cachet: timing: "));
}

TEST_CASE("cachet build rewrites references: each names a file in OUT, a prefix never mixes up names, and "
          "fingerprints and SRI are of the rewritten bytes",
          "[e2e][references]")
{
    test::TempDir dir;
    const fs::path src = test::fixtures() / "refs";
    const fs::path out = dir / "out";
    const auto p = build(src, out, {"--json"});
    INFO(p.err);
    REQUIRE(p.exit_code == 0);
    CHECK_THAT(p.err, !Catch::Contains("warning"));
    const json manifest = test::read_json(out / "cachet-manifest.json");
    std::map<std::string, std::string> url_of; // source -> the output its URLs name
    for (const auto& [source, asset] : manifest["assets"].items()) {
        INFO("source " << source);
        for (const auto& o : asset["outputs"]) {
            const std::string path = o["path"];
            const Bytes bytes = test::slurp(out / path);
            CHECK(o["integrity"] == sri_sha384(bytes));
            if (o["fingerprinted"])
                CHECK(path.find("." + hex_prefix(out / path, 10) + ".") != std::string::npos);
            if (asset["kind"] == "text")
                check_rewritten(source, as_text(test::slurp(src / source)), path, as_text(bytes), out);
            if (o["original"]) // at the source's own URL, for what cachet cannot rewrite
                CHECK(path == source);
            else if (!o.contains("format") || (source.ends_with(".png") && o["format"] == "png") ||
                     (source.ends_with(".jpg") && o["format"] == "jpeg"))
                url_of[source] = path;
        }
    }
    const std::string page(as_text(test::slurp(out / "index.html")));
    const std::string css(as_text(test::slurp(out / url_of.at("css/main.css"))));
    // a.png and aa.png: each reference names its own file's output, whatever the style.
    REQUIRE(url_of.at("img/a.png") != url_of.at("img/aa.png"));
    CHECK_THAT(page, Catch::Contains("id=\"a\" src=\"" + url_of.at("img/a.png") + "\""));
    CHECK_THAT(page, Catch::Contains("id=\"aa\" src=\"" + url_of.at("img/aa.png") + "\""));
    CHECK_THAT(page,
               Catch::Contains("srcset=\"" + url_of.at("img/a.png") + " 1x, " + url_of.at("img/aa.png") + " 2x\""));
    CHECK_THAT(page, Catch::Contains("href=\"/" + url_of.at("css/main.css") + "\""));
    CHECK_THAT(page, Catch::Contains("href=\"" + url_of.at("fonts/f.woff2") + "?v=2\""));
    CHECK_THAT(page, Catch::Contains("url('" + url_of.at("img/bg.png") + "')"));
    CHECK_THAT(page, Catch::Contains("<a href=\"blog/post.html\">") && Catch::Contains("href=\"/shop/\"") &&
                         Catch::Contains("href=\"https://example.com/\""));
    // (The stylesheet is minified: its quotes and spaces may go.)
    std::string bare = css;
    std::erase_if(bare, [](char c) { return c == '"' || c == '\'' || c == ' '; });
    CHECK_THAT(bare, Catch::Contains("@import" + fs::path(url_of.at("css/base.css")).filename().string() + ";"));
    CHECK_THAT(bare, Catch::Contains("url(../" + url_of.at("img/a.png") + ")"));
    CHECK_THAT(bare, Catch::Contains("url(/" + url_of.at("img/aa.png") + "?v=3#frag)"));
    CHECK_THAT(bare, Catch::Contains("url(../" + url_of.at("fonts/f.woff2") + "?v=2#iefix)"));
    CHECK_THAT(bare, Catch::Contains("url(https://example.com/img/a.png)") && Catch::Contains("url(data:image/gif"));
    const std::string post(as_text(test::slurp(out / "blog/post.html")));
    CHECK_THAT(post, Catch::Contains("href=\"../" + url_of.at("css/main.css") + "\""));
    CHECK_THAT(post, Catch::Contains("src=\"/" + url_of.at("img/a.png") + "\""));
    // The script names its map's final name; the map's "file" gives way (see check_rewritten).
    const std::string js(as_text(test::slurp(out / url_of.at("js/app.js"))));
    CHECK_THAT(
        js, Catch::EndsWith("//# sourceMappingURL=" + fs::path(url_of.at("js/app.js.map")).filename().string() + "\n"));
    CHECK_THAT(std::string(as_text(test::slurp(out / "site.webmanifest"))),
               Catch::Contains("\"src\":\"/" + url_of.at("img/a.png") + "\""));
    // The same build again, on one worker: byte for byte the same.
    const auto again = build(src, dir / "again", {"-j", "1"});
    REQUIRE(again.exit_code == 0);
    for (const auto& f : test::list_files(out))
        CHECK(test::slurp(out / f) == test::slurp(dir / "again" / f));
}

TEST_CASE("cachet build: a reference cycle fails the files in it, naming the cycle, and a page naming them warns",
          "[e2e][references]")
{
    test::TempDir dir;
    const fs::path src = dir / "src";
    test::spit(src / "css/x.css", "@import \"y.css\";\n.x { color: red }\n");
    test::spit(src / "css/y.css", "@import url(x.css);\n.y { color: blue }\n");
    test::spit(src / "css/ok.css", ".ok { color: green }\n");
    test::spit(src / "index.html",
               "<link rel=\"stylesheet\" href=\"css/x.css\"><link rel=\"stylesheet\" href=\"css/ok.css\">\n");
    const auto p = build(src, dir / "out", {"--json"});
    INFO(p.err);
    CHECK(p.exit_code == 1);
    CHECK_THAT(p.err, Catch::Contains("failed: css/x.css: reference cycle: css/x.css -> css/y.css -> css/x.css"));
    CHECK_THAT(p.err, Catch::Contains("failed: css/y.css: reference cycle: css/x.css -> css/y.css -> css/x.css"));
    CHECK_THAT(p.err, Catch::Contains("warning: index.html: \"css/x.css\" names css/x.css, which failed to build"));
    const json manifest = test::read_json(dir / "out/cachet-manifest.json"); // the rest is published
    CHECK_FALSE(manifest["assets"].contains("css/x.css"));
    const std::string ok = manifest["assets"]["css/ok.css"]["outputs"][0]["path"];
    CHECK_THAT(std::string(as_text(test::slurp(dir / "out/index.html"))),
               Catch::Contains("href=\"css/x.css\"") && Catch::Contains("href=\"" + ok + "\""));
    // Kept at a stable name, one file of the cycle breaks it.
    test::spit(dir / "stable.toml", "[output]\nstable = [\"css/y.css\"]\n");
    const auto stable = build(src, dir / "out2", {"--config", (dir / "stable.toml").string()});
    INFO(stable.err);
    CHECK(stable.exit_code == 0);
}

TEST_CASE("cachet build with html.picture and html.integrity: <picture> from the manifest, integrity on scripts "
          "and stylesheets",
          "[e2e][references]")
{
    test::TempDir dir;
    // (WebP at 75: at the default quality the photo's small WebPs are no smaller than its JPEGs,
    // and do not ship.)
    test::spit(dir / "picture.toml",
               "[html]\npicture = true\nintegrity = true\n[images]\nwidths = [100]\n[images.webp]\nquality = 75\n");
    const fs::path out = dir / "out";
    const auto p = build(test::fixtures() / "refs", out, {"--config", (dir / "picture.toml").string()});
    INFO(p.err);
    REQUIRE(p.exit_code == 0);
    const json manifest = test::read_json(out / "cachet-manifest.json");
    const std::string page(as_text(test::slurp(out / "index.html")));
    INFO(page);
    auto output = [&](const std::string& source, const std::string& format, int width) -> json {
        for (const auto& o : manifest["assets"][source]["outputs"])
            if (o.value("format", "") == format && o.value("width", 0) == width)
                return o;
        return json();
    };
    const json photo = output("img/photo.jpg", "jpeg", 200);
    const json small = output("img/photo.jpg", "jpeg", 100);
    REQUIRE(photo.is_object());
    REQUIRE(small.is_object());
    const std::string img = "<img id=\"photo\" src=\"" + photo["path"].get<std::string>() +
                            "\" alt=\"photo\" srcset=\"" + small["path"].get<std::string>() + " 100w, " +
                            photo["path"].get<std::string>() + " 200w\" width=\"200\" height=\"120\"></picture>";
    CHECK_THAT(page, Catch::Contains(img));
    const std::string webp = "<source type=\"image/webp\" srcset=\"" +
                             output("img/photo.jpg", "webp", 100)["path"].get<std::string>() + " 100w, " +
                             output("img/photo.jpg", "webp", 200)["path"].get<std::string>() + " 200w\">";
    CHECK_THAT(page, Catch::Contains("<picture>") && Catch::Contains(webp));
    // Images already in a srcset are the author's: no <picture> for #set.
    CHECK_THAT(page, Catch::Contains("<img id=\"set\" src=\""));
    const json css = manifest["assets"]["css/main.css"]["outputs"][0];
    const json js = manifest["assets"]["js/app.js"]["outputs"][0];
    CHECK_THAT(page, Catch::Contains("href=\"/" + css["path"].get<std::string>() + "\" integrity=\"" +
                                     css["integrity"].get<std::string>() + "\">"));
    CHECK_THAT(page, Catch::Contains("src=\"" + js["path"].get<std::string>() + "\" integrity=\"" +
                                     js["integrity"].get<std::string>() + "\">"));
    for (const auto& r : find_references("index.html", page))
        if (const auto target = resolve_reference("index.html", r.url))
            CHECK(fs::is_regular_file(out / *target));
}
