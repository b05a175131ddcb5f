#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace cachet {

// True if the '/'-separated relative path matches pattern. Within a segment, '*', '?' and
// '[...]' work as in fnmatch(3); a whole segment '**' matches zero or more segments. A pattern
// with no '/' matches the last segment (the file name) at any depth, as in .gitignore.
bool glob_match(std::string_view pattern, std::string_view path);

// True if any of patterns matches path.
bool glob_match_any(const std::vector<std::string>& patterns, std::string_view path);

} // namespace cachet
