// PNG fallbacks at fewer bytes (issue 21): the image data deflated again by libdeflate (the
// same pixels, every other chunk as it was), and a palette quantized by libimagequant when its
// Butteraugli distance at the reference width stays within images.png.lossy_distance.
#include "pipeline/image/palette.hpp"
#include "pipeline/image/png_chunks.hpp"
#include "pipeline/image/quality.hpp"

#include "tests/test_support.hpp"

#include <catch2/catch.hpp>
#include <libdeflate.h>
#include <libimagequant.h>
#include <vips/vips8>

#include <array>
#include <cmath>

using namespace cachet;
using nlohmann::json;
using vips::VImage;
namespace fs = std::filesystem;

namespace {

// A width x height RGBA disc of smooth gradients on a transparent ground, anti-aliased at its
// edge: thousands of colours, and a palette's dithering shows in its flat gradients.
Raster gradient(int width, int height)
{
    Raster r;
    r.width = width;
    r.height = height;
    r.bands = 4;
    const double cx = width / 2.0, cy = height / 2.0, radius = std::min(width, height) * 0.45;
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x) {
            const double d = std::hypot(x + 0.5 - cx, y + 0.5 - cy);
            const double a = std::clamp(radius - d + 0.5, 0.0, 1.0);
            r.pixels.insert(r.pixels.end(),
                            {static_cast<std::uint8_t>(255 * x / width), static_cast<std::uint8_t>(255 * y / height),
                             static_cast<std::uint8_t>(128 + 100 * std::sin(d / 9.0)),
                             static_cast<std::uint8_t>(std::lround(255 * a))});
        }
    return r;
}

// Four overlapping discs of flat colour on a transparent ground, anti-aliased over 3 px, as a
// logo is drawn: more than 256 colours (each edge pixel its own blend), and a palette holds
// them closely. shade darkens each disc towards its rim: gradients a palette dithers.
Raster discs(double shade)
{
    struct Disc {
        double x, y, r;
        std::array<double, 3> rgb;
    };
    const std::array<Disc, 4> all{{{80, 80, 60, {200, 30, 40}},
                                   {200, 90, 70, {30, 120, 220}},
                                   {150, 170, 55, {240, 200, 20}},
                                   {240, 190, 40, {20, 160, 80}}}};
    Raster r;
    r.width = 300;
    r.height = 240;
    r.bands = 4;
    for (int y = 0; y < r.height; ++y)
        for (int x = 0; x < r.width; ++x) {
            std::array<double, 3> colour{};
            double alpha = 0;
            for (const Disc& d : all) {
                const double distance = std::hypot(x - d.x, y - d.y);
                const double cover = std::clamp((d.r - distance) / 3 + 0.5, 0.0, 1.0);
                for (std::size_t i = 0; i < 3; ++i)
                    colour[i] = d.rgb[i] * (1 - shade * distance / d.r) * cover + colour[i] * (1 - cover);
                alpha = cover + alpha * (1 - cover);
            }
            for (const double c : colour)
                r.pixels.push_back(static_cast<std::uint8_t>(std::clamp(c, 0.0, 255.0)));
            r.pixels.push_back(static_cast<std::uint8_t>(std::lround(alpha * 255)));
        }
    return r;
}

int colour_type(const Bytes& png)
{
    REQUIRE(png.size() > 26);
    return png[25];
}

Bytes vips_png(const Raster& r, bool interlace)
{
    const VImage image = VImage::new_from_memory(const_cast<std::uint8_t*>(r.pixels.data()), r.pixels.size(), r.width,
                                                 r.height, r.bands, VIPS_FORMAT_UCHAR);
    VipsBlob* blob = image.pngsave_buffer(VImage::option()->set("compression", 6)->set("interlace", interlace));
    std::size_t size = 0;
    const auto* data = static_cast<const std::uint8_t*>(vips_blob_get(blob, &size));
    Bytes out(data, data + size);
    vips_area_unref(VIPS_AREA(blob));
    return out;
}

