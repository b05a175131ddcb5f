#pragma once
#include "pipeline/config/config.hpp"

#include <cstdint>

namespace cachet {

// Rate control by output size. A site's image bytes are in its large outputs, while every
// output counts once for the pages that show it, and a large output is mostly seen scaled
// down on a dense screen, where a coarser quantizer shows least (the "compressive images"
// practice). So quality goes down as an output grows, by a fixed step per doubling of its
// pixels over the reference size: a 3:2 image at images.auto.reference_width (640x427).
// Smaller outputs keep the configured setting (raising it there made thumbnails and icons
// heavier than their sources for little a visitor sees), but WebP's: measured against sharp at
// 320 and 480 px, a WebP under the reference size at the reference quality was 5-16% heavier
// than sharp's at a far lower distance, so it goes down by its step per halving of pixels, to
// images.webp.small_quality. AVIF's does likewise when images.avif.small_quality is set (off by
// default: the floor's trial is an output under the reference size too when the image is wider
// than 3:2; docs/rate-control.md).

// Doublings of pixels over the reference size, 0 below it.
double doublings_over_reference(const ImageSettings& images, std::uint64_t pixels);
// Halvings of pixels under the reference size, 0 above it (rounded as doublings are).
double halvings_under_reference(const ImageSettings& images, std::uint64_t pixels);

// The settings an output of `pixels` pixels is encoded with: images.avif.quality (plus
// avif_raise, the per-image floor of images.avif.max_distance) and images.webp.quality lowered
// by their quality_step per doubling, images.jpeg.distance raised by its distance_step; under the
// reference size, images.avif.quality (plus the raise) and images.webp.quality lowered by their
// step per halving to their small_quality (plus the raise); the rest as images. Qualities stay within 1..100, distances
// within 0.1..25.
ImageSettings settings_for_size(const ImageSettings& images, std::uint64_t pixels, int avif_raise);

// A 3:2 output at the reference width: the size the step is counted from and the floor is
// measured at.
std::uint64_t reference_pixels(const ImageSettings& images);

} // namespace cachet
