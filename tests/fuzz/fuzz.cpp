// libFuzzer targets for every parser that reads what a site or a user hands cachet (issue 18):
// one binary per target, chosen by CACHET_FUZZ_TARGET when it is compiled (tests/CMakeLists.txt).
// Each call must return without a crash, a sanitizer report or an exception other than the
// documented ones; the seeds are in tests/fuzz/corpus/<target>/.
#include "pipeline/cache/action_result.hpp"
#include "pipeline/config/config.hpp"
#include "pipeline/fs/glob.hpp"
#include "pipeline/image/png_chunks.hpp"
#include "pipeline/model/error.hpp"
#include "pipeline/publish/manifest.hpp"
#include "pipeline/text/esbuild.hpp"
#include "pipeline/text/reading.hpp"
#include "pipeline/text/references.hpp"
#include "pipeline/text/script_names.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace cachet;

constexpr std::string_view k_target = CACHET_FUZZ_TARGET;

// What a site's file of that name would get from the build: references, and the names scripts spell.
void read_as(std::string_view path, std::string_view text)
{
    for (const Reference& r : find_references(path, text)) {
        if (r.begin > r.end || r.end > text.size() || r.attributes_end > text.size())
            __builtin_trap(); // a reference must name a range of the text: the rewriter edits it
        (void)resolve_reference(path, r.url);
        (void)url_suffix(r.url);
    }
    if (may_hold_scripts(path))
        for (const std::string& name : names_in_scripts(path, text))
            (void)named_in_scripts({name}, "a/b.js");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (k_target == "css") {
        read_as("site/a.css", text);
    } else if (k_target == "html") {
        read_as("site/index.html", text);
        (void)find_image_tags(text);
    } else if (k_target == "js") {
        read_as("site/app.js", text);
    } else if (k_target == "sourcemap") {
        read_as("site/app.js.map", text);
    } else if (k_target == "webmanifest") {
        read_as("site/site.webmanifest", text);
    } else if (k_target == "srcset") {
        std::vector<Reference> out;
        reading::srcset_references(text, 0, out);
        for (const Reference& r : out)
            if (r.begin > r.end || r.end > text.size())
                __builtin_trap();
    } else if (k_target == "config") {
        Preset preset = load_preset("default");
        try {
            apply_config_text(preset, text, "fuzz.toml");
        } catch (const Error&) { // a clear error is the right answer to a bad file
        }
    } else if (k_target == "manifest") {
        try {
            ManifestHead head;
            for (const AssetRecord& r : parse_manifest(text, "fuzz.json", &head))
                (void)output_paths(r);
        } catch (const Error&) {
        }
    } else if (k_target == "action_result") { // what a remote cache server hands back
        if (const auto result = decode_action_result(ByteView(data, size))) {
            const auto again = decode_action_result(encode_action_result(*result));
            if (!again || !(*again == *result))
                __builtin_trap(); // what was read must survive a round trip
        }
    } else if (k_target == "png") { // a source PNG, read chunk by chunk
        const ByteView png(data, size);
        for (const auto profile : {PngProfile::keep, PngProfile::refuse})
            for (const auto exif : {SourceExif::refuse, SourceExif::drop})
                (void)png_without_metadata(png, profile, exif);
        if (const auto again = png_recompressed(png, 1))
            if (again->size() >= size || !png_without_metadata(*again, PngProfile::keep, SourceExif::drop))
                __builtin_trap(); // smaller, and as well formed as what it came from
    } else if (k_target == "esbuild_packet") {
        // What esbuild's service answers.
        if (const auto packet = decode_esbuild_packet(ByteView(data, size))) {
            const Bytes bytes = encode_esbuild_packet(*packet);
            const auto again = decode_esbuild_packet(ByteView(bytes).subspan(4));
            if (!again || encode_esbuild_packet(*again) != bytes)
                __builtin_trap(); // what was read must survive a round trip
        }
    } else if (k_target == "glob") {
        const std::size_t split = text.find('\n');
        if (split != std::string_view::npos)
            (void)glob_match(text.substr(0, split), text.substr(split + 1));
    }
    return 0;
}
