#include "pipeline/image/encoder.hpp"
#include "pipeline/image/image.hpp"
#include "pipeline/image/metadata.hpp"
#include "tests/test_support.hpp"

#include <catch2/catch.hpp>
#include <vips/vips8>

using namespace cachet;
using vips::VImage;

namespace {

// The source EXIF of the fixture: make, orientation 6, artist, copyright and a GPS IFD.
Bytes credits_exif()
{
    const DecodedImage d = decode_image(test::slurp(test::fixtures() / "images/exif-credits.jpg"), 1 << 20);
    REQUIRE_FALSE(d.exif.empty());
    CHECK(d.raster.exif.empty()); // decode never attaches it by itself
    return d.exif;
}

// Which EXIF fields libvips (through libexif) finds in an encoded file.
std::string field(const Bytes& file, const char* name)
{
    const VImage image = VImage::new_from_buffer(file.data(), file.size(), "");
    if (image.get_typeof(name) == 0)
        return "";
    return image.get_string(name);
}

} // namespace

TEST_CASE("kept_exif keeps only the configured fields, or nothing", "[metadata]")
{
    const Bytes exif = credits_exif();
    CHECK(kept_exif(exif, {}).empty());
    CHECK(kept_exif(as_bytes("not exif at all"), {MetadataField::copyright}).empty());

    const Bytes copyright = kept_exif(exif, {MetadataField::copyright});
    REQUIRE_FALSE(copyright.empty());
    CHECK(copyright[0] == 'M'); // bare big-endian TIFF, no "Exif\0\0" header
    CHECK(as_text(copyright).find("(c) 2026 Cachet Fixtures") != std::string_view::npos);
    CHECK(as_text(copyright).find("Ada Lovelace") == std::string_view::npos);
    CHECK(as_text(copyright).find("CachetCam") == std::string_view::npos);

    const Bytes both = kept_exif(exif, {MetadataField::copyright, MetadataField::artist});
    CHECK(as_text(both).find("Ada Lovelace") != std::string_view::npos);
    CHECK(kept_exif(exif, {MetadataField::copyright}) == copyright); // deterministic
}

TEST_CASE("every encoder carries kept EXIF, and only it", "[metadata]")
{
    Raster raster = decode_image(test::slurp(test::fixtures() / "site/img/hero.jpg"), 1 << 20).raster;
    raster.exif = kept_exif(credits_exif(), {MetadataField::copyright, MetadataField::artist});
    const Preset preset = load_preset("default");
    const EncodeOptions options{preset.images, 1};
    for (const ImageFormat format : {ImageFormat::avif, ImageFormat::webp, ImageFormat::jpeg, ImageFormat::png}) {
        INFO(to_string(format));
        const Bytes file = encoder_for(format).encode(raster, options);
        CHECK_THAT(field(file, "exif-ifd0-Copyright"), Catch::StartsWith("(c) 2026 Cachet Fixtures"));
        CHECK_THAT(field(file, "exif-ifd0-Artist"), Catch::StartsWith("Ada Lovelace"));
        CHECK(field(file, "exif-ifd0-Make").empty());
        CHECK(field(file, "exif-ifd0-Orientation").empty()); // pixels are already upright
        CHECK(field(file, "exif-ifd3-GPSLatitudeRef").empty());
        const VImage decoded = VImage::new_from_buffer(file.data(), file.size(), "");
        CHECK(decoded.width() == raster.width); // still a valid image
    }
    raster.exif.clear();
    for (const ImageFormat format : {ImageFormat::avif, ImageFormat::webp, ImageFormat::jpeg, ImageFormat::png}) {
        INFO(to_string(format));
        const Bytes file = encoder_for(format).encode(raster, options);
        CHECK(VImage::new_from_buffer(file.data(), file.size(), "").get_typeof(VIPS_META_EXIF_NAME) == 0);
    }
}

TEST_CASE("jpeg_with_exif and png_with_exif reject what is not a JPEG or PNG", "[metadata]")
{
    const Bytes tiff{'M', 'M', 0, 42, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0};
    CHECK_THROWS(jpeg_with_exif(Bytes{1, 2, 3, 4}, tiff));
    CHECK_THROWS(png_with_exif(Bytes(40, 0), tiff));
}
