// cachet watch, with the real binary and real inotify: whatever editors and tools do to SRC,
// once things settle OUT must be byte for byte what a fresh `cachet build` makes of SRC.
#include "pipeline/model/bytes.hpp"
#include "tests/test_support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <thread>

namespace fs = std::filesystem;
using namespace cachet;

namespace {

using Tree = std::map<std::string, Bytes>;

Tree tree(const fs::path& root)
{
    Tree out;
    std::error_code ec;
    if (!fs::exists(root, ec))
        return out;
    std::vector<std::string> files;
    try {
        files = test::list_files(root);
    } catch (const fs::filesystem_error& e) {
        // A folder went away while it was listed (the watcher removes stale outputs and
        // empty folders): report a tree that matches nothing, so the caller looks again.
        out["(listing raced: " + std::string(e.what()) + ")"] = {};
        return out;
    }
    for (const auto& f : files) {
        try {
            out[f] = test::slurp(root / f);
        } catch (const std::exception&) {
            out[f] = {}; // removed while listed
        }
    }
    return out;
}

std::string describe(const Tree& got, const Tree& want)
{
    std::string out;
    for (const auto& [p, b] : want)
        if (!got.count(p))
            out += "missing " + p + "\n";
        else if (got.at(p) != b)
            out += "differs " + p + "\n";
    for (const auto& [p, b] : got)
        if (!want.count(p))
            out += "extra " + p + "\n";
    return out;
}

// A watch session on a copy of a fixture site.
struct Session {
    test::TempDir dir;
    fs::path src;
    fs::path out;
    std::unique_ptr<test::Background> watcher;
    int fresh_builds = 0;

    explicit Session(std::vector<std::string> extra = {}, std::vector<std::string> env = {},
                     std::string_view fixture = "site")
    {
        src = test::copy_site(dir, fixture);
        out = dir / "out";
        std::vector<std::string> argv{"env"};
        argv.insert(argv.end(), env.begin(), env.end());
        for (const auto& a : std::vector<std::string>{test::cachet_binary(), "watch", src.string(), "-o", out.string(),
                                                      "--cache-dir", (dir / "cache").string()})
            argv.push_back(a);
        argv.insert(argv.end(), extra.begin(), extra.end());
        watcher = std::make_unique<test::Background>(argv);
        settle();
    }

    // What a fresh build of SRC gives, with the watch's default preset.
    Tree fresh()
    {
        const fs::path f = dir / ("fresh" + std::to_string(fresh_builds++));
        const auto p = test::run_cachet({"build", src.string(), "-o", f.string(), "--preset", "fast", "--no-cache"});
        INFO(p.err);
        REQUIRE(p.exit_code <= 1); // a broken source fails its asset, as in the watch
        return tree(f);
    }

    // Waits until OUT equals a fresh build of SRC.
    void settle()
    {
        const Tree want = fresh();
        Tree got;
        const bool same = test::eventually([&] {
            got = tree(out);
            return got == want;
        });
        INFO("watch log:\n" << watcher->err() << "\ndifferences:\n" << describe(got, want));
        REQUIRE(same);
    }
};

void write(const fs::path& path, std::string_view text)
{
    fs::create_directories(path.parent_path());
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << text;
}

} // namespace

TEST_CASE("cachet watch rewrites the files that name a changed or new file", "[watch][e2e][references]")
{
    Session s({}, {}, "refs");
    // img/bg.png <- css/base.css <- css/main.css <- index.html, blog/post.html
    fs::copy_file(s.src / "img/a.png", s.src / "img/bg.png", fs::copy_options::overwrite_existing);
    s.settle();
    // A page naming a file that is not there yet, then the file.
    write(s.src / "late.html", "<img src=\"img/late.png\">\n");
    s.settle();
    fs::copy_file(s.src / "img/aa.png", s.src / "img/late.png");
    s.settle();
    CHECK(as_text(test::slurp(s.out / "late.html")).find("img/late.png") == std::string_view::npos);
}

