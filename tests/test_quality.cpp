#include "pipeline/image/quality.hpp"

#include "pipeline/image/encoder.hpp"
#include "tests/test_support.hpp"

#include <catch2/catch.hpp>

using namespace cachet;

namespace {

Raster hero()
{
    return decode_image(test::slurp(test::fixtures() / "site/img/hero.jpg"), 1 << 30).raster;
}

double distance_at(ImageFormat format, const Raster& reference, int quality)
{
    ImageSettings settings = load_preset("default").images;
    settings.avif.quality = settings.webp.quality = quality;
    const Bytes encoded = encoder_for(format).encode(reference, EncodeOptions{settings, 1});
    return butteraugli_distance(reference, decode_image(encoded, 1 << 30).raster);
}

} // namespace

TEST_CASE("butteraugli_distance is zero for identical images and grows with compression", "[quality]")
{
    const Raster r = hero();
    CHECK(butteraugli_distance(r, r) < 0.01);
    const double good = distance_at(ImageFormat::webp, r, 90);
    const double poor = distance_at(ImageFormat::webp, r, 20);
    CHECK(good > 0.1);
    CHECK(poor > good * 1.5);
}

TEST_CASE("find_quality picks a quality within the target, and much lower ones miss it", "[quality]")
{
    const Raster r = hero();
    ImageSettings settings = load_preset("default").images;
    settings.auto_distance = 1.5;
    settings.auto_reference_width = 240;
    const Raster reference = resize_raster(r, 240);
    for (const auto format : {ImageFormat::avif, ImageFormat::webp}) {
        INFO(to_string(format));
        const QualityChoice choice = find_quality(format, r, settings, 1);
        CHECK(choice.quality >= 20);
        CHECK(choice.quality < 95);
        CHECK(choice.distance <= 1.5);
        CHECK(distance_at(format, reference, choice.quality) == Approx(choice.distance)); // measured at 240 px
        CHECK(distance_at(format, reference, std::max(20, choice.quality - 20)) > 1.5);
    }
    settings.auto_distance = 0.1; // unreachable: the best quality tried, with its distance
    const QualityChoice best = find_quality(ImageFormat::webp, r, settings, 1);
    CHECK(best.quality == 95);
    CHECK(best.distance > 0.1);
}
