// image_stack() for binaries that link the image files in (pipeline_tests, bench tools).
#include "pipeline/image/image_stack.hpp"

#include "pipeline/model/version.hpp"

namespace cachet {

const ImageStack& image_stack()
{
    static const ImageStack& stack = []() -> const ImageStack& {
        linked_image_stack().check_versions();
        return linked_image_stack();
    }();
    return stack;
}

std::string image_library_versions(const std::filesystem::path&)
{
    return joined_versions(image_stack().library_versions());
}

} // namespace cachet
