#include "pipeline/text/references.hpp"

#include "pipeline/model/content_type.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <initializer_list>

namespace cachet {
namespace {

bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

bool starts_with_nocase(std::string_view text, std::size_t at, std::string_view word)
{
    if (text.size() - std::min(at, text.size()) < word.size())
        return false;
    for (std::size_t i = 0; i < word.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(text[at + i])) != word[i])
            return false;
    return true;
}

void add(std::vector<Reference>& out, std::string_view text, std::size_t begin, std::size_t end, std::size_t offset)
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
std::size_t skip_string(std::string_view text, std::size_t at)
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

std::size_t after_spaces(std::string_view text, std::size_t at)
{
    while (at < text.size() && is_space(text[at]))
        ++at;
    return at;
}

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

struct Attribute {
    std::string name; // lower case
    std::size_t value_begin = 0;
    std::size_t value_end = 0;
    bool has_value = false;
};

// One tag of an HTML document: `<name attributes>` or `</name>`.
struct Tag {
    std::string name; // lower case
    bool closing = false;
    std::size_t begin = 0;          // its '<'
    std::size_t attributes_end = 0; // where its attributes end: its '>', or the '/' of "/>"
    std::size_t end = 0;            // after its '>'
    std::vector<Attribute> attributes;
    std::size_t body_begin = 0; // <script> and <style>: the raw text they hold
    std::size_t body_end = 0;

