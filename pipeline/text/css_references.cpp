#include "pipeline/text/reading.hpp"

#include <optional>

namespace cachet::reading {

namespace {

// If a CSS string starts at text[at]: records it as a reference (unless it holds escapes) and
// returns the position after it.
std::optional<std::size_t> quoted_url(std::string_view text, std::size_t at, std::size_t offset,
                                      std::vector<Reference>& out)
{
    if (at >= text.size() || (text[at] != '"' && text[at] != '\''))
        return std::nullopt;
    const std::size_t end = skip_string(text, at);
    if (text.substr(at + 1, end - at - 2).find('\\') == std::string_view::npos)
        add(out, text, at + 1, end - 1, offset);
    return end;
}

} // namespace

// A `sourceMappingURL=` annotation starting at text[at] (after "# " or "@ "): its URL.
void source_mapping_url(std::string_view text, std::size_t at, std::size_t offset, std::vector<Reference>& out)
{
    constexpr std::string_view key = "sourceMappingURL=";
    if (text.compare(at, key.size(), key) != 0)
        return;
    std::size_t begin = at + key.size();
    std::size_t end = begin;
    while (end < text.size() && !is_space(text[end]) && text.compare(end, 2, "*/") != 0)
        ++end;
    add(out, text, begin, end, offset);
}

// CSS in text (which starts at offset in the file).
void css_references(std::string_view text, std::size_t offset, std::vector<Reference>& out)
{
    std::size_t i = 0;
    while (i < text.size()) {
        const char c = text[i];
        if (c == '/' && i + 1 < text.size() && text[i + 1] == '*') {
            const std::size_t close = text.find("*/", i + 2);
            const std::size_t end = close == std::string_view::npos ? text.size() : close;
            std::size_t body = i + 2;
            while (body < end && is_space(text[body]))
                ++body;
            if (body < end && (text[body] == '#' || text[body] == '@') && body + 1 < end && text[body + 1] == ' ')
                source_mapping_url(text.substr(0, end), body + 2, offset, out);
            i = close == std::string_view::npos ? text.size() : close + 2;
        } else if (c == '"' || c == '\'') {
            i = skip_string(text, i);
        } else if ((c == 'u' || c == 'U') && starts_with_nocase(text, i, "url(") &&
                   (i == 0 || !(std::isalnum(static_cast<unsigned char>(text[i - 1])) || text[i - 1] == '-'))) {
            const std::size_t j = after_spaces(text, i + 4);
            if (const auto after = quoted_url(text, j, offset, out)) {
                i = *after;
            } else {
                const std::size_t close = text.find(')', j);
                const std::size_t end = close == std::string_view::npos ? text.size() : close;
                if (text.substr(j, end - j).find_first_of("\\\"'(") == std::string_view::npos)
                    add(out, text, j, end, offset);
                i = end;
            }
        } else if (c == '@' && starts_with_nocase(text, i, "@import")) {
            const std::size_t j = after_spaces(text, i + 7);
            i = quoted_url(text, j, offset, out).value_or(j); // else @import url(...): the url( branch takes it
        } else {
            ++i;
        }
    }
}

// The candidates of a srcset value (which starts at offset in the file).
void srcset_references(std::string_view value, std::size_t offset, std::vector<Reference>& out)
{
    std::size_t i = 0;
    while (i < value.size()) {
        while (i < value.size() && (is_space(value[i]) || value[i] == ','))
            ++i;
        std::size_t end = i;
        while (end < value.size() && !is_space(value[end]))
            ++end;
        std::size_t url_end = end;
        while (url_end > i && value[url_end - 1] == ',') // "a.png," : no descriptor
            --url_end;
        if (url_end > i)
            add(out, value, i, url_end, offset);
        if (url_end < end) {
            i = end;
            continue;
        }
        const std::size_t comma = value.find(',', end); // past the descriptors
        i = comma == std::string_view::npos ? value.size() : comma + 1;
    }
}

} // namespace cachet::reading
