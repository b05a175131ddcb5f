#include "pipeline/image.hpp"

#include "pipeline/error.hpp"

#include <vips/vips8>

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <string_view>

namespace cachet {
namespace {

using vips::VImage;
using vips::VError;

std::string tidy(std::string message)
{
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
        message.pop_back();
    std::replace(message.begin(), message.end(), '\n', ' ');
    return message;
}

// The libvips error buffer is process-global: take the message, then clear it.
[[noreturn]] void rethrow_vips(const VError& e, std::string_view what)
{
    std::string message = tidy(e.what());
    vips_error_clear();
    throw Error(ErrorKind::asset, std::string(what) + (message.empty() ? "" : ": " + message));
}

// libvips names loaders by class: these read the input formats cachet supports.
constexpr std::string_view k_allowed_loaders[] = {"VipsForeignLoadJpegBuffer",  "VipsForeignLoadPngBuffer",
                                                   "VipsForeignLoadNsgifBuffer", "VipsForeignLoadWebpBuffer",
                                                   "VipsForeignLoadHeifBuffer",  "VipsForeignLoadTiffBuffer"};

VImage to_srgb(VImage image, std::vector<std::string>& warnings)
{
    if (image.get_typeof(VIPS_META_ICC_NAME) != 0) {
        try {
            image = image.icc_transform("srgb", VImage::option()
                                                    ->set("embedded", true)
                                                    ->set("intent", VIPS_INTENT_PERCEPTUAL)
                                                    ->set("depth", 8));
        } catch (const VError& e) {
            vips_error_clear();
            warnings.push_back("ignored an unusable ICC profile: " + tidy(e.what()));
        }
    }
    if (image.interpretation() != VIPS_INTERPRETATION_sRGB || image.format() != VIPS_FORMAT_UCHAR)
        image = image.colourspace(VIPS_INTERPRETATION_sRGB);
    if (image.format() != VIPS_FORMAT_UCHAR)
        image = image.cast(VIPS_FORMAT_UCHAR);
    if (image.bands() <= 2) { // grey(+alpha) tagged as sRGB: replicate the grey band
        VImage grey = image.extract_band(0);
        VImage rgb = grey.bandjoin({grey, grey});
        image = image.bands() == 2 ? rgb.bandjoin(image.extract_band(1)) : rgb;
        image = image.copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
    }
    if (image.bands() > 4)
        image = image.extract_band(0, VImage::option()->set("n", 4));
    return image;
}

// Drops the alpha channel of an RGBA raster whose every pixel is opaque.
void drop_opaque_alpha(Raster& raster)
{
    if (raster.bands != 4)
        return;
    const std::size_t pixels = static_cast<std::size_t>(raster.width) * static_cast<std::size_t>(raster.height);
    for (std::size_t i = 0; i < pixels; ++i)
        if (raster.pixels[i * 4 + 3] != 255)
            return;
    for (std::size_t i = 0; i < pixels; ++i)
        for (std::size_t c = 0; c < 3; ++c)
            raster.pixels[i * 3 + c] = raster.pixels[i * 4 + c];
    raster.pixels.resize(pixels * 3);
    raster.pixels.shrink_to_fit();
    raster.bands = 3;
}

VImage from_raster(const Raster& raster)
{
    VImage image = VImage::new_from_memory(const_cast<std::uint8_t*>(raster.pixels.data()), raster.pixels.size(),
                                           raster.width, raster.height, raster.bands, VIPS_FORMAT_UCHAR);
    return image.copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
}

Bytes blob_bytes(VipsBlob* blob)
{
    std::size_t size = 0;
    const auto* data = static_cast<const std::uint8_t*>(vips_blob_get(blob, &size));
    Bytes out(data, data + size);
    vips_area_unref(VIPS_AREA(blob));
    return out;
}

} // namespace

void init_image_library()
{
    static std::once_flag once;
    std::call_once(once, [] {
        if (VIPS_INIT("cachet") != 0)
            throw Error(ErrorKind::internal, "cannot start libvips: " + tidy(vips_error_buffer()));
        // libvips reports recoverable oddities ("ignoring nclx profile") through GLib warnings
        // on stderr; cachet reports through its own Reporter, and real failures throw.
        g_log_set_handler("VIPS", static_cast<GLogLevelFlags>(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE),
                          [](const gchar*, GLogLevelFlags, const gchar*, gpointer) {}, nullptr);
        vips_block_untrusted_set(TRUE);
        vips_cache_set_max(0);
        vips_concurrency_set(1);
    });
}

DecodedImage decode_image(ByteView data, std::uint64_t max_pixels)
{
    init_image_library();
    DecodedImage result;
    const char* loader = vips_foreign_find_load_buffer(data.data(), data.size());
    if (!loader) {
        vips_error_clear();
        throw Error(ErrorKind::asset, "not a supported image (no decoder recognises its contents)");
    }
    result.loader = loader;
    if (std::find(std::begin(k_allowed_loaders), std::end(k_allowed_loaders), result.loader) ==
        std::end(k_allowed_loaders))
        throw Error(ErrorKind::asset, "unsupported image type (" + result.loader +
                                          "); inputs are JPEG, PNG, GIF, WebP, AVIF and TIFF");
    result.family = (result.loader == "VipsForeignLoadPngBuffer" || result.loader == "VipsForeignLoadNsgifBuffer")
                        ? SourceFamily::graphic
                        : SourceFamily::photo;
    try {
        VImage image = VImage::new_from_buffer(data.data(), data.size(), "",
                                               VImage::option()->set("fail_on", VIPS_FAIL_ON_ERROR));
        const std::uint64_t pixels =
            static_cast<std::uint64_t>(image.width()) * static_cast<std::uint64_t>(image.height());
        if (pixels > max_pixels)
            throw Error(ErrorKind::asset, "image is " + std::to_string(image.width()) + "x" +
                                              std::to_string(image.height()) + " = " + std::to_string(pixels) +
                                              " pixels, over the limit of " + std::to_string(max_pixels) +
                                              " (images.max_pixels)");
        image = to_srgb(image.autorot(), result.warnings);

        std::size_t size = 0;
        void* memory = image.write_to_memory(&size);
        Raster& raster = result.raster;
        raster.width = image.width();
        raster.height = image.height();
        raster.bands = image.bands();
        const auto* bytes = static_cast<const std::uint8_t*>(memory);
        raster.pixels.assign(bytes, bytes + size);
        g_free(memory);
        drop_opaque_alpha(raster);
    } catch (const VError& e) {
        rethrow_vips(e, "cannot decode image");
    }
    return result;
}

Raster resize_raster(const Raster& raster, int width, int max_height)
{
    init_image_library();
    try {
        // thumbnail_image premultiplies alpha and hits the target width exactly.
        const VImage scaled = from_raster(raster).thumbnail_image(
            width, VImage::option()->set("height", max_height)->set("size", VIPS_SIZE_DOWN));
        std::size_t size = 0;
        void* memory = scaled.write_to_memory(&size);
        Raster out;
        out.width = scaled.width();
        out.height = scaled.height();
        out.bands = scaled.bands();
        const auto* bytes = static_cast<const std::uint8_t*>(memory);
        out.pixels.assign(bytes, bytes + size);
        g_free(memory);
        return out;
    } catch (const VError& e) {
        rethrow_vips(e, "cannot resize image");
    }
}

std::string dominant_colour(const Raster& raster)
{
    std::vector<std::uint32_t> bins(16 * 16 * 16, 0);
    const std::size_t pixels = static_cast<std::size_t>(raster.width) * static_cast<std::size_t>(raster.height);
    const auto bands = static_cast<std::size_t>(raster.bands);
    for (std::size_t i = 0; i < pixels; ++i) {
        const std::uint8_t* p = &raster.pixels[i * bands];
        if (bands == 4 && p[3] < 128)
            continue;
        ++bins[(std::size_t{p[0]} >> 4) << 8 | (std::size_t{p[1]} >> 4) << 4 | (std::size_t{p[2]} >> 4)];
    }
    // The first bin with the highest count wins ties, so the answer is deterministic.
    const std::size_t best = static_cast<std::size_t>(std::max_element(bins.begin(), bins.end()) - bins.begin());
    char out[8];
    std::snprintf(out, sizeof out, "#%02x%02x%02x", static_cast<unsigned>((best >> 8) * 16 + 8),
                  static_cast<unsigned>(((best >> 4) & 15) * 16 + 8), static_cast<unsigned>((best & 15) * 16 + 8));
    return out;
}

Bytes encode_jpeg(const Raster& raster, const JpegOptions& options)
{
    init_image_library();
    try {
        VImage image = from_raster(raster);
        if (raster.has_alpha())
            image = image.flatten(VImage::option()->set("background", std::vector<double>{255, 255, 255}));
        return blob_bytes(image.jpegsave_buffer(VImage::option()
                                                    ->set("Q", options.quality)
                                                    ->set("optimize_coding", true)
                                                    ->set("interlace", options.progressive)
                                                    ->set("strip", true)));
    } catch (const VError& e) {
        rethrow_vips(e, "cannot encode JPEG");
    }
}

Bytes encode_png(const Raster& raster, const PngOptions& options)
{
    init_image_library();
    try {
        return blob_bytes(from_raster(raster).pngsave_buffer(VImage::option()
                                                                 ->set("compression", options.compression)
                                                                 ->set("filter", VIPS_FOREIGN_PNG_FILTER_ALL)
                                                                 ->set("strip", true)));
    } catch (const VError& e) {
        rethrow_vips(e, "cannot encode PNG");
    }
}

std::string libvips_version()
{
    return vips_version_string();
}

} // namespace cachet
