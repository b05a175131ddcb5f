#include "pipeline/image/image.hpp"

#include "pipeline/model/error.hpp"
#include "tests/test_support.hpp"

#include <catch2/catch.hpp>
#include <vips/vips8>
#include <zlib.h>

#include <cmath>

using namespace cachet;
using vips::VImage;

namespace {

// Mean absolute difference per sample over the colour bands both rasters share.
double mean_difference(const Raster& a, const Raster& b)
{
    REQUIRE(a.width == b.width);
    REQUIRE(a.height == b.height);
    double sum = 0;
    const std::size_t pixels = static_cast<std::size_t>(a.width) * static_cast<std::size_t>(a.height);
    for (std::size_t i = 0; i < pixels; ++i)
        for (int c = 0; c < 3; ++c)
            sum += std::abs(int(a.pixels[i * a.bands + c]) - int(b.pixels[i * b.bands + c]));
    return sum / double(pixels * 3);
}

Raster decode_fixture(const std::string& relative, std::uint64_t max_pixels = 268402689)
{
    return decode_image(test::slurp(test::fixtures() / relative), max_pixels).raster;
}

void put32(Bytes& out, std::uint32_t v)
{
    for (int shift = 24; shift >= 0; shift -= 8)
        out.push_back(static_cast<std::uint8_t>(v >> shift));
}

void chunk(Bytes& png, const char* type, const Bytes& data)
{
    put32(png, static_cast<std::uint32_t>(data.size()));
    const std::size_t start = png.size();
    png.insert(png.end(), type, type + 4);
    png.insert(png.end(), data.begin(), data.end());
    put32(png, static_cast<std::uint32_t>(crc32(0, png.data() + start, static_cast<uInt>(png.size() - start))));
}

// A PNG whose header claims width x height, with a few bytes of pixel data: a decompression bomb's shape.
Bytes png_header_only(std::uint32_t width, std::uint32_t height)
{
    Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    Bytes ihdr;
    put32(ihdr, width);
    put32(ihdr, height);
    ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});
    chunk(png, "IHDR", ihdr);
    chunk(png, "IDAT", {0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01});
    chunk(png, "IEND", {});
    return png;
}

} // namespace

TEST_CASE("decode_image applies all 8 EXIF orientations", "[image]")
{
    init_image_library();
    const Raster upright = decode_fixture("images/upright.png");
    REQUIRE(upright.width == 96);
    REQUIRE(upright.height == 64);
    for (int o = 1; o <= 8; ++o) {
        INFO("orientation " << o);
        const Raster r = decode_fixture("images/orientation-" + std::to_string(o) + ".jpg");
        CHECK(r.width == 96);
        CHECK(r.height == 64);
        CHECK(mean_difference(r, upright) < 4.0); // JPEG noise; a wrong turn is > 60
    }
    // The test can fail: a raw decode of orientation 3 (rotated 180 degrees) is far off.
    const Raster raw = test::raster_of(VImage::new_from_file((test::fixtures() / "images/orientation-3.jpg").c_str()));
    CHECK(mean_difference(raw, upright) > 40.0);
}

TEST_CASE("decode_image converts ICC-tagged input to sRGB with colour = srgb", "[image]")
{
    init_image_library();
    const std::string path = (test::fixtures() / "site/img/display-p3.jpg").string();
    const VImage source = VImage::new_from_file(path.c_str());
    REQUIRE(source.get_typeof(VIPS_META_ICC_NAME) != 0);
    const Raster reference = test::raster_of(source.icc_transform("srgb", VImage::option()->set("embedded", true)));
    const Raster ignored_profile = test::raster_of(source);
    const Raster decoded =
        decode_image(test::slurp(test::fixtures() / "site/img/display-p3.jpg"), 1 << 30, Colour::srgb).raster;
    CHECK(decoded.gamut == Gamut::srgb);
    CHECK(decoded.icc.empty());
    CHECK(mean_difference(decoded, reference) < 1.0);
    CHECK(mean_difference(ignored_profile, reference) > 5.0); // the conversion is visible
    CHECK(mean_difference(to_srgb(decode_fixture("site/img/display-p3.jpg")), reference) < 1.0);
}

