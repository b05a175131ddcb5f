#pragma once
#include "pipeline/config/config.hpp"
#include "pipeline/image/image.hpp"

#include <optional>

namespace cachet {

// Butteraugli 3-norm distance between two rasters of the same size and space (libjxl's API).
// Throws Error(internal) if libjxl cannot compute it.
double butteraugli_distance(const Raster& original, const Raster& distorted);

struct QualityChoice {
    int quality = 0;
    double distance = 0; // Butteraugli 3-norm at the reference width
};

// The lowest quality of format (avif or webp) whose output, decoded again, stays within
// images.auto_distance of source, by bisection over 20..95 at images.auto_reference_width.
// If even 95 misses the target, 95 with its distance.
QualityChoice find_quality(ImageFormat format, const Raster& source, const ImageSettings& images, int threads);

// The Butteraugli 3-norm distance of source's quantized palette PNG (images.png with quantize)
// at images.auto_reference_width (or its own width if smaller): images.png.lossy_distance is
// compared with it, once per image, to choose the lossy palette at every width. Nullopt when
// its PNG is not quantized anyway: grey, or of at most 256 colours (an exact palette).
std::optional<double> palette_distance(const Raster& source, const ImageSettings& images);

} // namespace cachet
