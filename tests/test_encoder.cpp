#include "pipeline/image/encoder.hpp"

#include "pipeline/model/error.hpp"
#include "tests/test_support.hpp"

#include <catch2/catch.hpp>
#include <vips/vips8>

using namespace cachet;
using vips::VImage;

namespace {

Raster fixture(const char* name)
{
    return decode_image(test::slurp(test::fixtures() / name), 268402689).raster;
}

VImage decode(const Bytes& data)
{
    return VImage::new_from_buffer(data.data(), data.size(), "");
}

} // namespace

TEST_CASE("every encoder's output decodes at the raster's size, keeping alpha", "[encoder]")
{
    init_image_library();
    const Preset preset = load_preset("default");
    const Raster photo = fixture("site/img/hero.jpg");
    const Raster logo = fixture("site/img/logo.png");
    for (const auto format : {ImageFormat::avif, ImageFormat::webp, ImageFormat::jpeg, ImageFormat::png}) {
        INFO(to_string(format));
        const Encoder& encoder = encoder_for(format);
        CHECK(encoder.format == format);
        const Bytes out = encoder.encode(photo, EncodeOptions{preset.images, 1});
        const VImage image = decode(out);
        CHECK(image.width() == photo.width);
        CHECK(image.height() == photo.height);
        if (format != ImageFormat::jpeg) {
            const VImage with_alpha = decode(encoder.encode(logo, EncodeOptions{preset.images, 1}));
            CHECK(with_alpha.has_alpha());
        }
        CHECK_FALSE(encoder.version().empty());
    }
}

TEST_CASE("AVIF and WebP quality settings trade bytes as expected", "[encoder]")
{
    const Raster photo = fixture("site/img/hero.jpg");
    Preset low = load_preset("default");
    Preset high = low;
    low.images.avif.quality = 30;
    low.images.webp.quality = 40;
    high.images.avif.quality = 80;
    high.images.webp.quality = 90;
    for (const auto format : {ImageFormat::avif, ImageFormat::webp}) {
        INFO(to_string(format));
        const Encoder& e = encoder_for(format);
        CHECK(e.encode(photo, EncodeOptions{low.images, 1}).size() <
              e.encode(photo, EncodeOptions{high.images, 1}).size());
    }
}

TEST_CASE("AVIF and WebP output is byte-identical across thread counts and runs", "[encoder]")
{
    const Raster photo = fixture("site/img/hero.jpg");
    const Raster logo = fixture("site/img/logo.png");
    const Preset preset = load_preset("default");
    for (const auto format : {ImageFormat::avif, ImageFormat::webp}) {
        INFO(to_string(format));
        const Encoder& e = encoder_for(format);
        for (const Raster* r : {&photo, &logo}) {
            const Bytes a = e.encode(*r, EncodeOptions{preset.images, 1});
            CHECK(a == e.encode(*r, EncodeOptions{preset.images, 1}));
            CHECK(a == e.encode(*r, EncodeOptions{preset.images, 2}));
            CHECK(a == e.encode(*r, EncodeOptions{preset.images, 4}));
        }
    }
}

TEST_CASE("AVIF chroma and codec settings reach libavif", "[encoder]")
{
    init_image_library();
    const Raster photo = fixture("site/img/hero.jpg");
    Preset preset = load_preset("default");
    const Encoder& avif = encoder_for(ImageFormat::avif);
    preset.images.avif.chroma = Chroma::yuv420;
    const Bytes yuv420 = avif.encode(photo, EncodeOptions{preset.images, 1});
    preset.images.avif.chroma = Chroma::yuv444;
    const Bytes yuv444 = avif.encode(photo, EncodeOptions{preset.images, 1});
    CHECK(yuv420 != yuv444);
    for (const auto codec : {AvifCodec::rav1e, AvifCodec::svt}) {
        INFO(to_string(codec));
        preset.images.avif.codec = codec;
        preset.images.avif.chroma = Chroma::yuv420;
        preset.images.avif.speed = 10;
        const Bytes out = avif.encode(photo, EncodeOptions{preset.images, 1});
        CHECK(decode(out).width() == photo.width);
        CHECK(out != yuv420);
    }
    // svt-av1 cannot take odd sizes in 4:2:0: a clear error instead of libavif's generic one.
    const Raster odd = resize_raster(photo, 101);
    preset.images.avif.codec = AvifCodec::svt;
    CHECK_THROWS_WITH(avif.encode(odd, EncodeOptions{preset.images, 1}),
                      Catch::Contains("svt-av1 needs an even width and height for 4:2:0, and this image is 101x67"));
    preset.images.avif.codec = AvifCodec::rav1e;
    CHECK(decode(avif.encode(odd, EncodeOptions{preset.images, 1})).width() == 101);
}

#include <avif/avif.h>

using test::avif_tags;

TEST_CASE("encoders tag wide-gamut output: CICP P3 or ICC in AVIF, ICC in WebP, JPEG and PNG", "[encoder]")
{
    init_image_library();
    const Preset preset = load_preset("default");
    const EncodeOptions options{preset.images, 1};
    const Raster p3 = fixture("site/img/display-p3.jpg");
    const Raster adobe = fixture("images/adobe-rgb.jpg");
    const Raster srgb = fixture("site/img/hero.jpg");

    CHECK(avif_tags(encoder_for(ImageFormat::avif).encode(p3, options)).primaries == AVIF_COLOR_PRIMARIES_SMPTE432);
    CHECK(avif_tags(encoder_for(ImageFormat::avif).encode(p3, options)).icc == 0);
    CHECK(avif_tags(encoder_for(ImageFormat::avif).encode(adobe, options)).icc == adobe.icc.size());
    CHECK(avif_tags(encoder_for(ImageFormat::avif).encode(srgb, options)).primaries == AVIF_COLOR_PRIMARIES_BT709);
    CHECK(avif_tags(encoder_for(ImageFormat::avif).encode(srgb, options)).icc == 0);

    for (const auto format : {ImageFormat::webp, ImageFormat::jpeg, ImageFormat::png}) {
        INFO(to_string(format));
        const Encoder& e = encoder_for(format);
        CHECK(decode(e.encode(adobe, options)).get_typeof(VIPS_META_ICC_NAME) != 0);
        CHECK(decode(e.encode(p3, options)).get_typeof(VIPS_META_ICC_NAME) != 0);
        CHECK(decode(e.encode(srgb, options)).get_typeof(VIPS_META_ICC_NAME) == 0);
    }
    // A near-lossless PNG's chunks come from libvips' file of its first row: the profile too.
    ImageSettings near_images = preset.images;
    near_images.png.near = 1;
    const EncodeOptions near{near_images, 1};
    const Bytes png = encoder_for(ImageFormat::png).encode(adobe, near);
    CHECK(decode(png).get_typeof(VIPS_META_ICC_NAME) != 0);
    CHECK(decode(png).height() == adobe.height);
    CHECK(decode(encoder_for(ImageFormat::png).encode(srgb, near)).get_typeof(VIPS_META_ICC_NAME) == 0);
}
