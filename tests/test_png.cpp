// PNG fallbacks at fewer bytes (issue 21): the image data deflated again by libdeflate (the
// same pixels, every other chunk as it was), and a palette quantized by libimagequant when its
// Butteraugli distance at the reference width stays within images.png.lossy_distance, else a
// near-lossless PNG (every colour sample within images.png.near_lossless levels) that does.
#include "pipeline/image/image.hpp"
#include "pipeline/image/palette.hpp"
#include "pipeline/image/png_chunks.hpp"
#include "pipeline/image/png_near.hpp"
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

// The pixels PNG's filtered rows decode to (the specification's reconstruction, 8-bit samples).
Bytes unfiltered(const Bytes& filtered, int width, int height, int channels)
{
    const std::size_t stride = static_cast<std::size_t>(width * channels);
    Bytes out(stride * static_cast<std::size_t>(height));
    for (std::size_t y = 0; y < static_cast<std::size_t>(height); ++y) {
        const std::uint8_t type = filtered[y * (stride + 1)];
        REQUIRE(type <= 4);
        for (std::size_t i = 0; i < stride; ++i) {
            const int a = i >= static_cast<std::size_t>(channels) ? out[y * stride + i - channels] : 0;
            const int b = y > 0 ? out[(y - 1) * stride + i] : 0;
            const int c = y > 0 && i >= static_cast<std::size_t>(channels) ? out[(y - 1) * stride + i - channels] : 0;
            const int p = a + b - c;
            const int paeth = std::abs(p - a) <= std::abs(p - b) && std::abs(p - a) <= std::abs(p - c) ? a
                              : std::abs(p - b) <= std::abs(p - c)                                     ? b
                                                                                                       : c;
            const std::array<int, 5> predicted{0, a, b, (a + b) / 2, paeth};
            out[y * stride + i] = static_cast<std::uint8_t>(filtered[y * (stride + 1) + 1 + i] + predicted[type]);
        }
    }
    return out;
}

std::size_t zlib_size(const Bytes& data)
{
    libdeflate_compressor* c = libdeflate_alloc_compressor(9);
    Bytes out(libdeflate_zlib_compress_bound(c, data.size()));
    const std::size_t n = libdeflate_zlib_compress(c, data.data(), data.size(), out.data(), out.size());
    libdeflate_free_compressor(c);
    return n;
}

