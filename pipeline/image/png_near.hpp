#pragma once
#include "pipeline/model/bytes.hpp"

namespace cachet {

// The near-lossless PNG image data of 8-bit pixels (width x height, channels interleaved,
// non-interlaced): PNG's filtered rows (each its filter type byte, then its residuals). Every
// row is predicted by one of PNG's filters (Sub, Up, Average, Paeth) from the rows and pixels
// as a decoder will rebuild them, and each residual of the first colour_channels samples of a
// pixel is rounded to a multiple of 2 * near + 1 (JPEG-LS's near-lossless coding), so that
// every decoded sample is within near of the source's and the residuals take a third (near 1)
// or a fifth (near 2) as many values; the other channels (alpha) stay exact, as does a sample
// whose rounded value would leave 0..255. near 0 is lossless. A row takes the filter whose
// residuals sum smallest (RowFilter::smallest_sum, libpng's heuristic) or whose residual bytes
// have the least entropy (RowFilter::least_entropy, computed in integers: the same choice on
// every machine). Holds two rows per filter besides its input and output.
enum class RowFilter { smallest_sum, least_entropy };
Bytes near_lossless_rows(ByteView pixels, int width, int height, int channels, int colour_channels, int near,
                         RowFilter choice = RowFilter::smallest_sum);

} // namespace cachet
