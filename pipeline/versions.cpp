#include "pipeline/versions.hpp"

#include "cachet_version.hpp"
#include "pipeline/avif.hpp"
#include "pipeline/compress.hpp"
#include "pipeline/image.hpp"
#include "pipeline/webp.hpp"

namespace cachet {

std::string cachet_version()
{
    return CACHET_VERSION;
}

std::vector<std::pair<std::string, std::string>> library_versions()
{
    init_image_library();
    return {
        {"libvips", libvips_version()},   {"libwebp", webp_version()},   {"libavif", avif_version()},
        {"zstd", zstd_version()},      {"brotli", brotli_version()}, {"gzip", deflate_version()},
    };
}

} // namespace cachet