// A rebuild in which no source comes or goes rewrites each index entry where it is
// (Publication::fill_index): the next rebuild must find every other source's entry as it was.
TEST_CASE("cachet watch: rebuilds of one file at a time keep every other file's entry", "[watch][e2e][references]")
{
    Session s({}, {}, "refs");
    const std::string base = std::string(as_text(test::slurp(s.src / "css/base.css")));
    const std::string main = std::string(as_text(test::slurp(s.src / "css/main.css")));
    for (int i = 0; i < 3; ++i) {
        write(s.src / "css/base.css", base + "\n.base" + std::to_string(i) + " { color: red }\n");
        s.settle(); // base.css, then main.css and the pages that name it
        write(s.src / "css/main.css", main + "\n.main" + std::to_string(i) + " { color: blue }\n");
        s.settle(); // main.css and the pages: base.css comes from the last rebuild's entry
    }
    // A file renamed: as many sources as before, but not the same ones. (Its stat, old enough
    // to be trusted, moves with it: paired with the entry of its old name, it would be reused.)
    write(s.src / "notes/a.txt", "notes\n");
    fs::last_write_time(s.src / "notes/a.txt", fs::file_time_type::clock::now() - std::chrono::hours(1));
    s.settle();
    write(s.src / "css/base.css", base); // a rebuild with the same sources: the next one may take its pairing
    s.settle();
    fs::rename(s.src / "notes/a.txt", s.src / "notes/b.txt");
    s.settle();
    s.watcher->signal(SIGINT);
    CHECK(s.watcher->wait() == 130);
    // What the watch left in its cache is what a build of the same SRC into the same OUT reuses.
    const auto again = test::run_cachet({"build", s.src.string(), "-o", s.out.string(), "--preset", "fast",
                                         "--cache-dir", (s.dir / "cache").string(), "--json"});
    INFO(again.err);
    REQUIRE(again.exit_code == 0);
    const auto summary = nlohmann::json::parse(again.out);
    CHECK(summary["built"] == 0);
    CHECK(tree(s.out) == s.fresh());
}

// A rebuild with the same sources and no script changed takes the last build's word for what
// scripts name (Session::named_before); a changed script is read again.
TEST_CASE("cachet watch: what scripts name is read again when a script changes, else kept", "[watch][e2e][references]")
{
    Session s({}, {}, "refs");
    const std::string app = std::string(as_text(test::slurp(s.src / "js/app.js")));
    const std::string base = std::string(as_text(test::slurp(s.src / "css/base.css")));
    write(s.src / "js/app.js", app + "var icon = \"aa.png\";\n");
    s.settle(); // img/aa.png is named by a script: the pages keep its name
    CHECK(fs::exists(s.out / "img/aa.png"));
    write(s.src / "css/base.css", base + "\n.b { color: red }\n");
    s.settle(); // no script read: the names of the last build
    CHECK(fs::exists(s.out / "img/aa.png"));
    write(s.src / "js/app.js", app);
    s.settle(); // no longer named: the pages name its fingerprinted file again
    write(s.src / "css/base.css", base);
    s.settle();
}

