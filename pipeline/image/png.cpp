// The PNG encoder: libvips writes it, libimagequant makes palettes, libdeflate deflates the
// image data again.
#include "pipeline/image/image.hpp"
#include "pipeline/image/metadata.hpp"
#include "pipeline/image/palette.hpp"
#include "pipeline/image/png_chunks.hpp"
#include "pipeline/image/png_near.hpp"
#include "pipeline/image/vips_support.hpp"
#include "pipeline/model/error.hpp"

#include <algorithm>

namespace cachet {

using namespace libvips;
using vips::VImage;

namespace {

// png's image data deflated again at level, or png as it is (not smaller, or level 0).
Bytes deflated(Bytes png, int level)
{
    if (level > 0)
        if (auto again = png_recompressed(png, level))
            return std::move(*again);
    return png;
}

// A grey raster's samples as its PNG stores them: one channel, and alpha if it has one.
Bytes grey_samples(const Raster& raster)
{
    const auto bands = static_cast<std::size_t>(raster.bands);
    Bytes out;
    out.reserve(raster.pixels.size() / bands * (raster.has_alpha() ? 2 : 1));
    for (std::size_t i = 0; i < raster.pixels.size(); i += bands) {
        out.push_back(raster.pixels[i]);
        if (raster.has_alpha())
            out.push_back(raster.pixels[i + 3]);
    }
    return out;
}

} // namespace

Bytes encode_png(const Raster& raster, const PngOptions& options)
{
    init_image_library();
    // Grey stays grey (untagged: a profile describes RGB); it needs no palette.
    const bool grey = raster.bands >= 3 && raster.icc.empty() && is_grey(raster);
    // When libdeflate deflates the data again, libvips' own zlib pass may be its fastest.
    const int zlib = options.deflate > 0 ? 1 : options.compression;
    Bytes png = run_vips("cannot encode PNG", [&] {
        VImage image = from_raster(raster, Profile::attach);
        if (grey)
            image = (raster.has_alpha() ? image.extract_band(0).bandjoin(image.extract_band(3)) : image.extract_band(0))
                        .copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_B_W));
        // colours = 0: RGB(A) or grey; up to 256: indexed, exact; more: libimagequant's palette,
        // dithered. Indexed rows are left unfiltered, as the PNG specification advises.
        auto save = [&](int colours, VipsForeignPngFilter filter) {
            vips::VOption* o =
                VImage::option()->set("compression", zlib)->set("strip", raster.icc.empty())->set("filter", filter);
            if (colours > 0)
                o->set("palette", true)->set("Q", 100)->set("bitdepth", colours > 256 ? 8 : palette_bit_depth(colours));
            if (colours > 0 && colours <= 256)
                o->set("dither", 0.0);
            return deflated(blob_bytes(image.pngsave_buffer(o)), options.deflate);
        };
        const bool rgb = raster.bands >= 3 && !grey;
        const int colours = (options.palette || options.quantize) && rgb ? distinct_colours(raster, 256) : 257;
        if (options.quantize && rgb && colours > 256)
            return save(colours, VIPS_FOREIGN_PNG_FILTER_NONE);
        Bytes full;
        if (options.near > 0 && colours > 256) {
            // Near-lossless: cachet's own rows (png_near.hpp) in libvips' file (its header, with
            // the height set, and profile; its image data replaced).
            const int channels = grey ? (raster.has_alpha() ? 2 : 1) : raster.bands;
            Bytes rows;
            {
                const Bytes grey_copy = grey ? grey_samples(raster) : Bytes();
                rows = near_lossless_rows(grey ? ByteView(grey_copy) : ByteView(raster.pixels), raster.width,
                                          raster.height, channels, channels % 2 == 0 ? channels - 1 : channels,
                                          options.near);
            }
            // libvips' file of the image's first row: the chunks of the whole image's.
            const Bytes strip = blob_bytes(
                image.crop(0, 0, raster.width, 1)
                    .pngsave_buffer(VImage::option()->set("compression", 1)->set("strip", raster.icc.empty())));
            const int level = options.deflate > 0 ? options.deflate : std::max(1, options.compression);
            if (auto near = png_with_image_data(strip, static_cast<std::uint32_t>(raster.height), rows, level))
                return std::move(*near);
            throw Error(ErrorKind::internal, "near-lossless PNG: libvips' file does not hold these rows");
        }
        if (options.deflate > 0) {
            // libpng's choice of filter for each row, or none at all: whichever libdeflate's
            // fastest level deflates smaller (it ranks them as the chosen level does) is
            // deflated again at that level.
            auto at_level_1 = [&](VipsForeignPngFilter filter) {
                VipsBlob* blob = image.pngsave_buffer(
                    VImage::option()->set("compression", 1)->set("strip", raster.icc.empty())->set("filter", filter));
                Bytes bytes = blob_bytes(blob);
                const std::size_t size = deflated(bytes, 1).size();
                return std::pair{std::move(bytes), size};
            };
            auto [all, all_size] = at_level_1(VIPS_FOREIGN_PNG_FILTER_ALL);
            auto [none, none_size] = at_level_1(VIPS_FOREIGN_PNG_FILTER_NONE);
            full = deflated(none_size < all_size ? std::move(none) : std::move(all), options.deflate);
        } else {
            full = save(0, VIPS_FOREIGN_PNG_FILTER_ALL);
        }
        // At most 256 colours: the indexed PNG is kept if it is smaller and shows the same pixels.
        if (options.palette && colours <= 256) {
            Bytes indexed = save(colours, VIPS_FOREIGN_PNG_FILTER_NONE);
            if (indexed.size() < full.size() &&
                same_pixels(raster, raster_from(VImage::new_from_buffer(indexed.data(), indexed.size(), ""), raster)))
                return indexed;
        }
        return full;
    });
    return raster.exif.empty() ? png : png_with_exif(png, raster.exif);
}

} // namespace cachet
