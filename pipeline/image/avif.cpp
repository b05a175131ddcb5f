#include "pipeline/image/avif.hpp"

#include "pipeline/model/error.hpp"

#include <avif/avif.h>

#include <algorithm>
#include <cstdint>
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

// libaom's image-quality tunings exist only in its all-intra mode, which libavif uses for a
// still image; an image sequence is encoded in good-quality mode, which rejects them.
bool intra_only_option(const std::string& key, const std::string& value)
{
    return key == "tune" && (value == "iq" || value == "ssimulacra2");
}

EncoderPtr make_encoder(const EncodeOptions& options, bool still)
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
    // libaom's tune sets its own sharpness, deltaq-mode, quantizer matrices... when it is
    // applied, so it goes first and the options the user spelled out win over its defaults.
    if (o.codec == AvifCodec::aom)
        for (const bool tune : {true, false})
            for (const auto& [key, value] : o.aom_options)
                if ((key == "tune") == tune && (still || !intra_only_option(key, value)))
                    avifEncoderSetCodecSpecificOption(encoder.get(), key.c_str(), value.c_str());
    encoder->minQuantizerAlpha = encoder->maxQuantizerAlpha = quantizer_for(std::max(o.quality, o.alpha_quality));
    return encoder;
}

void check_encode(avifResult result, const avifEncoder& encoder)
{
    if (result != AVIF_RESULT_OK) {
        std::string detail = encoder.diag.error;
        if (result == AVIF_RESULT_INVALID_CODEC_SPECIFIC_OPTION && detail.empty())
            detail = "libaom rejected one of images.avif.aom_options";
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

std::uint32_t read_u32(const Bytes& b, std::size_t at)
{
    return std::uint32_t(b[at]) << 24 | std::uint32_t(b[at + 1]) << 16 | std::uint32_t(b[at + 2]) << 8 | b[at + 3];
}

// libavif 0.11 stamps an image sequence's movie, track and media headers (mvhd, tkhd, mdhd)
// with the current time, so the same animation encoded a second later has other bytes. The
// times are set to 0 ("unknown"), which players ignore. Walks the ISO BMFF boxes of
// [begin, end), descending into the containers that hold those headers.
void clear_sequence_times(Bytes& b, std::size_t begin, std::size_t end)
{
    std::size_t at = begin;
    while (at + 8 <= end) {
        std::uint64_t size = read_u32(b, at);
        std::size_t header = 8;
        if (size == 1 && at + 16 <= end) {
            size = std::uint64_t(read_u32(b, at + 8)) << 32 | read_u32(b, at + 12);
            header = 16;
        } else if (size == 0) {
            size = end - at;
        }
        if (size < header || size > end - at)
            throw Error(ErrorKind::internal, "AVIF: malformed box in libavif's output");
        const std::string type(reinterpret_cast<const char*>(&b[at + 4]), 4);
        const std::size_t body = at + header;
        if (type == "moov" || type == "trak" || type == "mdia") {
            clear_sequence_times(b, body, at + size);
        } else if (type == "mvhd" || type == "tkhd" || type == "mdhd") {
            // Full box: version (1 byte) and flags (3), then creation and modification times,
            // 64-bit in version 1 and 32-bit in version 0.
            const std::size_t width = b[body] == 1 ? 8 : 4;
            if (body + 4 + 2 * width > at + size)
                throw Error(ErrorKind::internal, "AVIF: truncated " + type + " box in libavif's output");
            std::fill_n(b.begin() + static_cast<std::ptrdiff_t>(body + 4), 2 * width, std::uint8_t{0});
        }
        at += size;
    }
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
    const EncoderPtr encoder = make_encoder(options, true);
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
    const EncoderPtr encoder = make_encoder(options, false);
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
    Bytes out = take(output);
    clear_sequence_times(out, 0, out.size());
    return out;
}

std::string aom_version()
{
    char codecs[256] = {};
    avifCodecVersions(codecs);
    // "dav1d [dec]:1.0.0, aom [enc/dec]:v3.12.1, rav1e [enc]:0.5.1 ..."
    const std::string text = codecs;
    const auto at = text.find("aom [");
    if (at == std::string::npos)
        return {};
    auto begin = text.find(':', at);
    if (begin == std::string::npos)
        return {};
    ++begin;
    if (begin < text.size() && text[begin] == 'v')
        ++begin;
    const auto end = text.find_first_of(", ", begin);
    return text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

std::string avif_version()
{
    char codecs[256] = {};
    avifCodecVersions(codecs);
    return std::string(avifVersion()) + " (" + codecs + ")";
}

} // namespace cachet