TEST_CASE("cachet watch follows what editors and tools do to files", "[watch][e2e]")
{
    Session s;
    const fs::path css = s.src / "css/site.css";
    const std::string original = std::string(as_text(test::slurp(css)));

    // Write in place (truncate and write, as most editors by default).
    write(css, original + "\n.in-place { color: red }\n");
    s.settle();

    // Write a temporary file and rename it over the original (VS Code, JetBrains safe write).
    write(s.src / "css/site.css___jb_tmp___", original + "\n.renamed { color: blue }\n");
    fs::rename(s.src / "css/site.css___jb_tmp___", css);
    s.settle();

    // vim: the original renamed to a backup, the 4913 probe, a new file written, the backup deleted.
    fs::rename(css, s.src / "css/site.css~");
    write(s.src / "css/4913", "");
    fs::remove(s.src / "css/4913");
    write(css, original + "\n.vim { color: green }\n");
    write(s.src / "css/.site.css.swp", "swap");
    fs::remove(s.src / "css/site.css~");
    s.settle();
    CHECK_FALSE(test::read_json(s.out / "cachet-manifest.json")["assets"].contains("css/.site.css.swp"));

    // Delete, then create again.
    const std::string html = std::string(as_text(test::slurp(s.src / "index.html")));
    fs::remove(s.src / "index.html");
    s.settle();
    CHECK_FALSE(test::read_json(s.out / "cachet-manifest.json")["assets"].contains("index.html"));
    write(s.src / "index.html", html + "<!-- again -->\n");
    s.settle();

    // mv into the tree from outside, and out of it.
    write(s.dir / "outside/extra.js", "export const extra = 1;\n");
    fs::rename(s.dir / "outside/extra.js", s.src / "js/extra.js");
    s.settle();
    fs::rename(s.src / "js/app.js.map", s.dir / "outside/app.js.map");
    s.settle();

    // mkdir -p with files right away, then the folder moved and removed.
    fs::create_directories(s.src / "deep/a/b/c");
    write(s.src / "deep/a/b/c/one.css", ".one { margin: 0 }\n");
    write(s.src / "deep/a/two.json", "{\"two\": 2}\n");
    s.settle();
    fs::rename(s.src / "deep/a", s.src / "moved");
    s.settle();
    write(s.src / "moved/b/c/three.txt", "three\n");
    s.settle();
    fs::remove_all(s.src / "moved");
    s.settle();

    // A checkout: hundreds of files changed, added and removed at once.
    for (int i = 0; i < 300; ++i)
        write(s.src / ("checkout/f" + std::to_string(i) + ".js"), "export const v = " + std::to_string(i) + ";\n");
    s.settle();
    for (int i = 0; i < 300; i += 2)
        fs::remove(s.src / ("checkout/f" + std::to_string(i) + ".js"));
    for (int i = 1; i < 300; i += 2)
        write(s.src / ("checkout/f" + std::to_string(i) + ".js"), "export const w = " + std::to_string(i) + ";\n");
    s.settle();

    s.watcher->signal(SIGINT);
    CHECK(s.watcher->wait() == 130);
    CHECK_THAT(s.watcher->err(), Catch::Contains("changed (") && Catch::Contains("stopped"));
}

TEST_CASE("cachet watch stamps its lines, shows each warning once, and follows its configuration file",
          "[watch][e2e][config]")
{
    test::TempDir dir;
    const fs::path src = test::copy_site(dir);
    const fs::path out = dir / "out";
    const fs::path config = dir / "cachet.toml";
    write(src / "broken.html", "<img src=\"img/missing.png\">\n");
    write(config, "[images]\nwidths = [320]\n");
    const auto start = [&] {
        return std::make_unique<test::Background>(
            std::vector<std::string>{test::cachet_binary(), "watch", src.string(), "-o", out.string(), "--cache-dir",
                                     (dir / "cache").string(), "--config", config.string()});
    };
    const auto count = [](const std::string& text, std::string_view what) {
        std::size_t n = 0;
        for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
            ++n;
        return n;
    };
    const auto widths = [&] {
        std::set<int> out_widths;
        try {
            const auto manifest = test::read_json(out / "cachet-manifest.json");
            for (const auto& o : manifest["assets"]["img/hero.jpg"]["outputs"])
                if (!o.value("original", false))
                    out_widths.insert(o["width"].get<int>());
        } catch (const std::exception&) { // not written yet
        }
        return out_widths;
    };
    const std::string warning = "broken.html: \"img/missing.png\" names img/missing.png";
    for (const bool warm : {false, true}) {
        auto w = start();
        REQUIRE(test::eventually([&] { return w->err().find("checked everything") != std::string::npos; }));
        INFO(w->err());
        // Every line of the session says when; the start of a build is a line too.
        CHECK(std::regex_search(w->err(), std::regex("(^|\n)[0-9]{2}:[0-9]{2}:[0-9]{2} cachet watch: building")));
        CHECK(std::regex_search(
            w->err(), std::regex("\n[0-9]{2}:[0-9]{2}:[0-9]{2} cachet watch: checked everything: [0-9]+ built")));
        // The broken reference is shown once, whether broken.html was built or reused (warm).
        CHECK(count(w->err(), warning) == 1);
        CHECK(widths() == std::set<int>{320, 480}); // (480: the image's own width)
        if (warm) {
            // Another file changes: the warning of the reused page is not repeated.
            write(src / "css/later.css", ".later { color: red }\n");
            REQUIRE(test::eventually([&] { return w->err().find("(css/later.css): 1 built") != std::string::npos; }));
            CHECK(std::regex_search(w->err(), std::regex("[0-9]{2}:[0-9]{2}:[0-9]{2} cachet watch: rebuilding: 1 "
                                                         "changed \\(css/later.css\\)")));
            CHECK(count(w->err(), warning) == 1);
            // An invalid configuration is reported at once, and the session keeps its settings.
            write(config, "[images]\nwidth = [200]\n");
            REQUIRE(test::eventually([&] { return w->err().find("did you mean images.widths") != std::string::npos; }));
            CHECK_THAT(w->err(), Catch::Contains("keeps its previous settings"));
            CHECK(widths() == std::set<int>{320, 480});
            // A valid one is taken, and everything is built with it.
            write(config, "[images]\nwidths = [200]\n");
            REQUIRE(test::eventually([&] { return widths() == std::set<int>{200, 480}; }));
            CHECK_THAT(w->err(), Catch::Contains("settings reloaded"));
        }
        w->signal(SIGINT);
        CHECK(w->wait() == 130);
    }
}

