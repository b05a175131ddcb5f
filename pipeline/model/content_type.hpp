#pragma once
#include <string>
#include <string_view>

namespace cachet {

// Lower-case extension of the file name in path, without the dot ("" if none).
std::string extension_of(std::string_view path);

// The Content-Type to serve path with, from its extension; text types carry
// "; charset=utf-8". Unknown extensions are "application/octet-stream".
std::string_view content_type_for(std::string_view path);

} // namespace cachet
