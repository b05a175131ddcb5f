#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cachet {

// One reference to another file inside a text file: the byte range of the URL as written
// (without quotes), and the URL itself (entities and CSS escapes as written: a URL that needs
// them is left alone).
struct Reference {
    // What the file does with the URL:
    // - asset: loads it (a stylesheet, an image, a font, a script, a source map...);
    // - link: links to it (<a href>, <area href>, <link rel=canonical|alternate|...>, <iframe src>):
    //   a page served by something else is no mistake;
    // - back: names the file that refers to this one (a source map's "file"): it gives way when
    //   the two would each need the other's final name first;
    // - base: <base href>, which changes how the document's relative URLs resolve.
    enum class Role { asset, link, back, base };

    std::size_t begin = 0;
    std::size_t end = 0;
    std::string url;
    Role role = Role::asset;
    std::string element;   // HTML: the element's name, lower case ("" elsewhere)
    std::string attribute; // HTML: the attribute's name, lower case ("" in a <style> element)
    // HTML: where attributes can be added to the element (before its "/>" or ">"), and the
    // range of its integrity attribute's value, if it has one.
    std::size_t attributes_end = 0;
    std::optional<std::pair<std::size_t, std::size_t>> integrity;
    bool checks_integrity = false; // HTML: a <script src> or <link rel=stylesheet|preload|modulepreload>
    bool operator==(const Reference&) const = default;
};

// An <img> element of an HTML document that is not inside a <picture>.
struct ImageTag {
    std::size_t begin = 0;          // its '<'
    std::size_t attributes_end = 0; // where attributes can be added: before "/>" or ">"
    std::size_t end = 0;            // after its '>'
    std::size_t src_begin = 0;      // the src value as written (src_begin == src_end: none)
    std::size_t src_end = 0;
    bool has_srcset = false;
    bool has_width = false;
    bool has_height = false;
    std::optional<std::string> sizes; // the sizes attribute as written
};

// The <img> elements of html outside <picture> elements, in document order (comments and
// <script> bodies skipped).
std::vector<ImageTag> find_image_tags(std::string_view html);

// The references in text, a file named path (its extension says how to read it):
// - css: url(...) quoted or not, @import "..." and @import url(...); the sourceMappingURL comment;
// - html, htm: src, href, srcset (each candidate), poster, data (object), the content of
//   <style> elements and style attributes as CSS, on every element (so <source>, <link rel=
//   preload|icon|manifest|stylesheet> and <img> alike); comments and <script> bodies skipped;
// - js, mjs, cjs: the sourceMappingURL comment;
// - map: the "file" member of a source map;
// - webmanifest: the "src" of each of its "icons".
// In file order; none for other extensions or unparsable JSON.
std::vector<Reference> find_references(std::string_view path, std::string_view text);

// Whether find_references() reads files named like path (by extension) at all.
bool may_have_references(std::string_view path);

// The path (relative to SRC, '/'-separated, normalised) that url names when written in the
// file at referrer (relative to SRC), with base the URL path SRC is served at ("/" by
// default): a relative URL resolves against the referrer's folder, a root-relative one against
// base. Nullopt for URLs that name no file of SRC: other schemes (https:, data:, mailto:...),
// protocol-relative URLs, bare fragments, root-relative URLs outside base, and paths that leave
// SRC. The query and fragment are not part of the path.
std::optional<std::string> resolve_reference(std::string_view referrer, std::string_view url,
                                             std::string_view base = "/");

// The query and fragment of url ("?v=2#top"), kept when the path is replaced.
std::string_view url_suffix(std::string_view url);

// The URL to write in the file at referrer_output (a path in OUT) for the file at
// target_output (a path in OUT), in the style of the original: relative stays relative,
// root-relative becomes base + the path.
std::string reference_url(std::string_view original, std::string_view referrer_output, std::string_view target_output,
                          std::string_view base = "/");

} // namespace cachet
