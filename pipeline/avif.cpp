#include "pipeline/avif.hpp"

#include "pipeline/error.hpp"

#include <avif/avif.h>

#include <cstdlib>
#include <memory>
#include <mutex>

namespace cachet {
namespace {

// The mapping libavif 1.x uses for its "quality" setting, so presets read the same later.
int quantizer_for(int quality)
{
    return ((100 - quality) * AVIF_QUANTIZER_WORST_QUALITY + 50) / 100;
}

avifCodecChoice codec_choice(AvifCodec codec)
{
    switch (codec) {
    case AvifCodec::aom: return AVIF_CODEC_CHOICE_AOM;
    case AvifCodec::svt: return AVIF_CODEC_CHOICE_SVT;
    case AvifCodec::rav1e: return AVIF_CODEC_CHOICE_RAV1E;
    }
    return AVIF_CODEC_CHOICE_AOM;
}

void check(avifResult result, const char* what)
{
    if (result != AVIF_RESULT_OK)
        throw Error(ErrorKind::asset, std::string("AVIF: ") + what + ": " + avifResultToString(result));
}

struct ImageDeleter {
    void operator()(avifImage* p) const { avifImageDestroy(p); }
};
struct EncoderDeleter {
    void operator()(avifEncoder* p) const { avifEncoderDestroy(p); }
};

using ImagePtr = std::unique_ptr<avifImage, ImageDeleter>;
using EncoderPtr = std::unique_ptr<avifEncoder, EncoderDeleter>;

// raster as a YUV avifImage with its colour tagging.
ImagePtr to_avif_image(const Raster& raster, const AvifOptions& o)
{
    ImagePtr image(avifImageCreate(static_cast<uint32_t>(raster.width), static_cast<uint32_t>(raster.height), 8,
                                   o.chroma == Chroma::yuv444 ? AVIF_PIXEL_FORMAT_YUV444 : AVIF_PIXEL_FORMAT_YUV420));
    if (!image)
        throw Error(ErrorKind::asset, "AVIF: out of memory");
    // sRGB and Display P3 are named by CICP (a few bytes); any other space carries its profile.
    image->colorPrimaries =
        raster.gamut == Gamut::display_p3 ? AVIF_COLOR_PRIMARIES_SMPTE432 : AVIF_COLOR_PRIMARIES_BT709;
    image->transferCharacteristics = AVIF_TRANSFER_CHARACTERISTICS_SRGB;
    if (raster.gamut == Gamut::other) {
        avifImageSetProfileICC(image.get(), raster.icc.data(), raster.icc.size());
        image->colorPrimaries = AVIF_COLOR_PRIMARIES_UNSPECIFIED;
        image->transferCharacteristics = AVIF_TRANSFER_CHARACTERISTICS_UNSPECIFIED;
    }
    if (!raster.exif.empty())
        avifImageSetMetadataExif(image.get(), raster.exif.data(), raster.exif.size());
    image->matrixCoefficients = AVIF_MATRIX_COEFFICIENTS_BT601;
    image->yuvRange = AVIF_RANGE_FULL;

    avifRGBImage rgb;
    avifRGBImageSetDefaults(&rgb, image.get());
    rgb.format = raster.has_alpha() ? AVIF_RGB_FORMAT_RGBA : AVIF_RGB_FORMAT_RGB;
    rgb.depth = 8;
    rgb.pixels = const_cast<uint8_t*>(raster.pixels.data());
    rgb.rowBytes = static_cast<uint32_t>(raster.width * raster.bands);
    check(avifImageRGBToYUV(image.get(), &rgb), "colour conversion");
    return image;
}

EncoderPtr make_encoder(const EncodeOptions& options)
{
    const AvifOptions& o = options.images.avif;
    const avifCodecChoice choice = codec_choice(o.codec);
    if (!avifCodecName(choice, AVIF_CODEC_FLAG_CAN_ENCODE))
        throw Error(ErrorKind::asset, "AVIF: this libavif has no " + std::string(to_string(o.codec)) + " encoder");
    EncoderPtr encoder(avifEncoderCreate());
    if (!encoder)
        throw Error(ErrorKind::asset, "AVIF: out of memory");
    encoder->codecChoice = choice;
    // Outputs must not depend on -j. aom's row-based multithreading changes the bitstream with
    // the thread count (measured: 8724 vs 8822 bytes for the same image at 1 and 2 threads), so
    // it is off; rav1e's and svt-av1's thread-count determinism is unverified, so they get one.
    if (o.codec == AvifCodec::aom) {
        encoder->maxThreads = options.threads;
        avifEncoderSetCodecSpecificOption(encoder.get(), "row-mt", "0");
    } else {
        encoder->maxThreads = 1;
    }
    if (o.codec == AvifCodec::svt) {
        // svt-av1 prints a configuration banner to stderr unless told otherwise (1 = errors only);
        // a value the user set wins.
        static std::once_flag quiet;
        std::call_once(quiet, [] { setenv("SVT_LOG", "1", 0); });
    }
    encoder->speed = o.speed;
    encoder->minQuantizer = encoder->maxQuantizer = quantizer_for(o.quality);
    // Alpha edges show banding long before colour does: keep alpha at high quality.
    encoder->minQuantizerAlpha = encoder->maxQuantizerAlpha = quantizer_for(std::max(o.quality, 90));
    return encoder;
}

void check_encode(avifResult result, const avifEncoder& encoder)
{
    if (result != AVIF_RESULT_OK) {
        const std::string detail = encoder.diag.error;
        throw Error(ErrorKind::asset, std::string("AVIF encoding failed: ") + avifResultToString(result) +
                                          (detail.empty() ? "" : " (" + detail + ")"));
    }
}

Bytes take(avifRWData& output)
{
    Bytes out(output.data, output.data + output.size);
    avifRWDataFree(&output);
    return out;
}

// svt-av1 (as libavif 0.11 drives it) rejects odd sizes in 4:2:0 with a generic error.
void check_size(const Raster& raster, const AvifOptions& o)
{
    if (o.codec == AvifCodec::svt && o.chroma == Chroma::yuv420 && (raster.width % 2 != 0 || raster.height % 2 != 0))
        throw Error(ErrorKind::asset, "AVIF: svt-av1 needs an even width and height for 4:2:0, and this image is " +
                                          std::to_string(raster.width) + "x" + std::to_string(raster.height) +
                                          " (use images.avif.codec = \"aom\" or \"rav1e\" for it)");
}

} // namespace

Bytes encode_avif(const Raster& raster, const EncodeOptions& options)
{
    check_size(raster, options.images.avif);
    const EncoderPtr encoder = make_encoder(options);
    const ImagePtr image = to_avif_image(raster, options.images.avif);
    avifRWData output = AVIF_DATA_EMPTY;
    const avifResult result = avifEncoderWrite(encoder.get(), image.get(), &output);
    if (result != AVIF_RESULT_OK)
        avifRWDataFree(&output);
    check_encode(result, *encoder);
    return take(output);
}

Bytes encode_avif_animation(const Animation& animation, const EncodeOptions& options)
{
    check_size(animation.frames.front(), options.images.avif);
    const EncoderPtr encoder = make_encoder(options);
    encoder->timescale = 1000; // durations in milliseconds
    for (std::size_t i = 0; i < animation.frames.size(); ++i) {
        const ImagePtr frame = to_avif_image(animation.frames[i], options.images.avif);
        check_encode(avifEncoderAddImage(encoder.get(), frame.get(), static_cast<uint64_t>(animation.delays_ms[i]),
                                         AVIF_ADD_IMAGE_FLAG_NONE),
                     *encoder);
    }
    avifRWData output = AVIF_DATA_EMPTY;
    const avifResult result = avifEncoderFinish(encoder.get(), &output);
    if (result != AVIF_RESULT_OK)
        avifRWDataFree(&output);
    check_encode(result, *encoder);
    return take(output);
}

std::string avif_version()
{
    char codecs[256] = {};
    avifCodecVersions(codecs);
    return std::string(avifVersion()) + " (" + codecs + ")";
}

} // namespace cachet
