// Hostile and careless inputs (issue 18): each class of defect a campaign found, closed, and
// checked through the real binary.
#include "tests/test_support.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

namespace fs = std::filesystem;
using namespace cachet;

namespace {

test::Process build_with(const test::TempDir& dir, const std::string& config)
{
    test::spit(dir / "src/index.html", "<p>hi</p>\n");
    test::spit(dir / "hostile.toml", config);
    return test::run_cachet(
        {"build", (dir / "src").string(), "-o", (dir / "out").string(), "--config", (dir / "hostile.toml").string()});
}

} // namespace

TEST_CASE("cachet build: every number setting refuses NaN and the infinities", "[hostile][config]")
{
    for (const std::string setting : {"[text]\nmin_saving", "[images.auto]\ndistance"})
        for (const std::string value : {"nan", "-nan", "inf", "-inf"}) {
            test::TempDir dir;
            INFO(setting << " = " << value);
            const auto p = build_with(dir, setting + " = " + value + "\n");
            CHECK(p.exit_code == 2);
            CHECK_THAT(p.err, Catch::Contains("must be a number from"));
            CHECK_FALSE(fs::exists(dir / "out/cachet-manifest.json"));
        }
}

TEST_CASE("cachet build: a tag with 100,000 attributes is read in one pass, and its references still rewritten",
          "[hostile][references]")
{
    // Each attribute once looked the tag's integrity and rel up again: 40,000 attributes took
    // 7 s, 200,000 never finished. Linear now (this file builds in well under a second; were
    // it quadratic, the test would run into CTest's timeout).
    test::TempDir dir;
    std::string attributes;
    for (int i = 0; i < 100000; ++i)
        attributes += " data-a" + std::to_string(i) + "=\"v\"";
    test::spit(dir / "src/index.html",
               "<link rel=\"stylesheet\" href=\"a.css\"" + attributes + "><img src=\"a.css\"" + attributes + ">\n");
    test::spit(dir / "src/a.css", "body { margin: 0 }\n");
    test::spit(dir / "fast.toml", "[text]\nencodings = []\n");
    const auto p = test::run_cachet({"build", (dir / "src").string(), "-o", (dir / "out").string(), "--config",
                                     (dir / "fast.toml").string(), "--no-cache"});
    INFO(p.err);
    REQUIRE(p.exit_code == 0);
    const std::string page(as_text(test::slurp(dir / "out/index.html")));
    CHECK(page.find("<link rel=\"stylesheet\" href=\"a.") == 0);
    CHECK(page.find("href=\"a.css\"") == std::string::npos);
}

TEST_CASE("cachet build: a pattern of many '**' against a file 40 folders deep decides at once", "[hostile][glob]")
{
    // It ran for minutes: glob matching is polynomial now (see test_glob.cpp for the counts).
    test::TempDir dir;
    std::string deep = "src";
    for (int i = 0; i < 40; ++i)
        deep += "/d" + std::to_string(i);
    test::spit(dir / deep / "y.txt", "kept\n");
    test::spit(dir / deep / "x", "ignored\n");
    std::string pattern;
    for (int i = 0; i < 16; ++i)
        pattern += "**/";
    const auto p = build_with(dir, "[output]\nignore = [\"" + pattern + "x\", \"" + pattern + "*/**/z\"]\n");
    INFO(p.err);
    REQUIRE(p.exit_code == 0);
    const std::string inside = deep.substr(4); // without "src/"
    CHECK(fs::exists(dir / "out" / inside / "y.txt"));
    CHECK_FALSE(fs::exists(dir / "out" / inside / "x"));
}

