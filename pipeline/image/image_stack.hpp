#pragma once
#include "pipeline/image/encoder.hpp"
#include "pipeline/image/metadata.hpp"
#include "pipeline/image/placeholder.hpp"
#include "pipeline/image/quality.hpp"

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace cachet {

// Everything that needs the image libraries (libvips, libwebp, libavif with libaom, libjxl,
// libexif) as one table of functions. The cachet executable loads it from the module
// cachet-images.so beside it the first time a build has an image to make, so commands and
// builds that encode no image do not load the ~130 shared libraries behind it (tens of ms
// per run); pipeline_tests and the bench tools link it in.
struct ImageStack {
    DecodedImage (*decode_image)(ByteView data, std::uint64_t max_pixels, Colour colour, const AnimationLimits& limits);
    ImageHeader (*probe_image)(ByteView data, bool animate);
    Raster (*resize_raster)(const Raster& raster, int width, int max_height);
    Placeholder (*make_placeholder)(const Raster& raster, const ImageSettings& images);
    QualityChoice (*find_quality)(ImageFormat format, const Raster& source, const ImageSettings& images, int threads);
    QualityChoice (*avif_floor)(const Raster& source, const ImageSettings& images, int threads);
    JxlChoice (*jxl_at_distance)(const Raster& source, const ImageSettings& images, double target);
    std::optional<double> (*palette_distance)(const Raster& source, const ImageSettings& images);
    std::optional<NearTrial> (*near_lossless_choice)(const Raster& source, const ImageSettings& images);
    double (*butteraugli_distance)(const Raster& original, const Raster& distorted);
    Bytes (*kept_exif)(ByteView exif, const std::vector<MetadataField>& keep);
    const Encoder& (*encoder_for)(ImageFormat format);
    // (library, version) of libvips, libwebp, libavif, libaom, jpegli and libjxl, in that order.
    std::vector<std::pair<std::string, std::string>> (*library_versions)();
    // Throws Error(internal) when the libaom loaded is not the one cachet was built for
    // (CACHET_AOM_PREFIX): AVIF bytes depend on the encoder version.
    void (*check_versions)();
};

// The table as linked into this binary (the image files' own functions).
const ImageStack& linked_image_stack();

// The image stack, loaded (in the executable) and version-checked on the first call. Throws
// Error(internal) if it cannot be loaded or is not the libaom cachet was built for.
const ImageStack& image_stack();

// ImageStack::library_versions as one "library version; ..." line. The executable keeps it in
// cache_dir (when not empty) with the identity (device, inode, size, mtime) of every file the
// module loaded, and uses it while all of them and LD_PRELOAD / LD_LIBRARY_PATH are unchanged,
// so a build with no image to make never loads the module.
std::string image_library_versions(const std::filesystem::path& cache_dir);

} // namespace cachet
