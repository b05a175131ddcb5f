// The JPEG encoder jpegli (tools/build-jpegli.sh), through its jpegli_* API. This is the only
// translation unit that sees the libjpeg headers jpegli was configured with.
#include "pipeline/image/jpegli.hpp"

#include "cachet_version.hpp"
#include "pipeline/image/metadata.hpp"
#include "pipeline/model/error.hpp"

#ifdef CACHET_HAVE_JPEGLI
#include <csetjmp>
#include <cstdio>
#include <cstdlib>

#include "lib/jpegli/encode.h"
#endif

namespace cachet {

#ifdef CACHET_HAVE_JPEGLI
namespace {

// libjpeg's error convention: error_exit must not return, so it jumps back to the encoder's
// frame with the message. No C++ object with a destructor lives between the two.
struct ErrorManager {
    jpeg_error_mgr base;
    std::jmp_buf back;
    char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void error_exit(j_common_ptr cinfo)
{
    auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
    (*cinfo->err->format_message)(cinfo, err->message);
    std::longjmp(err->back, 1);
}

void output_message(j_common_ptr) {} // warnings are not printed

// The rows as jpegli takes them: 1 (grey) or 3 (RGB) bands, alpha flattened onto white.
Bytes opaque_pixels(const Raster& raster, int& components)
{
    const bool alpha = raster.bands == 2 || raster.bands == 4;
    components = raster.bands >= 3 ? 3 : 1;
    if (!alpha)
        return raster.pixels;
    const std::size_t pixels = static_cast<std::size_t>(raster.width) * static_cast<std::size_t>(raster.height);
    const auto bands = static_cast<std::size_t>(raster.bands);
    const auto out_bands = static_cast<std::size_t>(components);
    Bytes out(pixels * out_bands);
    for (std::size_t i = 0; i < pixels; ++i) {
        const std::uint8_t* p = &raster.pixels[i * bands];
        const unsigned a = p[bands - 1];
        for (std::size_t c = 0; c < out_bands; ++c)
            out[i * out_bands + c] = static_cast<std::uint8_t>((p[c] * a + 255 * (255 - a) + 127) / 255);
    }
    return out;
}

// Fills jpeg (malloc'd by jpegli) or returns false with err.message set.
bool compress(const Raster& raster, const JpegOptions& options, const Bytes& pixels, int components, ErrorManager& err,
              unsigned char** jpeg, unsigned long* size)
{
    jpeg_compress_struct cinfo{};
    cinfo.err = jpegli_std_error(&err.base);
    err.base.error_exit = error_exit;
    err.base.output_message = output_message;
    if (setjmp(err.back) != 0) {
        jpegli_destroy_compress(&cinfo);
        return false;
    }
    jpegli_create_compress(&cinfo);
    jpegli_mem_dest(&cinfo, jpeg, size);
    cinfo.image_width = static_cast<JDIMENSION>(raster.width);
    cinfo.image_height = static_cast<JDIMENSION>(raster.height);
    cinfo.input_components = components;
    cinfo.in_color_space = components == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpegli_set_defaults(&cinfo);
    jpegli_set_distance(&cinfo, static_cast<float>(options.distance), TRUE);
    jpegli_set_progressive_level(&cinfo, options.progressive ? 2 : 0);
    if (components == 3) {
        const int factor = options.chroma == Chroma::yuv420 ? 2 : 1;
        cinfo.comp_info[0].h_samp_factor = factor;
        cinfo.comp_info[0].v_samp_factor = factor;
        for (int c = 1; c < 3; ++c)
            cinfo.comp_info[c].h_samp_factor = cinfo.comp_info[c].v_samp_factor = 1;
    }
    jpegli_start_compress(&cinfo, TRUE);
    if (!raster.icc.empty())
        jpegli_write_icc_profile(&cinfo, raster.icc.data(), static_cast<unsigned>(raster.icc.size()));
    const std::size_t stride = static_cast<std::size_t>(raster.width) * static_cast<std::size_t>(components);
    while (cinfo.next_scanline < cinfo.image_height) {
        // (jpegli does not write through its input rows.)
        JSAMPROW row = const_cast<JSAMPROW>(&pixels[cinfo.next_scanline * stride]);
        jpegli_write_scanlines(&cinfo, &row, 1);
    }
    jpegli_finish_compress(&cinfo);
    jpegli_destroy_compress(&cinfo);
    return true;
}

} // namespace

Bytes encode_jpegli(const Raster& raster, const JpegOptions& options)
{
    int components = 0;
    const Bytes pixels = opaque_pixels(raster, components);
    ErrorManager err{};
    unsigned char* jpeg = nullptr;
    unsigned long size = 0;
    const bool ok = compress(raster, options, pixels, components, err, &jpeg, &size);
    Bytes out;
    if (ok && jpeg)
        out.assign(jpeg, jpeg + size);
    std::free(jpeg);
    if (!ok)
        throw Error(ErrorKind::asset, std::string("cannot encode JPEG: jpegli: ") + err.message);
    return raster.exif.empty() ? out : jpeg_with_exif(out, raster.exif);
}

#else

Bytes encode_jpegli(const Raster&, const JpegOptions&)
{
    throw Error(ErrorKind::install, "this cachet was built without jpegli (CACHET_JPEGLI_PREFIX=none): "
                                    "set images.jpeg.encoder = \"libjpeg\", or rebuild it with tools/build-jpegli.sh");
}

#endif

std::string jpegli_version()
{
    return CACHET_JPEGLI_VERSION;
}

} // namespace cachet
