#include "pipeline/text/fingerprint.hpp"

namespace cachet {
namespace {

// Extensions that name one file type across two dots: a hash goes before both.
constexpr std::string_view k_compound_extensions[] = {".js.map", ".mjs.map", ".cjs.map", ".css.map"};

// Index of the extension's dot in path's file name, or npos (dot files have no extension).
std::size_t extension_dot(std::string_view path)
{
    const auto slash = path.rfind('/');
    const std::size_t name_start = slash == std::string_view::npos ? 0 : slash + 1;
    for (const auto compound : k_compound_extensions)
        if (path.size() > compound.size() + name_start && path.ends_with(compound))
            return path.size() - compound.size();
    const auto dot = path.rfind('.');
    if (dot == std::string_view::npos || dot <= name_start)
        return std::string_view::npos;
    return dot;
}

} // namespace

std::string replace_extension(std::string_view path, std::string_view new_extension)
{
    const auto slash = path.rfind('/');
    auto dot = path.rfind('.');
    if (dot == std::string_view::npos || (slash != std::string_view::npos && dot <= slash + 1) || dot == 0)
        dot = std::string_view::npos;
    return std::string(path.substr(0, dot)) + "." + std::string(new_extension);
}

std::string insert_before_extension(std::string_view path, std::string_view text)
{
    const auto dot = extension_dot(path);
    if (dot == std::string_view::npos)
        return std::string(path) + std::string(text);
    return std::string(path.substr(0, dot)) + std::string(text) + std::string(path.substr(dot));
}

std::string fingerprinted_path(std::string_view path, std::string_view hash)
{
    return insert_before_extension(path, "." + std::string(hash));
}

std::string_view owner_prefix(std::string_view output_path)
{
    const auto slash = output_path.rfind('/');
    const std::size_t name_start = slash == std::string_view::npos ? 0 : slash + 1;
    const auto end = output_path.find_first_of(".-", name_start);
    return output_path.substr(0, end == std::string_view::npos ? output_path.size() : end);
}

} // namespace cachet
