#pragma once
#include "pipeline/config/config.hpp"
#include "pipeline/image/image.hpp"
#include "pipeline/model/bytes.hpp"

#include <string>
#include <string_view>

namespace cachet {

struct EncodeOptions {
    const ImageSettings& images;
    int threads = 1; // encoder threads this job may use
};

// An image encoder as a row of a table: codec files only map options to codec parameters.
struct Encoder {
    ImageFormat format;
    // Encodes raster; throws Error(asset) with the codec's reason.
    Bytes (*encode)(const Raster&, const EncodeOptions&);
    // Encodes an animation, or nullptr if the format cannot animate.
    Bytes (*encode_animation)(const Animation&, const EncodeOptions&);
    // The codec library's version, e.g. "libwebp 1.2.4".
    std::string (*version)();
};

// The encoder for format (every ImageFormat has one).
const Encoder& encoder_for(ImageFormat format);

} // namespace cachet