// The grey-and-alpha (or grey) raster of r's red band.
Raster grey_of(const Raster& r, bool alpha)
{
    Raster g;
    g.width = r.width;
    g.height = r.height;
    g.bands = alpha ? 4 : 3;
    for (std::size_t i = 0; i < r.pixels.size(); i += 4) {
        g.pixels.insert(g.pixels.end(), {r.pixels[i], r.pixels[i], r.pixels[i]});
        if (alpha)
            g.pixels.push_back(r.pixels[i + 3]);
    }
    return g;
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

TEST_CASE("near-lossless rows decode to pixels within the error, alpha exact, and deflate smaller", "[png][image]")
{
    const Raster source = discs(0.15); // shaded discs: smooth gradients, anti-aliased edges
    std::size_t previous = 0;
    for (const int near : {0, 1, 2, 3}) {
        INFO("near " << near);
        const Bytes rows = near_lossless_rows(source.pixels, source.width, source.height, 4, 3, near);
        REQUIRE(rows.size() == source.pixels.size() + static_cast<std::size_t>(source.height));
        const Bytes decoded = unfiltered(rows, source.width, source.height, 4);
        // Every filter is some row's choice (at 1: 48 Sub, 87 Up, 66 Average, 39 Paeth).
        std::array<int, 5> chosen{};
        for (std::size_t y = 0; y < static_cast<std::size_t>(source.height); ++y)
            ++chosen[rows[y * (source.pixels.size() / static_cast<std::size_t>(source.height) + 1)]];
        if (near == 1)
            CHECK((chosen[0] == 0 && chosen[1] > 0 && chosen[2] > 0 && chosen[3] > 0 && chosen[4] > 0));
        int worst = 0;
        bool alpha_exact = true;
        for (std::size_t i = 0; i < source.pixels.size(); ++i) {
            const int error = std::abs(static_cast<int>(decoded[i]) - source.pixels[i]);
            if (i % 4 == 3)
                alpha_exact = alpha_exact && error == 0;
            else
                worst = std::max(worst, error);
        }
        CHECK(alpha_exact);
        if (near == 0)
            CHECK(decoded == source.pixels);
        else
            CHECK(worst == near);
        const std::size_t size = zlib_size(rows);
        if (near > 0)
            CHECK(size < previous);
        previous = size;
    }
}

TEST_CASE("least-entropy rows are lossless, choose otherwise than the smallest sum, and deflate smaller on a photo",
          "[png][image]")
{
    // A photograph (the fixture site's 480x320 JPEG, decoded): on the corpus' photographic PNGs
    // the least entropy deflated 1% to 3.5% smaller than libpng's smallest sum (docs/png.md).
    init_image_library();
    const VImage photo = VImage::new_from_file((test::fixtures() / "site/img/hero.jpg").c_str());
    REQUIRE(photo.bands() == 3);
    std::size_t size = 0;
    void* memory = photo.write_to_memory(&size);
    const Bytes source(static_cast<std::uint8_t*>(memory), static_cast<std::uint8_t*>(memory) + size);
    g_free(memory);
    const int w = photo.width(), h = photo.height();
    const Bytes entropy = near_lossless_rows(source, w, h, 3, 3, 0, RowFilter::least_entropy);
    const Bytes sum = near_lossless_rows(source, w, h, 3, 3, 0, RowFilter::smallest_sum);
    CHECK(unfiltered(entropy, w, h, 3) == source);
    CHECK(unfiltered(sum, w, h, 3) == source);
    int differ = 0;
    for (std::size_t y = 0; y < static_cast<std::size_t>(h); ++y)
        differ += entropy[y * (static_cast<std::size_t>(w) * 3 + 1)] != sum[y * (static_cast<std::size_t>(w) * 3 + 1)];
    INFO(differ << " of " << h << " rows filtered otherwise; " << zlib_size(entropy) << " against " << zlib_size(sum));
    CHECK(differ > 0);
    CHECK(zlib_size(entropy) < zlib_size(sum));
    // The same rows again: the choice is arithmetic in integers.
    CHECK(near_lossless_rows(source, w, h, 3, 3, 0, RowFilter::least_entropy) == entropy);
}

TEST_CASE("cachet build: a lossless PNG of a photo is no heavier than libpng's filters would make it", "[e2e][png]")
{
    // The fallback's rows are filtered three ways (least entropy, libpng's smallest sum, none)
    // and the smallest at libdeflate's level 1 deflated again at the preset's level: here the
    // least entropy, which libpng's own filtering, deflated again the same way, does not beat.
    init_image_library();
    test::TempDir dir;
    fs::create_directories(dir / "src");
    const VImage photo = VImage::new_from_file((test::fixtures() / "site/img/hero.jpg").c_str());
    photo.pngsave((dir / "src/photo.png").c_str());
    test::spit(dir / "cachet.toml", "[images]\nwidths = []\nformats = []\n[images.png]\nlossy_distance = 0\n"
                                    "near_lossless = 0\n[output]\noriginals = false\n");
    const auto p = test::run_cachet(
        {"build", (dir / "src").string(), "-o", (dir / "out").string(), "--config", (dir / "cachet.toml").string()});
    INFO(p.err);
    REQUIRE(p.exit_code == 0);
    const auto manifest = test::read_json(dir / "out/cachet-manifest.json");
    const auto& output = manifest["assets"]["photo.png"]["outputs"][0];
    REQUIRE(output["format"] == "png");
    const Bytes shipped = test::slurp(dir / "out" / output["path"].get<std::string>());
    const VImage decoded = VImage::new_from_buffer(shipped.data(), shipped.size(), "");
    CHECK(decoded.bands() == 3);
    CHECK(decoded.subtract(photo).abs().max() == 0); // lossless
    VipsBlob* blob = photo.pngsave_buffer(
        VImage::option()->set("compression", 1)->set("filter", VIPS_FOREIGN_PNG_FILTER_ALL)->set("strip", true));
    const Bytes libpng(static_cast<const std::uint8_t*>(blob->area.data),
                       static_cast<const std::uint8_t*>(blob->area.data) + blob->area.length);
    vips_area_unref(&blob->area);
    const auto again = png_recompressed(libpng, 10);
    REQUIRE(again);
    INFO(shipped.size() << " against libpng's filters " << again->size());
    CHECK(shipped.size() < again->size());
}

TEST_CASE("a near-lossless PNG decodes within its error, alpha exact, in its own colour type", "[png][image]")
{
    const Raster rgba = discs(0.15);
    for (const Raster& r : {rgba, grey_of(rgba, true), grey_of(rgba, false)}) {
        const bool grey = is_grey(r);
        const int channels = grey ? (r.has_alpha() ? 2 : 1) : r.bands;
        INFO("channels " << channels);
        PngOptions options;
        options.near = 2;
        options.deflate = 10;
        const Bytes png = encode_png(r, options);
        CHECK(colour_type(png) == (channels == 4 ? 6 : channels == 2 ? 4 : 0));
        CHECK(png.size() < encode_png(r, PngOptions{}).size());
        // Decoded (grey as one band and alpha), every colour sample within 2 of the source's,
        // alpha exact.
        const Raster decoded = test::raster_of(png);
        REQUIRE(decoded.bands == channels);
        const auto pixels = static_cast<std::size_t>(r.width * r.height);
        REQUIRE(decoded.pixels.size() == pixels * static_cast<std::size_t>(channels));
        bool within = true;
        for (std::size_t p = 0; p < pixels; ++p)
            for (std::size_t c = 0; c < static_cast<std::size_t>(channels); ++c) {
                const bool alpha = r.has_alpha() && c + 1 == static_cast<std::size_t>(channels);
                const std::uint8_t want = r.pixels[p * static_cast<std::size_t>(r.bands) + (alpha ? 3 : c)];
                const int error = std::abs(static_cast<int>(decoded.pixels[p * channels + c]) - want);
                within = within && error <= (alpha ? 0 : 2);
            }
        CHECK(within);
    }
}

TEST_CASE("cachet build writes a near-lossless PNG where the palette is too far and it stays within", "[e2e][png]")
{
    test::TempDir dir;
    fs::create_directories(dir / "src");
    // Smooth gradients: its palette is over 2 away, its near-lossless PNG 0.53 at an error of
    // 1, 1.02 at 2.
    const Raster shaded = gradient(300, 240);
    save_png(shaded, dir / "src/shaded.png");
    auto build = [&](const std::string& name, int near_lossless) {
        test::spit(dir / (name + ".toml"),
                   "[images]\nformats = []\n[images.png]\nlossy_distance = 0.6\nnear_lossless = " +
                       std::to_string(near_lossless) + "\n");
        const auto p = test::run_cachet({"build", (dir / "src").string(), "-o", (dir / name).string(), "--no-cache",
                                         "--config", (dir / (name + ".toml")).string()});
        INFO(p.err);
        REQUIRE(p.exit_code == 0);
        const json m = test::read_json(dir / name / "cachet-manifest.json");
        for (const auto& o : m["assets"]["shaded.png"]["outputs"])
            if (o["format"] == "png" && !o["original"].get<bool>())
                return std::pair{o, test::slurp(dir / name / o["path"].get<std::string>())};
        FAIL("no PNG output");
        return std::pair{json(), Bytes()};
    };
    const auto [lossless, lossless_bytes] = build("lossless", 0);
    CHECK_FALSE(lossless.contains("butteraugli"));
    CHECK(test::raster_of(lossless_bytes).pixels == shaded.pixels);
    const auto [near, near_bytes] = build("near", 3);
    CHECK(colour_type(near_bytes) == 6); // RGBA, not a palette
    REQUIRE(near.contains("butteraugli"));
    CHECK(near["butteraugli"].get<double>() > 0);
    CHECK(near["butteraugli"].get<double>() <= 0.6);
    CHECK(near_bytes.size() < lossless_bytes.size() * 9 / 10);
    // Every colour sample within the largest error allowed, alpha exact.
    const Raster decoded = test::raster_of(near_bytes);
    REQUIRE(decoded.pixels.size() == shaded.pixels.size());
    int worst = 0;
    bool alpha_exact = true;
    for (std::size_t i = 0; i < shaded.pixels.size(); ++i) {
        const int error = std::abs(static_cast<int>(decoded.pixels[i]) - shaded.pixels[i]);
        if (i % 4 == 3)
            alpha_exact = alpha_exact && error == 0;
        else
            worst = std::max(worst, error);
    }
    CHECK(alpha_exact);
    CHECK(worst == 1); // the largest error within 0.6
}

TEST_CASE("near_lossless_choice keeps the chosen error's trial PNG, the bytes of that output", "[png][image]")
{
    const Raster shaded = gradient(300, 240); // (near-lossless 0.53 at an error of 1, 1.02 at 2)
    ImageSettings images = load_preset("default").images;
    images.png.lossy_distance = 0.6;
    images.png.near_lossless = 3;
    const auto best = near_lossless_choice(shaded, images);
    REQUIRE(best);
    CHECK(best->near == 1);
    PngOptions png = images.png;
    png.near = 1;
    const Bytes output = encode_png(shaded, png); // as the build encodes its own width
    CHECK(best->output.bytes == output);
    images.png.near = 1;
    CHECK(same_output(best->output, ImageFormat::png, 300, 240, images));
    png.near = 0;
    CHECK(best->size_ratio == Approx(static_cast<double>(output.size()) / encode_png(shaded, png).size()));
    images.png.near = 0; // the lossless output is encoded
    CHECK_FALSE(same_output(best->output, ImageFormat::png, 300, 240, images));
}

TEST_CASE("a grey image stays grey in its PNG, exactly, and gets no palette", "[png][image]")
{
    for (const bool alpha : {false, true}) {
        INFO("alpha " << alpha);
        Raster r = grey_of(gradient(120, 90), alpha);
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
    save_png(gradient(300, 240), dir / "src/gradient.png"); // near-lossless at an error of 1
    test::spit(dir / "cachet.toml", "[images]\nwidths = []\nformats = []\n[output]\noriginals = false\n");
    for (const char* jobs : {"1", "2"}) {
        const fs::path out = dir / (std::string("out-") + jobs);
        const auto p = test::run_cachet({"build", (dir / "src").string(), "-o", out.string(), "--config",
                                         (dir / "cachet.toml").string(), "-j", jobs});
        INFO(p.err);
        REQUIRE(p.exit_code == 0);
        const std::map<std::string, std::string> expected{
            {"logo.3d0d4aa37a.png", "3d0d4aa37a7d0e7a726556d2cae8a4d4aab66b352644374020394253f020f9c4"},
            {"gradient.485f0e1e36.png", "485f0e1e3661d6c9117dba59a9bd8a1be06c198c1fa2be6a784bf51a5f9e2592"},
        };
        CHECK(test::file_digests(out, ".png") == expected);
    }
}
