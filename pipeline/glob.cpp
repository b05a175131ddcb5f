#include "pipeline/glob.hpp"

#include <fnmatch.h>

namespace cachet {
namespace {

std::vector<std::string> split(std::string_view s)
{
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
        const auto slash = s.find('/', start);
        parts.emplace_back(s.substr(start, slash - start));
        if (slash == std::string_view::npos)
            break;
        start = slash + 1;
    }
    return parts;
}

bool match_segments(const std::vector<std::string>& pat, std::size_t p,
                    const std::vector<std::string>& path, std::size_t i)
{
    for (; p < pat.size(); ++p, ++i) {
        if (pat[p] == "**") {
            for (std::size_t j = i; j <= path.size(); ++j)
                if (match_segments(pat, p + 1, path, j))
                    return true;
            return false;
        }
        if (i >= path.size() || fnmatch(pat[p].c_str(), path[i].c_str(), FNM_PERIOD) != 0)
            return false;
    }
    return i == path.size();
}

} // namespace

bool glob_match(std::string_view pattern, std::string_view path)
{
    if (pattern.find('/') == std::string_view::npos) {
        const auto slash = path.rfind('/');
        const std::string name(slash == std::string_view::npos ? path : path.substr(slash + 1));
        return fnmatch(std::string(pattern).c_str(), name.c_str(), FNM_PERIOD) == 0;
    }
    return match_segments(split(pattern), 0, split(path), 0);
}

bool glob_match_any(const std::vector<std::string>& patterns, std::string_view path)
{
    for (const auto& p : patterns)
        if (glob_match(p, path))
            return true;
    return false;
}

} // namespace cachet
