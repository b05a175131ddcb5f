#pragma once
#include "pipeline/image/image.hpp"

namespace cachet {

// How many distinct colours (alpha included) raster has, counted up to limit + 1: a result
// over limit means "more than limit".
int distinct_colours(const Raster& raster, int limit);

// True if every pixel of raster is grey (R = G = B; a raster of 1 or 2 bands always is).
bool is_grey(const Raster& raster);

// The smallest PNG palette bit depth (1, 2, 4 or 8) that holds `colours` entries.
int palette_bit_depth(int colours);

// True if decoded shows exactly raster's pixels: the same size, and every pixel the same
// colour and alpha (a missing alpha band reads as opaque, and grey as equal R, G and B).
bool same_pixels(const Raster& raster, const Raster& decoded);

// The most common colour of raster's visible pixels (alpha >= 128), sRGB, in 16 levels per
// channel reported at the bin's centre, as sharp does; "#rrggbb".
std::string dominant_colour(const Raster& raster);

} // namespace cachet
