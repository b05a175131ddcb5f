#include "pipeline/image/quality.hpp"

#include "pipeline/image/encoder.hpp"
#include "pipeline/image/rate.hpp"
#include "tests/test_support.hpp"

#include <catch2/catch.hpp>
#include <dlfcn.h>

#include <cstdint>

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

TEST_CASE("settings_for_size lowers quality per doubling of pixels over the reference and keeps it below",
          "[quality][rate]")
{
    ImageSettings images = load_preset("default").images;
    images.auto_reference_width = 640; // the reference: 640x427
    images.avif.quality = 50;
    images.avif.quality_step = 3;
    images.webp.quality = 75;
    images.webp.quality_step = 2;
    images.jpeg.distance = 1.8;
    images.jpeg.distance_step = 0.2;
    images.avif.raised_step_factor = 1; // (the default preset's is 0.9: below)
    CHECK(reference_pixels(images) == 640u * 427u);
    const ImageSettings same = settings_for_size(images, 640u * 427u, 0);
    CHECK(same.avif.quality == 50);
    CHECK(same.webp.quality == 75);
    CHECK(same.jpeg.distance == Approx(1.8));
    const ImageSettings big = settings_for_size(images, 4u * 640u * 427u, 0); // two doublings
    CHECK(big.avif.quality == 44);
    CHECK(big.webp.quality == 71);
    CHECK(big.jpeg.distance == Approx(2.2));
    CHECK(settings_for_size(images, 8u * 640u * 427u, 5).avif.quality == 46); // the floor's raise, then the step
    images.avif.raised_step_factor = 0.5; // an image the floor raised goes down half as fast: 55 - 4.5
    CHECK(settings_for_size(images, 8u * 640u * 427u, 5).avif.quality == 51);
    CHECK(settings_for_size(images, 8u * 640u * 427u, 0).avif.quality == 41); // one it did not: 50 - 9
    images.avif.raised_step_factor = 1;
    const ImageSettings tiny = settings_for_size(images, 100, 0); // below the reference: as configured
    CHECK(tiny.avif.quality == 50);
    CHECK(tiny.webp.quality == 75);
    CHECK(tiny.jpeg.distance == Approx(1.8));
    // but WebP, which goes down by its step per halving of pixels, to small_quality
    images.webp.quality = 85;
    images.webp.quality_step = 8;
    images.webp.small_quality = 78;
    CHECK(settings_for_size(images, 640u * 427u / 2, 0).webp.quality == 78); // one halving: 85 - 8 = 77, held at 78
    CHECK(settings_for_size(images, 480u * 320u, 0).webp.quality == 78);     // 0.83 halvings: 78.4
    CHECK(settings_for_size(images, 600u * 400u, 0).webp.quality == 84);     // 0.19 halvings: 83.5
    CHECK(settings_for_size(images, 100, 0).webp.quality == 78);
    images.webp.quality = 75; // a quality under small_quality stays as configured
    CHECK(settings_for_size(images, 100, 0).webp.quality == 75);
    images.webp.quality = 85;
    images.webp.small_quality = 0; // off
    CHECK(settings_for_size(images, 100, 0).webp.quality == 85);
    images.webp.small_quality = 78;
    images.webp.quality_step = 0; // no step: every size as configured
    CHECK(settings_for_size(images, 100, 0).webp.quality == 85);
    images.webp.quality = 75;
    images.webp.quality_step = 2;
    // AVIF likewise with its own small_quality (0 above: off); an image the floor raised gets
    // its raise on both ends.
    images.avif.quality = 56;
    images.avif.quality_step = 5;
    images.avif.small_quality = 50;
    CHECK(settings_for_size(images, 480u * 320u, 0).avif.quality == 52); // 0.83 halvings: 51.8
    CHECK(settings_for_size(images, 320u * 213u, 0).avif.quality == 50); // two halvings: 46, held at 50
    CHECK(settings_for_size(images, 320u * 213u, 4).avif.quality == 54); // 60 - 10, held at 50 + 4
    CHECK(settings_for_size(images, 480u * 320u, 4).avif.quality == 56); // 60 - 4.2
    CHECK(settings_for_size(images, 640u * 427u, 0).avif.quality == 56); // the reference size: as configured
    images.avif.small_quality = 0;
    CHECK(settings_for_size(images, 320u * 213u, 0).avif.quality == 56);
    images.avif.quality = 97;
    CHECK(settings_for_size(images, 100, 5).avif.quality == 99); // (100 is lossless)
    images.avif.quality = 100;
    CHECK(settings_for_size(images, 100, 0).avif.quality == 100); // unless configured
    images.avif.quality_step = 0;                                 // off: every size as configured
    CHECK(settings_for_size(images, 64u * 640u * 427u, 0).avif.quality == 100);
}