TEST_CASE("cachet build: temporary and staged files a killed build left in OUT are removed by the next build",
          "[hostile][interrupt]")
{
    test::TempDir dir;
    test::spit(dir / "src/index.html", "<p>hi</p>\n");
    test::spit(dir / "src/css/a.css", "p { margin: 0 }\n");
    const auto build = [&] {
        return test::run_cachet(
            {"build", (dir / "src").string(), "-o", (dir / "out").string(), "--cache-dir", (dir / "cache").string()});
    };
    REQUIRE(build().exit_code == 0);
    CHECK_FALSE(fs::exists(dir / "out/.cachet-tmp-build")); // the marker goes when a build ends
    // What a kill -9 leaves: the marker, a staged page, a temporary file in a subfolder.
    test::spit(dir / "out/.cachet-tmp-build", "");
    test::spit(dir / "out/.cachet-tmp-stage-index.html", "<p>half</p>");
    test::spit(dir / "out/css/.cachet-tmp-a.css.Xy12Zq", "p {");
    const auto p = build();
    INFO(p.err);
    REQUIRE(p.exit_code == 0);
    CHECK_THAT(p.err, Catch::Contains("removed 2 temporary files a stopped build left in"));
    for (const auto& f : test::list_files(dir / "out")) {
        INFO(f);
        CHECK(f.find(".cachet-tmp-") == std::string::npos);
    }
    CHECK(test::slurp(dir / "out/index.html") == test::slurp(dir / "src/index.html"));
}

TEST_CASE("cachet build: an output name too long for the file system fails its source only", "[hostile][names]")
{
    // A 250-byte source name: its fingerprinted name (and its temporary name) would be over 255.
    test::TempDir dir;
    const std::string long_name = std::string(246, 'b') + ".css";
    test::spit(dir / "src" / long_name, "p { margin: 0 }\n");
    test::spit(dir / "src/ok.css", "p { padding: 0 }\n");
    test::spit(dir / "src/index.html", "<p>hi</p>\n");
    const auto p = test::run_cachet({"build", (dir / "src").string(), "-o", (dir / "out").string(), "--json"});
    INFO(p.err);
    CHECK(p.exit_code == 1); // an asset failure, not an I/O error that stops the build
    CHECK_THAT(p.err, Catch::Contains("bytes long, over the 255 a file name may have"));
    const auto manifest = test::read_json(dir / "out/cachet-manifest.json");
    CHECK(manifest["assets"].contains("ok.css"));
    CHECK(manifest["assets"].contains("index.html"));
    CHECK_FALSE(manifest["assets"].contains(long_name));
    for (const auto& f : test::list_files(dir / "out")) {
        INFO(f);
        CHECK(f.find(".cachet-tmp-") == std::string::npos);
    }
}

TEST_CASE("cachet build: a file name with a control character is refused, and printed escaped", "[hostile][names]")
{
    // A newline would write a header of its own into `cachet export headers`; an escape sequence
    // would retitle and clear the terminal that prints the name.
    test::TempDir dir;
    const std::string injected = "page\n  Access-Control-Allow-Origin: *\n.html";
    const std::string escaped = std::string("a\x1b]0;TITLE\a\x1b[2J.txt");
    test::spit(dir / "src" / injected, "<p>x</p>\n");
    test::spit(dir / "src" / escaped, "text\n");
    test::spit(dir / "src/index.html", "<p>hi</p>\n");
    const auto p = test::run_cachet({"build", (dir / "src").string(), "-o", (dir / "out").string()});
    INFO(p.err);
    CHECK(p.exit_code == 1);
    CHECK_THAT(p.err, Catch::Contains("page\\x0a  Access-Control-Allow-Origin: *\\x0a.html: file name has a control"));
    CHECK_THAT(p.err, Catch::Contains("a\\x1b]0;TITLE\\x07\\x1b[2J.txt"));
    CHECK(p.err.find('\x1b') == std::string::npos);
    const auto headers =
        test::run_cachet({"export", "headers", "--manifest", (dir / "out/cachet-manifest.json").string()});
    REQUIRE(headers.exit_code == 0);
    CHECK(headers.out.find("Access-Control-Allow-Origin") == std::string::npos);
}

TEST_CASE("cachet export: a manifest whose paths leave OUT or hold control characters is refused", "[hostile][export]")
{
    test::TempDir dir;
    test::spit(dir / "src/index.html", "<p>hi</p>\n");
    REQUIRE(test::run_cachet({"build", (dir / "src").string(), "-o", (dir / "out").string()}).exit_code == 0);
    const std::string good(as_text(test::slurp(dir / "out/cachet-manifest.json")));
    for (const std::string bad : {"../victim.txt", "/etc/passwd", "a/../../b", "x\\ny", "a//b"}) {
        INFO(bad);
        std::string crafted = good;
        const std::string from = "\"path\":\"index.html\"";
        REQUIRE(crafted.find(from) != std::string::npos);
        crafted.replace(crafted.find(from), from.size(), "\"path\": \"" + bad + "\"");
        test::spit(dir / "crafted.json", crafted);
        for (const char* format : {"s3", "nginx", "headers"}) {
            const auto p = test::run_cachet({"export", format, "--manifest", (dir / "crafted.json").string()});
            CHECK(p.exit_code == 2);
            CHECK_THAT(p.err, Catch::Contains("not a valid cachet manifest"));
            CHECK(p.out.empty());
        }
    }
}