TEST_CASE("decode_image keeps wide-gamut pixels and their profile by default", "[image]")
{
    init_image_library();
    SECTION("Display P3")
    {
        const Raster r = decode_fixture("site/img/display-p3.jpg");
        CHECK(r.gamut == Gamut::display_p3);
        CHECK_FALSE(r.icc.empty());
        const Raster raw =
            test::raster_of(VImage::new_from_file((test::fixtures() / "site/img/display-p3.jpg").c_str()));
        CHECK(mean_difference(r, raw) < 0.01); // values untouched
    }
    SECTION("Adobe RGB")
    {
        const Raster r = decode_fixture("images/adobe-rgb.jpg");
        CHECK(r.gamut == Gamut::other);
        CHECK(r.icc.size() > 100);
        CHECK(resize_raster(r, 40).gamut == Gamut::other); // resizing keeps the space
    }
    SECTION("an sRGB profile is just sRGB: converted, untagged")
    {
        const Raster r = decode_fixture("images/srgb-tagged.jpg");
        CHECK(r.gamut == Gamut::srgb);
        CHECK(r.icc.empty());
    }
}

TEST_CASE("decode_image expands greyscale to RGB and keeps grey alpha", "[image]")
{
    const Raster grey = decode_fixture("site/img/greyscale.jpg");
    CHECK(grey.bands == 3);
    CHECK(grey.width == 200);
    for (std::size_t i = 0; i < grey.pixels.size(); i += 3) {
        REQUIRE(grey.pixels[i] == grey.pixels[i + 1]);
        REQUIRE(grey.pixels[i] == grey.pixels[i + 2]);
    }
    const Raster grey_alpha = decode_fixture("images/grey-alpha.png");
    CHECK(grey_alpha.bands == 4);
}

TEST_CASE("decode_image reduces 16-bit input to 8-bit", "[image]")
{
    init_image_library();
    const Raster r = decode_fixture("site/img/deep-16bit.png");
    CHECK(r.bands == 3);
    const VImage source = VImage::new_from_file((test::fixtures() / "site/img/deep-16bit.png").c_str());
    REQUIRE(source.format() == VIPS_FORMAT_USHORT);
    const double right_edge_red = source.getpoint(95, 0)[0] / 257.0;
    CHECK(std::abs(r.pixels[95 * 3] - right_edge_red) <= 1.0);
}

TEST_CASE("decode_image keeps real alpha and drops alpha that is fully opaque", "[image]")
{
    const Raster logo = decode_fixture("site/img/logo.png");
    CHECK(logo.bands == 4);
    CHECK(logo.pixels[3] == 0); // top-left corner is transparent

    Raster opaque;
    opaque.width = 4;
    opaque.height = 4;
    opaque.bands = 4;
    opaque.pixels.assign(64, 255);
    const Bytes png = encode_png(opaque, PngOptions{});
    CHECK(decode_image(png, 1000).raster.bands == 3);
}

TEST_CASE("decode_image rejects images over the pixel limit from the header alone", "[image]")
{
    const Bytes huge = png_header_only(100000, 100000); // no pixel data: decoding would fail differently
    CHECK_THROWS_WITH(decode_image(huge, 268402689),
                      Catch::Contains("100000x100000") && Catch::Contains("over the limit of 268402689"));
    CHECK_THROWS_WITH(decode_fixture("site/img/hero.jpg", 1000), Catch::Contains("images.max_pixels"));
}