TEST_CASE("avif_floor raises quality just enough to bring the reference size within max_distance", "[quality][rate]")
{
    const Raster r = hero();
    ImageSettings settings = load_preset("default").images;
    settings.auto_reference_width = 240;
    settings.avif.quality = 30;
    settings.avif.max_distance = 20; // every image passes: no raise, one trial
    const QualityChoice easy = avif_floor(r, settings, 1);
    CHECK(easy.quality == 0);
    CHECK(easy.distance > 0.1);
    settings.avif.max_distance = easy.distance * 0.7;
    const QualityChoice floor = avif_floor(r, settings, 1);
    CHECK(floor.quality > 0);
    CHECK(floor.distance <= settings.avif.max_distance);
    const Raster reference = resize_raster(r, 240);
    CHECK(distance_at(ImageFormat::avif, reference, 30 + floor.quality) == Approx(floor.distance));
    CHECK(distance_at(ImageFormat::avif, reference, 30 + floor.quality - 1) > settings.avif.max_distance);
    // images.avif.floor_width: the trial at another width (a smaller one keeps the configured
    // quality, as every output under the reference size does).
    settings.avif.floor_width = 160;
    const QualityChoice narrow = avif_floor(r, settings, 1);
    const Raster at_160 = resize_raster(r, 160);
    CHECK(distance_at(ImageFormat::avif, at_160, 30 + narrow.quality) == Approx(narrow.distance));
    CHECK(distance_at(ImageFormat::avif, reference, 30 + narrow.quality) != Approx(narrow.distance));
}

TEST_CASE("avif_floor's trial AVIF is the output of its size at the raise it chose, byte for byte", "[quality][rate]")
{
    // The build ships it instead of encoding that output again (ImageJob::trials), so it must be
    // exactly what the output's own encode gives, at the raise chosen, not the last one tried.
    const Raster r = hero();
    ImageSettings settings = load_preset("default").images;
    settings.auto_reference_width = 240;
    settings.avif.quality = 30;
    settings.avif.max_distance = avif_floor(r, settings, 1).distance * 0.7; // a raise, found by bisection
    const QualityChoice floor = avif_floor(r, settings, 1);
    REQUIRE(floor.quality > 0);
    REQUIRE(floor.output);
    const Raster reference = resize_raster(r, 240, k_any_height);
    const auto pixels = static_cast<std::uint64_t>(reference.width) * static_cast<std::uint64_t>(reference.height);
    const ImageSettings sized = settings_for_size(settings, pixels, floor.quality);
    CHECK(floor.output->width == reference.width);
    CHECK(floor.output->height == reference.height);
    CHECK(floor.output->bytes == encoder_for(ImageFormat::avif).encode(reference, EncodeOptions{sized, 1}));
    CHECK(same_output(*floor.output, ImageFormat::avif, reference.width, reference.height, sized));
    // Any other output is encoded: another raise, size or format.
    CHECK_FALSE(same_output(*floor.output, ImageFormat::avif, reference.width, reference.height,
                            settings_for_size(settings, pixels, floor.quality - 1)));
    CHECK_FALSE(same_output(*floor.output, ImageFormat::avif, reference.width + 1, reference.height, sized));
    CHECK_FALSE(same_output(*floor.output, ImageFormat::webp, reference.width, reference.height, sized));
}

TEST_CASE("avif_floor measures a wide image at the reference size's quality, not at its output's lower one",
          "[quality][rate]")
{
    // hero's top 200 rows: 480x200, wider than 3:2. At a reference width of 240 its output is
    // 240x100, 0.68 halvings under the reference size (240x160), which images.avif.small_quality
    // lowers; the floor holds the quality of the reference size, so its trial is at 30.
    const Raster hero_raster = hero();
    Raster wide = hero_raster;
    wide.height = 200;
    wide.pixels.resize(static_cast<std::size_t>(wide.width) * 200 * static_cast<std::size_t>(wide.bands));
    ImageSettings settings = load_preset("default").images;
    settings.auto_reference_width = 240;
    settings.avif.quality = 30;
    settings.avif.small_quality = 20;
    settings.avif.max_distance = 20; // no raise
    const QualityChoice floor = avif_floor(wide, settings, 1);
    REQUIRE(floor.output);
    CHECK(floor.output->width == 240);
    CHECK(floor.output->height == 100);
    CHECK(floor.output->avif.quality == 30);
    const ImageSettings output = settings_for_size(settings, 240u * 100u, 0);
    CHECK(output.avif.quality == 27);                                             // 30 - 5 x 0.68
    CHECK_FALSE(same_output(*floor.output, ImageFormat::avif, 240, 100, output)); // encoded at its own
    // An image narrower than the reference width is measured at its own size and quality.
    settings.auto_reference_width = 640;
    const QualityChoice own = avif_floor(wide, settings, 1);
    REQUIRE(own.output);
    CHECK(own.output->avif.quality == settings_for_size(settings, 480u * 200u, 0).avif.quality);
    CHECK(own.output->avif.quality < 30);
}

#if defined(__x86_64__)
TEST_CASE("butteraugli_distance holds libjxl's Highway to SSE4, so distances do not depend on the CPU",
          "[quality][rate]")
{
    const Raster r = hero();
    CHECK(butteraugli_distance(r, r) < 0.01);
    void* hwy = dlopen("libhwy.so.1", RTLD_NOW | RTLD_NOLOAD);
    REQUIRE(hwy != nullptr); // loaded with libjxl
    using Supported = std::int64_t (*)();
    const auto supported = reinterpret_cast<Supported>(dlsym(hwy, "_ZN3hwy16SupportedTargetsEv"));
    REQUIRE(supported != nullptr);
    const std::int64_t targets = supported();
    dlclose(hwy);
    CHECK((targets & ((std::int64_t{1} << 11) - 1)) == 0); // nothing better than SSE4 (bit 11)
    CHECK(targets != 0);
}
#endif
