// Every parser of what a site hands cachet is linear in its input (issue 18, item 6): each is
// run on a hostile input and on the same input ten times longer, and the work it does, counted
// in basic blocks executed (the parsers are compiled with -fsanitize-coverage=trace-pc, which
// calls __sanitizer_cov_trace_pc in each), must grow about tenfold, not a hundredfold. Counts,
// not time: the same on every machine, however loaded.
//
//     linearity            exit 1 naming each parser whose work grows faster than its input
#include "pipeline/fs/glob.hpp"
#include "pipeline/model/error.hpp"
#include "pipeline/publish/manifest.hpp"
#include "pipeline/text/reading.hpp"
#include "pipeline/text/references.hpp"
#include "pipeline/text/script_names.hpp"

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace {

std::uint64_t g_steps = 0;

} // namespace

extern "C" void __sanitizer_cov_trace_pc() // NOLINT: the name the compiler calls
{
    ++g_steps;
}

namespace {

using namespace cachet;

std::string repeat(const std::string& unit, int n)
{
    std::string out;
    out.reserve(unit.size() * static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i)
        out += unit;
    return out;
}

struct Case {
    const char* name;
    std::function<std::string(int)> input; // the hostile input at scale n
    std::function<void(const std::string&)> parse;
};

void references(const char* path, const std::string& text)
{
    (void)find_references(path, text);
    if (may_hold_scripts(path))
        (void)names_in_scripts(path, text);
}

} // namespace

int main()
{
    const std::vector<Case> cases = {
        {"HTML: one tag with many attributes",
         [](int n) { return "<link rel=\"stylesheet\" href=\"a.css\"" + repeat(" data-a=\"v\"", n) + ">"; },
         [](const std::string& t) { references("index.html", t); }},
        {"HTML: many tags, comments and scripts",
         [](int n) {
             return repeat("<!-- c --><img src=\"a.png\" srcset=\"a.png 1x, b.png 2x\"><script>fetch('x.json')"
                           "</script><a href=\"p.html\">p</a>\n",
                           n);
         },
         [](const std::string& t) { references("index.html", t); }},
        {"HTML: an unclosed comment, tag and attribute", [](int n) { return "<!--" + repeat("<a href=\"", n); },
         [](const std::string& t) { references("index.html", t); }},
        {"HTML: <img> tags", [](int n) { return repeat("<img src=\"a.png\" alt=\"\" width=1>", n); },
         [](const std::string& t) { (void)find_image_tags(t); }},
        {"CSS: many url() and @import",
         [](int n) { return repeat("@import \"a.css\"; .x{background:url(a.png)} /* c */ ", n); },
         [](const std::string& t) { references("a.css", t); }},
        {"CSS: an unclosed url( and string", [](int n) { return repeat("url(", n) + repeat("\"", n); },
         [](const std::string& t) { references("a.css", t); }},
        {"JavaScript: strings, regexes and comments",
         [](int n) { return repeat("const a = 'x.json' + \"y.png\"; /re\\/[/]/g; // c\n/* d */", n); },
         [](const std::string& t) { references("app.js", t); }},
        {"JavaScript: an unclosed string", [](int n) { return "'" + repeat("a\\'", n); },
         [](const std::string& t) { references("app.js", t); }},
        {"source map: a long map",
         [](int n) { return "{\"version\":3,\"file\":\"app.js\",\"sources\":[" + repeat("\"a.js\",", n) + "\"b\"]}"; },
         [](const std::string& t) { references("app.js.map", t); }},
        {"web manifest: many icons",
         [](int n) { return "{\"icons\":[" + repeat("{\"src\":\"i.png\",\"sizes\":\"1x1\"},", n) + "{}]}"; },
         [](const std::string& t) { references("site.webmanifest", t); }},
        {"srcset: many candidates", [](int n) { return repeat("a.png 1x, ", n) + "b.png 2x"; },
         [](const std::string& t) {
             std::vector<Reference> out;
             reading::srcset_references(t, 0, out);
         }},
        {"manifest: many outputs",
         [](int n) {
             std::string assets;
             for (int i = 0; i < n; ++i)
                 assets += std::string(i ? "," : "") + "\"f" + std::to_string(i) +
                           ".txt\":{\"kind\":\"passthrough\",\"source\":{\"bytes\":1,\"digest\":\"sha256-x\"},"
                           "\"outputs\":[{\"path\":\"f" +
                           std::to_string(i) +
                           ".txt\",\"bytes\":1,\"content_type\":\"text/plain\",\"integrity\":\"sha384-x\","
                           "\"cache_control\":\"no-cache\",\"fingerprinted\":false}]}";
             return "{\"version\":" + std::to_string(k_manifest_version) + ",\"assets\":{" + assets + "}}";
         },
         [](const std::string& t) { (void)parse_manifest(t, "m.json"); }},
        {"glob: many ** against a deep path",
         [](int n) { return repeat("**/", n / 10 + 2) + "x\n" + repeat("d/", n / 10 + 2) + "y"; },
         [](const std::string& t) {
             const std::size_t split = t.find('\n');
             (void)glob_match(t.substr(0, split), t.substr(split + 1));
         }},
    };
    constexpr int k_small = 2000;
    int failures = 0;
    for (const Case& c : cases) {
        std::uint64_t steps[2] = {0, 0};
        for (int i = 0; i < 2; ++i) {
            const std::string input = c.input(i == 0 ? k_small : k_small * 10);
            g_steps = 0;
            try {
                c.parse(input);
            } catch (const Error&) { // a refusal is an answer too; it must come as fast
            }
            steps[i] = g_steps;
        }
        const double growth = steps[0] ? static_cast<double>(steps[1]) / static_cast<double>(steps[0]) : 0;
        // Linear work grows 10x (a little more where a vector doubles once more); quadratic, 100x.
        const bool linear = steps[0] > 0 && growth < 20;
        std::printf("%-48s %12llu -> %12llu steps  x%.1f%s\n", c.name, static_cast<unsigned long long>(steps[0]),
                    static_cast<unsigned long long>(steps[1]), growth, linear ? "" : "  NOT LINEAR");
        failures += linear ? 0 : 1;
    }
    return failures == 0 ? 0 : 1;
}