void save_png(const Raster& r, const fs::path& path)
{
    VImage::new_from_memory(const_cast<std::uint8_t*>(r.pixels.data()), r.pixels.size(), r.width, r.height, r.bands,
                            VIPS_FORMAT_UCHAR)
        .pngsave(path.c_str());
}

// png with its IHDR's height set to height (the CRC made good again).
Bytes with_height(Bytes png, std::uint32_t height)
{
    for (int i = 0; i < 4; ++i)
        png[20 + i] = static_cast<std::uint8_t>(height >> (24 - 8 * i));
    const std::uint32_t crc = libdeflate_crc32(0, png.data() + 12, 17);
    for (int i = 0; i < 4; ++i)
        png[29 + i] = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
    return png;
}

} // namespace

TEST_CASE("png_recompressed deflates the image data again: the same pixels, fewer bytes", "[png][image]")
{
    const Raster r = gradient(96, 80);
    for (const bool interlace : {false, true}) {
        INFO("interlaced " << interlace);
        const Bytes png = vips_png(r, interlace);
        const auto again = png_recompressed(png, 12);
        REQUIRE(again);
        CHECK(again->size() < png.size());
        CHECK(same_pixels(r, test::raster_of(*again))); // libvips checks every CRC on the way
        CHECK(colour_type(*again) == 6);
        CHECK(png_without_metadata(*again, PngProfile::keep)); // well formed, chunk by chunk
    }
    const Bytes png = vips_png(r, false);
    Bytes bad_crc = png;
    bad_crc[40] ^= 1; // inside IDAT
    CHECK_FALSE(png_recompressed(bad_crc, 12));
    CHECK_FALSE(png_recompressed(Bytes(png.begin(), png.end() - 12), 12)); // no IEND
    CHECK_FALSE(png_recompressed(with_height(png, 81), 12));               // inflates to less than IHDR says
    CHECK_FALSE(png_recompressed(with_height(png, 79), 12));               // ... or more
    CHECK_FALSE(png_recompressed(with_height(png, 0), 12));
    // Already as small as libdeflate makes it: nothing to gain, nullopt.
    const auto once = png_recompressed(png, 12);
    REQUIRE(once);
    CHECK_FALSE(png_recompressed(*once, 12));
}

TEST_CASE("a quantized palette PNG stays close to a logo and is far from gradients", "[png][image]")
{
    PngOptions lossy;
    lossy.quantize = true;
    const Raster logo = discs(0);
    REQUIRE(distinct_colours(logo, 256) > 256);
    const Bytes png = encode_png(logo, lossy);
    CHECK(colour_type(png) == 3);
    CHECK(png.size() < encode_png(logo, PngOptions{}).size() / 2);
    ImageSettings images;
    const auto near = palette_distance(logo, images);
    REQUIRE(near);
    CHECK(*near > 0);
    CHECK(*near < 0.6);
    CHECK(palette_distance(gradient(200, 160), images).value_or(0) > 2.0);
    // Deflated again, the same pixels as without.
    PngOptions deflated = lossy;
    deflated.deflate = 12;
    const Bytes again = encode_png(logo, deflated);
    CHECK(again.size() < png.size());
    CHECK(same_pixels(test::raster_of(png), test::raster_of(again)));
}

