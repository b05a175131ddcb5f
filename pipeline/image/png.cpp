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
#include <optional>

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
        // cachet's own filtered rows (png_near.hpp) in libvips' file: its header, with the
        // height set, and profile; its image data replaced, deflated at level.
        const int channels = grey ? (raster.has_alpha() ? 2 : 1) : raster.bands;
        auto own_rows = [&](int near, RowFilter choice) {
            const Bytes grey_copy = grey ? grey_samples(raster) : Bytes();
            return near_lossless_rows(grey ? ByteView(grey_copy) : ByteView(raster.pixels), raster.width, raster.height,
                                      channels, channels % 2 == 0 ? channels - 1 : channels, near, choice);
        };
        std::optional<Bytes> strip; // libvips' file of the image's first row: the whole image's chunks
        auto with_rows = [&](const Bytes& rows, int level) {
            if (!strip)
                strip = blob_bytes(
                    image.crop(0, 0, raster.width, 1)
                        .pngsave_buffer(VImage::option()->set("compression", 1)->set("strip", raster.icc.empty())));
            if (auto written = png_with_image_data(*strip, static_cast<std::uint32_t>(raster.height), rows, level))
                return std::move(*written);
            throw Error(ErrorKind::internal, "PNG: libvips' file does not hold these rows");
        };
        if (options.near > 0 && colours > 256) // near-lossless
            return with_rows(own_rows(options.near, RowFilter::smallest_sum),
                             options.deflate > 0 ? options.deflate : std::max(1, options.compression));
        if (options.deflate > 0) {
            // Three ways to filter the rows: each row as its residuals' entropy is least
            // (cachet's own), as their sum is smallest (libpng's), or none. Whichever
            // libdeflate's fastest level deflates smallest (it ranks them as the chosen level
            // does) is deflated again at that level. (The least entropy is the smallest on most
            // photographic PNGs: 1% to 3.5% fewer bytes than libpng's choice; docs/png.md.)
            // libvips' two go first and only the better is kept while the rows are ranked.
            Bytes by_libvips;
            std::size_t libvips_size = 0;
            for (const VipsForeignPngFilter filter : {VIPS_FOREIGN_PNG_FILTER_ALL, VIPS_FOREIGN_PNG_FILTER_NONE}) {
                Bytes bytes = blob_bytes(image.pngsave_buffer(
                    VImage::option()->set("compression", 1)->set("strip", raster.icc.empty())->set("filter", filter)));
                if (const std::size_t size = deflated(bytes, 1).size(); by_libvips.empty() || size < libvips_size) {
                    libvips_size = size;
                    by_libvips = std::move(bytes);
                }
            }
            Bytes rows = own_rows(0, RowFilter::least_entropy);
            if (with_rows(rows, 1).size() < libvips_size) {
                Bytes().swap(by_libvips);
                full = with_rows(rows, options.deflate);
            } else {
                Bytes().swap(rows);
                full = deflated(std::move(by_libvips), options.deflate);
            }
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