TEST_CASE("cachet export and picture: numbers, strings and the version of a manifest are checked as read",
          "[hostile][export]")
{
    // `picture` printed height="-2147483648" for "height": 1e30, and "version": 1.0 passed as 1.
    test::TempDir dir;
    fs::create_directories(dir / "src");
    fs::copy_file(test::fixtures() / "images/one-pixel.png", dir / "src/a.png");
    const auto built =
        test::run_cachet({"build", (dir / "src").string(), "-o", (dir / "out").string(), "--preset", "fast"});
    INFO(built.err);
    REQUIRE(built.exit_code == 0);
    const std::string good(as_text(test::slurp(dir / "out/cachet-manifest.json")));
    const auto crafted_with = [&](const std::string& from, const std::string& to) {
        std::string crafted = good;
        const std::size_t at = crafted.find(from);
        REQUIRE(at != std::string::npos);
        crafted.replace(at, from.size(), to);
        test::spit(dir / "crafted.json", crafted);
    };
    const std::vector<std::pair<std::string, std::string>> lies = {
        {"\"height\":", "\"height\": 1e30, \"x\": "},
        {"\"width\":", "\"width\": -5, \"x\": "},
        {"\"bytes\":", "\"bytes\": -1, \"x\": "},
        {"\"bytes\":", "\"bytes\": 1.5, \"x\": "},
        {"\"version\":", "\"version\": 1.0, \"x\": "},
        {"\"cache_control\":\"", "\"cache_control\": \"public\\r\\nX-Evil: 1"},
        {"\"content_type\":\"", "\"content_type\": \"\\u001b[2J"},
    };
    for (const auto& [from, to] : lies) {
        INFO(to);
        crafted_with(from, to);
        for (const std::vector<std::string>& args :
             {std::vector<std::string>{"picture", "a.png"}, std::vector<std::string>{"export", "headers"},
              std::vector<std::string>{"export", "s3"}}) {
            std::vector<std::string> argv = args;
            argv.insert(argv.end(), {"--manifest", (dir / "crafted.json").string()});
            const auto p = test::run_cachet(argv);
            INFO(args[0] << " " << args[1] << ": " << p.err);
            CHECK(p.exit_code == 2);
            CHECK_THAT(p.err, Catch::Contains("not a valid cachet manifest") || Catch::Contains("manifest version"));
            CHECK(p.out.empty());
            CHECK(p.err.find('\x1b') == std::string::npos);
        }
    }
}

TEST_CASE("cachet build: a libvips failure message is the failing file's own, the same at any -j", "[hostile][images]")
{
    // libvips keeps one error buffer for the process: "b.jpg: cannot decode image: ... bad seek"
    // once carried another file's text, depending on which worker failed first.
    test::TempDir dir;
    const auto cut = [&](const std::string& fixture, const std::string& name, double keep) {
        const Bytes bytes = test::slurp(test::fixtures() / "images" / fixture);
        const auto n = static_cast<std::size_t>(static_cast<double>(bytes.size()) * keep);
        test::spit(dir / "src" / name, as_text(ByteView(bytes.data(), n)));
    };
    cut("cmyk.jpg", "a.jpg", 0.33);
    cut("exif-credits.jpg", "b.jpg", 0.5);
    cut("plays-three-times.gif", "c.gif", 0.5);
    cut("palette-trns.png", "d.png", 0.9);
    cut("cmyk.jpg", "e.jpg", 0.6);
    cut("adobe-rgb.jpg", "f.jpg", 0.5);
    const std::map<std::string, std::string> own = {{"a.jpg", "Jpeg"}, {"b.jpg", "Jpeg"}, {"c.gif", "gif"},
                                                    {"d.png", "png"},  {"e.jpg", "Jpeg"}, {"f.jpg", "Jpeg"}};
    std::string first;
    for (const char* jobs : {"1", "2", "2", "2"}) {
        const auto p = test::run_cachet(
            {"build", (dir / "src").string(), "-o", (dir / "out").string(), "-j", jobs, "--no-cache", "--json"});
        INFO("-j " << jobs << "\n" << p.err);
        REQUIRE(p.exit_code == 1);
        const auto summary = nlohmann::json::parse(p.out);
        REQUIRE(summary["failures"].size() == own.size());
        std::string messages;
        for (const auto& f : summary["failures"]) {
            const std::string path = f["path"];
            const std::string message = f["message"];
            INFO(path << ": " << message);
            CHECK_THAT(message, Catch::StartsWith("cannot decode image: ") && Catch::Contains(own.at(path)));
            messages += path + ": " + message + "\n";
        }
        if (first.empty())
            first = messages;
        CHECK(messages == first);
    }
}