TEST_CASE("cachet build writes a quantized palette where it stays within images.png.lossy_distance", "[e2e][png]")
{
    test::TempDir dir;
    fs::create_directories(dir / "src");
    save_png(discs(0), dir / "src/logo.png");
    save_png(discs(0.15), dir / "src/shaded.png");
    auto build = [&](const std::string& name, const std::vector<std::string>& extra) {
        std::vector<std::string> args{"build", (dir / "src").string(), "-o", (dir / name).string(), "--no-cache"};
        args.insert(args.end(), extra.begin(), extra.end());
        const auto p = test::run_cachet(args);
        INFO(p.err);
        REQUIRE(p.exit_code == 0);
        return test::read_json(dir / name / "cachet-manifest.json");
    };
    // The PNG outputs of source: colour type and recorded distance of each (-1: none).
    auto pngs = [&](const json& m, const std::string& name, const std::string& source) {
        std::vector<std::pair<int, double>> out;
        for (const auto& o : m["assets"][source]["outputs"])
            if (o["format"] == "png" && !o["original"].get<bool>())
                out.emplace_back(colour_type(test::slurp(dir / name / o["path"].get<std::string>())),
                                 o.value("butteraugli", -1.0));
        return out;
    };
    const json def = build("default", {});
    const auto logo_pngs = pngs(def, "default", "logo.png");
    REQUIRE(logo_pngs.size() == 1); // its own width (never upscaled)
    for (const auto& [type, distance] : logo_pngs) {
        CHECK(type == 3);
        CHECK(distance > 0);
        CHECK(distance <= 0.6);
    }
    const auto shaded_pngs = pngs(def, "default", "shaded.png"); // about 0.73: over 0.6
    REQUIRE(shaded_pngs.size() == 1);
    for (const auto& [type, distance] : shaded_pngs) {
        CHECK(type == 6); // lossless
        CHECK(distance == -1.0);
    }
    // The high-quality preset keeps PNGs lossless.
    for (const auto& [type, distance] : pngs(build("hq", {"--preset", "high-quality"}), "hq", "logo.png")) {
        CHECK(type == 6);
        CHECK(distance == -1.0);
    }
}

TEST_CASE("a grey image stays grey in its PNG, exactly, and gets no palette", "[png][image]")
{
    for (const bool alpha : {false, true}) {
        INFO("alpha " << alpha);
        Raster grey = gradient(120, 90); // (grey from its red band, alpha kept or dropped)
        Raster r;
        r.width = grey.width;
        r.height = grey.height;
        r.bands = alpha ? 4 : 3;
        for (std::size_t i = 0; i < grey.pixels.size(); i += 4) {
            r.pixels.insert(r.pixels.end(), {grey.pixels[i], grey.pixels[i], grey.pixels[i]});
            if (alpha)
                r.pixels.push_back(grey.pixels[i + 3]);
        }
        REQUIRE(is_grey(r));
        PngOptions lossy;
        lossy.quantize = true;
        const Bytes png = encode_png(r, lossy);
        CHECK(colour_type(png) == (alpha ? 4 : 0));
        CHECK(same_pixels(r, test::raster_of(png)));
        ImageSettings images;
        CHECK_FALSE(palette_distance(r, images));
        r.pixels[1] ^= 1; // one pixel not quite grey
        CHECK_FALSE(is_grey(r));
    }
}

TEST_CASE("PNG bytes are the ones recorded for this libimagequant and libdeflate, at -j1 and -j2", "[e2e][png]")
{
    // Recorded from the default preset with Debian 12's libvips 8.14, libimagequant 2.17 (which
    // quantizes on OpenMP threads: 1, 2 and 8 gave the same bytes) and libdeflate 1.14. A change
    // here means PNG output changed: update it knowingly.
    if (std::string(LIQ_VERSION_STRING) != "2.17.0" || std::string(LIBDEFLATE_VERSION_STRING) != "1.14" ||
        vips_version(0) != 8 || vips_version(1) != 14)
        return;
    test::TempDir dir;
    fs::create_directories(dir / "src");
    save_png(discs(0), dir / "src/logo.png");
    test::spit(dir / "cachet.toml", "[images]\nwidths = []\nformats = []\n[output]\noriginals = false\n");
    for (const char* jobs : {"1", "2"}) {
        const fs::path out = dir / (std::string("out-") + jobs);
        const auto p = test::run_cachet({"build", (dir / "src").string(), "-o", out.string(), "--config",
                                         (dir / "cachet.toml").string(), "-j", jobs});
        INFO(p.err);
        REQUIRE(p.exit_code == 0);
        const std::map<std::string, std::string> expected{
            {"logo.3d0d4aa37a.png", "3d0d4aa37a7d0e7a726556d2cae8a4d4aab66b352644374020394253f020f9c4"},
        };
        CHECK(test::file_digests(out, ".png") == expected);
    }
}
