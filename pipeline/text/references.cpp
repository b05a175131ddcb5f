#include "pipeline/text/references.hpp"

#include "pipeline/model/content_type.hpp"
#include "pipeline/model/record.hpp"
#include "pipeline/text/reading.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

namespace cachet {
namespace {

using namespace reading;

// The last `//# sourceMappingURL=` line comment of a script.
void js_references(std::string_view text, std::vector<Reference>& out)
{
    for (std::size_t at = text.size(); at > 0;) {
        const std::size_t found = text.rfind("//", at - 1);
        if (found == std::string_view::npos)
            return;
        if ((found == 0 || text[found - 1] == '\n') && found + 3 < text.size() &&
            (text[found + 2] == '#' || text[found + 2] == '@') && text[found + 3] == ' ') {
            std::vector<Reference> one;
            source_mapping_url(text, found + 4, 0, one);
            if (!one.empty()) {
                out.push_back(one.front());
                return;
            }
        }
        at = found;
    }
}

// The byte range of the string value of `"key": "value"` at or after from, if written plainly.
std::optional<std::pair<std::size_t, std::size_t>> json_string_member(std::string_view text, std::string_view key,
                                                                      const std::string& value, std::size_t from)
{
    const std::string quoted_key = "\"" + std::string(key) + "\"";
    for (std::size_t at = text.find(quoted_key, from); at != std::string_view::npos;
         at = text.find(quoted_key, at + 1)) {
        std::size_t k = at + quoted_key.size();
        while (k < text.size() && is_space(text[k]))
            ++k;
        if (k >= text.size() || text[k] != ':')
            continue;
        ++k;
        while (k < text.size() && is_space(text[k]))
            ++k;
        if (k < text.size() && text[k] == '"' && text.compare(k + 1, value.size(), value) == 0 &&
            k + 1 + value.size() < text.size() && text[k + 1 + value.size()] == '"')
            return std::make_pair(k + 1, k + 1 + value.size());
    }
    return std::nullopt;
}

void json_references(std::string_view text, bool source_map, std::vector<Reference>& out)
{
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(text);
    } catch (const std::exception&) {
        return;
    }
    if (!doc.is_object())
        return;
    std::vector<std::pair<std::string, std::string>> wanted; // (key, value), in file order
    if (source_map) {
        if (doc.contains("file") && doc["file"].is_string())
            wanted.emplace_back("file", doc["file"].get<std::string>());
    } else if (doc.contains("icons") && doc["icons"].is_array()) {
        for (const auto& icon : doc["icons"])
            if (icon.is_object() && icon.contains("src") && icon["src"].is_string())
                wanted.emplace_back("src", icon["src"].get<std::string>());
    }
    std::size_t from = 0;
    for (const auto& [key, value] : wanted)
        if (value.find_first_of("\"\\") == std::string::npos)
            if (const auto range = json_string_member(text, key, value, from)) {
                Reference reference;
                reference.begin = range->first;
                reference.end = range->second;
                reference.url = value;
                if (source_map)
                    reference.role = Reference::Role::back;
                out.push_back(std::move(reference));
                from = range->second;
            }
}

std::string percent_decoded(std::string_view text)
{
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
            out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

std::string folder_of(std::string_view path)
{
    const auto slash = path.rfind('/');
    return slash == std::string_view::npos ? std::string() : std::string(path.substr(0, slash + 1));
}
} // namespace

bool may_have_references(std::string_view path)
{
    const std::string ext = extension_of(path);
    return ext == "css" || ext == "html" || ext == "htm" || ext == "js" || ext == "mjs" || ext == "cjs" ||
           ext == "map" || ext == "webmanifest";
}

std::vector<Reference> find_references(std::string_view path, std::string_view text)
{
    std::vector<Reference> out;
    const std::string ext = extension_of(path);
    if (ext == "css")
        css_references(text, 0, out);
    else if (ext == "html" || ext == "htm")
        html_references(text, out);
    else if (ext == "js" || ext == "mjs" || ext == "cjs")
        js_references(text, out);
    else if (ext == "map")
        json_references(text, true, out);
    else if (ext == "webmanifest")
        json_references(text, false, out);
    std::sort(out.begin(), out.end(), [](const Reference& a, const Reference& b) { return a.begin < b.begin; });
    return out;
}

std::string_view url_suffix(std::string_view url)
{
    const auto at = url.find_first_of("?#");
    return at == std::string_view::npos ? std::string_view() : url.substr(at);
}

std::optional<std::string> resolve_reference(std::string_view referrer, std::string_view url, std::string_view base)
{
    if (url.empty() || url.front() == '#' || url.front() == '?' || url.compare(0, 2, "//") == 0)
        return std::nullopt;
    const auto colon = url.find(':');
    if (colon != std::string_view::npos && std::isalpha(static_cast<unsigned char>(url.front())) &&
        std::all_of(url.begin(), url.begin() + static_cast<std::ptrdiff_t>(colon),
                    [](unsigned char c) { return std::isalnum(c) || c == '+' || c == '-' || c == '.'; }))
        return std::nullopt; // https:, data:, mailto:...
    const std::string path = percent_decoded(url.substr(0, url.size() - url_suffix(url).size()));
    std::string joined;
    if (!path.empty() && path.front() == '/') {
        std::string root(base);
        if (root.empty() || root.back() != '/')
            root += '/';
        if (root.front() != '/')
            root.insert(0, "/");
        if (path.compare(0, root.size(), root) != 0)
            return std::nullopt;
        joined = path.substr(root.size());
    } else {
        joined = folder_of(referrer) + path;
    }
    if (joined.empty() || joined.back() == '/')
        return std::nullopt; // a folder
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= joined.size()) {
        const auto slash = joined.find('/', start);
        const std::string part = joined.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        if (part == "..") {
            if (parts.empty())
                return std::nullopt; // leaves SRC
            parts.pop_back();
        } else if (!part.empty() && part != ".") {
            parts.push_back(part);
        }
        if (slash == std::string::npos)
            break;
        start = slash + 1;
    }
    if (parts.empty())
        return std::nullopt;
    std::string out;
    for (const auto& p : parts)
        out += (out.empty() ? "" : "/") + p;
    return out;
}

std::string reference_url(std::string_view original, std::string_view referrer_output, std::string_view target_output,
                          std::string_view base)
{
    std::string url;
    if (!original.empty() && original.front() == '/') {
        url = base;
        if (url.empty() || url.back() != '/')
            url += '/';
        url += percent_encoded(target_output);
    } else {
        // From the referrer's folder: up past what the two do not share, then down.
        const std::string from = folder_of(referrer_output);
        std::size_t common = 0;
        for (std::size_t i = 0; i < from.size() && i < target_output.size() && from[i] == target_output[i]; ++i)
            if (from[i] == '/')
                common = i + 1;
        for (std::size_t i = common; i < from.size(); ++i)
            if (from[i] == '/')
                url += "../";
        url += percent_encoded(target_output.substr(common));
    }
    return url + std::string(url_suffix(original));
}

} // namespace cachet
