#include "pipeline/image/webp.hpp"

#include "pipeline/model/error.hpp"

#include <webp/encode.h>
#include <webp/mux.h>

#include <memory>

namespace cachet {

namespace {

// The WebP file (still or animated) with the raster's ICC profile (ICCP chunk) and EXIF
// (EXIF chunk, bare TIFF payload) when it has them (the extended VP8X format).
Bytes with_metadata(const Bytes& webp, const Raster& raster)
{
    if (raster.icc.empty() && raster.exif.empty())
        return webp;
    const WebPData image{webp.data(), webp.size()};
    std::unique_ptr<WebPMux, decltype(&WebPMuxDelete)> mux(WebPMuxCreate(&image, 1), WebPMuxDelete);
    const WebPData profile{raster.icc.data(), raster.icc.size()};
    const WebPData exif{raster.exif.data(), raster.exif.size()};
    WebPData assembled;
    WebPDataInit(&assembled);
    if (!mux || (!raster.icc.empty() && WebPMuxSetChunk(mux.get(), "ICCP", &profile, 1) != WEBP_MUX_OK) ||
        (!raster.exif.empty() && WebPMuxSetChunk(mux.get(), "EXIF", &exif, 1) != WEBP_MUX_OK) ||
        WebPMuxAssemble(mux.get(), &assembled) != WEBP_MUX_OK)
        throw Error(ErrorKind::asset, "WebP: cannot embed the ICC profile or EXIF");
    Bytes out(assembled.bytes, assembled.bytes + assembled.size);
    WebPDataClear(&assembled);
    return out;
}

WebPConfig config_for(const EncodeOptions& options)
{
    const WebpOptions& o = options.images.webp;
    WebPConfig config;
    if (!WebPConfigPreset(&config, WEBP_PRESET_DEFAULT, static_cast<float>(o.quality)))
        throw Error(ErrorKind::internal, "libwebp version mismatch");
    config.method = o.effort;
    config.use_sharp_yuv = o.sharp_yuv ? 1 : 0;
    config.alpha_quality = o.alpha_quality;
    config.thread_level = options.threads > 1 ? 1 : 0;
    if (!WebPValidateConfig(&config))
        throw Error(ErrorKind::asset, "invalid WebP settings");
    return config;
}

// A WebPPicture holding raster's pixels, freed when it goes out of scope.
struct Picture {
    WebPPicture picture;

    explicit Picture(const Raster& raster)
    {
        if (!WebPPictureInit(&picture))
            throw Error(ErrorKind::internal, "libwebp version mismatch");
        picture.use_argb = 1; // lets WebPEncode do the (sharp) RGB->YUV conversion
        picture.width = raster.width;
        picture.height = raster.height;
        const int stride = raster.width * raster.bands;
        const int imported = raster.has_alpha() ? WebPPictureImportRGBA(&picture, raster.pixels.data(), stride)
                                                : WebPPictureImportRGB(&picture, raster.pixels.data(), stride);
        if (!imported) {
            WebPPictureFree(&picture);
            throw Error(ErrorKind::asset, "WebP: cannot import pixels (out of memory or too large)");
        }
    }
    ~Picture() { WebPPictureFree(&picture); }
    Picture(const Picture&) = delete;
    Picture& operator=(const Picture&) = delete;
};

} // namespace

Bytes encode_webp(const Raster& raster, const EncodeOptions& options)
{
    const WebPConfig config = config_for(options);
    Picture picture(raster);
    WebPMemoryWriter writer;
    WebPMemoryWriterInit(&writer);
    picture.picture.writer = WebPMemoryWrite;
    picture.picture.custom_ptr = &writer;
    if (!WebPEncode(&config, &picture.picture)) {
        WebPMemoryWriterClear(&writer);
        throw Error(ErrorKind::asset,
                    "WebP encoding failed (libwebp error " + std::to_string(picture.picture.error_code) + ")");
    }
    Bytes out(writer.mem, writer.mem + writer.size);
    WebPMemoryWriterClear(&writer);
    return with_metadata(out, raster);
}

Bytes encode_webp_animation(const Animation& animation, const EncodeOptions& options)
{
    const WebPConfig config = config_for(options);
    WebPAnimEncoderOptions anim;
    if (!WebPAnimEncoderOptionsInit(&anim))
        throw Error(ErrorKind::internal, "libwebp version mismatch");
    anim.anim_params.loop_count = animation.loop;
    anim.anim_params.bgcolor = 0x00000000; // transparent, as browsers ignore it anyway
    std::unique_ptr<WebPAnimEncoder, decltype(&WebPAnimEncoderDelete)> encoder(
        WebPAnimEncoderNew(animation.width(), animation.height(), &anim), WebPAnimEncoderDelete);
    if (!encoder)
        throw Error(ErrorKind::asset, "WebP: cannot start the animation encoder (out of memory)");
    auto fail = [&](const char* what) {
        throw Error(ErrorKind::asset,
                    std::string("WebP animation: ") + what + ": " + WebPAnimEncoderGetError(encoder.get()));
    };
    int timestamp = 0;
    for (std::size_t i = 0; i < animation.frames.size(); ++i) {
        Picture picture(animation.frames[i]);
        if (!WebPAnimEncoderAdd(encoder.get(), &picture.picture, timestamp, &config))
            fail("cannot add a frame");
        timestamp += animation.delays_ms[i];
    }
    if (!WebPAnimEncoderAdd(encoder.get(), nullptr, timestamp, nullptr))
        fail("cannot finish");
    WebPData assembled;
    WebPDataInit(&assembled);
    if (!WebPAnimEncoderAssemble(encoder.get(), &assembled))
        fail("cannot assemble");
    Bytes out(assembled.bytes, assembled.bytes + assembled.size);
    WebPDataClear(&assembled);
    return with_metadata(out, animation.frames.front());
}

std::string webp_version()
{
    const int v = WebPGetEncoderVersion();
    return std::to_string((v >> 16) & 0xff) + "." + std::to_string((v >> 8) & 0xff) + "." + std::to_string(v & 0xff);
}

} // namespace cachet
