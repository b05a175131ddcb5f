#pragma once
#include "pipeline/model/bytes.hpp"

#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachet {

class EsbuildService;

// Which minifier a text file's name calls for: scripts (.js, .mjs, .cjs) and stylesheets (.css),
// none for other names and for names that say they are minified already ("x.min.js").
enum class Minifiable { no, script, stylesheet };
Minifiable minifiable(std::string_view path);

// Why text is shipped as it is rather than minified, or "" if it may be minified: it names a
// source map (which minifying would make wrong), it is minified already (its lines average
// over 200 bytes), or it is over 8 MiB.
std::string_view left_as_is(std::string_view text);

// The flags esbuild minifies with, for a file that does (uses_object_extensions) or does not use
// ES2015 object literal extensions. Minifying never raises the syntax a file needs: shorthand
// properties only where the file has object extensions already, and no ??, ?., ||=, catch
// without a binding nor typeof x<"u" that the file did not have (esbuild writes those out in
// ES5 where the file had them); for stylesheets, no #rrggbbaa colours, inset or space-separated
// rgb(). Legal comments (/*! ... */, @license, @preserve) stay.
//
// keep_names keeps every identifier as written (whitespace and syntax are still minified): for
// scripts that read their own functions' source (reads_own_source()).
std::vector<std::string> minify_flags(Minifiable kind, bool uses_object_extensions, bool keep_names = false);

// Whether a script reads the text of its own functions, where renaming a parameter breaks it:
// RequireJS finds the dependencies of a factory written function (require, ...) { require('x') }
// in its source, and AngularJS 1.x injects services by parameter name ($scope, $http).
bool reads_own_source(std::string_view text);

// Minifies scripts and stylesheets through esbuild (text.esbuild: a path, or a name on PATH), run
// as services started when first needed, one per thread that minifies at once. Thread safe.
class Minifier {
public:
    // Nothing is started here. cache_dir (if not empty) keeps esbuild's version by its file's
    // stat, so that a build reads it without running esbuild.
    Minifier(const std::string& program, const std::filesystem::path& cache_dir);
    ~Minifier();
    Minifier(const Minifier&) = delete;
    Minifier& operator=(const Minifier&) = delete;

    // "esbuild VERSION" (or "esbuild not found"), for the cache keys of minified outputs.
    const std::string& identity() const { return m_identity; }
    // Throws Error(install), saying how to get esbuild, unless it was found.
    void check() const;
    // Whether esbuild's file is as it was when this was made (else make another).
    bool unchanged() const;
    // Starts one service in the background, unless one is idle or starting already (or esbuild
    // was not found): a build that knows it will minify calls it before its other bookkeeping,
    // so that esbuild's start (about 10 ms) is not in the way of the first file. Never throws.
    void warm() const;

    struct Outcome {
        std::optional<Bytes> bytes; // the minified text, if esbuild made it and it is smaller
        std::string refused;        // esbuild's first error when it could not (a syntax error...)
    };
    // text minified as kind. Throws Error(asset) if esbuild broke on it (ended or did not answer
    // within 60 s: the message says so), Error(install) if it cannot be run.
    Outcome minify(Minifiable kind, ByteView text) const;

private:
    std::unique_ptr<EsbuildService> take() const;
    void give_back(std::unique_ptr<EsbuildService> service) const;

    std::string m_program; // the path found, or the setting if none was
    std::string m_stat;    // of that file, when this was made
    std::optional<std::string> m_version;
    std::string m_identity;
    mutable std::mutex m_mutex;
    mutable std::vector<std::unique_ptr<EsbuildService>> m_idle;
    mutable std::future<std::unique_ptr<EsbuildService>> m_warming; // warm()'s, until taken
};

} // namespace cachet