TEST_CASE("cachet clean and retention never delete through a symbolic link to a folder inside OUT",
          "[hostile][retention]")
{
    test::TempDir dir;
    test::spit(dir / "src/index.html", "<p>hi</p>\n");
    test::spit(dir / "src/a.css", "p { margin: 0 }\n");
    test::spit(dir / "elsewhere/x.css", "precious\n");
    test::spit(dir / "elsewhere/a.css", "precious too\n");
    const auto build = [&] {
        return test::run_cachet(
            {"build", (dir / "src").string(), "-o", (dir / "out").string(), "--cache-dir", (dir / "cache").string()});
    };
    REQUIRE(build().exit_code == 0);
    fs::create_directory_symlink(dir / "elsewhere", dir / "out/link");
    // A crafted manifest whose earlier build names files behind the link: `cachet clean` with
    // keep 0 expires them all.
    std::string manifest(as_text(test::slurp(dir / "out/cachet-manifest.json")));
    const std::string from = "\"generations\":[]";
    REQUIRE(manifest.find(from) != std::string::npos);
    manifest.replace(manifest.find(from), from.size(),
                     "\"generations\": [{\"build_id\": \"0123456789abcdef0123\", \"outputs\": [\"link/a.css\", "
                     "\"link/x.css\"]}]");
    test::spit(dir / "out/cachet-manifest.json", manifest);
    const auto clean = test::run_cachet({"clean", (dir / "out").string(), "--keep", "0", "--age", "0"});
    INFO(clean.out << clean.err);
    REQUIRE(clean.exit_code == 0);
    CHECK(as_text(test::slurp(dir / "elsewhere/x.css")) == "precious\n");
    CHECK(fs::exists(dir / "elsewhere/a.css"));
    // A source in a folder that is a link in OUT fails (cachet never writes through it).
    test::spit(dir / "src/link/b.css", "p { padding: 0 }\n");
    const auto p = build();
    INFO(p.err);
    CHECK(p.exit_code == 1);
    CHECK_THAT(p.err, Catch::Contains("is a symbolic link: cachet never writes through a link inside the output"));
    CHECK(test::list_files(dir / "elsewhere").size() == 2);
}

