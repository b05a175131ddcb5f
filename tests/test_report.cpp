// What a build tells its user (issue 20): the report's full-size totals, the largest
// downloads, the -v table, the default large-file warning; the progress line in a real
// pseudo-terminal at 60 and 120 columns; colours by --color and NO_COLOR.
#include "tests/test_support.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

namespace fs = std::filesystem;
using namespace cachet;

namespace {

// A site with something of every kind, a broken reference, a file with a long name, and a
// text of ~1.4 MB that compresses to over 500 KiB (random hexadecimal).
fs::path report_site(const test::TempDir& dir)
{
    const fs::path src = test::copy_site(dir);
    std::string hex;
    std::uint32_t x = 12345;
    for (int i = 0; i < 1'400'000; ++i) {
        x = x * 1664525u + 1013904223u;
        hex += "0123456789abcdef"[x >> 28];
    }
    test::spit(src / "data/big.txt", hex);
    test::spit(src / "broken.html", "<img src=\"img/missing.png\">\n");
    fs::copy_file(src / "img/logo.png",
                  src / "img/a-file-with-a-name-long-enough-to-need-shortening-on-any-terminal-of-sixty-columns.png");
    return src;
}

// What a browser that takes every format and encoding downloads for each source at full size,
// worked out from the manifest alone: an image's widest outputs (originals aside), most
// preferred format first; a text's first output, smallest variant.
std::map<std::string, std::uint64_t> delivered_by_kind(const nlohmann::json& manifest)
{
    const std::map<std::string, int> preference{{"avif", 5}, {"webp", 4}, {"gif", 3}, {"png", 2}, {"jpeg", 1}};
    std::map<std::string, std::uint64_t> out;
    for (const auto& [source, asset] : manifest["assets"].items()) {
        const auto& outputs = asset["outputs"];
        std::uint64_t bytes = 0;
        if (asset["kind"] == "image") {
            int widest = 0, best = 0;
            for (const auto& o : outputs)
                if (!o["original"].get<bool>())
                    widest = std::max(widest, o["width"].get<int>());
            for (const auto& o : outputs)
                if (!o["original"].get<bool>() && o["width"] == widest &&
                    preference.at(o["format"].get<std::string>()) > best) {
                    best = preference.at(o["format"].get<std::string>());
                    bytes = o["bytes"].get<std::uint64_t>();
                }
        } else {
            bytes = outputs[0]["bytes"].get<std::uint64_t>();
            for (const auto& e : outputs[0].value("encodings", nlohmann::json::array()))
                bytes = std::min(bytes, e["bytes"].get<std::uint64_t>());
        }
        out[asset["kind"].get<std::string>()] += bytes;
    }
    return out;
}

std::size_t count(const std::string& text, std::string_view what)
{
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
        ++n;
    return n;
}

} // namespace

