#include "pipeline/image/jxl.hpp"

#include "pipeline/image/quality.hpp"
#include "pipeline/model/error.hpp"

#include <jxl/decode.h>
#include <jxl/encode.h>

#include <algorithm>
#include <memory>

namespace cachet {
namespace {

struct EncoderDeleter {
    void operator()(JxlEncoder* p) const { JxlEncoderDestroy(p); }
};
struct DecoderDeleter {
    void operator()(JxlDecoder* p) const { JxlDecoderDestroy(p); }
};

[[noreturn]] void fail(JxlEncoder* encoder, const char* what)
{
    throw Error(ErrorKind::asset, std::string("JPEG XL: ") + what + " (libjxl error " +
                                      std::to_string(static_cast<int>(JxlEncoderGetError(encoder))) + ")");
}

// The Exif box's payload: the offset of the TIFF header from the payload's fifth byte (0),
// big-endian, then the bare TIFF block cachet keeps.
Bytes exif_box(const Bytes& exif)
{
    Bytes box{0, 0, 0, 0};
    box.insert(box.end(), exif.begin(), exif.end());
    return box;
}

} // namespace

Bytes encode_jxl(const Raster& raster, const EncodeOptions& options)
{
    const JxlOptions& o = options.images.jxl;
    hold_highway_to_sse4(); // the same bytes on every machine
    const std::unique_ptr<JxlEncoder, EncoderDeleter> owner(JxlEncoderCreate(nullptr));
    JxlEncoder* encoder = owner.get();
    if (!encoder)
        throw Error(ErrorKind::asset, "JPEG XL: out of memory");
    const bool grey = raster.bands <= 2;
    const bool alpha = raster.bands == 2 || raster.bands == 4;
    if (!raster.exif.empty()) {
        if (JxlEncoderUseContainer(encoder, JXL_TRUE) != JXL_ENC_SUCCESS ||
            JxlEncoderUseBoxes(encoder) != JXL_ENC_SUCCESS)
            fail(encoder, "cannot write a container");
    }
    JxlBasicInfo basic;
    JxlEncoderInitBasicInfo(&basic);
    basic.xsize = static_cast<std::uint32_t>(raster.width);
    basic.ysize = static_cast<std::uint32_t>(raster.height);
    basic.bits_per_sample = 8;
    basic.num_color_channels = grey ? 1 : 3;
    basic.num_extra_channels = alpha ? 1 : 0;
    basic.alpha_bits = alpha ? 8 : 0;
    basic.uses_original_profile = JXL_FALSE; // lossy: coded in XYB
    if (JxlEncoderSetBasicInfo(encoder, &basic) != JXL_ENC_SUCCESS)
        fail(encoder, "invalid image size");
    if (raster.gamut != Gamut::srgb && !raster.icc.empty()) {
        if (JxlEncoderSetICCProfile(encoder, raster.icc.data(), raster.icc.size()) != JXL_ENC_SUCCESS)
            fail(encoder, "the ICC profile was refused");
    } else {
        JxlColorEncoding srgb;
        JxlColorEncodingSetToSRGB(&srgb, grey ? JXL_TRUE : JXL_FALSE);
        if (JxlEncoderSetColorEncoding(encoder, &srgb) != JXL_ENC_SUCCESS)
            fail(encoder, "cannot set sRGB");
    }
    JxlEncoderFrameSettings* frame = JxlEncoderFrameSettingsCreate(encoder, nullptr);
    if (!frame || JxlEncoderSetFrameDistance(frame, static_cast<float>(o.distance)) != JXL_ENC_SUCCESS ||
        JxlEncoderFrameSettingsSetOption(frame, JXL_ENC_FRAME_SETTING_EFFORT, o.effort) != JXL_ENC_SUCCESS)
        fail(encoder, "invalid settings");
    if (!raster.exif.empty()) {
        const Bytes payload = exif_box(raster.exif);
        const JxlBoxType type{'E', 'x', 'i', 'f'};
        if (JxlEncoderAddBox(encoder, type, payload.data(), payload.size(), JXL_FALSE) != JXL_ENC_SUCCESS)
            fail(encoder, "cannot add the EXIF");
        JxlEncoderCloseBoxes(encoder);
    }
    const JxlPixelFormat format{static_cast<std::uint32_t>(raster.bands), JXL_TYPE_UINT8, JXL_NATIVE_ENDIAN, 0};
    if (JxlEncoderAddImageFrame(frame, &format, raster.pixels.data(), raster.pixels.size()) != JXL_ENC_SUCCESS)
        fail(encoder, "cannot add the pixels");
    JxlEncoderCloseInput(encoder);
    Bytes out(std::max<std::size_t>(4096, raster.pixels.size() / 8));
    std::size_t used = 0;
    for (;;) {
        std::uint8_t* next = out.data() + used;
        std::size_t room = out.size() - used;
        const JxlEncoderStatus status = JxlEncoderProcessOutput(encoder, &next, &room);
        used = static_cast<std::size_t>(next - out.data());
        if (status == JXL_ENC_SUCCESS)
            break;
        if (status != JXL_ENC_NEED_MORE_OUTPUT)
            fail(encoder, "encoding failed");
        out.resize(out.size() * 2);
    }
    out.resize(used);
    return out;
}

std::string jxl_version()
{
    const std::uint32_t v = JxlEncoderVersion();
    return std::to_string(v / 1000000) + "." + std::to_string(v / 1000 % 1000) + "." + std::to_string(v % 1000);
}

Raster decode_jxl(ByteView data)
{
    const std::unique_ptr<JxlDecoder, DecoderDeleter> owner(JxlDecoderCreate(nullptr));
    JxlDecoder* decoder = owner.get();
    auto bad = [](const char* what) { return Error(ErrorKind::asset, std::string("JPEG XL: ") + what); };
    if (!decoder ||
        JxlDecoderSubscribeEvents(decoder, JXL_DEC_BASIC_INFO | JXL_DEC_COLOR_ENCODING | JXL_DEC_FULL_IMAGE) !=
            JXL_DEC_SUCCESS ||
        JxlDecoderSetInput(decoder, data.data(), data.size()) != JXL_DEC_SUCCESS)
        throw bad("cannot start the decoder");
    JxlDecoderCloseInput(decoder);
    Raster raster;
    JxlPixelFormat format{0, JXL_TYPE_UINT8, JXL_NATIVE_ENDIAN, 0};
    for (;;) {
        const JxlDecoderStatus status = JxlDecoderProcessInput(decoder);
        if (status == JXL_DEC_BASIC_INFO) {
            JxlBasicInfo basic;
            if (JxlDecoderGetBasicInfo(decoder, &basic) != JXL_DEC_SUCCESS)
                throw bad("no basic info");
            raster.width = static_cast<int>(basic.xsize);
            raster.height = static_cast<int>(basic.ysize);
            raster.bands = static_cast<int>(basic.num_color_channels) + (basic.alpha_bits > 0 ? 1 : 0);
            format.num_channels = static_cast<std::uint32_t>(raster.bands);
        } else if (status == JXL_DEC_COLOR_ENCODING) {
            std::size_t size = 0;
            if (JxlDecoderGetICCProfileSize(decoder, &format, JXL_COLOR_PROFILE_TARGET_DATA, &size) ==
                JXL_DEC_SUCCESS) {
                raster.icc.resize(size);
                if (JxlDecoderGetColorAsICCProfile(decoder, &format, JXL_COLOR_PROFILE_TARGET_DATA, raster.icc.data(),
                                                   size) != JXL_DEC_SUCCESS)
                    raster.icc.clear();
            }
        } else if (status == JXL_DEC_NEED_IMAGE_OUT_BUFFER) {
            std::size_t size = 0;
            if (JxlDecoderImageOutBufferSize(decoder, &format, &size) != JXL_DEC_SUCCESS)
                throw bad("no output size");
            raster.pixels.resize(size);
            if (JxlDecoderSetImageOutBuffer(decoder, &format, raster.pixels.data(), size) != JXL_DEC_SUCCESS)
                throw bad("cannot set the output");
        } else if (status == JXL_DEC_FULL_IMAGE) {
            continue;
        } else if (status == JXL_DEC_SUCCESS) {
            if (raster.pixels.empty())
                throw bad("no image");
            return raster;
        } else {
            throw bad(status == JXL_DEC_NEED_MORE_INPUT ? "truncated" : "not a valid JPEG XL file");
        }
    }
}

} // namespace cachet