TEST_CASE("cachet build: a cache folder that cannot be written is warned about once, and the build goes on",
          "[hostile][cache]")
{
    test::TempDir dir;
    test::spit(dir / "src/index.html", "<link rel=\"stylesheet\" href=\"a.css\"><p>hi</p>\n");
    test::spit(dir / "src/a.css", "p { margin: 0 }\n");
    test::spit(dir / "src/b.css", "p { padding: 0 }\n");
    // A file where the cache folder should be: it cannot be created at all.
    test::spit(dir / "not-a-folder", "x");
    auto p = test::run_cachet({"build", (dir / "src").string(), "-o", (dir / "out1").string(), "--cache-dir",
                               (dir / "not-a-folder").string(), "--json"});
    INFO(p.err);
    CHECK(p.exit_code == 0);
    CHECK_THAT(p.err, Catch::Contains("the cache cannot be used (") && Catch::Contains("building without it"));
    auto summary = nlohmann::json::parse(p.out);
    CHECK(summary["cache_problem"].is_string());
    CHECK(summary["failed"] == 0);
    CHECK(fs::exists(dir / "out1/index.html"));
    // A cache whose writes fail half way (here: its blobs folder is a file, so every store fails).
    test::spit(dir / "cache/v5/blobs", "not a folder");
    p = test::run_cachet({"build", (dir / "src").string(), "-o", (dir / "out2").string(), "--cache-dir",
                          (dir / "cache").string(), "--json"});
    INFO(p.err);
    CHECK(p.exit_code == 0);
    std::size_t warnings = 0;
    for (std::size_t at = 0; (at = p.err.find("the cache could not be written", at)) != std::string::npos; ++at)
        ++warnings;
    CHECK(warnings == 1);
    summary = nlohmann::json::parse(p.out);
    CHECK_THAT(summary["cache_problem"].get<std::string>(), Catch::Contains("the cache could not be written"));
    CHECK(summary["failed"] == 0);
    CHECK(test::slurp(dir / "out2/cachet-manifest.json").size() > 0);
    CHECK(test::run_cachet({"export", "nginx", "--manifest", (dir / "out2/cachet-manifest.json").string()}).exit_code ==
          0);
}

TEST_CASE("a publication a kill stopped half way is finished by the next build, and export waits for it",
          "[hostile][interrupt]")
{
    // What a kill -9 between two renames of the publication leaves: the journal, one staged page
    // not yet in place (here the new manifest is in place already).
    test::TempDir dir;
    test::spit(dir / "src/index.html", "<p>one</p>\n");
    test::spit(dir / "src/about.html", "<p>about</p>\n");
    const auto build = [&] {
        return test::run_cachet({"build", (dir / "src").string(), "-o", (dir / "out").string()});
    };
    REQUIRE(build().exit_code == 0);
    const Bytes published = test::slurp(dir / "out/about.html");
    test::spit(dir / "out/about.html", "<p>the old bytes</p>\n");
    test::spit(dir / "out/.cachet-tmp-stage-about.html", as_text(published));
    test::spit(dir / "out/.cachet-tmp-build", "");
    test::spit(dir / "out/.cachet-tmp-publish", "cachet rename journal 1\n.cachet-tmp-stage-about.html\tabout.html\n"
                                                ".cachet-tmp-stage-cachet-manifest.json\tcachet-manifest.json\nend\n");
    const auto exported =
        test::run_cachet({"export", "headers", "--manifest", (dir / "out/cachet-manifest.json").string()});
    CHECK(exported.exit_code == 2);
    CHECK_THAT(exported.err, Catch::Contains("a build was stopped while it published"));
    CHECK(exported.out.empty());
    const auto p = build();
    INFO(p.err);
    REQUIRE(p.exit_code == 0);
    CHECK_THAT(p.err, Catch::Contains("finished publishing the build that was stopped") &&
                          Catch::Contains("(1 file put in place)"));
    CHECK(test::slurp(dir / "out/about.html") == published);
    CHECK_FALSE(fs::exists(dir / "out/.cachet-tmp-publish"));
    CHECK(
        test::run_cachet({"export", "headers", "--manifest", (dir / "out/cachet-manifest.json").string()}).exit_code ==
        0);
}

TEST_CASE("cachet cache gc removes the temporary files of writers stopped over an hour ago, not younger ones",
          "[hostile][cache]")
{
    test::TempDir dir;
    test::spit(dir / "src/a.css", "p { margin: 0 }\n");
    REQUIRE(test::run_cachet({"build", (dir / "src").string(), "-o", (dir / "out").string(), "--cache-dir",
                              (dir / "cache").string()})
                .exit_code == 0);
    const fs::path old_file = dir / "cache/v5/blobs/ab/.cachet-tmp-abcd.Xy12Zq";
    const fs::path young_file = dir / "cache/v5/entries/cd/.cachet-tmp-cdef.json.Ab34Cd";
    test::spit(old_file, "half a blob");
    test::spit(young_file, "half an entry, being written now");
    fs::last_write_time(old_file, fs::file_time_type::clock::now() - std::chrono::hours(2));
    const auto p = test::run_cachet({"cache", "gc", "--cache-dir", (dir / "cache").string(), "--max-size", "1G"});
    INFO(p.out << p.err);
    REQUIRE(p.exit_code == 0);
    CHECK_THAT(p.out, Catch::Contains("and 1 temporary files"));
    CHECK_FALSE(fs::exists(old_file));
    CHECK(fs::exists(young_file));
}

