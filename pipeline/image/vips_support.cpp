#include "pipeline/image/vips_support.hpp"

#include <algorithm>

namespace cachet::libvips {

using vips::VError;
using vips::VImage;

std::string tidy(std::string message)
{
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
        message.pop_back();
    std::replace(message.begin(), message.end(), '\n', ' ');
    return message;
}

std::shared_mutex g_vips_gate;
thread_local bool t_alone = false;

[[noreturn]] void rethrow_vips(const VError& e, std::string_view what)
{
    std::string message = tidy(e.what());
    vips_error_clear();
    throw Error(ErrorKind::asset, std::string(what) + (message.empty() ? "" : ": " + message));
}

VImage from_raster(const Raster& raster, Profile profile)
{
    VImage image = VImage::new_from_memory(const_cast<std::uint8_t*>(raster.pixels.data()), raster.pixels.size(),
                                           raster.width, raster.height, raster.bands, VIPS_FORMAT_UCHAR);
    image = image.copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
    if (profile == Profile::attach && !raster.icc.empty())
        vips_image_set_blob_copy(image.get_image(), VIPS_META_ICC_NAME, raster.icc.data(), raster.icc.size());
    return image;
}

Raster raster_from(const VImage& image, const Raster& like)
{
    std::size_t size = 0;
    void* memory = image.write_to_memory(&size);
    Raster out;
    out.width = image.width();
    out.height = image.height();
    out.bands = image.bands();
    const auto* bytes = static_cast<const std::uint8_t*>(memory);
    out.pixels.assign(bytes, bytes + size);
    g_free(memory);
    out.gamut = like.gamut;
    out.icc = like.icc;
    out.exif = like.exif;
    return out;
}

Bytes blob_bytes(VipsBlob* blob)
{
    std::size_t size = 0;
    const auto* data = static_cast<const std::uint8_t*>(vips_blob_get(blob, &size));
    Bytes out(data, data + size);
    vips_area_unref(VIPS_AREA(blob));
    return out;
}

} // namespace cachet::libvips
