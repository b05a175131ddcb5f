#include "pipeline/text/script_names.hpp"

#include "pipeline/model/content_type.hpp"
#include "pipeline/text/reading.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace cachet {
namespace {

// The extensions of what scripts load by URL. Not "map" (every `x.map(` would count) nor
// extensions that are also common property names.
constexpr std::array<std::string_view, 41> k_extensions = {
    "apng", "avif", "bmp", "cjs",  "css", "csv",  "eot",         "gif",  "gz",   "htm",   "html", "ico",  "jpeg", "jpg",
    "js",   "json", "jxl", "m4a",  "md",  "mjs",  "mp3",         "mp4",  "ogg",  "otf",   "pdf",  "png",  "svg",  "tif",
    "tiff", "ttf",  "txt", "wasm", "wav", "webm", "webmanifest", "webp", "woff", "woff2", "xml",  "yaml", "zip"};

bool is_extension(std::string_view text)
{
    if (text.size() > 11)
        return false;
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    return std::find(k_extensions.begin(), k_extensions.end(), lower) != k_extensions.end();
}

bool url_char(char c)
{
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '/' || c == '\\' ||
           c == '~' || c == '@' || c == '%' || c == '+' || static_cast<unsigned char>(c) >= 0x80;
}

// script with the comments that start a line blanked out: `// ...` and `/* ... */` after
// nothing but spaces (a license header, a note). Elsewhere "//" may be in a string or a URL, and
// is read as script: a name in a comment there only keeps a name too many.
std::string without_line_comments(std::string_view script)
{
    std::string out(script);
    bool line_start = true;
    for (std::size_t i = 0; i < out.size(); ++i) {
        const char c = out[i];
        if (c == '\n') {
            line_start = true;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r')
            continue;
        if (line_start && c == '/' && i + 1 < out.size() && (out[i + 1] == '/' || out[i + 1] == '*')) {
            const bool block = out[i + 1] == '*';
            std::size_t end = block ? out.find("*/", i + 2) : out.find('\n', i);
            end = end == std::string::npos ? out.size() : end + (block ? 2 : 0);
            for (std::size_t k = i; k < end; ++k)
                if (out[k] != '\n')
                    out[k] = ' ';
            i = end - 1;
            continue;
        }
        line_start = false;
    }
    return out;
}

void scan(std::string_view text, std::vector<std::string>& out)
{
    const std::string blanked = without_line_comments(text);
    const std::string_view script = blanked;
    constexpr std::size_t k_longest = 400;
    for (std::size_t dot = script.find('.'); dot != std::string_view::npos; dot = script.find('.', dot + 1)) {
        std::size_t end = dot + 1;
        while (end < script.size() && std::isalnum(static_cast<unsigned char>(script[end])))
            ++end;
        // The name ends there: not "app.js.map", "x.json5", "a.css_b" or "x.png/y" (but "\.png$"
        // in a regular expression does).
        const auto continues = [&](std::size_t at) {
            if (at >= script.size())
                return false;
            if (script[at] == '.')
                return at + 1 < script.size() && std::isalnum(static_cast<unsigned char>(script[at + 1]));
            return url_char(script[at]);
        };
        if (end == dot + 1 || continues(end) || !is_extension(script.substr(dot + 1, end - dot - 1)))
            continue;
        // A source map's URL: cachet rewrites it itself.
        if (const std::size_t line = script.rfind('\n', dot);
            script
                .substr(line == std::string_view::npos ? 0 : line + 1,
                        dot - (line == std::string_view::npos ? 0 : line + 1))
                .find("sourceMappingURL=") != std::string_view::npos)
            continue;
        std::size_t begin = dot;
        while (begin > 0 && dot - begin < k_longest && url_char(script[begin - 1]))
            --begin;
        std::string name;
        for (std::size_t i = begin; i < end; ++i)
            if (script[i] != '\\')
                name += script[i];
        // Leading "./", "../" and "/": what the name is relative to is not known here.
        std::size_t skip = 0;
        for (;;) {
            if (name.compare(skip, 3, "../") == 0)
                skip += 3;
            else if (name.compare(skip, 2, "./") == 0)
                skip += 2;
            else if (name.compare(skip, 1, "/") == 0)
                skip += 1;
            else
                break;
        }
        out.push_back(name.substr(skip));
    }
}

} // namespace

bool may_hold_scripts(std::string_view path)
{
    // (As extension_of(), without making a string: asked of every source on every build.)
    const std::string_view name = path.substr(path.rfind('/') + 1); // (npos + 1 == 0)
    const auto dot = name.rfind('.');
    if (dot == std::string_view::npos || dot == 0 || name.size() - dot > 5)
        return false;
    char ext[5] = {};
    for (std::size_t i = dot + 1; i < name.size(); ++i)
        ext[i - dot - 1] = static_cast<char>(std::tolower(static_cast<unsigned char>(name[i])));
    const std::string_view e(ext, name.size() - dot - 1);
    return e == "js" || e == "mjs" || e == "cjs" || e == "html" || e == "htm";
}

std::vector<std::string> names_in_scripts(std::string_view path, std::string_view text)
{
    std::vector<std::string> out;
    const std::string ext = extension_of(path);
    if (ext == "html" || ext == "htm")
        reading::html_scripts(text, [&](std::string_view script) { scan(script, out); });
    else if (ext == "js" || ext == "mjs" || ext == "cjs")
        scan(text, out);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

bool named_in_scripts(const std::vector<std::string>& names, std::string_view path)
{
    // Every suffix of path that starts a name: at each position, and the bare extension.
    for (std::size_t at = 0; at < path.size(); ++at)
        if (std::binary_search(names.begin(), names.end(), path.substr(at)))
            return true;
    return false;
}

} // namespace cachet
