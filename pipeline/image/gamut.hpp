#pragma once
#include "pipeline/image/image.hpp"

#include <cstddef>

namespace cachet {

// What an embedded RGB ICC profile describes: sRGB (convert, write untagged), Display P3, or
// another RGB space. Unreadable or non-matrix profiles count as sRGB (they get converted).
Gamut gamut_of_icc(const void* data, std::size_t size);

} // namespace cachet
