#include "pipeline/text/minify.hpp"

#include "pipeline/fs/atomic_file.hpp"
#include "pipeline/fs/child_process.hpp"
#include "pipeline/fs/file_stat.hpp"
#include "pipeline/model/content_type.hpp"
#include "pipeline/model/error.hpp"
#include "pipeline/text/esbuild.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>

namespace cachet {
namespace {

constexpr std::size_t k_max_bytes = 8u << 20;
constexpr std::size_t k_minified_line = 200; // mean bytes per line above which a file is minified
// esbuild's address space: a hostile input (nesting 100,000 deep) ends it at about 540 MB of
// memory, not the machine; an 8 MiB script, the largest minified, takes about 470 MB (Go
// reserves far more address space than it uses: 1 GiB fails from about 4 MB of script).
constexpr std::uint64_t k_address_space = std::uint64_t{2} << 30;
constexpr std::chrono::seconds k_timeout{60};
constexpr std::string_view k_record_magic = "cachet-esbuild 1";

std::string stat_line(const std::string& path)
{
    const auto st = stat_file(path);
    if (!st)
        return "-";
    std::ostringstream out;
    out << st->size << ' ' << st->mtime_ns << ' ' << st->inode;
    return out.str();
}

// esbuild's version: from cache_dir's record when the file there is unchanged, else by running it
// (and recorded). nullopt if it cannot be run.
std::optional<std::string> version_of(const std::string& path, const std::filesystem::path& cache_dir)
{
    const std::filesystem::path record = cache_dir / "esbuild-version";
    const std::string key = std::string(k_record_magic) + "\n" + path + "\n" + stat_line(path) + "\n";
    if (!cache_dir.empty()) {
        try {
            const Bytes bytes = read_file(record);
            const std::string_view text = as_text(bytes);
            if (text.size() > key.size() && text.substr(0, key.size()) == key && text.back() == '\n')
                return std::string(text.substr(key.size(), text.size() - key.size() - 1));
        } catch (const Error&) {
            // not recorded yet
        }
    }
    std::string version;
    try {
        version = esbuild_version(path);
    } catch (const Error&) {
        return std::nullopt;
    }
    if (!cache_dir.empty()) {
        try {
            write_file_atomic(record, as_bytes(key + version + "\n"), Durability::cache);
        } catch (const Error&) {
            // a read-only cache: asked again next time
        }
    }
    return version;
}

bool ends_with(std::string_view s, std::string_view suffix)
{
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

} // namespace

Minifiable minifiable(std::string_view path)
{
    const std::string ext = extension_of(path);
    const auto slash = path.rfind('/');
    const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
    const bool says_minified = name.find(".min.") != std::string_view::npos || ends_with(name, "-min." + ext) ||
                               ends_with(name, "_min." + ext);
    if (says_minified)
        return Minifiable::no;
    if (ext == "js" || ext == "mjs" || ext == "cjs")
        return Minifiable::script;
    if (ext == "css")
        return Minifiable::stylesheet;
    return Minifiable::no;
}

std::string_view left_as_is(std::string_view text)
{
    if (text.size() > k_max_bytes)
        return "over 8 MiB";
    if (text.find("# sourceMappingURL=") != std::string_view::npos ||
        text.find("@ sourceMappingURL=") != std::string_view::npos)
        return "it names a source map";
    const auto lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
    if (text.size() / lines > k_minified_line)
        return "minified already";
    return "";
}

bool reads_own_source(std::string_view text)
{
    auto space = [&](std::size_t i) {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
            ++i;
        return i;
    };
    // function (require ...: a CommonJS-style factory, found by RequireJS in its source
    for (std::size_t at = text.find("function"); at != std::string_view::npos; at = text.find("function", at + 1)) {
        std::size_t i = space(at + 8);
        if (i >= text.size() || text[i] != '(')
            continue;
        i = space(i + 1);
        if (text.substr(i, 7) != "require")
            continue;
        const char next = i + 7 < text.size() ? text[i + 7] : ')';
        if (!std::isalnum(static_cast<unsigned char>(next)) && next != '_' && next != '$')
            return true;
    }
    return text.find("angular.module(") != std::string_view::npos || text.find("$inject") != std::string_view::npos;
}

std::vector<std::string> minify_flags(Minifiable kind, bool uses_object_extensions, bool keep_names)
{
    std::vector<std::string> flags{"--legal-comments=inline", "--log-level=silent"};
    if (keep_names) {
        flags.emplace_back("--minify-whitespace");
        flags.emplace_back("--minify-syntax");
    } else {
        flags.emplace_back("--minify");
    }
    if (kind == Minifiable::stylesheet) {
        for (const char* f : {"--loader=css", "--supported:hex-rgba=false", "--supported:inset-property=false",
                              "--supported:modern-rgb-hsl=false"})
            flags.emplace_back(f);
        return flags;
    }
    for (const char* f : {"--loader=js", "--supported:optional-catch-binding=false",
                          "--supported:nullish-coalescing=false", "--supported:optional-chain=false",
                          "--supported:logical-assignment=false", "--supported:typeof-exotic-object-is-object=false"})
        flags.emplace_back(f);
    if (!uses_object_extensions)
        flags.emplace_back("--supported:object-extensions=false");
    return flags;
}

Minifier::Minifier(const std::string& program, const std::filesystem::path& cache_dir)
{
    const auto found = find_program(program);
    m_program = found.value_or(program);
    m_stat = stat_line(m_program);
    if (found)
        m_version = version_of(*found, cache_dir);
    m_identity = m_version ? "esbuild " + *m_version : "esbuild not found";
}

Minifier::~Minifier() = default;

bool Minifier::unchanged() const
{
    return find_program(m_program) == m_program && stat_line(m_program) == m_stat;
}

void Minifier::check() const
{
    if (!m_version)
        throw Error(ErrorKind::install,
                    "text.minify is on, and esbuild (" + m_program +
                        ") cannot be run: install it (apt-get install esbuild), set text.esbuild to its path, or "
                        "set text.minify = false");
}

void Minifier::warm() const
{
    const std::lock_guard lock(m_mutex);
    if (!m_version || !m_idle.empty() || m_warming.valid())
        return;
    try {
        m_warming = std::async(std::launch::async, [this] {
            return std::make_unique<EsbuildService>(m_program, *m_version, k_address_space);
        });
    } catch (const std::system_error&) {
        // no thread to start it on: take() starts it when it is needed
    }
}

std::unique_ptr<EsbuildService> Minifier::take() const
{
    std::future<std::unique_ptr<EsbuildService>> warming;
    {
        const std::lock_guard lock(m_mutex);
        if (!m_idle.empty()) {
            auto service = std::move(m_idle.back());
            m_idle.pop_back();
            return service;
        }
        warming = std::move(m_warming);
    }
    if (warming.valid()) {
        try {
            return warming.get();
        } catch (const Error&) {
            // it did not start: started again below, which reports why where it is needed
        }
    }
    check();
    return std::make_unique<EsbuildService>(m_program, *m_version, k_address_space);
}

void Minifier::give_back(std::unique_ptr<EsbuildService> service) const
{
    const std::lock_guard lock(m_mutex);
    m_idle.push_back(std::move(service));
}

Minifier::Outcome Minifier::minify(Minifiable kind, ByteView text) const
{
    Outcome out;
    if (kind == Minifiable::no)
        return out;
    const bool keep_names = kind == Minifiable::script && reads_own_source(as_text(text));
    auto service = take();
    EsbuildResult result = service->transform(minify_flags(kind, false, keep_names), text, k_timeout);
    if (!result.code && kind == Minifiable::script) // it uses object literal extensions (or is no script)
        result = service->transform(minify_flags(kind, true, keep_names), text, k_timeout);
    give_back(std::move(service)); // (not when transform threw: a broken service is dropped)
    if (!result.code) {
        out.refused = result.errors.empty() ? "esbuild gave no code" : result.errors.front();
        return out;
    }
    // A stylesheet's warnings are rules esbuild read past (old browsers' hacks): left as they are.
    if (kind == Minifiable::stylesheet && !result.warnings.empty()) {
        out.refused = result.warnings.front();
        return out;
    }
    if (result.code->size() < text.size())
        out.bytes = std::move(result.code);
    return out;
}

} // namespace cachet
