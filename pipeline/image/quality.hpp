#pragma once
#include "pipeline/config/config.hpp"
#include "pipeline/image/image.hpp"

#include <optional>

namespace cachet {

// Holds the libhwy libjxl loaded to SSE4 and below (once per process), so that what libjxl
// computes (Butteraugli, JPEG XL) is the same on every x86-64 machine: Highway would pick the
// CPU's best instruction set, and other sets give other last bits.
void hold_highway_to_sse4();

// Butteraugli 3-norm distance between two rasters of the same size and space (libjxl's API).
// Throws Error(internal) if libjxl cannot compute it.
double butteraugli_distance(const Raster& original, const Raster& distorted);

// What a trial encoded for its answer: the output of one size at the settings an output of
// that size gets, which the build ships as it is instead of encoding it again (same resize,
// same encoder, same options: the same bytes).
struct TrialOutput {
    ImageFormat format = ImageFormat::avif;
    int width = 0;
    int height = 0;
    AvifOptions avif; // the encoder's options (format avif)
    PngOptions png;   // ... (format png)
    Bytes bytes;
};

// Whether `trial` is the output an encode of format at width x height with `images` would
// make (AVIF and PNG encoders read only their own options). Inline: the build calls it, and the
// image module (cachet-images.so) is not linked into it.
inline bool same_output(const TrialOutput& trial, ImageFormat format, int width, int height,
                        const ImageSettings& images)
{
    if (trial.format != format || trial.width != width || trial.height != height)
        return false;
    return format == ImageFormat::avif ? trial.avif == images.avif
                                       : format == ImageFormat::png && trial.png == images.png;
}

struct QualityChoice {
    int quality = 0;
    double distance = 0;               // Butteraugli 3-norm at the reference width
    std::optional<TrialOutput> output; // avif_floor(): the AVIF at the reference size, at this raise
};

// The lowest quality of format (avif or webp) whose output, decoded again, stays within
// images.auto_distance of source, by bisection over 20..95 at images.auto_reference_width.
// If even 95 misses the target, 95 with its distance.
QualityChoice find_quality(ImageFormat format, const Raster& source, const ImageSettings& images, int threads);

// images.avif.max_distance, the per-image floor of the rate control (image/rate.hpp): the
// smallest raise of images.avif.quality (0..99 - quality) whose output at images.avif.floor_width
// (0: images.auto_reference_width; source's own width if smaller), encoded at the quality
// settings_for_size() gives that size, is within images.avif.max_distance; by bisection after one
// trial at no raise. If even the largest raise misses, that raise. `quality` in the answer is
// the raise; `output` the trial AVIF at it.
QualityChoice avif_floor(const Raster& source, const ImageSettings& images, int threads);

// The Butteraugli 3-norm distance of source's quantized palette PNG (images.png with quantize)
// at images.auto_reference_width (or its own width if smaller): images.png.lossy_distance is
// compared with it, once per image, to choose the lossy palette at every width. Nullopt when
// its PNG is not quantized anyway: grey, or of at most 256 colours (an exact palette).
std::optional<double> palette_distance(const Raster& source, const ImageSettings& images);

// The trials of images.png.near_lossless, when the palette is not within lossy_distance:
// source's near-lossless PNGs at the reference width as for the palette, at errors from 1 up
// to images.png.near_lossless (a larger error is never closer). The largest error whose PNG is
// within images.png.lossy_distance, its distance, and how many bytes it takes for each of the
// lossless PNG's (both compressed as images.png says). Nullopt when none is within, or when
// its PNG is an exact palette anyway (at most 256 colours).
// The lossless PNG is encoded for the ratio only when an error is within (most images that
// miss, miss at 1). `output` is the chosen error's trial PNG.
struct NearTrial {
    int near = 0;
    double distance = 0;
    double size_ratio = 1;
    TrialOutput output;
};
std::optional<NearTrial> near_lossless_choice(const Raster& source, const ImageSettings& images);

// JPEG XL at the AVIF's distance: the largest libjxl distance setting (images.jxl.distance is
// where the search starts) whose output at the reference size (as avif_floor's) is within
// `target` Butteraugli 3-norm of it, found to about 5% in six trial encodes (bisection on the
// setting's log between 0.5 and 12); the smallest if none is. A JPEG XL ships only where it is
// smaller than the AVIF, so it must be compared at the AVIF's distance, not at a setting that
// is only as close on average (the smaller file would then often be the worse one).
struct JxlChoice {
    double setting = 0;
    double distance = 0; // Butteraugli 3-norm at the reference size
};
JxlChoice jxl_at_distance(const Raster& source, const ImageSettings& images, double target);

} // namespace cachet
