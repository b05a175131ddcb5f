// JPEG XL (issue 21), off by default: when images.formats names it, every JPEG XL cachet
// writes decodes with libjxl's decoder at the manifest's size and close to the source, keeps
// alpha, grey, EXIF and a wide gamut's profile, is preferred to AVIF where it ships (<picture>,
// nginx), and gives the same bytes at -j1 and -j2.
#include "pipeline/image/jxl.hpp"
#include "pipeline/image/quality.hpp"
#include "pipeline/model/error.hpp"
#include "tests/test_support.hpp"

#include <catch2/catch.hpp>
#include <vips/vips8>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <thread>

using namespace cachet;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

test::Process build(const test::TempDir& dir, const fs::path& src, const std::string& name, const std::string& toml,
                    const char* jobs = "2")
{
    test::spit(dir / (name + ".toml"), toml);
    return test::run_cachet({"build", src.string(), "-o", (dir / name).string(), "--config",
                             (dir / (name + ".toml")).string(), "--no-cache", "-j", jobs});
}

Raster gradient(int width, int height, int bands)
{
    Raster r;
    r.width = width;
    r.height = height;
    r.bands = bands;
    r.pixels.resize(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) *
                    static_cast<std::size_t>(bands));
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x)
            for (int b = 0; b < bands; ++b) {
                const bool alpha = b == bands - 1 && (bands == 2 || bands == 4);
                r.pixels[(static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)) *
                             static_cast<std::size_t>(bands) +
                         static_cast<std::size_t>(b)] =
                    static_cast<std::uint8_t>(alpha ? (x < width / 2 ? 255 : 64) : (x * 3 + y * (b + 1)) % 256);
            }
    return r;
}

} // namespace

TEST_CASE("encode_jxl keeps the bands, alpha and EXIF, and decode_jxl reads them back", "[jxl]")
{
    ImageSettings images;
    for (const int bands : {1, 2, 3, 4}) {
        INFO("bands " << bands);
        const Raster source = gradient(96, 64, bands);
        const Bytes encoded = encode_jxl(source, EncodeOptions{images, 1});
        REQUIRE(encoded.size() > 16);
        const Raster decoded = decode_jxl(encoded);
        CHECK(decoded.width == 96);
        CHECK(decoded.height == 64);
        CHECK(decoded.bands == bands);
        if (bands == 2 || bands == 4) // alpha within a few levels (libjxl 0.7 smooths its edges a little)
            for (std::size_t i = static_cast<std::size_t>(bands) - 1; i < source.pixels.size();
                 i += static_cast<std::size_t>(bands))
                REQUIRE(std::abs(int{decoded.pixels[i]} - int{source.pixels[i]}) <= 4);
    }
    Raster with_exif = gradient(64, 64, 3);
    with_exif.exif = {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 0};
    const Bytes encoded = encode_jxl(with_exif, EncodeOptions{images, 1});
    const std::string text(encoded.begin(), encoded.end());
    CHECK(text.find(std::string("Exif\0\0\0\0MM\0*", 12)) != std::string::npos); // box type, offset 0, TIFF
    CHECK(decode_jxl(encoded).width == 64);
    CHECK_THROWS_AS(decode_jxl(Bytes(encoded.begin(), encoded.begin() + 40)), Error);
}

TEST_CASE("with jxl in images.formats, every JPEG XL decodes at the manifest's size, close to the source", "[e2e][jxl]")
{
    test::TempDir dir;
    const fs::path src = test::site_images(dir, {"hero.jpg", "greyscale.jpg", "display-p3.jpg", "logo.png"});
    // A JPEG XL ships only where it is smaller than the AVIF, WebP and fallback of its width:
    // alone, every one ships.
    const auto p = build(dir, src, "out", "[images]\nformats = [\"jxl\"]\nfallback = false\nwidths = [160, 320]\n");
    INFO(p.err);
    REQUIRE(p.exit_code == 0);
    const json m = test::read_json(dir / "out/cachet-manifest.json");
    int checked = 0;
    for (const auto& [source, o] : test::outputs_in(m, "jxl")) {
        INFO(o["path"].get<std::string>());
        CHECK(o["content_type"] == "image/jxl");
        const Raster decoded = decode_jxl(test::slurp(dir / "out" / o["path"].get<std::string>()));
        CHECK(decoded.width == o["width"].get<int>());
        CHECK(decoded.height == o["height"].get<int>());
        if (source == "display-p3.jpg")
            CHECK(decoded.icc.size() > 100); // the pixels stay in Display P3, so its profile goes along
        if (source == "hero.jpg") {
            const vips::VImage reference =
                test::load_image(src / source)
                    .thumbnail_image(
                        decoded.width,
                        vips::VImage::option()->set("height", decoded.height)->set("size", VIPS_SIZE_FORCE));
            CHECK(butteraugli_distance(test::raster_of(reference), decoded) < 2.5);
        }
        ++checked;
    }
    CHECK(checked == 7); // hero 160, 320, 480; greyscale 160, 200; display-p3 160; logo 128
    const auto valid = test::run_program({"/usr/bin/python3", CACHET_FIXTURES "/../tests/validate_manifest.py",
                                          CACHET_SCHEMA, (dir / "out/cachet-manifest.json").string()});
    INFO(valid.out << valid.err);
    CHECK(valid.exit_code == 0);

    // Off by default.
    const auto d = build(dir, src, "default", "");
    REQUIRE(d.exit_code == 0);
    CHECK(test::file_digests(dir / "default", ".jxl").empty());
}

