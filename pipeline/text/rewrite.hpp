#pragma once
#include "pipeline/publish/manifest.hpp"
#include "pipeline/text/references.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace cachet {

// How rewriting sees a file that a text file refers to.
struct ReferenceTarget {
    enum class State {
        missing,   // no source of this build has that path
        unchanged, // its output keeps the source's name: the URL stays as written
        failed,    // a source of this build that failed to build
        waiting,   // not built yet (only a back-reference may meet one: it stays as written)
        built,     // record holds its outputs
    };
    State state = State::missing;
    const AssetRecord* record = nullptr;
};

struct RewriteOptions {
    std::string base = "/"; // the URL path SRC is served at
    bool picture = false;   // html.picture: <img src> of an image becomes a <picture>
    bool integrity = false; // html.integrity: <script src> and <link rel=stylesheet|preload|modulepreload>
                            // get an integrity attribute
};

// The sources a text file at path refers to, as normalised paths relative to SRC, sorted and
// without repeats: what it loads or links to, and what it names by back-reference only.
struct Dependencies {
    std::vector<std::string> loads;
    std::vector<std::string> back;
    bool operator==(const Dependencies&) const = default;
};
Dependencies dependencies_of(std::string_view path, const std::vector<Reference>& references, std::string_view base);

struct Rewritten {
    std::string text;
    std::vector<std::string> warnings;
    std::vector<std::string> missing; // each reference to a file not in SRC or failed, described (for --strict)
    std::string edits;                // every change made and why not others, for cache keys
};

// text, the file at path with the given references (find_references()), with each reference to
// a built source replaced by the URL of its output, in the style it was written in (relative,
// root-relative, query and fragment kept). With options.picture, an HTML <img src> of an image
// (outside <picture>, without srcset) becomes a <picture> with a <source> per modern format,
// srcset at every width, and width and height unless given. References to missing or failed
// files stay as written, with a warning (not for links and back-references to missing files).
// An HTML element's integrity attribute is set to the new output's; with options.integrity,
// elements whose integrity browsers check get one. A document with <base href> keeps its
// relative URLs. Throws Error(asset) if a reference
// other than a back-reference meets a target still waiting (the file changed during the build).
Rewritten rewrite_references(std::string_view path, std::string_view text, const std::vector<Reference>& references,
                             const std::function<ReferenceTarget(const std::string&)>& target,
                             const RewriteOptions& options);

} // namespace cachet