TEST_CASE("the build report gives full-size downloads per kind, the largest, a -v table, and warns over 500 KiB",
          "[report][e2e]")
{
    test::TempDir dir;
    const fs::path src = report_site(dir);
    const auto p = test::run_cachet(
        {"build", src.string(), "-o", (dir / "out").string(), "--cache-dir", (dir / "cache").string(), "--json", "-v"});
    INFO(p.err);
    REQUIRE(p.exit_code == 0);
    const auto doc = nlohmann::json::parse(p.out);
    const auto manifest = test::read_json(dir / "out/cachet-manifest.json");
    for (const auto& [kind, bytes] : delivered_by_kind(manifest)) {
        INFO(kind);
        CHECK(doc["kinds"][kind]["delivered"]["bytes"] == bytes);
    }
    // Full size only: less than every width added up, which is what the report used to show.
    std::uint64_t every_width = 0;
    for (const auto& [format, f] : doc["kinds"]["image"]["outputs"].items())
        every_width += f["bytes"].get<std::uint64_t>();
    CHECK(doc["kinds"]["image"]["delivered"]["bytes"].get<std::uint64_t>() < every_width / 3);
    CHECK_THAT(
        p.err,
        Catch::Matches(
            R"([\s\S]*\n  image: +13 files, [0-9.]+ KiB -> [0-9.]+ KiB \(-[0-9]+%\) at full size as avif[^;\n]*; a plain <img> gets [0-9.]+ KiB \(-[0-9]+%\)\n[\s\S]*)"));

    // The largest download is the big text, first of five; it gets the default warning.
    REQUIRE(doc["largest"].size() == 5);
    CHECK(doc["largest"][0]["path"] == "data/big.txt");
    for (std::size_t i = 1; i < 5; ++i)
        CHECK(doc["largest"][i - 1]["delivered"] >= doc["largest"][i]["delivered"]);
    CHECK_THAT(p.err, Catch::Contains("largest downloads:\n") && Catch::Contains("KiB  data/big.txt (br)\n"));
    REQUIRE(doc["large"].size() == 1);
    CHECK(doc["large"][0]["path"] == "data/big.txt");
    CHECK(doc["grown"].empty()); // ("never heavier than the source": tests/test_run.cpp shows a file that grew)
    CHECK_THAT(p.err, Catch::Contains("cachet: warning: data/big.txt: ") && Catch::Contains("over 500.0 KiB"));
    bool warned = false;
    for (const auto& w : doc["warnings"])
        warned = warned || (w["path"] == "data/big.txt" &&
                            w["message"].get<std::string>().find("set [[budgets]]") != std::string::npos);
    CHECK(warned);

    // -v: a row per source, by path, under a header.
    std::vector<std::string> rows;
    const std::string& err = p.err;
    const auto header = err.find("\n  source ");
    REQUIRE(header != std::string::npos);
    for (auto at = err.find('\n', header + 1); at != std::string::npos && err.compare(at + 1, 2, "  ") == 0;
         at = err.find('\n', at + 1))
        rows.push_back(err.substr(at + 3, err.find(' ', at + 3) - at - 3));
    std::vector<std::string> sources;
    for (const auto& [source, asset] : manifest["assets"].items())
        sources.push_back(source);
    CHECK(rows == sources);
    CHECK_THAT(err, Catch::Contains("written (every width and variant): avif "));

    // With [[budgets]] the site has its own limits: no default warning.
    test::spit(dir / "budgets.toml", "[[budgets]]\nmatch = \"**\"\nmax = \"100M\"\n");
    const auto q = test::run_cachet({"build", src.string(), "-o", (dir / "out").string(), "--cache-dir",
                                     (dir / "cache").string(), "--json", "--config", (dir / "budgets.toml").string()});
    CHECK(q.exit_code == 0);
    CHECK(nlohmann::json::parse(q.out)["large"].empty());
    CHECK(q.err.find("over 500.0 KiB") == std::string::npos);
}