    const Attribute* find(std::string_view attribute) const
    {
        for (const auto& a : attributes)
            if (a.name == attribute)
                return &a;
        return nullptr;
    }
};

std::string lower(std::string_view text)
{
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

// Calls f(tag) for each tag of text in order, skipping comments and the bodies of raw text
// elements (<script>, <style>), which the opening tag's body range covers.
template <class F>
void for_each_tag(std::string_view text, F&& f)
{
    std::size_t i = 0;
    while ((i = text.find('<', i)) != std::string_view::npos) {
        if (text.compare(i, 4, "<!--") == 0) {
            const std::size_t close = text.find("-->", i + 4);
            i = close == std::string_view::npos ? text.size() : close + 3;
            continue;
        }
        Tag tag;
        tag.begin = i;
        std::size_t j = i + 1;
        if (j < text.size() && text[j] == '/') {
            tag.closing = true;
            ++j;
        }
        if (j >= text.size() || !std::isalpha(static_cast<unsigned char>(text[j]))) {
            ++i; // <!doctype>, <?...>, a lone '<'
            continue;
        }
        const std::size_t name_begin = j;
        while (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '-'))
            ++j;
        tag.name = lower(text.substr(name_begin, j - name_begin));
        while (j < text.size() && text[j] != '>') {
            if (is_space(text[j]) || text[j] == '/') {
                ++j;
                continue;
            }
            Attribute attribute;
            const std::size_t attribute_begin = j;
            while (j < text.size() && !is_space(text[j]) && text[j] != '=' && text[j] != '>' && text[j] != '/')
                ++j;
            attribute.name = lower(text.substr(attribute_begin, j - attribute_begin));
            std::size_t k = after_spaces(text, j);
            if (k < text.size() && text[k] == '=') {
                k = after_spaces(text, k + 1);
                attribute.has_value = true;
                if (k < text.size() && (text[k] == '"' || text[k] == '\'')) {
                    const std::size_t close = text.find(text[k], k + 1);
                    attribute.value_begin = k + 1;
                    attribute.value_end = close == std::string_view::npos ? text.size() : close;
                    j = close == std::string_view::npos ? text.size() : close + 1;
                } else {
                    attribute.value_begin = k;
                    while (k < text.size() && !is_space(text[k]) && text[k] != '>')
                        ++k;
                    attribute.value_end = k;
                    j = k;
                }
            }
            tag.attributes.push_back(std::move(attribute));
        }
        tag.attributes_end = j > tag.begin && j <= text.size() && text[j - 1] == '/' ? j - 1 : j;
        tag.end = std::min(j + 1, text.size());
        i = tag.end;
        // Raw text elements: a script's body holds no markup; a style element's is CSS.
        if (!tag.closing && (tag.name == "script" || tag.name == "style")) {
            std::size_t close = i;
            while ((close = text.find("</", close)) != std::string_view::npos &&
                   !starts_with_nocase(text, close + 2, tag.name))
                close += 2;
            tag.body_begin = i;
            tag.body_end = close == std::string_view::npos ? text.size() : close;
            i = tag.body_end;
        }
        f(static_cast<const Tag&>(tag));
    }
}

// Whether the space-separated list value (a rel attribute) holds one of tokens, in any case.
bool has_token(std::string_view value, std::initializer_list<std::string_view> tokens)
{
    const std::string list = lower(value);
    std::size_t i = 0;
    while (i < list.size()) {
        while (i < list.size() && is_space(list[i]))
            ++i;
        std::size_t end = i;
        while (end < list.size() && !is_space(list[end]))
            ++end;
        const std::string_view token = std::string_view(list).substr(i, end - i);
        if (std::find(tokens.begin(), tokens.end(), token) != tokens.end())
            return true;
        i = end;
    }
    return false;
}

// Whether a <link>'s rel names something the page loads (rather than a page it links to).
bool loads_resource(std::string_view rel)
{
    return has_token(rel, {"stylesheet", "icon", "apple-touch-icon", "apple-touch-icon-precomposed", "mask-icon",
                           "manifest", "preload", "modulepreload", "prefetch"});
}

void html_references(std::string_view text, std::vector<Reference>& out)
{
    for_each_tag(text, [&](const Tag& tag) {
        if (tag.closing)
            return;
        auto mark = [&](std::size_t from, Reference::Role role, const std::string& attribute, bool checks) {
            const Attribute* integrity = tag.find("integrity");
            for (std::size_t n = from; n < out.size(); ++n) {
                out[n].role = role;
                out[n].element = tag.name;
                out[n].attribute = attribute;
                out[n].attributes_end = tag.attributes_end;
                if (integrity && integrity->has_value)
                    out[n].integrity = std::make_pair(integrity->value_begin, integrity->value_end);
                out[n].checks_integrity = checks;
            }
        };
        for (const auto& a : tag.attributes) {
            if (!a.has_value)
                continue;
            const std::size_t from = out.size();
            bool checks = false; // whether the browser checks this element's integrity attribute
            if (tag.name == "script" && a.name == "src")
                checks = true;
            else if (tag.name == "link" && a.name == "href")
                if (const Attribute* rel = tag.find("rel"); rel && rel->has_value)
                    checks = has_token(text.substr(rel->value_begin, rel->value_end - rel->value_begin),
                                       {"stylesheet", "preload", "modulepreload"});
            const std::string_view value = text.substr(a.value_begin, a.value_end - a.value_begin);
            Reference::Role role = Reference::Role::asset;
            if (a.name == "src" || a.name == "href" || a.name == "poster" || a.name == "data") {
                add(out, text, a.value_begin, a.value_end, 0);
                if (a.name == "href" && (tag.name == "a" || tag.name == "area"))
                    role = Reference::Role::link;
                else if (a.name == "href" && tag.name == "link") {
                    const Attribute* rel = tag.find("rel");
                    if (!rel || !loads_resource(text.substr(rel->value_begin, rel->value_end - rel->value_begin)))
                        role = Reference::Role::link;
                } else if (a.name == "href" && tag.name == "base")
                    role = Reference::Role::base;
                else if (a.name == "src" && (tag.name == "iframe" || tag.name == "frame"))
                    role = Reference::Role::link;
            } else if (a.name == "srcset" || a.name == "imagesrcset") {
                srcset_references(value, a.value_begin, out);
            } else if (a.name == "style") {
                css_references(value, a.value_begin, out);
            }
            mark(from, role, a.name, checks);
        }
        if (tag.name == "style") {
            const std::size_t from = out.size();
            css_references(text.substr(tag.body_begin, tag.body_end - tag.body_begin), tag.body_begin, out);
            mark(from, Reference::Role::asset, "", false);
        }
    });
}

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

std::string percent_encoded(std::string_view path)
{
    static constexpr std::string_view k_hex = "0123456789ABCDEF";
    std::string out;
    for (const char c : path) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f || std::string_view("\"'()#?%<>\\,").find(c) != std::string_view::npos) {
            out += '%';
            out += k_hex[u >> 4];
            out += k_hex[u & 15];
        } else {
            out += c;
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

std::vector<ImageTag> find_image_tags(std::string_view html)
{
    std::vector<ImageTag> out;
    int pictures = 0; // <picture> elements open
    for_each_tag(html, [&](const Tag& tag) {
        if (tag.name == "picture") {
            pictures = tag.closing ? std::max(0, pictures - 1) : pictures + 1;
            return;
        }
        if (tag.closing || tag.name != "img" || pictures > 0)
            return;
        ImageTag image;
        image.begin = tag.begin;
        image.attributes_end = tag.attributes_end;
        image.end = tag.end;
        if (const Attribute* src = tag.find("src"); src && src->has_value) {
            // The value as find_references() records it: without surrounding spaces.
            std::size_t b = src->value_begin, e = src->value_end;
            while (b < e && is_space(html[b]))
                ++b;
            while (e > b && is_space(html[e - 1]))
                --e;
            image.src_begin = b;
            image.src_end = e;
        }
        image.has_srcset = tag.find("srcset") != nullptr;
        image.has_width = tag.find("width") != nullptr;
        image.has_height = tag.find("height") != nullptr;
        if (const Attribute* sizes = tag.find("sizes"); sizes && sizes->has_value)
            image.sizes = std::string(html.substr(sizes->value_begin, sizes->value_end - sizes->value_begin));
        out.push_back(std::move(image));
    });
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
        std::all_of(url.begin(), url.begin() + static_cast<std::ptrdiff_t>(colon), [](unsigned char c) {
            return std::isalnum(c) || c == '+' || c == '-' || c == '.';
        }))
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