TEST_CASE(
    "a JPEG XL that ships is preferred to AVIF in <picture> and in nginx's negotiation, and its settings reach it",
    "[e2e][jxl]")
{
    test::TempDir dir;
    const fs::path src = dir / "src";
    fs::create_directories(src / "img");
    fs::copy_file(test::fixtures() / "site/img/hero.jpg", src / "img/hero.jpg");
    test::spit(src / "index.html", "<!doctype html><title>t</title><img src=\"img/hero.jpg\" alt=\"\">\n");
    // A coarse JPEG XL against the default AVIF: the JPEG XL is the smaller, so it ships. (With
    // no AVIF floor, its distance is as set, not the AVIF's.)
    const std::string toml = "[images]\nformats = [\"avif\", \"jxl\"]\nwidths = []\n[images.avif]\nmax_distance = 0\n"
                             "[images.jxl]\ndistance = 4\n[html]\npicture = true\n";
    auto p = build(dir, src, "out", toml);
    INFO(p.err);
    REQUIRE(p.exit_code == 0);
    const Bytes page = test::slurp(dir / "out/index.html");
    const std::string html(page.begin(), page.end());
    const auto jxl = html.find("type=\"image/jxl\"");
    const auto avif = html.find("type=\"image/avif\"");
    REQUIRE(jxl != std::string::npos);
    REQUIRE(avif != std::string::npos);
    CHECK(jxl < avif);
    p = test::run_cachet({"export", "nginx", "--manifest", (dir / "out").string()});
    INFO(p.err);
    REQUIRE(p.exit_code == 0);
    const auto nginx_jxl = p.out.find("~* \"image/jxl\"");
    REQUIRE(nginx_jxl != std::string::npos);
    CHECK(nginx_jxl < p.out.find("~* \"image/avif\""));

    // A smaller distance costs bytes; a lower effort gives other bytes; a bad effort is refused.
    auto jxl_bytes = [&](const std::string& name, const std::string& settings) {
        const auto b = build(dir, src, name,
                             "[images]\nformats = [\"jxl\"]\nfallback = false\nwidths = []\n[images.jxl]\n" + settings);
        INFO(b.err);
        REQUIRE(b.exit_code == 0);
        const auto digests = test::file_digests(dir / name / "img", ".jxl");
        REQUIRE(digests.size() == 1);
        return fs::file_size(dir / name / "img" / digests.begin()->first);
    };
    CHECK(jxl_bytes("near", "distance = 0.8\n") > jxl_bytes("far", "distance = 2.5\n"));
    CHECK(jxl_bytes("fast", "distance = 2.5\neffort = 3\n") != jxl_bytes("far2", "distance = 2.5\n"));
    CHECK_THAT(test::config_error("[images.jxl]\neffort = 12\n"), Catch::Contains("images.jxl.effort"));
}

TEST_CASE("JPEG XL bytes do not depend on -j, and an animation gets none with a warning", "[e2e][jxl]")
{
    test::TempDir dir;
    const fs::path src = test::site_images(dir, {"hero.jpg", "logo.png", "spinner.gif"});
    const std::string toml = "[images]\nformats = [\"jxl\", \"webp\"]\nwidths = [120, 240]\n";
    const auto one = build(dir, src, "one", toml, "1");
    const auto two = build(dir, src, "two", toml, "2");
    INFO(one.err << two.err);
    REQUIRE(one.exit_code == 0);
    REQUIRE(two.exit_code == 0);
    const auto digests = test::file_digests(dir / "one", ".jxl");
    CHECK(digests.size() >= 2);
    CHECK(digests == test::file_digests(dir / "two", ".jxl"));
    CHECK(test::slurp(dir / "one/cachet-manifest.json") == test::slurp(dir / "two/cachet-manifest.json"));
    CHECK_THAT(one.out + one.err, Catch::Contains("no JPEG XL"));
}

