#include "pipeline/image/palette.hpp"
#include "pipeline/image/placeholder.hpp"

#include "tests/test_support.hpp"

#include <catch2/catch.hpp>
#include <openssl/evp.h>
#include <vips/vips8>

using namespace cachet;
using vips::VImage;

namespace {

Raster solid(int width, int height, std::vector<std::uint8_t> pixel)
{
    Raster r;
    r.width = width;
    r.height = height;
    r.bands = static_cast<int>(pixel.size());
    for (int i = 0; i < width * height; ++i)
        r.pixels.insert(r.pixels.end(), pixel.begin(), pixel.end());
    return r;
}

} // namespace

namespace cachet::test {

VImage load_image(const std::filesystem::path& path)
{
    if (vips_init("cachet-tests") != 0)
        throw std::runtime_error("vips_init failed");
    return VImage::new_from_file(path.c_str());
}

Raster raster_of(const VImage& image)
{
    std::size_t size = 0;
    void* memory = image.write_to_memory(&size);
    Raster r;
    r.width = image.width();
    r.height = image.height();
    r.bands = image.bands();
    const auto* bytes = static_cast<const std::uint8_t*>(memory);
    r.pixels.assign(bytes, bytes + size);
    g_free(memory);
    return r;
}

Raster raster_of(const Bytes& encoded)
{
    if (vips_init("cachet-tests") != 0)
        throw std::runtime_error("vips_init failed");
    return raster_of(VImage::new_from_buffer(encoded.data(), encoded.size(), ""));
}

// Decodes a data:image/webp;base64 URI with OpenSSL and libvips.
VImage decode_data_uri(const std::string& uri)
{
    const std::string prefix = "data:image/webp;base64,";
    REQUIRE(uri.rfind(prefix, 0) == 0);
    const std::string b64 = uri.substr(prefix.size());
    Bytes bytes(b64.size() / 4 * 3 + 3);
    int n =
        EVP_DecodeBlock(bytes.data(), reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
    REQUIRE(n >= 0);
    n -= static_cast<int>(
        std::count(b64.end() - std::min<std::ptrdiff_t>(2, static_cast<std::ptrdiff_t>(b64.size())), b64.end(), '='));
    bytes.resize(static_cast<std::size_t>(n));
    return VImage::new_from_buffer(bytes.data(), bytes.size(), "").copy_memory();
}

} // namespace cachet::test

TEST_CASE("dominant_colour reports the most common 16-level bin and ignores transparent pixels", "[placeholder]")
{
    CHECK(dominant_colour(solid(8, 8, {200, 30, 30})) == "#c81818");
    Raster mixed = solid(10, 1, {0, 0, 255, 0}); // transparent blue: ignored
    for (int i = 0; i < 3; ++i) {
        mixed.pixels[static_cast<std::size_t>(i) * 4 + 0] = 250;
        mixed.pixels[static_cast<std::size_t>(i) * 4 + 2] = 0;
        mixed.pixels[static_cast<std::size_t>(i) * 4 + 3] = 255;
    }
    CHECK(dominant_colour(mixed) == "#f80808");
}

TEST_CASE("make_placeholder fits 400 bytes and at most 16 pixels a side, keeping the shape", "[placeholder]")
{
    init_image_library();
    const ImageSettings settings = load_preset("default").images;
    const Raster hero = decode_image(test::slurp(test::fixtures() / "site/img/hero.jpg"), 1 << 30).raster;
    const Placeholder p = make_placeholder(hero, settings);
    CHECK(p.data_uri.size() <= 400);
    const VImage tiny = test::decode_data_uri(p.data_uri);
    CHECK(tiny.width() == 16);
    CHECK(tiny.height() == 11);

    const Placeholder tall = make_placeholder(solid(1, 1000, {10, 20, 30}), settings);
    const VImage t = test::decode_data_uri(tall.data_uri);
    CHECK(t.width() == 1);
    CHECK(t.height() == 16);
    CHECK(tall.dominant_color == "#081818");

    // Noise is the worst case for size: the placeholder still fits.
    Raster noise = solid(300, 200, {0, 0, 0, 0});
    std::uint32_t x = 99;
    for (auto& b : noise.pixels) {
        x = x * 1664525u + 1013904223u;
        b = static_cast<std::uint8_t>(x >> 24);
    }
    CHECK(make_placeholder(noise, settings).data_uri.size() <= 400);
}
