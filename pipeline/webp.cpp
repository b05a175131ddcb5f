#include "pipeline/webp.hpp"

#include "pipeline/error.hpp"

#include <webp/encode.h>
#include <webp/mux.h>

#include <memory>

namespace cachet {

namespace {

// The WebP file with an ICCP chunk holding icc (the extended VP8X format).
Bytes with_icc_profile(const Bytes& webp, const Bytes& icc)
{
    std::unique_ptr<WebPMux, decltype(&WebPMuxDelete)> mux(WebPMuxNew(), WebPMuxDelete);
    const WebPData image{webp.data(), webp.size()};
    const WebPData profile{icc.data(), icc.size()};
    WebPData assembled;
    WebPDataInit(&assembled);
    if (!mux || WebPMuxSetImage(mux.get(), &image, 1) != WEBP_MUX_OK ||
        WebPMuxSetChunk(mux.get(), "ICCP", &profile, 1) != WEBP_MUX_OK ||
        WebPMuxAssemble(mux.get(), &assembled) != WEBP_MUX_OK)
        throw Error(ErrorKind::asset, "WebP: cannot embed the ICC profile");
    Bytes out(assembled.bytes, assembled.bytes + assembled.size);
    WebPDataClear(&assembled);
    return out;
}

} // namespace

Bytes encode_webp(const Raster& raster, const EncodeOptions& options)
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

    WebPPicture picture;
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
    WebPMemoryWriter writer;
    WebPMemoryWriterInit(&writer);
    picture.writer = WebPMemoryWrite;
    picture.custom_ptr = &writer;
    const int ok = WebPEncode(&config, &picture);
    const int code = picture.error_code;
    WebPPictureFree(&picture);
    if (!ok) {
        WebPMemoryWriterClear(&writer);
        throw Error(ErrorKind::asset, "WebP encoding failed (libwebp error " + std::to_string(code) + ")");
    }
    Bytes out(writer.mem, writer.mem + writer.size);
    WebPMemoryWriterClear(&writer);
    return raster.icc.empty() ? out : with_icc_profile(out, raster.icc);
}

std::string webp_version()
{
    const int v = WebPGetEncoderVersion();
    return std::to_string((v >> 16) & 0xff) + "." + std::to_string((v >> 8) & 0xff) + "." + std::to_string(v & 0xff);
}

} // namespace cachet
