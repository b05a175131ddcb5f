// PNG outputs keep a few-colour image indexed (issue 21): a graphic of at most 256 colours
// becomes an indexed PNG at the smallest bit depth, only when it decodes to exactly the same
// pixels; anything else stays RGB(A); images.png.palette = false turns it off.
#include "pipeline/image/palette.hpp"

#include "tests/test_support.hpp"

#include <catch2/catch.hpp>
#include <vips/vips8>

using namespace cachet;
using vips::VImage;
namespace fs = std::filesystem;

namespace {

// A width x height RGBA raster of `colours` distinct colours (some translucent), each pixel's
// drawn by a fixed pseudo-random sequence: nothing a PNG filter could predict.
Raster stripes(int width, int height, int colours)
{
    Raster r;
    r.width = width;
    r.height = height;
    r.bands = 4;
    std::uint32_t state = 12345;
    for (int i = 0; i < width * height; ++i) {
        state = state * 1103515245u + 12345u;
        const int c = i < colours ? i : static_cast<int>((state >> 8) % static_cast<std::uint32_t>(colours));
        r.pixels.insert(r.pixels.end(),
                        {static_cast<std::uint8_t>(c * 7 % 256), static_cast<std::uint8_t>(c / 37 * 50),
                         static_cast<std::uint8_t>(255 - c % 200), static_cast<std::uint8_t>(c % 3 == 0 ? 128 : 255)});
    }
    return r;
}

struct PngHeader {
    int bit_depth = 0, colour_type = 0;
};

PngHeader header_of(const Bytes& png)
{
    REQUIRE(png.size() > 26);
    return {png[24], png[25]}; // IHDR, the first chunk, after the 8-byte signature
}

} // namespace

TEST_CASE("distinct_colours counts colours with their alpha, up to the limit and one more", "[palette]")
{
    CHECK(distinct_colours(stripes(10, 10, 3), 256) == 3);
    CHECK(distinct_colours(stripes(40, 40, 256), 256) == 256);
    CHECK(distinct_colours(stripes(40, 40, 1000), 256) == 257);
    Raster same_rgb = stripes(2, 1, 1);
    same_rgb.pixels[7] = 0; // the second pixel: same colour, other alpha
    CHECK(distinct_colours(same_rgb, 256) == 2);
    CHECK(palette_bit_depth(2) == 1);
    CHECK(palette_bit_depth(3) == 2);
    CHECK(palette_bit_depth(16) == 4);
    CHECK(palette_bit_depth(17) == 8);
}

TEST_CASE("same_pixels compares colour and alpha, reading a missing alpha as opaque", "[palette]")
{
    Raster rgb;
    rgb.width = 1;
    rgb.height = 1;
    rgb.bands = 3;
    rgb.pixels = {1, 2, 3};
    Raster rgba = rgb;
    rgba.bands = 4;
    rgba.pixels = {1, 2, 3, 255};
    CHECK(same_pixels(rgb, rgba));
    rgba.pixels[3] = 254;
    CHECK_FALSE(same_pixels(rgb, rgba));
    Raster wider = rgb;
    wider.width = 2;
    wider.pixels = {1, 2, 3, 1, 2, 3};
    CHECK_FALSE(same_pixels(rgb, wider));
}

TEST_CASE("a PNG of at most 256 colours is written indexed at the smallest bit depth, exactly, when smaller",
          "[palette][image]")
{
    for (const int colours : {2, 3, 16, 200, 256}) {
        INFO(colours << " colours");
        const Raster r = stripes(64, 48, colours);
        const Bytes png = encode_png(r, PngOptions{});
        CHECK(header_of(png).colour_type == 3);
        CHECK(header_of(png).bit_depth == palette_bit_depth(colours));
        CHECK(same_pixels(r, test::raster_of(png)));
        const Bytes rgb = encode_png(r, PngOptions{9, false});
        CHECK(header_of(rgb).colour_type == 6);
        CHECK(png.size() < rgb.size());
    }
    Raster flat = stripes(64, 48, 200); // 200 colours in runs a filter predicts: RGBA is smaller
    for (std::size_t i = 0; i < flat.pixels.size(); ++i)
        flat.pixels[i] = flat.pixels[i % (200 * 4)];
    const Bytes runs = encode_png(flat, PngOptions{});
    CHECK(runs.size() <= encode_png(flat, PngOptions{9, false}).size());
    CHECK(same_pixels(flat, test::raster_of(runs)));
    const Raster many = stripes(64, 48, 300);
    const Bytes png = encode_png(many, PngOptions{});
    CHECK(header_of(png).colour_type == 6);
    CHECK(same_pixels(many, test::raster_of(png)));
}

TEST_CASE("cachet build keeps a few-colour graphic indexed in its PNG fallbacks", "[e2e][palette]")
{
    test::TempDir dir;
    fs::create_directories(dir / "src");
    // An RGB (not indexed) source of 5 colours, as editors often save a logo.
    const Raster r = stripes(300, 200, 5);
    const VImage image = VImage::new_from_memory(const_cast<std::uint8_t*>(r.pixels.data()), r.pixels.size(), r.width,
                                                 r.height, r.bands, VIPS_FORMAT_UCHAR);
    image.pngsave((dir / "src/logo.png").c_str());
    const auto p = test::run_cachet({"build", (dir / "src").string(), "-o", (dir / "out").string(), "--no-cache"});
    INFO(p.err);
    REQUIRE(p.exit_code == 0);
    const auto m = test::read_json(dir / "out/cachet-manifest.json");
    int checked = 0;
    for (const auto& o : m["assets"]["logo.png"]["outputs"])
        if (o["format"] == "png") {
            const Bytes png = test::slurp(dir / "out" / o["path"].get<std::string>());
            CHECK(header_of(png).colour_type == 3);
            CHECK(header_of(png).bit_depth == 4); // 5 colours
            ++checked;
        }
    CHECK(checked >= 1);
}
