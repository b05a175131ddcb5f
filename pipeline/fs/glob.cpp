#include "pipeline/fs/glob.hpp"

#include <fnmatch.h>

namespace cachet {
namespace {

// Globs are matched for every file of every build, so nothing here allocates for paths of
// ordinary length: segments are views, and fnmatch gets NUL-terminated copies on the stack.
using Segments = std::vector<std::string_view>;

// The first wildcard or escape ('*', '?', '[', '\\') in pattern at or after from, or npos (a
// plain loop: patterns are short, and this runs for every file and pattern).
std::size_t find_special(std::string_view pattern, std::size_t from = 0)
{
    for (std::size_t i = from; i < pattern.size(); ++i)
        if (const char c = pattern[i]; c == '*' || c == '?' || c == '[' || c == '\\')
            return i;
    return std::string_view::npos;
}

Segments split(std::string_view s)
{
    Segments parts;
    parts.reserve(16);
    std::size_t start = 0;
    while (true) {
        const auto slash = s.find('/', start);
        parts.push_back(s.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
        if (slash == std::string_view::npos)
            break;
        start = slash + 1;
    }
    return parts;
}

bool match_segment(std::string_view pattern, std::string_view name)
{
    const auto special = find_special(pattern);
    if (special == std::string_view::npos)
        return pattern == name && !(name.starts_with('.') && !pattern.starts_with('.'));
    // One '*' between literals ("*.swp", ".#*", ".*~"), as most ignore patterns are: what
    // fnmatch with FNM_PERIOD decides, without it.
    if (pattern[special] == '*' && find_special(pattern, special + 1) == std::string_view::npos) {
        const std::string_view before = pattern.substr(0, special);
        const std::string_view after = pattern.substr(special + 1);
        if (name.starts_with('.') && !before.starts_with('.'))
            return false; // a leading dot is matched only by a dot
        return name.size() >= before.size() + after.size() && name.starts_with(before) && name.ends_with(after);
    }
    char p[512];
    char n[512];
    if (pattern.size() < sizeof p && name.size() < sizeof n) {
        pattern.copy(p, pattern.size());
        p[pattern.size()] = '\0';
        name.copy(n, name.size());
        n[name.size()] = '\0';
        return fnmatch(p, n, FNM_PERIOD) == 0;
    }
    return fnmatch(std::string(pattern).c_str(), std::string(name).c_str(), FNM_PERIOD) == 0;
}

bool match_segments(const Segments& pat, std::size_t p, const Segments& path, std::size_t i)
{
    for (; p < pat.size(); ++p, ++i) {
        if (pat[p] == "**") {
            for (std::size_t j = i; j <= path.size(); ++j)
                if (match_segments(pat, p + 1, path, j))
                    return true;
            return false;
        }
        if (i >= path.size() || !match_segment(pat[p], path[i]))
            return false;
    }
    return i == path.size();
}

} // namespace

bool glob_match(std::string_view pattern, std::string_view path)
{
    if (pattern.find('/') == std::string_view::npos) {
        const auto slash = path.rfind('/');
        return match_segment(pattern, slash == std::string_view::npos ? path : path.substr(slash + 1));
    }
    // Each literal segment of the pattern must be some segment of the path: most paths fail
    // that (".git/**") without being split.
    for (std::size_t start = 0; start <= pattern.size();) {
        const auto slash = pattern.find('/', start);
        const std::string_view segment = pattern.substr(start, slash == std::string_view::npos ? slash : slash - start);
        if (!segment.empty() && find_special(segment) == std::string_view::npos &&
            path.find(segment) == std::string_view::npos)
            return false;
        if (slash == std::string_view::npos)
            break;
        start = slash + 1;
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
