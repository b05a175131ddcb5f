#include "pipeline/image/placeholder.hpp"

#include "pipeline/image/palette.hpp"
#include "pipeline/image/webp.hpp"
#include "pipeline/model/error.hpp"
#include "pipeline/model/hash.hpp"

namespace cachet {

Placeholder make_placeholder(const Raster& raster, const ImageSettings& images)
{
    // Shown blurred and scaled up, so low quality is invisible; smaller boxes until it fits.
    ImageSettings tiny_settings = images;
    tiny_settings.webp.quality = 30;
    tiny_settings.webp.alpha_quality = 50;
    for (const int box : {16, 12, 8, 4, 1}) {
        const Raster tiny = to_srgb(resize_raster(raster, box, box)); // too small to carry a profile
        const Bytes webp = encode_webp(tiny, EncodeOptions{tiny_settings, 1});
        std::string uri = "data:image/webp;base64," + base64(webp);
        if (uri.size() <= k_placeholder_max_bytes)
            return {std::move(uri), dominant_colour(raster.gamut == Gamut::srgb ? raster : to_srgb(raster))};
    }
    throw Error(ErrorKind::asset, "cannot make a placeholder within 400 bytes");
}

} // namespace cachet
