#include "pipeline/text/rewrite.hpp"

#include "pipeline/model/content_type.hpp"
#include "pipeline/model/error.hpp"
#include "pipeline/publish/markup.hpp"

#include <algorithm>
#include <set>

namespace cachet {
namespace {

struct Edit {
    std::size_t begin = 0;
    std::size_t end = 0;
    std::string text;
};

bool has_base(const std::vector<Reference>& references)
{
    return std::any_of(references.begin(), references.end(),
                       [](const Reference& r) { return r.role == Reference::Role::base; });
}

// Whether rewriting looks at reference at all: <base href> itself never, and the relative URLs
// of a document with one neither (they resolve against the base, which cachet does not follow).
bool considered(const Reference& reference, bool based)
{
    return reference.role != Reference::Role::base && !(based && !reference.url.starts_with('/'));
}

void sort_unique(std::vector<std::string>& v)
{
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
}

// The <picture> edits for the <img> tag whose src (written url) names image: nothing if the
// image has no outputs.
std::vector<Edit> picture_edits(const ImageTag& tag, std::string_view path, std::string_view url,
                                const AssetRecord& image, const RewriteOptions& options)
{
    const auto parts = picture_parts(image);
    if (!parts)
        return {};
    auto srcset = [&](const std::vector<const OutputFile*>& outputs) {
        std::string value;
        for (const auto* o : outputs)
            value += (value.empty() ? "" : ", ") + reference_url(url, path, o->path, options.base) + " " +
                     std::to_string(o->width) + "w";
        return value;
    };
    std::string opening = "<picture>";
    for (const auto& [f, outputs] : parts->sources) {
        opening += "<source type=\"" + std::string(info(f).mime) + "\" srcset=\"" + srcset(outputs) + "\"";
        if (tag.sizes)
            opening += " sizes=\"" + *tag.sizes + "\"";
        opening += ">";
    }
    const OutputFile& largest = *parts->img.back();
    std::string attributes;
    if (parts->img.size() > 1)
        attributes += " srcset=\"" + srcset(parts->img) + "\"";
    if (!tag.has_width && !tag.has_height)
        attributes +=
            " width=\"" + std::to_string(largest.width) + "\" height=\"" + std::to_string(largest.height) + "\"";
    std::vector<Edit> edits;
    edits.push_back({tag.begin, tag.begin, std::move(opening)});
    edits.push_back({tag.src_begin, tag.src_end, reference_url(url, path, largest.path, options.base)});
    if (!attributes.empty())
        edits.push_back({tag.attributes_end, tag.attributes_end, std::move(attributes)});
    edits.push_back({tag.end, tag.end, "</picture>"});
    return edits;
}

} // namespace

Dependencies dependencies_of(std::string_view path, const std::vector<Reference>& references, std::string_view base)
{
    Dependencies deps;
    const bool based = has_base(references);
    for (const auto& r : references) {
        if (!considered(r, based))
            continue;
        if (auto resolved = resolve_reference(path, r.url, base))
            (r.role == Reference::Role::back ? deps.back : deps.loads).push_back(std::move(*resolved));
    }
    sort_unique(deps.loads);
    sort_unique(deps.back);
    return deps;
}

Rewritten rewrite_references(std::string_view path, std::string_view text, const std::vector<Reference>& references,
                             const std::function<ReferenceTarget(const std::string&)>& target,
                             const RewriteOptions& options)
{
    Rewritten out;
    std::vector<Edit> edits;
    std::set<std::string> warned;
    const bool based = has_base(references);
    if (based)
        out.warnings.push_back("has <base href>: its relative URLs are left as written (only root-relative ones are "
                               "rewritten)");
    std::vector<ImageTag> images;
    if (options.picture && (extension_of(path) == "html" || extension_of(path) == "htm"))
        images = find_image_tags(text);
    auto image_tag_at = [&](std::size_t begin) -> const ImageTag* {
        const auto it = std::lower_bound(images.begin(), images.end(), begin,
                                         [](const ImageTag& t, std::size_t b) { return t.src_begin < b; });
        return it != images.end() && it->src_begin == begin && it->src_end > it->src_begin && !it->has_srcset ? &*it
                                                                                                              : nullptr;
    };
    for (const auto& r : references) {
        if (!considered(r, based))
            continue;
        const auto resolved = resolve_reference(path, r.url, options.base);
        if (!resolved)
            continue; // another site, data:, a fragment...
        const ReferenceTarget t = target(*resolved);
        switch (t.state) {
        case ReferenceTarget::State::unchanged: break;
        case ReferenceTarget::State::missing:
        case ReferenceTarget::State::failed: {
            const bool failed = t.state == ReferenceTarget::State::failed;
            if (!failed && (r.role == Reference::Role::link || r.role == Reference::Role::back))
                break; // a page served by something else, or a map's note of its script
            std::string why =
                "\"" + r.url + "\" names " + *resolved + (failed ? ", which failed to build" : ", which is not in SRC");
            out.missing.push_back(why);
            if (warned.insert(*resolved).second)
                out.warnings.push_back(why + ": left as written");
            break;
        }
        case ReferenceTarget::State::waiting:
            if (r.role != Reference::Role::back)
                throw Error(ErrorKind::asset, "\"" + r.url + "\" names " + *resolved +
                                                  ", which appeared while this build ran; build again");
            break;
        case ReferenceTarget::State::built: {
            const AssetRecord& record = *t.record;
            if (record.kind == AssetKind::image && r.element == "img" && r.attribute == "src")
                if (const ImageTag* tag = image_tag_at(r.begin)) {
                    auto more = picture_edits(*tag, path, r.url, record, options);
                    if (!more.empty()) {
                        edits.insert(edits.end(), std::make_move_iterator(more.begin()),
                                     std::make_move_iterator(more.end()));
                        break;
                    }
                }
            const OutputFile* o = output_for_url(record);
            if (!o || o->path == *resolved)
                break;
            edits.push_back({r.begin, r.end, reference_url(r.url, path, o->path, options.base)});
            if (o->integrity.empty())
                break;
            if (r.integrity) // the source's own would block the rewritten file
                edits.push_back({r.integrity->first, r.integrity->second, o->integrity});
            else if (options.integrity && r.checks_integrity)
                edits.push_back({r.attributes_end, r.attributes_end, " integrity=\"" + o->integrity + "\""});
            break;
        }
        }
    }
    std::stable_sort(edits.begin(), edits.end(), [](const Edit& a, const Edit& b) { return a.begin < b.begin; });
    out.text.reserve(text.size() + 64 * edits.size());
    std::size_t at = 0;
    for (const auto& e : edits) {
        if (e.begin < at)
            continue; // overlapping: cannot happen with find_references() ranges
        out.text.append(text.substr(at, e.begin - at));
        out.text += e.text;
        at = e.end;
        out.edits += std::to_string(e.begin) + " " + std::to_string(e.end) + " " + e.text + "\n";
    }
    out.text.append(text.substr(at));
    for (const auto& w : out.warnings)
        out.edits += "warning " + w + "\n";
    return out;
}

} // namespace cachet
