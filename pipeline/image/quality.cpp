#include "pipeline/image/quality.hpp"

#include "pipeline/image/encoder.hpp"
#include "pipeline/image/jxl.hpp"
#include "pipeline/image/palette.hpp"
#include "pipeline/image/rate.hpp"
#include "pipeline/model/error.hpp"

#include <jxl/butteraugli.h>

#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>

namespace cachet {

// libjxl computes Butteraugli with Highway, which dispatches on the CPU: here AVX2 gave other
// last bits than SSE4 and AVX-512 did, so a distance within rounding of a threshold
// (images.avif.max_distance, images.png.lossy_distance, quality = "auto") could decide
// otherwise on another machine, and the outputs with it. The libhwy libjxl loaded is held to
// SSE4 and below (hwy::DisableTargets of every better x86 target; found by name, as cachet
// does not link libhwy itself, and a static copy of another version is in jpegli).
void hold_highway_to_sse4()
{
#if defined(__x86_64__)
    static const bool held = [] {
        void* hwy = dlopen("libhwy.so.1", RTLD_NOW | RTLD_NOLOAD);
        if (hwy == nullptr)
            return false;
        using Disable = void (*)(std::int64_t);
        const auto disable = reinterpret_cast<Disable>(dlsym(hwy, "_ZN3hwy14DisableTargetsEl"));
        if (disable != nullptr)
            disable((std::int64_t{1} << 11) - 1); // HWY_SSE4 is bit 11; the lower bits are better targets
        dlclose(hwy);
        return disable != nullptr;
    }();
    static_cast<void>(held);
#endif
}

double butteraugli_distance(const Raster& original, const Raster& distorted)
{
    hold_highway_to_sse4();
    if (original.width != distorted.width || original.height != distorted.height)
        throw Error(ErrorKind::internal, "butteraugli: images differ in size");
    std::unique_ptr<JxlButteraugliApi, decltype(&JxlButteraugliApiDestroy)> api(JxlButteraugliApiCreate(nullptr),
                                                                                JxlButteraugliApiDestroy);
    if (!api)
        throw Error(ErrorKind::internal, "butteraugli: cannot start libjxl");
    const JxlPixelFormat a{static_cast<uint32_t>(original.bands), JXL_TYPE_UINT8, JXL_NATIVE_ENDIAN, 0};
    const JxlPixelFormat b{static_cast<uint32_t>(distorted.bands), JXL_TYPE_UINT8, JXL_NATIVE_ENDIAN, 0};
    std::unique_ptr<JxlButteraugliResult, decltype(&JxlButteraugliResultDestroy)> result(
        JxlButteraugliCompute(api.get(), static_cast<uint32_t>(original.width), static_cast<uint32_t>(original.height),
                              &a, original.pixels.data(), original.pixels.size(), &b, distorted.pixels.data(),
                              distorted.pixels.size()),
        JxlButteraugliResultDestroy);
    if (!result)
        throw Error(ErrorKind::internal, "butteraugli: computation failed");
    return JxlButteraugliResultGetDistance(result.get(), 3.0f);
}

namespace {

Raster reference_raster(const Raster& source, const ImageSettings& images)
{
    return source.width > images.auto_reference_width ? resize_raster(source, images.auto_reference_width) : source;
}

} // namespace

std::optional<double> palette_distance(const Raster& source, const ImageSettings& images)
{
    if (source.bands < 3 || (source.icc.empty() && is_grey(source)) || distinct_colours(source, 256) <= 256)
        return std::nullopt;
    const Raster reference = reference_raster(source, images);
    PngOptions png = images.png;
    png.quantize = true;
    png.deflate = 0; // (the same pixels at any compression)
    png.compression = 1;
    const Bytes encoded = encode_png(reference, png);
    return butteraugli_distance(reference, decode_image(encoded, std::uint64_t{1} << 40, Colour::keep).raster);
}

std::optional<NearTrial> near_lossless_choice(const Raster& source, const ImageSettings& images)
{
    if (source.bands < 3 || images.png.near_lossless < 1 || distinct_colours(source, 256) <= 256)
        return std::nullopt;
    const Raster reference = reference_raster(source, images);
    PngOptions png = images.png; // (as compressed at every width, so that the sizes compare)
    png.quantize = false;
    std::optional<NearTrial> best;
    for (int near = 1; near <= images.png.near_lossless; ++near) {
        png.near = near;
        Bytes encoded = encode_png(reference, png);
        const double distance =
            butteraugli_distance(reference, decode_image(encoded, std::uint64_t{1} << 40, Colour::keep).raster);
        if (distance > images.png.lossy_distance)
            break;
        best = NearTrial{near, distance, 1,
                         TrialOutput{ImageFormat::png, reference.width, reference.height, {}, png, std::move(encoded)}};
    }
    if (best) {
        png.near = 0;
        const double lossless = static_cast<double>(std::max<std::size_t>(1, encode_png(reference, png).size()));
        best->size_ratio = static_cast<double>(best->output.bytes.size()) / lossless;
    }
    return best;
}

QualityChoice avif_floor(const Raster& source, const ImageSettings& images, int threads)
{
    const int width = images.avif.floor_width > 0 ? images.avif.floor_width : images.auto_reference_width;
    const Raster reference = source.width > width ? resize_raster(source, width) : source;
    // The floor holds the quality of the reference size: an image wider than 3:2 is measured at
    // it, not at the lower quality images.avif.small_quality gives its output at that width (a
    // narrower image, at its own width, at its own). Each trial's AVIF is kept for the answer:
    // the output of that size at the raise chosen, when that output's quality is the trial's.
    const auto pixels = static_cast<std::uint64_t>(reference.width) * static_cast<std::uint64_t>(reference.height);
    const std::uint64_t rule_pixels = source.width > width ? std::max(pixels, reference_pixels(images)) : pixels;
    auto measure = [&](int raise) {
        const ImageSettings trial = settings_for_size(images, rule_pixels, raise);
        QualityChoice choice{
            raise, 0,
            TrialOutput{ImageFormat::avif,
                        reference.width,
                        reference.height,
                        trial.avif,
                        {},
                        encoder_for(ImageFormat::avif).encode(reference, EncodeOptions{trial, threads})}};
        choice.distance = butteraugli_distance(
            reference, decode_image(choice.output->bytes, std::uint64_t{1} << 40, Colour::keep).raster);
        return choice;
    };
    QualityChoice best = measure(0);
    if (best.distance <= images.avif.max_distance)
        return best;
    // Galloping (most images that miss need a few points), then bisection below the raise
    // that passed.
    const int most = std::max(0, 99 - images.avif.quality); // (100 is lossless)
    int lo = 1;
    for (int raise = std::min(4, most); raise > 0; raise = std::min(raise * 2, most)) {
        best = measure(raise);
        if (best.distance <= images.avif.max_distance)
            break;
        lo = raise + 1;
        if (raise == most)
            return best; // even the most misses
    }
    int hi = best.quality;
    while (lo < hi) {
        const int mid = (lo + hi) / 2;
        if (QualityChoice trial = measure(mid); trial.distance <= images.avif.max_distance) {
            best = std::move(trial);
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return best;
}

JxlChoice jxl_at_distance(const Raster& source, const ImageSettings& images, double target)
{
    const Raster reference = reference_raster(source, images);
    const auto pixels = static_cast<std::uint64_t>(reference.width) * static_cast<std::uint64_t>(reference.height);
    auto measure = [&](double setting) {
        ImageSettings base = images;
        base.jxl.distance = setting;
        const ImageSettings trial = settings_for_size(base, pixels, 0); // (a tall image is over the reference size)
        const Bytes encoded = encoder_for(ImageFormat::jxl).encode(reference, EncodeOptions{trial, 1});
        return butteraugli_distance(reference, decode_jxl(encoded));
    };
    double lo = std::log(0.5);
    double hi = std::log(12.0);
    std::optional<JxlChoice> best;
    // A setting within the target moves the search coarser, one beyond it finer.
    auto attempt = [&](double setting) {
        if (const double d = measure(setting); d <= target) {
            best = JxlChoice{setting, d};
            lo = std::log(setting);
        } else {
            hi = std::log(setting);
        }
    };
    attempt(std::clamp(images.jxl.distance, 0.5, 12.0));
    for (int trial = 0; trial < 5; ++trial) // (midpoints rounded to 1/1024: the same on every libm)
        attempt(std::round(std::exp((lo + hi) / 2) * 1024.0) / 1024.0);
    // Nothing tried was within: the closest the search reaches.
    return best ? *best : JxlChoice{0.5, measure(0.5)};
}

QualityChoice find_quality(ImageFormat format, const Raster& source, const ImageSettings& images, int threads)
{
    const Raster reference = reference_raster(source, images);
    auto measure = [&](int quality) {
        ImageSettings trial = images;
        trial.avif.quality = trial.webp.quality = quality;
        const Bytes encoded = encoder_for(format).encode(reference, EncodeOptions{trial, threads});
        // Decoded in the same space as the reference; an alpha channel may come back dropped
        // (fully opaque), which the per-buffer pixel formats allow for.
        return butteraugli_distance(reference, decode_image(encoded, std::uint64_t{1} << 40, Colour::keep).raster);
    };
    int lo = 20;
    int hi = 95;
    QualityChoice best{hi, measure(hi), std::nullopt};
    if (best.distance > images.auto_distance)
        return best;
    while (lo < hi) {
        const int mid = (lo + hi) / 2;
        const double d = measure(mid);
        if (d <= images.auto_distance) {
            best = {mid, d, std::nullopt};
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return best;
}

} // namespace cachet