TEST_CASE("cachet build: images whose work cannot fit the memory budget fail from their header, before decoding",
          "[hostile][memory][rss]")
{
    // A 4 MB JPEG and a 1 MB PNG of 16000x16000 and 16383x16383 once peaked at 4.8 and 7.6 GB;
    // an animated GIF of 999 frames at 300x300 (29 KB) at 585 MB.
    test::TempDir dir;
    fs::create_directories(dir / "src");
    REQUIRE(test::run_program({"vips", "black", (dir / "src/photo.jpg").string(), "16000", "16000", "--bands", "3"})
                .exit_code == 0);
    REQUIRE(test::run_program({"vips", "black", (dir / "src/graphic.png").string(), "16383", "16383"}).exit_code == 0);
    REQUIRE(
        test::run_program({"vips", "black", (dir / "strip.v").string(), "300", "299700", "--bands", "3"}).exit_code ==
        0);
    REQUIRE(test::run_program({"vips", "gifsave", (dir / "strip.v").string(), (dir / "src/spinner.gif").string(),
                               "--page-height", "300"})
                .exit_code == 0);
    test::spit(dir / "src/index.html", "<img src=\"photo.jpg\" alt=\"\">\n");
    const auto p = test::run_cachet(
        {"build", (dir / "src").string(), "-o", (dir / "out").string(), "-j", "2", "--memory", "512M", "--json"});
    INFO(p.err);
    CHECK(p.exit_code == 1);
    const auto summary = nlohmann::json::parse(p.out);
    REQUIRE(summary["failures"].size() == 3);
    for (const auto& f : summary["failures"])
        CHECK_THAT(f["message"].get<std::string>(),
                   Catch::StartsWith("needs about ") && Catch::Contains("over the build's memory budget of 512.0 MiB"));
    CHECK_THAT(p.err, Catch::Contains("spinner.gif: needs about") && Catch::Contains("(300x300, 999 frames)"));
    CHECK(p.max_rss_kib < 200 * 1024); // nothing was decoded
    CHECK(fs::exists(dir / "out/index.html"));
}

TEST_CASE("cachet build: images wait for room under the memory budget, and one that fits only alone runs alone",
          "[hostile][memory][rss]")
{
    // Three 3000x2000 photos: about 310 MiB of work each side by side at -j 2, about 220 MiB
    // one step at a time (estimates). With a budget of 260 MiB each runs alone, one step at a
    // time; the outputs are those of a build without a budget, and the peak stays under the
    // budget (measured: 184 MiB, against 265 MiB without it).
    test::TempDir dir;
    fs::create_directories(dir / "src");
    for (int i = 0; i < 3; ++i) {
        const std::string noise = (dir / ("n" + std::to_string(i) + ".v")).string();
        REQUIRE(test::run_program({"vips", "gaussnoise", noise, "3000", "2000", "--sigma", "30"}).exit_code == 0);
        REQUIRE(test::run_program({"vips", "bandjoin", noise + " " + noise + " " + noise,
                                   (dir / ("j" + std::to_string(i) + ".v")).string()})
                    .exit_code == 0);
        REQUIRE(test::run_program({"vips", "copy", (dir / ("j" + std::to_string(i) + ".v")).string(),
                                   (dir / "src" / ("p" + std::to_string(i) + ".jpg")).string() + "[Q=85]"})
                    .exit_code == 0);
    }
    const std::string fast = (dir / "fast.toml").string();
    test::spit(fast, "[images]\nwidths = []\n[images.avif]\nspeed = 9\n");
    const auto tight = test::run_cachet({"build", (dir / "src").string(), "-o", (dir / "tight").string(), "-j", "2",
                                         "--config", fast, "--memory", "260M"});
    INFO(tight.err);
    REQUIRE(tight.exit_code == 0);
    const auto free = test::run_cachet({"build", (dir / "src").string(), "-o", (dir / "free").string(), "-j", "2",
                                        "--config", fast, "--memory", "8G"});
    REQUIRE(free.exit_code == 0);
    CHECK(test::slurp(dir / "tight/cachet-manifest.json") == test::slurp(dir / "free/cachet-manifest.json"));
    // (The process itself, its libraries loaded, is about 50 MiB; the estimates err high.)
    INFO("peak " << tight.max_rss_kib / 1024 << " MiB under the budget, " << free.max_rss_kib / 1024 << " without");
    CHECK(tight.max_rss_kib < 260 * 1024);
    CHECK(free.max_rss_kib > tight.max_rss_kib + 40 * 1024); // without it, two images ran side by side
}

