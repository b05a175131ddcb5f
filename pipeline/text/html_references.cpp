#include "pipeline/text/reading.hpp"

#include <functional>
#include <initializer_list>

namespace cachet::reading {
namespace {

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

} // namespace

void html_references(std::string_view text, std::vector<Reference>& out)
{
    for_each_tag(text, [&](const Tag& tag) {
        if (tag.closing)
            return;
        // Looked up once per tag: a tag may have 100,000s of attributes.
        const Attribute* integrity = tag.find("integrity");
        const Attribute* rel = tag.find("rel");
        const std::string_view rel_value = rel && rel->has_value
                                               ? text.substr(rel->value_begin, rel->value_end - rel->value_begin)
                                               : std::string_view();
        const bool rel_checks = has_token(rel_value, {"stylesheet", "preload", "modulepreload"});
        const bool rel_loads = rel && rel->has_value && loads_resource(rel_value);
        auto mark = [&](std::size_t from, Reference::Role role, const std::string& attribute, bool checks) {
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
                checks = rel_checks;
            const std::string_view value = text.substr(a.value_begin, a.value_end - a.value_begin);
            Reference::Role role = Reference::Role::asset;
            if (a.name == "src" || a.name == "href" || a.name == "poster" || a.name == "data") {
                add(out, text, a.value_begin, a.value_end, 0);
                if (a.name == "href" && (tag.name == "a" || tag.name == "area"))
                    role = Reference::Role::link;
                else if (a.name == "href" && tag.name == "link") {
                    if (!rel_loads)
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

void html_scripts(std::string_view text, const std::function<void(std::string_view)>& f)
{
    for_each_tag(text, [&](const Tag& tag) {
        if (tag.closing)
            return;
        for (const auto& a : tag.attributes)
            if (a.has_value && a.name.size() > 2 && a.name.starts_with("on"))
                f(text.substr(a.value_begin, a.value_end - a.value_begin));
        if (tag.name != "script")
            return;
        if (const Attribute* type = tag.find("type"); type && type->has_value) {
            // Data blocks (JSON-LD, templates, import maps' JSON is read by the browser) do not run.
            const std::string t = lower(text.substr(type->value_begin, type->value_end - type->value_begin));
            if (!t.empty() && t != "module" && t != "text/javascript" && t != "application/javascript" &&
                t != "text/ecmascript" && t != "application/ecmascript")
                return;
        }
        f(text.substr(tag.body_begin, tag.body_end - tag.body_begin));
    });
}

} // namespace cachet::reading

namespace cachet {

using namespace reading;

std::vector<ImageTag> find_image_tags(std::string_view html)
{
    std::vector<ImageTag> out;
    int pictures = 0; // <picture> elements open
    reading::for_each_tag(html, [&](const Tag& tag) {
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

} // namespace cachet
