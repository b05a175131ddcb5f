#include "pipeline/model/formats.hpp"

namespace cachet {

std::optional<ImageFormat> image_format_named(std::string_view name)
{
    for (const auto& row : k_image_formats)
        if (row.name == name)
            return row.format;
    return std::nullopt;
}

std::optional<ImageFormat> image_format_of_extension(std::string_view extension)
{
    for (const auto& row : k_image_formats)
        if (row.extension == extension || (!row.other_extension.empty() && row.other_extension == extension))
            return row.format;
    return std::nullopt;
}

} // namespace cachet
