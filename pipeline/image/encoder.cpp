#include "pipeline/image/encoder.hpp"

#include "pipeline/image/avif.hpp"
#include "pipeline/image/jpegli.hpp"
#include "pipeline/image/jxl.hpp"
#include "pipeline/image/webp.hpp"

#include <libdeflate.h>
#include <libimagequant.h>

namespace cachet {
namespace {

Bytes jpeg(const Raster& raster, const EncodeOptions& options)
{
    return encode_jpeg(raster, options.images.jpeg);
}

std::string jpeg_version()
{
    return libvips_version() + ", jpegli " + (jpegli_version().empty() ? "none" : jpegli_version());
}

Bytes png(const Raster& raster, const EncodeOptions& options)
{
    return encode_png(raster, options.images.png);
}

// libvips writes the PNG (libimagequant makes a lossy palette); libdeflate compresses it again.
std::string png_version()
{
    return libvips_version() + ", libimagequant " LIQ_VERSION_STRING ", libdeflate " LIBDEFLATE_VERSION_STRING;
}

Bytes gif(const Raster& raster, const EncodeOptions&)
{
    return encode_gif(raster);
}

Bytes gif_animation(const Animation& animation, const EncodeOptions&)
{
    return encode_gif_animation(animation);
}

const Encoder k_encoders[] = {
    {ImageFormat::avif, encode_avif, encode_avif_animation, avif_version},
    {ImageFormat::webp, encode_webp, encode_webp_animation, webp_version},
    {ImageFormat::jpeg, jpeg, nullptr, jpeg_version},
    {ImageFormat::png, png, nullptr, png_version},
    {ImageFormat::gif, gif, gif_animation, libvips_version},
    {ImageFormat::jxl, encode_jxl, nullptr, jxl_version},
};

} // namespace

const Encoder& encoder_for(ImageFormat format)
{
    for (const auto& e : k_encoders)
        if (e.format == format)
            return e;
    return k_encoders[0];
}

} // namespace cachet