TEST_CASE("cachet build: --memory and [build] memory take a size of at least 1 MiB", "[hostile][memory][config]")
{
    test::TempDir dir;
    test::spit(dir / "src/a.txt", "a\n");
    for (const std::string bad : {"lots", "0", "1K"}) {
        const auto p =
            test::run_cachet({"build", (dir / "src").string(), "-o", (dir / "out").string(), "--memory", bad});
        CHECK(p.exit_code == 2);
        CHECK_THAT(p.err, Catch::Contains("--memory"));
    }
    const auto p = build_with(dir, "[build]\nmemory = \"nope\"\n");
    CHECK(p.exit_code == 2);
    CHECK_THAT(p.err, Catch::Contains("build.memory"));
}

TEST_CASE("cachet build: a width a format cannot hold is left out of that format before any encode",
          "[hostile][memory]")
{
    // WebP holds 16383 px a side: a 16400x8 strip once failed after its other encodes ran.
    test::TempDir dir;
    fs::create_directories(dir / "src");
    REQUIRE(test::run_program({"vips", "black", (dir / "src/strip.png").string(), "16400", "8"}).exit_code == 0);
    const auto p = test::run_cachet({"build", (dir / "src").string(), "-o", (dir / "out").string(), "--json"});
    INFO(p.err);
    REQUIRE(p.exit_code == 0);
    CHECK_THAT(p.err, Catch::Contains("no webp at 16400 px: webp holds at most 16383 px a side"));
    const auto manifest = test::read_json(dir / "out/cachet-manifest.json");
    bool webp_below = false;
    for (const auto& o : manifest["assets"]["strip.png"]["outputs"]) {
        if (o["format"] == "webp") {
            CHECK(o["width"].get<int>() <= 16383);
            webp_below = true;
        }
    }
    CHECK(webp_below); // the widths WebP can hold have one
}

TEST_CASE("cachet build: an upright image is decoded as a stream, with no full-size buffer of the loader's own",
          "[hostile][memory][rss]")
{
    // A 4000x3000 JPEG whose only output is its JPEG fallback at its own width: decode and
    // encode dominate. With libvips' random access the loader kept a full copy of the pixels
    // besides the two cachet makes: 155 MiB peak. Decoded top to bottom: 123 MiB. (Encoded by
    // libjpeg, whose working set is small: jpegli's holds the whole image's coefficients, 152
    // MiB peak here, which would hide the loader's copy this is about.)
    test::TempDir dir;
    fs::create_directories(dir / "src");
    const std::string noise = (dir / "n.v").string();
    REQUIRE(test::run_program({"vips", "gaussnoise", noise, "4000", "3000", "--sigma", "30"}).exit_code == 0);
    REQUIRE(
        test::run_program({"vips", "bandjoin", noise + " " + noise + " " + noise, (dir / "j.v").string()}).exit_code ==
        0);
    REQUIRE(test::run_program({"vips", "copy", (dir / "j.v").string(), (dir / "src/photo.jpg").string() + "[Q=85]"})
                .exit_code == 0);
    test::spit(dir / "jpeg.toml", "[images]\nformats = []\nwidths = []\n[images.jpeg]\nencoder = \"libjpeg\"\n"
                                  "[output]\noriginals = false\n");
    const auto p = test::run_cachet({"build", (dir / "src").string(), "-o", (dir / "out").string(), "-j", "1",
                                     "--config", (dir / "jpeg.toml").string()});
    INFO(p.err << "peak " << p.max_rss_kib / 1024 << " MiB");
    REQUIRE(p.exit_code == 0);
    CHECK(p.max_rss_kib < 140 * 1024);
}