TEST_CASE("decode_image returns every composited frame of an animated GIF or WebP", "[image][animation]")
{
    for (const std::string name : {"site/img/spinner.gif", "site/img/spinner-anim.webp"}) {
        INFO(name);
        const DecodedImage d = decode_image(test::slurp(test::fixtures() / name), 1 << 20);
        REQUIRE(d.animation);
        const Animation& a = *d.animation;
        REQUIRE(a.frames.size() == 5);
        CHECK(a.delays_ms == std::vector<int>{80, 120, 200, 160, 300});
        CHECK(a.loop == 0);
        for (const Raster& f : a.frames) {
            CHECK(f.width == 48);
            CHECK(f.height == 32);
            CHECK(f.bands == 3); // every frame opaque: alpha dropped
            CHECK(f.pixels.size() == 48u * 32u * 3u);
        }
        CHECK(d.raster.pixels == a.frames.front().pixels);
    }
    const DecodedImage three = decode_image(test::slurp(test::fixtures() / "images/plays-three-times.gif"), 1 << 20);
    REQUIRE(three.animation);
    CHECK(three.animation->loop == 3); // NETSCAPE repeat count 2: three plays
    CHECK(three.animation->frames.front().bands == 4);
    // The transparent corner stays transparent; the rest takes the frame's colour.
    CHECK(three.animation->frames[1].pixels[3] == 0);
    const std::size_t last = (16u * 16u - 1u) * 4u;
    CHECK(std::vector<int>(three.animation->frames[1].pixels.begin() + static_cast<long>(last),
                           three.animation->frames[1].pixels.begin() + static_cast<long>(last) + 4) ==
          std::vector<int>{30, 200, 30, 255});
}

TEST_CASE("decode_image checks animation limits before decoding, or takes the first frame", "[image][animation]")
{
    const Bytes gif = test::slurp(test::fixtures() / "site/img/spinner.gif");
    CHECK_THROWS_WITH(decode_image(gif, 1 << 20, Colour::keep, AnimationLimits{true, 4, 0}),
                      Catch::Contains("animation has 5 frames, over the limit of 4 (images.max_frames)"));
    CHECK_THROWS_WITH(decode_image(gif, 1 << 20, Colour::keep, AnimationLimits{true, 100, 7679}),
                      Catch::Contains("7680 pixels, over the limit of 7679 (images.max_animation_pixels)"));
    const DecodedImage still = decode_image(gif, 1 << 20, Colour::keep, AnimationLimits{false, 4, 0});
    CHECK_FALSE(still.animation);
    CHECK(still.raster.height == 32);
}

TEST_CASE("decode_image rejects corrupt, truncated and unsupported data", "[image]")
{
    CHECK_THROWS_WITH(decode_image(as_bytes("definitely not an image"), 1000),
                      Catch::Contains("not a supported image"));
    Bytes truncated = test::slurp(test::fixtures() / "site/img/hero.jpg");
    truncated.resize(truncated.size() / 3);
    try {
        decode_image(truncated, 268402689);
        FAIL("a truncated JPEG decoded");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::asset);
        CHECK_THAT(e.what(), Catch::StartsWith("cannot decode image"));
    }
    const std::string ppm = "P6\n2 2\n255\n" + std::string(12, '\x7f');
    CHECK_THROWS_WITH(decode_image(as_bytes(ppm), 1000), Catch::Contains("unsupported image type"));
}

TEST_CASE("encode_jpeg and encode_png round-trip through libvips", "[image]")
{
    init_image_library();
    const Raster logo = decode_fixture("site/img/logo.png");
    const Bytes png = encode_png(logo, PngOptions{});
    const Raster back = test::raster_of(VImage::new_from_buffer(png.data(), png.size(), ""));
    CHECK(back.pixels == logo.pixels); // lossless
    const Raster hero = decode_fixture("site/img/hero.jpg");
    const Bytes jpeg = encode_jpeg(hero, JpegOptions{});
    CHECK(jpeg.size() < test::slurp(test::fixtures() / "site/img/hero.jpg").size());
    CHECK(mean_difference(test::raster_of(VImage::new_from_buffer(jpeg.data(), jpeg.size(), "")), hero) < 4.0);
}

TEST_CASE("resize_raster hits the width exactly and keeps proportions", "[image]")
{
    const Raster hero = decode_fixture("site/img/hero.jpg"); // 480x320
    const Raster r = resize_raster(hero, 100);
    CHECK(r.width == 100);
    CHECK(r.height == 67);
    CHECK(r.bands == 3);
    CHECK(r.pixels.size() == 100u * 67u * 3u);
}

