#include "pipeline/build/versions.hpp"

#include "pipeline/image/image_stack.hpp"
#include "pipeline/text/compress.hpp"

namespace cachet {
namespace {

std::vector<std::pair<std::string, std::string>> text_library_versions()
{
    return {{"zstd", zstd_version()}, {"brotli", brotli_version()}, {"gzip", deflate_version()}};
}

} // namespace

std::vector<std::pair<std::string, std::string>> library_versions()
{
    auto out = image_stack().library_versions();
    for (auto& v : text_library_versions())
        out.push_back(std::move(v));
    return out;
}

std::string codec_fingerprint(const std::filesystem::path& cache_dir, const std::string& replaced_versions)
{
    std::string out = "cachet " + cachet_version();
    if (!replaced_versions.empty())
        return out + "; " + replaced_versions;
    return out + "; " + image_library_versions(cache_dir) + "; " + joined_versions(text_library_versions());
}

} // namespace cachet
