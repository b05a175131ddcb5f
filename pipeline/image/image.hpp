#pragma once
#include "pipeline/config/config.hpp"
#include "pipeline/model/bytes.hpp"

#include <optional>
#include <string>
#include <vector>

namespace cachet {

// What the pixel values of a Raster mean.
enum class Gamut {
    srgb,       // sRGB: written untagged
    display_p3, // Display P3 primaries with the sRGB transfer curve: tagged by CICP in AVIF
    other,      // another RGB space, described by Raster::icc
};

// Decoded pixels ready for encoders: 8-bit, interleaved RGB (bands 3) or RGBA (bands 4),
// already oriented, with no metadata but the colour profile of a wide-gamut source.
struct Raster {
    int width = 0;
    int height = 0;
    int bands = 0;
    Bytes pixels;
    Gamut gamut = Gamut::srgb;
    Bytes icc;  // the ICC profile of the pixels when gamut is not srgb
    Bytes exif; // EXIF (bare TIFF payload) that outputs carry: only fields the config keeps

    bool has_alpha() const { return bands == 4; }
};

// Which family the source belongs to, for choosing the fallback format.
enum class SourceFamily { photo, graphic };

// The frames of an animated GIF or WebP, each a full composited canvas of the same size.
struct Animation {
    std::vector<Raster> frames;
    std::vector<int> delays_ms; // one per frame
    int loop = 0;               // how many times it plays; 0 = forever

    int width() const { return frames.empty() ? 0 : frames.front().width; }
    int height() const { return frames.empty() ? 0 : frames.front().height; }
};

// Limits and choices for animated inputs.
struct AnimationLimits {
    bool animate = true; // false: only the first frame is used
    int max_frames = 1000;
    std::uint64_t max_pixels = 0; // width x height x frames; 0 = no limit
};

struct DecodedImage {
    Raster raster;                      // the image, or the first frame of an animation
    std::optional<Animation> animation; // set for animated GIF/WebP inputs with more than one frame
    SourceFamily family = SourceFamily::photo;
    Bytes exif;                        // the source's EXIF block as found (not in raster.exif)
    std::string loader;                // the libvips loader class, e.g. "VipsForeignLoadJpegBuffer"
    std::vector<std::string> warnings; // things worth telling the user (a broken ICC profile...)
};

// What an image's header says, read without decoding its pixels: its size as shown (EXIF
// orientation applied) and its frames (1 unless an animated GIF or WebP is animated).
struct ImageHeader {
    int width = 0;
    int height = 0;
    int frames = 1;
    std::uint64_t pixels() const
    {
        return static_cast<std::uint64_t>(width) * static_cast<std::uint64_t>(height) *
               static_cast<std::uint64_t>(frames);
    }
};

// Starts libvips once for the process: untrusted loaders blocked, no operation cache, and
// one libvips worker thread (cachet schedules its own workers).
void init_image_library();

// Decodes an encoded image (JPEG, PNG, GIF, WebP, AVIF, TIFF). Applies EXIF orientation,
// reduces 16-bit to 8-bit and drops an alpha channel that is fully opaque. An RGB source
// tagged with a profile whose primaries are not sRGB's keeps its pixels and profile when
// colour is keep; everything else (CMYK, grey, Lab, colour = srgb) is converted to sRGB.
// A GIF or WebP with several frames also gets `animation` (in sRGB, frame delays of 10 ms or
// less read as 100 ms, as browsers show them) unless limits.animate is false. Rejects images
// over max_pixels, or animations over the limits, from the header, before decoding. Throws
// Error(asset) with the reason.
DecodedImage decode_image(ByteView data, std::uint64_t max_pixels, Colour colour = Colour::keep,
                          const AnimationLimits& limits = {});

// The header of an encoded image, as decode_image() would see it, without its pixels. Throws
// Error(asset) as decode_image() does for what it cannot read.
ImageHeader probe_image(ByteView data, bool animate);

// raster converted to sRGB (a copy if it already is).
Raster to_srgb(const Raster& raster);

// A max_height that never binds.
inline constexpr int k_any_height = 10000000;

// raster scaled down to fit width x max_height (proportions kept, at least 1x1), with Lanczos
// resampling on premultiplied alpha; never scaled up. With no max_height, exactly width wide.
Raster resize_raster(const Raster& raster, int width, int max_height = k_any_height);

// Optimized JPEG of an opaque raster (alpha, if any, is flattened onto white), by jpegli or
// libjpeg (libvips) as options say. JPEG and PNG carry the raster's ICC profile and EXIF.
Bytes encode_jpeg(const Raster& raster, const JpegOptions& options);

// Lossless PNG of a raster.
Bytes encode_png(const Raster& raster, const PngOptions& options);

// GIF (libvips' cgif saver, palette quantized) of a raster or of an animation, with its
// delays and loop count.
Bytes encode_gif(const Raster& raster);
Bytes encode_gif_animation(const Animation& animation);

// "8.14.1"
std::string libvips_version();

} // namespace cachet