TEST_CASE("cachet watch never builds a file still being written", "[watch][e2e]")
{
    Session s;
    const std::string half(40 * 1024, 'a');
    {
        std::ofstream f(s.src / "big.txt", std::ios::binary);
        f << half;
        f.flush();
        // Longer than the debounce, shorter than the time an unclosed file needs to count as done.
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        CHECK_FALSE(test::read_json(s.out / "cachet-manifest.json")["assets"].contains("big.txt"));
        f << std::string(40 * 1024, 'b');
    }
    s.settle();
    const auto asset = test::read_json(s.out / "cachet-manifest.json")["assets"]["big.txt"];
    CHECK(asset["source"]["bytes"] == 80 * 1024);
}

TEST_CASE("cachet watch takes a burst of 500 new files in one or a few rebuilds", "[watch][e2e]")
{
    Session s;
    for (int i = 0; i < 500; ++i)
        write(s.src / ("burst/d" + std::to_string(i % 10) + "/f" + std::to_string(i) + ".css"),
              ".f" + std::to_string(i) + " { width: " + std::to_string(i) + "px }\n");
    s.settle();
    CHECK(test::read_json(s.out / "cachet-manifest.json")["assets"].size() == 522);
}

TEST_CASE("cachet watch rescans when the inotify queue overflows", "[watch][e2e]")
{
    Session s;
    // Each new file with content is three events (create, modify, close): enough files, in a
    // folder already watched, to fill the kernel's queue while the watcher is stopped.
    int queue = 16384;
    std::ifstream("/proc/sys/fs/inotify/max_queued_events") >> queue;
    const int files = queue / 3 + 200;
    s.watcher->signal(SIGSTOP);
    for (int i = 0; i < files; ++i)
        write(s.src / ("data/flood" + std::to_string(i) + ".txt"), "x");
    s.watcher->signal(SIGCONT);
    s.settle();
    CHECK_THAT(s.watcher->err(), Catch::Contains("rescan"));
}

TEST_CASE("a broken image is reported, the watch goes on, and fixing it fixes the output", "[watch][e2e]")
{
    Session s;
    write(s.src / "img/broken.png", "this is not a PNG");
    s.settle();
    CHECK_THAT(s.watcher->err(), Catch::Contains("img/broken.png"));
    fs::copy_file(s.src / "img/logo.png", s.src / "img/broken.png", fs::copy_options::overwrite_existing);
    s.settle();
    CHECK(test::read_json(s.out / "cachet-manifest.json")["assets"].contains("img/broken.png"));
}

TEST_CASE("cachet watch polls when asked to, or when inotify runs out of watches", "[watch][e2e]")
{
    SECTION("--poll")
    {
        Session s({"--poll"});
        write(s.src / "css/polled.css", ".polled { color: red }\n");
        s.settle();
    }
    SECTION("the watch limit")
    {
        Session s({}, {"CACHET_TEST_INOTIFY_LIMIT=2"});
        CHECK_THAT(s.watcher->err(), Catch::Contains("fs.inotify.max_user_watches"));
        write(s.src / "css/polled.css", ".polled { color: red }\n");
        s.settle();
    }
}

