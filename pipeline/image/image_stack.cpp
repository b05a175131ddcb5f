#include "pipeline/image/image_stack.hpp"

#include "cachet_version.hpp"
#include "module_interface.hpp"
#include "pipeline/image/avif.hpp"
#include "pipeline/image/jpegli.hpp"
#include "pipeline/image/jxl.hpp"
#include "pipeline/image/webp.hpp"
#include "pipeline/model/error.hpp"

namespace cachet {
namespace {

std::vector<std::pair<std::string, std::string>> versions()
{
    const bool private_aom = !std::string(CACHET_AOM_VERSION).empty();
    return {
        {"libvips", libvips_version()},
        {"libwebp", webp_version()},
        {"libavif", avif_version()},
        {"libaom", aom_version() + (private_aom ? " (private, tools/build-aom.sh)" : " (system)")},
        {"jpegli", jpegli_version().empty() ? "none" : jpegli_version() + " (static, tools/build-jpegli.sh)"},
        {"libjxl", jxl_version() + " (JPEG XL, when images.formats lists jxl; and Butteraugli)"},
    };
}

void check_versions()
{
    const std::string built_for = CACHET_AOM_VERSION;
    if (built_for.empty())
        return;
    const std::string loaded = aom_version();
    if (loaded != built_for)
        throw Error(ErrorKind::install,
                    "libaom " + (loaded.empty() ? std::string("(none)") : loaded) +
                        " is loaded, but this cachet was built for " + built_for +
                        " (tools/build-aom.sh): its AVIF output would differ from what was tested; rebuild cachet");
}

const ImageStack k_stack{decode_image, probe_image,     resize_raster,    make_placeholder,     find_quality,
                         avif_floor,   jxl_at_distance, palette_distance, near_lossless_choice, butteraugli_distance,
                         kept_exif,    encoder_for,     versions,         check_versions};

} // namespace

const ImageStack& linked_image_stack()
{
    return k_stack;
}

} // namespace cachet

// The module's two exported symbols (cmake/image_module.map): which interface it was built
// with, checked by the executable before it calls the second.
extern "C" const char* cachet_image_module_interface()
{
    return CACHET_MODULE_INTERFACE;
}

extern "C" const cachet::ImageStack* cachet_image_stack_v1()
{
    return &cachet::linked_image_stack();
}