TEST_CASE("a width whose JPEG XL encode would not fit the memory budget gets none, with a warning, and the peak stays "
          "under it",
          "[e2e][jxl][memory][rss]")
{
    // libjxl 0.7 takes about 130 bytes a pixel while it encodes: a 2000x1500 photo's own width
    // about 400 MiB, its 640 px output about 50 MiB.
    test::TempDir dir;
    fs::create_directories(dir / "src");
    const std::string noise = (dir / "n.v").string();
    REQUIRE(test::run_program({"vips", "gaussnoise", noise, "2000", "1500", "--sigma", "30"}).exit_code == 0);
    REQUIRE(
        test::run_program({"vips", "bandjoin", noise + " " + noise + " " + noise, (dir / "j.v").string()}).exit_code ==
        0);
    REQUIRE(test::run_program({"vips", "copy", (dir / "j.v").string(), (dir / "src/photo.jpg").string() + "[Q=85]"})
                .exit_code == 0);
    test::spit(dir / "c.toml", "[images]\nformats = [\"jxl\", \"webp\"]\nfallback = false\nwidths = [640]\n");
    const auto p = test::run_cachet({"build", (dir / "src").string(), "-o", (dir / "out").string(), "-j", "2",
                                     "--config", (dir / "c.toml").string(), "--memory", "300M", "--no-cache"});
    INFO(p.err);
    REQUIRE(p.exit_code == 0);
    CHECK_THAT(p.err, Catch::Contains("photo.jpg: no jxl at 2000 px: its encoder would need about") &&
                          Catch::Contains("over the build's memory budget of 300.0 MiB"));
    const json m = test::read_json(dir / "out/cachet-manifest.json");
    std::vector<std::string> shipped;
    for (const auto& o : m["assets"]["photo.jpg"]["outputs"])
        shipped.push_back(o["format"].get<std::string>() + " " + std::to_string(o["width"].get<int>()));
    std::sort(shipped.begin(), shipped.end());
    CHECK(shipped == std::vector<std::string>{"jpeg 2000", "jxl 640", "webp 2000", "webp 640"}); // (jpeg: the original)
    INFO("peak " << p.max_rss_kib / 1024 << " MiB");
    CHECK(p.max_rss_kib < 300 * 1024);
}

TEST_CASE("JPEG XL bytes are the ones recorded for this libjxl, on any machine, at -j1 and -j2", "[e2e][jxl]")
{
    // Recorded from the default [images.jxl] settings with Debian 12's libjxl 0.7.0, its Highway
    // held to SSE4 (hold_highway_to_sse4). A change here means JPEG XL output changed: another
    // libjxl, other settings, or an encoder that depends on the machine. Update it knowingly.
    if (jxl_version() != "0.7.0")
        return;
    test::TempDir dir;
    const fs::path src = test::site_images(dir, {"hero.jpg", "greyscale.jpg"});
    const std::string toml =
        "[images]\nwidths = []\nformats = [\"jxl\"]\nfallback = false\n[output]\noriginals = false\n";
    for (const char* jobs : {"1", "2"}) {
        const auto p = build(dir, src, std::string("out-") + jobs, toml, jobs);
        INFO(p.err);
        REQUIRE(p.exit_code == 0);
        const std::map<std::string, std::string> expected{
            {"greyscale.d9bb5b6d87.jxl", "d9bb5b6d87ac7e27e9be8ae7fe7563a08397e4c0340dbc1c7abebff236be0a75"},
            {"hero.5a7af9ac23.jxl", "5a7af9ac237c2a9291cbb580b7cc0ff809757fce6e6e42d5f615d4fb7bf461bc"},
        };
        CHECK(test::file_digests(dir / (std::string("out-") + jobs), ".jxl") == expected);
    }
}

TEST_CASE("jxl_at_distance finds the largest libjxl setting within the AVIF's distance, the same on every run",
          "[jxl][quality]")
{
    const DecodedImage hero = decode_image(test::slurp(test::fixtures() / "site/img/hero.jpg"), 1u << 30);
    ImageSettings images;
    const JxlChoice at_15 = jxl_at_distance(hero.raster, images, 1.5);
    CHECK(at_15.distance <= 1.5);
    CHECK(at_15.distance > 1.2); // close under the target, not far under it
    CHECK(at_15.setting >= 0.5);
    CHECK(at_15.setting <= 12);
    const JxlChoice at_25 = jxl_at_distance(hero.raster, images, 2.5);
    CHECK(at_25.setting > at_15.setting); // a farther target allows a coarser setting
    CHECK(at_25.distance <= 2.5);
    // Bisection from another start finds about the same setting.
    images.jxl.distance = 8;
    CHECK(jxl_at_distance(hero.raster, images, 1.5).setting == Approx(at_15.setting).epsilon(0.1));
    // What is unreachable gets the finest setting searched.
    CHECK(jxl_at_distance(hero.raster, images, 0.01).setting == 0.5);
    // The same on another thread (no state shared between runs).
    images.jxl.distance = ImageSettings{}.jxl.distance;
    JxlChoice other;
    std::thread([&] { other = jxl_at_distance(hero.raster, images, 1.5); }).join();
    CHECK(other.setting == at_15.setting);
    CHECK(other.distance == at_15.distance);
}