TEST_CASE("SIGINT in the middle of a rebuild stops cleanly", "[watch][e2e]")
{
    Session s;
    // Enough image work for the signal to land mid-rebuild.
    for (int i = 0; i < 6; ++i) {
        const auto p = test::run_program(
            {"vips", "gaussnoise", (s.dir / ("n" + std::to_string(i) + ".png")).string(), "1600", "1200"});
        REQUIRE(p.exit_code == 0);
    }
    for (int i = 0; i < 6; ++i)
        fs::rename(s.dir / ("n" + std::to_string(i) + ".png"), s.src / ("img/noise" + std::to_string(i) + ".png"));
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    s.watcher->signal(SIGINT);
    CHECK(s.watcher->wait() == 130);
    INFO(s.watcher->err());
    // No temporary file anywhere, and the manifest is whole and names only files that exist.
    for (const auto& root : {s.out, s.dir / "cache"})
        for (const auto& f : test::list_files(root))
            CHECK(f.find(".cachet-tmp-") == std::string::npos);
    const auto manifest = test::read_json(s.out / "cachet-manifest.json");
    for (const auto& [source, asset] : manifest["assets"].items())
        for (const auto& o : asset["outputs"])
            CHECK(fs::exists(s.out / o["path"].get<std::string>()));
}

TEST_CASE("SIGINT stops cachet build cleanly and keeps the previous manifest", "[e2e][signals]")
{
    test::TempDir dir;
    const fs::path src = test::copy_site(dir);
    const fs::path out = dir / "out";
    REQUIRE(test::run_cachet({"build", src.string(), "-o", out.string()}).exit_code == 0);
    const Bytes before = test::slurp(out / "cachet-manifest.json");
    for (int i = 0; i < 6; ++i)
        REQUIRE(test::run_program(
                    {"vips", "gaussnoise", (src / ("img/noise" + std::to_string(i) + ".png")).string(), "1600", "1200"})
                    .exit_code == 0);
    test::Background build({test::cachet_binary(), "build", src.string(), "-o", out.string(), "--no-cache"});
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    build.signal(SIGINT);
    CHECK(build.wait() == 130);
    CHECK_THAT(build.err(), Catch::Contains("interrupted"));
    CHECK_THAT(build.err(), !Catch::Contains("failed:")); // a file the signal stopped did not fail
    CHECK(test::slurp(out / "cachet-manifest.json") == before);
    for (const auto& f : test::list_files(out))
        CHECK(f.find(".cachet-tmp-") == std::string::npos);
}

TEST_CASE("a second build into the same OUT is refused while the first runs, with a cache or without", "[e2e][cache]")
{
    test::TempDir dir;
    const fs::path src = test::copy_site(dir);
    for (int i = 0; i < 4; ++i)
        REQUIRE(test::run_program(
                    {"vips", "gaussnoise", (src / ("img/noise" + std::to_string(i) + ".png")).string(), "1600", "1200"})
                    .exit_code == 0);
    const std::string out = (dir / "out").string();
    const std::string cache = (dir / "cache").string();
    test::Background first({test::cachet_binary(), "build", src.string(), "-o", out, "--cache-dir", cache});
    // The first build holds the lock before it writes its first output.
    REQUIRE(test::eventually([&] { return fs::exists(out) && !test::list_files(out).empty(); }));
    const auto second = test::run_cachet({"build", src.string(), "-o", out, "--cache-dir", cache});
    CHECK(second.exit_code == 2);
    CHECK_THAT(second.err, Catch::Contains("another cachet is building into"));
    CHECK_THAT(second.err, Catch::Contains("(process " + std::to_string(first.pid()) + " holds ")); // which to stop
    // The lock is OUT's, not the cache's: a build without a cache is kept out too.
    const auto third = test::run_cachet({"build", src.string(), "-o", out, "--no-cache"});
    CHECK(third.exit_code == 2);
    CHECK_THAT(third.err, Catch::Contains("another cachet is building into"));
    CHECK(first.wait() == 0);
    CHECK_FALSE(fs::exists(fs::path(out) / ".cachet-tmp-build"));
}
