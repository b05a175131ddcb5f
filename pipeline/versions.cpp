#include "pipeline/versions.hpp"

#include "cachet_version.hpp"
#include "pipeline/avif.hpp"
#include "pipeline/compress.hpp"
#include "pipeline/error.hpp"
#include "pipeline/image.hpp"
#include "pipeline/webp.hpp"

#include <cstdlib>

namespace cachet {

std::string cachet_version()
{
    return CACHET_VERSION;
}

std::vector<std::pair<std::string, std::string>> library_versions()
{
    return {
        {"libvips", libvips_version()},   {"libwebp", webp_version()},   {"libavif", avif_version()},
        {"libaom", aom_version() + (std::string(CACHET_AOM_VERSION).empty() ? " (system)" : " (private, tools/build-aom.sh)")},
        {"zstd", zstd_version()},      {"brotli", brotli_version()}, {"gzip", deflate_version()},
    };
}

std::string codec_fingerprint()
{
    std::string out = "cachet " + cachet_version();
    if (const char* injected = std::getenv("CACHET_TEST_CODEC_VERSIONS"))
        return out + "; " + injected;
    for (const auto& [library, version] : library_versions())
        out += "; " + library + " " + version;
    return out;
}

void check_codec_versions()
{
    const std::string built_for = CACHET_AOM_VERSION;
    if (built_for.empty())
        return;
    const std::string loaded = aom_version();
    if (loaded != built_for)
        throw Error(ErrorKind::internal,
                    "libaom " + (loaded.empty() ? std::string("(none)") : loaded) + " is loaded, but this cachet was built for " +
                        built_for + " (tools/build-aom.sh): its AVIF output would differ from what was tested; rebuild cachet");
}

} // namespace cachet