TEST_CASE("resize_raster gives the pixels libvips gives an image read from a file", "[image]")
{
    // A raster handed to libvips from memory is not marked as read top to bottom, as a
    // loader's image is; resized so, shrinkv and reducev worked without their line cache, 4 to
    // 5 times slower, and some rows of a 1622x2880 photo at 640 px came out up to 5 levels
    // off what libvips makes of the same pixels from a file.
    Raster noise;
    noise.width = 1622;
    noise.height = 2880;
    noise.bands = 3;
    noise.pixels.resize(static_cast<std::size_t>(noise.width) * static_cast<std::size_t>(noise.height) * 3);
    std::uint32_t state = 12345;
    for (std::size_t i = 0; i < noise.pixels.size(); ++i) {
        state = state * 1664525u + 1013904223u;
        // smooth bands with noise on them, so that the kernels' rounding shows
        noise.pixels[i] = static_cast<std::uint8_t>((i / 3 / 1622) % 200 + (state >> 29));
    }
    // (resized first: that sets libvips up as cachet runs it, which the reference's resize
    // must share, as its plain C loops round otherwise than liborc's)
    const std::vector<int> widths{640, 1080};
    std::vector<Raster> resized;
    for (const int width : widths)
        resized.push_back(resize_raster(noise, width));
    test::TempDir dir;
    const std::string png = (dir / "noise.png").string();
    VImage::new_from_memory(noise.pixels.data(), noise.pixels.size(), noise.width, noise.height, 3, VIPS_FORMAT_UCHAR)
        .pngsave(png.c_str(), VImage::option()->set("compression", 1));
    for (std::size_t w = 0; w < widths.size(); ++w) {
        VImage reference =
            VImage::new_from_file(png.c_str(), VImage::option()->set("access", VIPS_ACCESS_SEQUENTIAL))
                .thumbnail_image(widths[w], VImage::option()->set("height", 10000000)->set("size", VIPS_SIZE_DOWN));
        std::size_t size = 0;
        void* memory = reference.write_to_memory(&size);
        const Bytes expected(static_cast<std::uint8_t*>(memory), static_cast<std::uint8_t*>(memory) + size);
        g_free(memory);
        REQUIRE(resized[w].pixels.size() == expected.size());
        std::size_t differ = 0;
        for (std::size_t i = 0; i < expected.size(); ++i)
            differ += resized[w].pixels[i] != expected[i] ? 1 : 0;
        INFO("width " << widths[w]);
        CHECK(differ == 0);
    }
}

TEST_CASE("resize_raster blends on premultiplied alpha: no dark fringes from transparent pixels", "[image]")
{
    // Opaque red and fully transparent black, alternating: a straight-alpha resize would
    // average the red with black and come out dark red.
    Raster checker;
    checker.width = 64;
    checker.height = 64;
    checker.bands = 4;
    for (int y = 0; y < 64; ++y)
        for (int x = 0; x < 64; ++x) {
            const bool on = (x + y) % 2 == 0;
            checker.pixels.insert(checker.pixels.end(), {std::uint8_t(on ? 200 : 0), std::uint8_t(on ? 50 : 0),
                                                         std::uint8_t(on ? 50 : 0), std::uint8_t(on ? 255 : 0)});
        }
    const Raster half = resize_raster(checker, 16);
    REQUIRE(half.bands == 4);
    const std::size_t mid = (8 * 16 + 8) * 4;
    CHECK(half.pixels[mid + 3] > 100);
    CHECK(half.pixels[mid + 3] < 155);
    CHECK(half.pixels[mid] > 185); // red stays red
    CHECK(half.pixels[mid + 1] < 65);
}

TEST_CASE("decode_image converts CMYK to sRGB through its profile", "[image]")
{
    init_image_library();
    const std::string path = (test::fixtures() / "images/cmyk.jpg").string();
    const VImage source = VImage::new_from_file(path.c_str());
    REQUIRE(source.interpretation() == VIPS_INTERPRETATION_CMYK);
    const Raster r = decode_fixture("images/cmyk.jpg");
    CHECK(r.bands == 3);
    const Raster reference = test::raster_of(source.icc_transform("srgb", VImage::option()->set("embedded", true)));
    CHECK(mean_difference(r, reference) < 1.0);
}

TEST_CASE("decode_image keeps the transparency of a palette PNG with tRNS", "[image]")
{
    const Raster r = decode_fixture("images/palette-trns.png");
    CHECK(r.bands == 4);
    CHECK(r.pixels[3] == 0);                         // corner: transparent
    CHECK(r.pixels[(64 * 128 + 64) * 4 + 3] == 255); // centre: opaque
}
