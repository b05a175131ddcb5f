#pragma once
// The readers of references.cpp's file kinds (text/*.cpp; not part of the library's
// interface): small lexing helpers, and one reader per language.
#include "pipeline/text/references.hpp"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace cachet::reading {

inline bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

inline bool starts_with_nocase(std::string_view text, std::size_t at, std::string_view word)
{
    if (text.size() - std::min(at, text.size()) < word.size())
        return false;
    for (std::size_t i = 0; i < word.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(text[at + i])) != word[i])
            return false;
    return true;
}

inline void add(std::vector<Reference>& out, std::string_view text, std::size_t begin, std::size_t end,
                std::size_t offset)
{
    while (begin < end && is_space(text[begin]))
        ++begin;
    while (end > begin && is_space(text[end - 1]))
        --end;
    if (begin < end) {
        Reference reference;
        reference.begin = offset + begin;
        reference.end = offset + end;
        reference.url = std::string(text.substr(begin, end - begin));
        out.push_back(std::move(reference));
    }
}

// The position after the string starting at text[at] (a quote), escapes skipped.
inline std::size_t skip_string(std::string_view text, std::size_t at)
{
    const char quote = text[at];
    std::size_t i = at + 1;
    while (i < text.size() && text[i] != quote && text[i] != '\n') {
        if (text[i] == '\\')
            ++i;
        ++i;
    }
    return std::min(i + 1, text.size());
}

inline std::size_t after_spaces(std::string_view text, std::size_t at)
{
    while (at < text.size() && is_space(text[at]))
        ++at;
    return at;
}

inline std::string lower(std::string_view text)
{
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

// A `sourceMappingURL=` annotation starting at text[at] (after "# " or "@ "): its URL.
void source_mapping_url(std::string_view text, std::size_t at, std::size_t offset, std::vector<Reference>& out);
// CSS in text (which starts at offset in the file).
void css_references(std::string_view text, std::size_t offset, std::vector<Reference>& out);
// The candidates of a srcset value (which starts at offset in the file).
void srcset_references(std::string_view value, std::size_t offset, std::vector<Reference>& out);
// An HTML document (html_references.cpp).
void html_references(std::string_view text, std::vector<Reference>& out);
// Calls f with each piece of script an HTML document runs: the body of each <script> of a
// JavaScript type (or none) and each event handler attribute (on...), in document order.
void html_scripts(std::string_view text, const std::function<void(std::string_view)>& f);

} // namespace cachet::reading