TEST_CASE("the progress line fits a 60 or 120 column terminal and leaves no stale line, and colours follow "
          "--color and NO_COLOR",
          "[report][e2e][terminal]")
{
    test::TempDir dir;
    const fs::path src = report_site(dir);
    const std::string pty = (test::fixtures().parent_path() / "tests/pty_run.py").string();
    for (const int columns : {60, 120}) {
        INFO(columns << " columns");
        const auto p = test::run_program({"python3", pty, std::to_string(columns), test::cachet_binary(), "build",
                                          src.string(), "-o", (dir / ("out" + std::to_string(columns))).string(),
                                          "--no-cache", "-j", "1", "-v"});
        INFO(p.out);
        REQUIRE(p.exit_code == 0);
        std::size_t drawn = 0;
        std::string screen; // what stays on the screen: each line as its last \r left it
        std::size_t line_start = 0;
        for (std::size_t at = 0; at <= p.out.size(); ++at) {
            if (at < p.out.size() && p.out[at] != '\n')
                continue;
            std::string line = p.out.substr(line_start, at - line_start);
            line_start = at + 1;
            // Every redraw of the progress line fits in the terminal, less a column.
            for (std::size_t draw = line.find("\x1b[2K["); draw != std::string::npos;
                 draw = line.find("\x1b[2K[", draw + 1)) {
                const std::size_t end = line.find('\r', draw);
                const std::string text = line.substr(draw + 4, end == std::string::npos ? end : end - draw - 4);
                CHECK(text.size() <= static_cast<std::size_t>(columns - 1));
                ++drawn;
            }
            if (!line.empty() && line.back() == '\r')
                line.pop_back();
            const auto last = line.rfind('\r');
            screen += (last == std::string::npos ? line : line.substr(last + 1)) + "\n";
        }
        CHECK(drawn >= 3);
        // No progress line is left behind: every line on screen was cleared first.
        for (std::size_t at = screen.find("ETA"); at != std::string::npos; at = screen.find("ETA", at + 1)) {
            const auto start = screen.rfind('\n', at) + 1;
            CHECK(screen.compare(start, 4, "\x1b[2K") == 0);
            CHECK(screen.find('\n', at) == screen.find_first_not_of(" -:0123456789ETA/[]savedKiBM.", at));
        }
        // The long name is shortened from the left in the table, whose rows fit too.
        CHECK_THAT(screen, Catch::Contains("...") && Catch::Contains("olumns.png  built"));
        for (std::size_t at = screen.find("\n  source"); at != std::string::npos && at + 1 < screen.size();) {
            const auto end = screen.find('\n', at + 1);
            if (screen.compare(at + 1, 2, "  ") != 0 || screen.compare(at + 1, 8, "  image:") == 0)
                break;
            CHECK(end - at - 1 <= static_cast<std::size_t>(columns - 1));
            at = end;
        }
        // On a terminal, warnings are yellow (the broken reference).
        CHECK_THAT(p.out, Catch::Contains("\x1b[33mcachet: warning:\x1b[0m broken.html"));
    }
    const auto no_colour = [&](std::vector<std::string> argv) {
        argv.insert(argv.end(), {test::cachet_binary(), "build", src.string(), "-o", (dir / "outc").string(),
                                 "--cache-dir", (dir / "cache").string()});
        const auto p = test::run_program(argv);
        INFO(p.out << p.err);
        CHECK(p.exit_code == 0);
        return (p.out + p.err).find("\x1b[33m") == std::string::npos;
    };
    CHECK(no_colour({"env", "NO_COLOR=1", "python3", pty, "80"}));
    CHECK(no_colour({"python3", pty, "80", "env", "NO_COLOR=1"}));
    CHECK(!no_colour({"python3", pty, "80"}));
    CHECK(no_colour({"env", "--", "--color=never"}) == true);
    // Not a terminal: no colour, unless --color=always.
    CHECK(no_colour({"env"}));
    const auto always = test::run_cachet({"--color=always", "build", src.string(), "-o", (dir / "outc").string(),
                                          "--cache-dir", (dir / "cache").string()});
    CHECK_THAT(always.err, Catch::Contains("\x1b[33mcachet: warning:\x1b[0m broken.html"));
    const auto after = test::run_cachet({"build", src.string(), "-o", (dir / "outc").string(), "--cache-dir",
                                         (dir / "cache").string(), "--color", "always"});
    CHECK_THAT(after.err, Catch::Contains("\x1b[33mcachet: warning:"));
    CHECK(count(after.err, "broken.html: \"img/missing.png\"") == 1);
}

TEST_CASE("cachet report escapes every name, says when a source changed, and holds no external reference",
          "[report][e2e]")
{
    test::TempDir dir;
    const fs::path src = dir / "src";
    fs::create_directories(src / "img");
    fs::copy_file(test::fixtures() / "site/img/logo.png", src / "img/<b>x&y'.png");
    fs::copy_file(test::fixtures() / "site/img/hero.jpg", src / "img/hero.jpg");
    test::spit(src / "app.js", std::string(3000, 'a'));
    REQUIRE(test::run_cachet({"build", src.string(), "-o", (dir / "out").string(), "--no-cache", "-q"}).exit_code == 0);
    // The photo changes after the build: it gets no distance, and the page says why.
    fs::copy_file(test::fixtures() / "site/img/greyscale.jpg", src / "img/hero.jpg",
                  fs::copy_options::overwrite_existing);
    const auto p = test::run_cachet({"report", (dir / "out").string(), "--src", src.string()});
    INFO(p.err);
    REQUIRE(p.exit_code == 0);
    CHECK_THAT(p.out, Catch::Contains("<h2>img/&lt;b&gt;x&amp;y&#39;.png</h2>") ||
                          Catch::Contains("<h2>img/&lt;b&gt;x&amp;y&apos;.png</h2>"));
    CHECK(p.out.find("<b>x&") == std::string::npos);
    CHECK_THAT(p.out, Catch::Contains("the source changed since the build: no distances"));
    CHECK(count(p.out, "class=\"distance\"") >= 2); // the PNG's formats still have theirs
    // Nothing but data: URIs: no src, href or url() that names anything else.
    for (const char* attribute : {"src=\"", "href=\"", "url("}) {
        INFO(attribute);
        for (auto at = p.out.find(attribute); at != std::string::npos; at = p.out.find(attribute, at + 1))
            CHECK(p.out.compare(at + std::string_view(attribute).size(), 5, "data:") == 0);
    }
    CHECK_THAT(p.out, Catch::Contains("<tr><td>app.js</td>"));
    const auto none = test::run_cachet({"report", (dir / "nothing").string()});
    CHECK(none.exit_code == 2);
}
