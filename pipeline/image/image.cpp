#include "pipeline/image/image.hpp"

#include "pipeline/image/gamut.hpp"
#include "pipeline/image/jpegli.hpp"
#include "pipeline/image/metadata.hpp"
#include "pipeline/image/vips_support.hpp"
#include "pipeline/model/error.hpp"

#include <vips/vips8>

#include <vips/vector.h> // after vips8, which it needs

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string_view>

namespace cachet {
namespace {

using namespace libvips;
using vips::VError;
using vips::VImage;

// libvips names loaders by class: these read the input formats cachet supports.
constexpr std::string_view k_allowed_loaders[] = {"VipsForeignLoadJpegBuffer",  "VipsForeignLoadPngBuffer",
                                                  "VipsForeignLoadNsgifBuffer", "VipsForeignLoadWebpBuffer",
                                                  "VipsForeignLoadHeifBuffer",  "VipsForeignLoadTiffBuffer"};

VImage convert_to_srgb(VImage image, std::vector<std::string>& warnings)
{
    if (image.get_typeof(VIPS_META_ICC_NAME) != 0) {
        try {
            image = image.icc_transform(
                "srgb",
                VImage::option()->set("embedded", true)->set("intent", VIPS_INTENT_PERCEPTUAL)->set("depth", 8));
        } catch (const VError& e) {
            if (!t_alone)
                throw RunAlone{}; // the message must be this image's own
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

bool is_opaque(const Raster& raster)
{
    if (raster.bands != 4)
        return true;
    const std::size_t pixels = static_cast<std::size_t>(raster.width) * static_cast<std::size_t>(raster.height);
    for (std::size_t i = 0; i < pixels; ++i)
        if (raster.pixels[i * 4 + 3] != 255)
            return false;
    return true;
}

// RGBA -> RGB in place.
void remove_alpha(Raster& raster)
{
    if (raster.bands != 4)
        return;
    const std::size_t pixels = static_cast<std::size_t>(raster.width) * static_cast<std::size_t>(raster.height);
    for (std::size_t i = 0; i < pixels; ++i)
        for (std::size_t c = 0; c < 3; ++c)
            raster.pixels[i * 3 + c] = raster.pixels[i * 4 + c];
    raster.pixels.resize(pixels * 3);
    raster.pixels.shrink_to_fit();
    raster.bands = 3;
}

// What the image's embedded RGB profile describes (gamut_of_icc()).
Gamut gamut_of_profile(const VImage& image)
{
    std::size_t size = 0;
    const void* data = image.get_blob(VIPS_META_ICC_NAME, &size);
    return gamut_of_icc(data, size);
}

[[noreturn]] void over_limit(const std::string& what, std::uint64_t limit, const char* key)
{
    throw Error(ErrorKind::asset, what + ", over the limit of " + std::to_string(limit) + " (" + key + ")");
}

// Every frame of an animated GIF or WebP whose header (first) says it has `pages` frames.
Animation decode_animation(ByteView data, const VImage& header, int pages, const AnimationLimits& limits,
                           std::vector<std::string>& warnings)
{
    const std::uint64_t frame_pixels =
        static_cast<std::uint64_t>(header.width()) * static_cast<std::uint64_t>(header.height());
    if (pages > limits.max_frames)
        over_limit("animation has " + std::to_string(pages) + " frames", static_cast<std::uint64_t>(limits.max_frames),
                   "images.max_frames");
    if (limits.max_pixels != 0 && frame_pixels * static_cast<std::uint64_t>(pages) > limits.max_pixels)
        over_limit("animation is " + std::to_string(pages) + " frames of " + std::to_string(header.width()) + "x" +
                       std::to_string(header.height()) + " = " +
                       std::to_string(frame_pixels * static_cast<std::uint64_t>(pages)) + " pixels",
                   limits.max_pixels, "images.max_animation_pixels");

    VImage strip = VImage::new_from_buffer(data.data(), data.size(), "",
                                           VImage::option()->set("fail_on", VIPS_FAIL_ON_ERROR)->set("n", -1));
    const int page_height =
        strip.get_typeof(VIPS_META_PAGE_HEIGHT) != 0 ? strip.get_int(VIPS_META_PAGE_HEIGHT) : strip.height();
    if (page_height <= 0 || static_cast<std::int64_t>(page_height) * pages != strip.height())
        throw Error(ErrorKind::asset, "animation frames are not all the same size");
    Animation animation;
    if (strip.get_typeof("delay") != 0)
        animation.delays_ms = strip.get_array_int("delay");
    animation.delays_ms.resize(static_cast<std::size_t>(pages), 100);
    for (int& delay : animation.delays_ms)
        if (delay <= 10)
            delay = 100; // what browsers show for 0..10 ms frames
    animation.loop = strip.get_typeof("loop") != 0 ? std::max(0, strip.get_int("loop")) : 0;

    // Animations are converted to sRGB: GIF has no profile, and animated WebPs with one are rare.
    // Frames are cut straight from libvips' buffer: two copies of the pixels at most, not three.
    const VImage converted = convert_to_srgb(strip, warnings);
    std::size_t size = 0;
    const std::unique_ptr<void, decltype(&g_free)> memory(converted.write_to_memory(&size), g_free);
    const auto* bytes = static_cast<const std::uint8_t*>(memory.get());
    const std::size_t frame_bytes = static_cast<std::size_t>(converted.width()) *
                                    static_cast<std::size_t>(page_height) * static_cast<std::size_t>(converted.bands());
    if (size != frame_bytes * static_cast<std::size_t>(pages))
        throw Error(ErrorKind::asset, "animation frames are not all the same size");
    bool opaque = true;
    for (int i = 0; i < pages; ++i) {
        Raster frame;
        frame.width = converted.width();
        frame.height = page_height;
        frame.bands = converted.bands();
        const std::uint8_t* begin = bytes + frame_bytes * static_cast<std::size_t>(i);
        frame.pixels.assign(begin, begin + frame_bytes);
        opaque = opaque && is_opaque(frame);
        animation.frames.push_back(std::move(frame));
    }
    if (opaque)
        for (Raster& frame : animation.frames)
            remove_alpha(frame);
    return animation;
}

// The frames of animation stacked into one tall libvips image, as its savers expect. The
// image points into pixels, which must outlive it.
VImage animation_strip(const Animation& animation, Bytes& pixels)
{
    for (const Raster& frame : animation.frames)
        pixels.insert(pixels.end(), frame.pixels.begin(), frame.pixels.end());
    const Raster& first = animation.frames.front();
    VImage strip = VImage::new_from_memory(pixels.data(), pixels.size(), first.width,
                                           first.height * static_cast<int>(animation.frames.size()), first.bands,
                                           VIPS_FORMAT_UCHAR)
                       .copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
    strip.set(VIPS_META_PAGE_HEIGHT, first.height);
    strip.set("delay", animation.delays_ms);
    strip.set("loop", animation.loop);
    return strip;
}

DecodedImage decode(ByteView data, std::uint64_t max_pixels, Colour colour, const AnimationLimits& limits)
{
    DecodedImage result;
    const char* loader = vips_foreign_find_load_buffer(data.data(), data.size());
    if (!loader) {
        vips_error_clear();
        throw Error(ErrorKind::asset, "not a supported image (no decoder recognises its contents)");
    }
    result.loader = loader;
    if (std::find(std::begin(k_allowed_loaders), std::end(k_allowed_loaders), result.loader) ==
        std::end(k_allowed_loaders))
        throw Error(ErrorKind::asset,
                    "unsupported image type (" + result.loader + "); inputs are JPEG, PNG, GIF, WebP, AVIF and TIFF");
    result.family = (result.loader == "VipsForeignLoadPngBuffer" || result.loader == "VipsForeignLoadNsgifBuffer")
                        ? SourceFamily::graphic
                        : SourceFamily::photo;
    {
        VImage image =
            VImage::new_from_buffer(data.data(), data.size(), "", VImage::option()->set("fail_on", VIPS_FAIL_ON_ERROR));
        const std::uint64_t pixels =
            static_cast<std::uint64_t>(image.width()) * static_cast<std::uint64_t>(image.height());
        if (pixels > max_pixels)
            over_limit("image is " + std::to_string(image.width()) + "x" + std::to_string(image.height()) + " = " +
                           std::to_string(pixels) + " pixels",
                       max_pixels, "images.max_pixels");
        if (image.get_typeof(VIPS_META_EXIF_NAME) != 0) {
            std::size_t exif_size = 0;
            const auto* exif = static_cast<const std::uint8_t*>(image.get_blob(VIPS_META_EXIF_NAME, &exif_size));
            result.exif.assign(exif, exif + exif_size);
        }
        const int pages = image.get_typeof(VIPS_META_N_PAGES) != 0 ? image.get_int(VIPS_META_N_PAGES) : 1;
        if (limits.animate && pages > 1 &&
            (result.loader == "VipsForeignLoadNsgifBuffer" || result.loader == "VipsForeignLoadWebpBuffer")) {
            result.animation = decode_animation(data, image, pages, limits, result.warnings);
            result.raster = result.animation->frames.front();
            return result;
        }
        // Upright: decoded as a stream, top to bottom, straight into the copy cachet keeps, with
        // no full-size buffer of the loader's own (a turned or mirrored image needs one).
        if (image.get_typeof(VIPS_META_ORIENTATION) == 0 || image.get_int(VIPS_META_ORIENTATION) <= 1)
            image = VImage::new_from_buffer(
                data.data(), data.size(), "",
                VImage::option()->set("fail_on", VIPS_FAIL_ON_ERROR)->set("access", VIPS_ACCESS_SEQUENTIAL));
        image = image.autorot();
        Gamut gamut = Gamut::srgb;
        if (colour == Colour::keep && image.get_typeof(VIPS_META_ICC_NAME) != 0 && image.bands() >= 3 &&
            (image.interpretation() == VIPS_INTERPRETATION_sRGB || image.interpretation() == VIPS_INTERPRETATION_RGB16))
            gamut = gamut_of_profile(image);
        if (gamut == Gamut::srgb) {
            image = convert_to_srgb(image, result.warnings);
        } else {
            // Keep the values in the source's own space: only reduce depth and bands.
            std::size_t icc_size = 0;
            const auto* icc = static_cast<const std::uint8_t*>(image.get_blob(VIPS_META_ICC_NAME, &icc_size));
            result.raster.icc.assign(icc, icc + icc_size);
            result.raster.gamut = gamut;
            if (image.format() != VIPS_FORMAT_UCHAR)
                image = image.colourspace(VIPS_INTERPRETATION_sRGB); // RGB16 -> 8 bit, values unchanged in meaning
            if (image.bands() > 4)
                image = image.extract_band(0, VImage::option()->set("n", 4));
        }

        result.raster = raster_from(image, result.raster); // keeps the gamut and profile set above
        if (is_opaque(result.raster))
            remove_alpha(result.raster);
    }
    return result;
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
        g_log_set_handler(
            "VIPS", static_cast<GLogLevelFlags>(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE),
            [](const gchar*, GLogLevelFlags, const gchar*, gpointer) {}, nullptr);
        vips_block_untrusted_set(TRUE);
        vips_cache_set_max(0);
        vips_concurrency_set(1);
        // No run-time compiled (liborc) inner loops: liborc 0.4.33 frees and allocates its code
        // memory without a lock, and two workers resizing at once (placeholders, widths)
        // corrupted the heap now and then (ThreadSanitizer showed orc_code_free racing
        // orc_code_allocate_codemem). The plain C loops give the same pixels on every CPU.
        vips_vector_set_enabled(FALSE);
    });
}

DecodedImage decode_image(ByteView data, std::uint64_t max_pixels, Colour colour, const AnimationLimits& limits)
{
    init_image_library();
    return run_vips("cannot decode image", [&] { return decode(data, max_pixels, colour, limits); });
}

ImageHeader probe_image(ByteView data, bool animate)
{
    init_image_library();
    return run_vips("cannot decode image", [&] {
        const char* loader = vips_foreign_find_load_buffer(data.data(), data.size());
        if (!loader || std::find(std::begin(k_allowed_loaders), std::end(k_allowed_loaders),
                                 std::string_view(loader)) == std::end(k_allowed_loaders))
            throw Error(ErrorKind::asset, "not a supported image (no decoder recognises its contents)");
        // (libvips reads the header only: the pixels are decoded when asked for.)
        const VImage image =
            VImage::new_from_buffer(data.data(), data.size(), "", VImage::option()->set("fail_on", VIPS_FAIL_ON_ERROR));
        ImageHeader header{image.width(), image.height(), 1};
        if (image.get_typeof(VIPS_META_ORIENTATION) != 0 && image.get_int(VIPS_META_ORIENTATION) >= 5)
            std::swap(header.width, header.height); // shown turned by a quarter
        const std::string_view name(loader);
        if (animate && image.get_typeof(VIPS_META_N_PAGES) != 0 &&
            (name == "VipsForeignLoadNsgifBuffer" || name == "VipsForeignLoadWebpBuffer"))
            header.frames = std::max(1, image.get_int(VIPS_META_N_PAGES));
        return header;
    });
}

Raster resize_raster(const Raster& raster, int width, int max_height)
{
    init_image_library();
    return run_vips("cannot resize image", [&] {
        // thumbnail_image premultiplies alpha and hits the target width exactly.
        // No profile attached: resampling happens in the pixels' own space, which carries over.
        VImage image = from_raster(raster);
        // Read top to bottom (one thread writes the result to memory), which libvips' shrinkv
        // and reducev, told so, follow with a line cache: without it they compute the lines
        // their kernels share again for each strip. The same pixels, 4 to 5 times faster
        // (8 widths of a 5120x2880 photo: 3.9 s -> 0.8 s).
        image.set(VIPS_META_SEQUENTIAL, 1);
        return raster_from(
            image.thumbnail_image(width, VImage::option()->set("height", max_height)->set("size", VIPS_SIZE_DOWN)),
            raster);
    });
}

Raster to_srgb(const Raster& raster)
{
    if (raster.gamut == Gamut::srgb)
        return raster;
    init_image_library();
    return run_vips("cannot convert to sRGB", [&] {
        const VImage converted =
            from_raster(raster, Profile::attach)
                .icc_transform(
                    "srgb",
                    VImage::option()->set("embedded", true)->set("intent", VIPS_INTENT_PERCEPTUAL)->set("depth", 8));
        return raster_from(converted, Raster{});
    });
}

Bytes encode_jpeg(const Raster& raster, const JpegOptions& options)
{
    if (options.encoder == JpegEncoder::jpegli)
        return encode_jpegli(raster, options);
    init_image_library();
    return run_vips("cannot encode JPEG", [&] {
        VImage image = from_raster(raster, Profile::attach);
        if (raster.has_alpha())
            image = image.flatten(VImage::option()->set("background", std::vector<double>{255, 255, 255}));
        const Bytes jpeg = blob_bytes(image.jpegsave_buffer(VImage::option()
                                                                ->set("Q", options.quality)
                                                                ->set("optimize_coding", true)
                                                                ->set("interlace", options.progressive)
                                                                ->set("strip", raster.icc.empty())));
        return raster.exif.empty() ? jpeg : jpeg_with_exif(jpeg, raster.exif);
    });
}

Bytes encode_gif(const Raster& raster)
{
    init_image_library();
    return run_vips("cannot encode GIF", [&] { return blob_bytes(from_raster(raster).gifsave_buffer()); });
}

Bytes encode_gif_animation(const Animation& animation)
{
    init_image_library();
    return run_vips("cannot encode GIF", [&] {
        Bytes pixels;
        return blob_bytes(animation_strip(animation, pixels).gifsave_buffer());
    });
}

std::string libvips_version()
{
    return vips_version_string();
}

} // namespace cachet
