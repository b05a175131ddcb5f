#include "pipeline/image/rate.hpp"

#include <algorithm>
#include <cmath>

namespace cachet {

std::uint64_t reference_pixels(const ImageSettings& images)
{
    const auto width = static_cast<std::uint64_t>(images.auto_reference_width);
    return width * ((width * 2 + 1) / 3);
}

namespace {

// log2 of pixels over the reference size, rounded to 1/256 so that a last-bit difference
// between libm builds cannot move a quality across a rounding boundary unless it sits on one
// exactly.
double log2_of_reference(const ImageSettings& images, std::uint64_t pixels)
{
    const double ratio =
        static_cast<double>(std::max<std::uint64_t>(pixels, 1)) / static_cast<double>(reference_pixels(images));
    return std::round(std::log2(ratio) * 256.0) / 256.0;
}

} // namespace

double doublings_over_reference(const ImageSettings& images, std::uint64_t pixels)
{
    return std::max(0.0, log2_of_reference(images, pixels));
}

double halvings_under_reference(const ImageSettings& images, std::uint64_t pixels)
{
    return std::max(0.0, -log2_of_reference(images, pixels));
}

ImageSettings settings_for_size(const ImageSettings& images, std::uint64_t pixels, int avif_raise)
{
    ImageSettings sized = images;
    const double doublings = doublings_over_reference(images, pixels);
    auto lowered = [&](int quality, double step, int top) {
        return std::clamp(static_cast<int>(std::lround(quality - step * doublings)), 1, top);
    };
    // AVIF quality 100 is lossless, which libaom's tunings refuse: the rate control stops at
    // 99 unless 100 is what was configured.
    const int avif_top = std::max(99, images.avif.quality);
    // Under the reference size: down by the step per halving, to no lower than small (nor
    // than the quality itself, when that is lower), both raised by the floor's raise.
    const double halvings = halvings_under_reference(images, pixels);
    auto small = [&](int quality, double step, int small_quality, int raise, int top) {
        const int least = std::min(small_quality, quality) + raise;
        return std::clamp(static_cast<int>(std::lround(quality + raise - step * halvings)), std::min(least, top),
                          std::min(quality + raise, top));
    };
    const double avif_step = images.avif.quality_step * (avif_raise > 0 ? images.avif.raised_step_factor : 1.0);
    if (images.avif.quality_step != 0 || avif_raise != 0)
        sized.avif.quality = lowered(std::min(avif_top, images.avif.quality + avif_raise), avif_step, avif_top);
    if (images.avif.quality_step != 0 && images.avif.small_quality > 0 && halvings > 0)
        sized.avif.quality = small(images.avif.quality, avif_step, images.avif.small_quality, avif_raise, avif_top);
    if (images.webp.quality_step != 0)
        sized.webp.quality = lowered(images.webp.quality, images.webp.quality_step, 100);
    if (images.webp.quality_step != 0 && images.webp.small_quality > 0 && halvings > 0)
        sized.webp.quality = small(images.webp.quality, images.webp.quality_step, images.webp.small_quality, 0, 100);
    if (images.jpeg.distance_step != 0)
        sized.jpeg.distance = std::clamp(images.jpeg.distance + images.jpeg.distance_step * doublings, 0.1, 25.0);
    if (images.jxl.distance_step != 0)
        sized.jxl.distance = std::clamp(images.jxl.distance + images.jxl.distance_step * doublings, 0.1, 25.0);
    return sized;
}

} // namespace cachet
