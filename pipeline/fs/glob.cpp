#include "pipeline/fs/glob.hpp"

#include <algorithm>
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

// The bracket expression at pattern[at] ('['): whether c is in it; sets end after its ']'.
// A '[' with no closing ']' is a literal '[' (end = at + 1), as fnmatch takes it.
bool bracket(std::string_view pattern, std::size_t at, char c, std::size_t& end, bool& literal)
{
    std::size_t i = at + 1;
    const bool negate = i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^');
    if (negate)
        ++i;
    bool in = false;
    bool first = true;
    for (; i < pattern.size() && (first || pattern[i] != ']'); first = false) {
        char lo = pattern[i];
        if (lo == '\\' && i + 1 < pattern.size())
            lo = pattern[++i];
        char hi = lo;
        if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
            hi = pattern[i + 2];
            if (hi == '\\' && i + 3 < pattern.size())
                hi = pattern[++i + 2];
            i += 2;
        }
        in |= static_cast<unsigned char>(c) >= static_cast<unsigned char>(lo) &&
              static_cast<unsigned char>(c) <= static_cast<unsigned char>(hi);
        ++i;
    }
    literal = i >= pattern.size();
    if (literal) {
        end = at + 1;
        return c == '[';
    }
    end = i + 1;
    return in != negate && c != '/';
}

// fnmatch(pattern, name, FNM_PERIOD) for one segment ('*', '?', brackets, '\\' escapes), in
// O(pattern x name) steps whatever the pattern: on a mismatch only the last '*' is retried
// (glibc's fnmatch backtracks into every '*', exponential in their number).
bool wildcard_match(std::string_view pattern, std::string_view name)
{
    if (name.starts_with('.') && !pattern.starts_with('.') && !pattern.starts_with("\\."))
        return false; // a leading dot is matched only by a dot
    std::size_t p = 0;
    std::size_t n = 0;
    std::size_t star = std::string_view::npos; // after the last '*' seen
    std::size_t star_n = 0;                    // where in name that '*' stands for nothing yet
    while (n < name.size()) {
        if (p < pattern.size() && pattern[p] == '*') {
            star = ++p;
            star_n = n;
            continue;
        }
        if (p < pattern.size()) {
            std::size_t next = p + 1;
            bool ok = false;
            if (pattern[p] == '?') {
                ok = true;
            } else if (pattern[p] == '[') {
                bool literal = false;
                ok = bracket(pattern, p, name[n], next, literal);
            } else if (pattern[p] == '\\' && p + 1 < pattern.size()) {
                ok = pattern[p + 1] == name[n];
                next = p + 2;
            } else {
                ok = pattern[p] == name[n];
            }
            if (ok) {
                p = next;
                ++n;
                continue;
            }
        }
        if (star == std::string_view::npos)
            return false;
        p = star; // the last '*' takes one more character
        n = ++star_n;
    }
    while (p < pattern.size() && pattern[p] == '*')
        ++p;
    return p == pattern.size();
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
    // POSIX classes, collating symbols and equivalence classes ([[:alpha:]], [[.a.]], [[=a=]]):
    // fnmatch's, as rare as they are.
    if (pattern.find("[:") != std::string_view::npos || pattern.find("[.") != std::string_view::npos ||
        pattern.find("[=") != std::string_view::npos)
        return fnmatch(std::string(pattern).c_str(), std::string(name).c_str(), FNM_PERIOD) == 0;
    return wildcard_match(pattern, name);
}

// Whether pat[p..] matches path[i..], '**' standing for any number of segments: at most one
// visit per (p, i) (memo), so a pattern of many '**' stays polynomial.
bool match_segments(const Segments& pat, std::size_t p, const Segments& path, std::size_t i,
                    std::vector<signed char>& memo)
{
    signed char& known = memo[p * (path.size() + 1) + i];
    if (known >= 0)
        return known != 0;
    bool ok = false;
    if (p == pat.size())
        ok = i == path.size();
    else if (pat[p] == "**")
        ok =
            match_segments(pat, p + 1, path, i, memo) || (i < path.size() && match_segments(pat, p, path, i + 1, memo));
    else
        ok = i < path.size() && match_segment(pat[p], path[i]) && match_segments(pat, p + 1, path, i + 1, memo);
    known = ok ? 1 : 0;
    return ok;
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
    Segments pat = split(pattern);
    // "**/**" is "**".
    pat.erase(std::unique(pat.begin(), pat.end(),
                          [](std::string_view a, std::string_view b) { return a == "**" && b == "**"; }),
              pat.end());
    const Segments segments = split(path);
    std::vector<signed char> memo((pat.size() + 1) * (segments.size() + 1), -1);
    return match_segments(pat, 0, segments, 0, memo);
}

bool glob_match_any(const std::vector<std::string>& patterns, std::string_view path)
{
    for (const auto& p : patterns)
        if (glob_match(p, path))
            return true;
    return false;
}

} // namespace cachet
