#pragma once
#include "pipeline/config/config.hpp"
#include "pipeline/image/image.hpp"
#include "pipeline/model/record.hpp"

#include <string>

namespace cachet {

// The placeholder of raster; throws Error(asset) if even a 1-pixel one does not fit.
Placeholder make_placeholder(const Raster& raster, const ImageSettings& images);

} // namespace cachet
