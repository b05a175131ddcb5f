#include "pipeline/cache/cache.hpp"
#include "pipeline/model/error.hpp"
#include "tests/test_support.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <thread>
#include <tuple>

#include <sys/stat.h>

namespace fs = std::filesystem;
using namespace cachet;

namespace {

// Every file of a tree with its bytes.
std::map<std::string, Bytes> tree(const fs::path& root)
{
    std::map<std::string, Bytes> out;
    for (const auto& f : test::list_files(root))
        out[f] = test::slurp(root / f);
    return out;
}

struct Build {
    test::Process process;
    nlohmann::json summary;
};

Build build(const fs::path& src, const fs::path& out, const fs::path& cache, std::vector<std::string> extra = {})
{
    std::vector<std::string> args{"build", src.string(), "-o", out.string(), "--json", "--cache-dir", cache.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    Build b;
    b.process = test::run_cachet(args);
    INFO(b.process.err);
    REQUIRE(b.process.exit_code == 0);
    b.summary = nlohmann::json::parse(b.process.out);
    return b;
}

// A configuration that keeps no earlier build in OUT (output.keep = 0, keep_age = 0), written
// into dir, with more settings after it; returns its path.
std::string no_retention(const test::TempDir& dir, const std::string& name, const std::string& more = "")
{
    test::spit(dir / name, "[output]\nkeep = 0\nkeep_age = 0\n" + more);
    return (dir / name).string();
}

// A fresh build of src without any cache: what every cached build must equal.
std::map<std::string, Bytes> fresh(const test::TempDir& dir, const fs::path& src, const std::string& name)
{
    const auto p = test::run_cachet({"build", src.string(), "-o", (dir / name).string(), "--no-cache"});
    INFO(p.err);
    REQUIRE(p.exit_code == 0);
    return tree(dir / name);
}

// Makes every source file look old, as in a checkout made a while ago: recently modified files
// are re-hashed on purpose (their mtime may not change on a second write).
void age(const fs::path& root)
{
    const auto old = fs::file_time_type::clock::now() - std::chrono::hours(1);
    for (const auto& e : fs::recursive_directory_iterator(root))
        if (e.is_regular_file())
            fs::last_write_time(e.path(), old);
}

} // namespace

TEST_CASE("an identical rebuild with the cache encodes nothing and gives the same tree", "[cache][e2e]")
{
    test::TempDir dir;
    const fs::path src = test::copy_site(dir);
    age(src);
    const Build first = build(src, dir / "out", dir / "cache");
    CHECK(first.summary["cached"] == 0);
    const int assets = first.summary["assets"];
    CHECK(first.summary["built"] == assets);

    const Build second = build(src, dir / "out", dir / "cache");
    CHECK(second.summary["built"] == 0);
    CHECK(second.summary["cached"] == assets);
    CHECK(second.summary["cache_hit_rate"] == 1.0);
    CHECK(second.summary["kinds"]["image"]["built"] == 0);
    CHECK(tree(dir / "out") == fresh(dir, src, "fresh"));

    const fs::path manifest = dir / "out" / "cachet-manifest.json";
    const auto identity = [&] {
        struct stat st {};
        REQUIRE(::stat(manifest.c_str(), &st) == 0);
        return std::tuple(st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    };
    const auto before = identity();
    const auto touch_all = [&] {
        for (const auto& f : test::list_files(src))
            fs::last_write_time(src / f, fs::file_time_type::clock::now() - std::chrono::minutes(30));
    };
    // Touched but unchanged sources are hashed, found equal and not built; the manifest, every
    // entry as published, is neither rendered nor written again.
    touch_all();
    const Build touched = build(src, dir / "out", dir / "cache", {"--timings"});
    CHECK(touched.summary["built"] == 0);
    CHECK(tree(dir / "out") == tree(dir / "fresh"));
    CHECK_THAT(touched.process.err, Catch::Contains("manifest as published"));
    CHECK_THAT(touched.process.err, !Catch::Contains("manifest rendered"));
    CHECK(identity() == before);

    // The manifest altered where that is compared (its end: the generator), its stat put back:
    // rendered, found different and published again; a copy with another stat: rendered and
    // compared whole.
    {
        const Bytes bytes = test::slurp(manifest);
        std::string text(bytes.begin(), bytes.end());
        const std::size_t at = text.rfind("\"generator\":\"cachet ");
        REQUIRE(at != std::string::npos);
        text[at + 13] = text[at + 13] == 'x' ? 'y' : 'x';
        const auto mtime = fs::last_write_time(manifest);
        test::spit(manifest, text); // (the same size; written in place: the same inode)
        fs::last_write_time(manifest, mtime);
    }
    touch_all();
    const Build altered = build(src, dir / "out", dir / "cache", {"--timings"});
    CHECK_THAT(altered.process.err, Catch::Contains("manifest rendered") && Catch::Contains("manifest published"));
    CHECK(tree(dir / "out") == tree(dir / "fresh"));
    fs::copy_file(manifest, dir / "copy.json");
    fs::rename(dir / "copy.json", manifest);
    touch_all();
    const Build copied = build(src, dir / "out", dir / "cache", {"--timings"});
    CHECK_THAT(copied.process.err, Catch::Contains("manifest rendered") && Catch::Contains("manifest unchanged"));
    CHECK(tree(dir / "out") == tree(dir / "fresh"));

    const auto stats = test::run_cachet({"cache", "stats", "--json", "--cache-dir", (dir / "cache").string()});
    REQUIRE(stats.exit_code == 0);
    const auto s = nlohmann::json::parse(stats.out);
    CHECK(s["entries"].get<int>() > 0);
    CHECK(s["blobs"].get<int>() > 0);
    CHECK(s["hit_rate"] == 1.0);
    CHECK(s["last_build"]["cached"] == assets);
}

TEST_CASE("one changed source rebuilds only its own outputs and the pages referring to it, and without retention the "
          "old ones leave OUT",
          "[cache][e2e]")
{
    test::TempDir dir;
    const fs::path src = test::copy_site(dir);
    age(src);
    const std::string config = no_retention(dir, "noret.toml");
    build(src, dir / "out", dir / "cache", {"--config", config});
    const auto before = tree(dir / "out");

    test::spit(src / "css/site.css",
               std::string(as_text(test::slurp(src / "css/site.css"))) + "\n.added { color: red }\n");
    const Build changed = build(src, dir / "out", dir / "cache", {"--config", config});
    // The stylesheet, and the two pages whose <link> names its new fingerprint.
    CHECK(changed.summary["built"] == 3);
    CHECK(changed.summary["kinds"]["text"]["built"] == 3);
    CHECK(changed.summary["removed"].get<int>() >= 1);
    const auto after = tree(dir / "out");
    CHECK(after == fresh(dir, src, "fresh"));
    // Everything but the stylesheet's outputs, the pages and the manifest is the same file as before.
    int kept = 0;
    for (const auto& [path, bytes] : after)
        if (path.find("site.") == std::string::npos && !path.starts_with("index.html") &&
            !path.starts_with("about.html") && path != "cachet-manifest.json") {
            REQUIRE(before.count(path));
            CHECK(before.at(path) == bytes);
            ++kept;
        }
    CHECK(kept > 20);
}

TEST_CASE("a removed source leaves the manifest and, without retention, OUT", "[cache][e2e]")
{
    test::TempDir dir;
    const fs::path src = test::copy_site(dir);
    const std::string config = no_retention(dir, "noret.toml");
    build(src, dir / "out", dir / "cache", {"--config", config});
    const auto manifest = test::read_json(dir / "out/cachet-manifest.json");
    REQUIRE(manifest["assets"].contains("img/hero.jpg"));
    fs::remove(src / "img/hero.jpg");
    build(src, dir / "out", dir / "cache", {"--config", config});
    CHECK(tree(dir / "out") == fresh(dir, src, "fresh"));
    CHECK_FALSE(test::read_json(dir / "out/cachet-manifest.json")["assets"].contains("img/hero.jpg"));

    SECTION("without a cache too: the previous manifest says what to remove")
    {
        fs::remove(src / "img/logo.png");
        const auto p =
            test::run_cachet({"build", src.string(), "-o", (dir / "out").string(), "--no-cache", "--config", config});
        REQUIRE(p.exit_code == 0);
        CHECK(tree(dir / "out") == fresh(dir, src, "fresh2"));
    }
}

TEST_CASE("an option change or a codec upgrade rebuilds what it affects", "[cache][e2e]")
{
    test::TempDir dir;
    const fs::path src = test::copy_site(dir);
    age(src);
    const std::string config = no_retention(dir, "noret.toml");
    build(src, dir / "out", dir / "cache", {"--config", config});

    const Build webp = build(src, dir / "out", dir / "cache",
                             {"--config", no_retention(dir, "webp.toml", "[images.webp]\nquality = 60\n")});
    CHECK(webp.summary["kinds"]["image"]["cached"] == 0);
    CHECK(webp.summary["kinds"]["text"]["built"] == 1); // index.html: its <img> of a WebP source names a WebP
    CHECK(webp.summary["kinds"]["passthrough"]["built"] == 0);

    const Build text = build(src, dir / "out", dir / "cache",
                             {"--config", no_retention(dir, "text.toml", "[text]\nbrotli_quality = 9\n")});
    CHECK(text.summary["kinds"]["image"]["built"] == 0); // back to the default image settings: cached
    CHECK(text.summary["kinds"]["text"]["built"].get<int>() > 0);

    // The same cachet with other codec versions must not reuse a byte.
    const auto p = test::run_program({"env", "CACHET_TEST_CODEC_VERSIONS=libaom 9.9.9", test::cachet_binary(), "build",
                                      src.string(), "-o", (dir / "out").string(), "--json", "--cache-dir",
                                      (dir / "cache").string(), "--config", config});
    REQUIRE(p.exit_code == 0);
    const auto upgraded = nlohmann::json::parse(p.out);
    CHECK(upgraded["cached"] == 0);
    CHECK(tree(dir / "out") == fresh(dir, src, "fresh"));
}

TEST_CASE("a cache shared by two OUT trees fills the second one without encoding", "[cache][e2e]")
{
    test::TempDir dir;
    const fs::path src = test::copy_site(dir);
    build(src, dir / "one", dir / "cache");
    const Build two = build(src, dir / "two", dir / "cache");
    // Only the passthrough file, whose bytes the cache does not keep, is copied again.
    CHECK(two.summary["kinds"]["image"]["built"] == 0);
    CHECK(two.summary["kinds"]["text"]["built"] == 0);
    CHECK(tree(dir / "two") == tree(dir / "one"));
}

TEST_CASE("a damaged cache entry is detected, rebuilt and reported, never shipped", "[cache][e2e]")
{
    test::TempDir dir;
    const fs::path src = test::copy_site(dir);
    build(src, dir / "one", dir / "cache");
    const auto good = tree(dir / "one");
    const fs::path root = dir / "cache" / ("v" + std::to_string(k_cache_format));

    SECTION("a truncated blob")
    {
        std::vector<fs::path> blobs;
        for (const auto& e : fs::recursive_directory_iterator(root / "blobs"))
            if (e.is_regular_file())
                blobs.push_back(e.path());
        REQUIRE(blobs.size() > 10);
        for (const auto& b : blobs) { // all of them: whichever asset reads one must notice
            const Bytes bytes = test::slurp(b);
            test::spit(b, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size() / 2));
        }
        const Build again = build(src, dir / "two", dir / "cache");
        CHECK_THAT(again.process.err, Catch::Contains("is damaged (its bytes do not match its digest); rebuilt"));
        CHECK(again.summary["cached"] == 0);
        CHECK(tree(dir / "two") == good);
    }
    SECTION("an entry that is not JSON")
    {
        for (const auto& e : fs::recursive_directory_iterator(root / "entries"))
            if (e.is_regular_file())
                test::spit(e.path(), "{\"key\": ");
        const Build again = build(src, dir / "two", dir / "cache");
        CHECK_THAT(again.process.err, Catch::Contains("is damaged") && Catch::Contains("rebuilt"));
        CHECK(again.summary["cached"] == 0);
        CHECK(tree(dir / "two") == good);
    }
    SECTION("an output in OUT altered after the build")
    {
        const auto manifest = test::read_json(dir / "one/cachet-manifest.json");
        const std::string html = manifest["assets"]["index.html"]["outputs"][0]["path"];
        test::spit(dir / "one" / html, "tampered");
        build(src, dir / "one", dir / "cache");
        CHECK(tree(dir / "one") == good);
    }
}

TEST_CASE("cache gc trims least recently used entries down to a size", "[cache][e2e]")
{
    test::TempDir dir;
    const fs::path src = test::copy_site(dir);
    build(src, dir / "one", dir / "cache");
    const auto stats = [&] {
        const auto p = test::run_cachet({"cache", "stats", "--json", "--cache-dir", (dir / "cache").string()});
        REQUIRE(p.exit_code == 0);
        return nlohmann::json::parse(p.out);
    };
    const auto before = stats();
    REQUIRE(before["entries"].get<int>() > 5);

    const auto big = test::run_cachet({"cache", "gc", "--max-size", "1G", "--cache-dir", (dir / "cache").string()});
    REQUIRE(big.exit_code == 0);
    CHECK(stats()["entries"] == before["entries"]);

    const auto half = before["bytes"].get<std::uint64_t>() / 2;
    const auto trimmed =
        test::run_cachet({"cache", "gc", "--max-size", std::to_string(half), "--cache-dir", (dir / "cache").string()});
    REQUIRE(trimmed.exit_code == 0);
    const auto after = stats();
    CHECK(after["entries"].get<int>() < before["entries"].get<int>());
    CHECK(after["bytes"].get<std::uint64_t>() <= half + 64 * 1024); // the index is not counted against gc

    const auto zero = test::run_cachet({"cache", "gc", "--max-size", "0", "--cache-dir", (dir / "cache").string()});
    REQUIRE(zero.exit_code == 0);
    CHECK(stats()["entries"] == 0);
    CHECK(stats()["blobs"] == 0);
    // A new OUT must now be built from scratch, and still be right.
    const Build rebuilt = build(src, dir / "two", dir / "cache");
    CHECK(rebuilt.summary["cached"] == 0);
    CHECK(tree(dir / "two") == tree(dir / "one"));

    const auto bad = test::run_cachet({"cache", "gc", "--max-size", "lots", "--cache-dir", (dir / "cache").string()});
    CHECK(bad.exit_code == 2);
    CHECK_THAT(bad.err, Catch::Contains("lots"));
}

TEST_CASE("the cache folder is never deployed nor built as a source", "[cache][e2e]")
{
    test::TempDir dir;
    const fs::path src = test::copy_site(dir);
    const auto inside_out = test::run_cachet(
        {"build", src.string(), "-o", (dir / "out").string(), "--cache-dir", (dir / "out/.c").string()});
    CHECK(inside_out.exit_code == 2);
    CHECK_THAT(inside_out.err, Catch::Contains("inside output folder"));

    // The default, $XDG_CACHE_HOME/cachet, may well be inside SRC.
    const auto p =
        test::run_program({"/usr/bin/env", "-u", "CACHET_CACHE_DIR", "XDG_CACHE_HOME=" + (src / ".xdg").string(),
                           test::cachet_binary(), "build", ".", "-o", (dir / "out").string(), "--json"},
                          src);
    INFO(p.err);
    REQUIRE(p.exit_code == 0);
    CHECK(fs::is_directory(src / ".xdg/cachet" / ("v" + std::to_string(k_cache_format))));
    const auto manifest = test::read_json(dir / "out/cachet-manifest.json"); // kept: items() refers into it
    for (const auto& [source, asset] : manifest["assets"].items())
        CHECK(source.find(".xdg") == std::string::npos);
}

TEST_CASE("the default cache is the user's (XDG), so a build from another folder starts warm", "[cache][e2e]")
{
    test::TempDir dir;
    const fs::path src = test::copy_site(dir);
    fs::create_directories(dir / "here");
    fs::create_directories(dir / "there");
    const auto build = [&](const fs::path& cwd, const std::vector<std::string>& env) {
        std::vector<std::string> argv{"/usr/bin/env", "-u", "CACHET_CACHE_DIR", "-u", "XDG_CACHE_HOME"};
        argv.insert(argv.end(), env.begin(), env.end());
        argv.insert(argv.end(), {test::cachet_binary(), "build", src.string(), "-o", (dir / "out").string(), "--json"});
        const auto p = test::run_program(argv, cwd);
        INFO(p.err);
        REQUIRE(p.exit_code == 0);
        return nlohmann::json::parse(p.out);
    };
    const std::string home = "HOME=" + (dir / "home").string();
    CHECK(build(dir / "here", {home})["cached"] == 0);
    CHECK(fs::is_directory(dir / "home/.cache/cachet"));
    const auto again = build(dir / "there", {home}); // another working directory, the same cache
    CHECK(again["cached"] == again["assets"]);
    CHECK_FALSE(fs::exists(dir / "here/.cachet-cache"));
    CHECK_FALSE(fs::exists(dir / "there/.cachet-cache"));
    // XDG_CACHE_HOME, when set, is where it goes.
    build(dir / "here", {home, "XDG_CACHE_HOME=" + (dir / "xdg").string()});
    CHECK(fs::is_directory(dir / "xdg/cachet"));
}

TEST_CASE("parse_size reads sizes with units", "[cache]")
{
    CHECK(parse_size("0") == 0);
    CHECK(parse_size("1500") == 1500);
    CHECK(parse_size("10K") == 10240);
    CHECK(parse_size("512M") == 512ull << 20);
    CHECK(parse_size("2 GiB") == 2ull << 30);
    CHECK(parse_size("1t") == 1ull << 40);
    CHECK_THROWS_AS(parse_size(""), Error);
    CHECK_THROWS_AS(parse_size("M"), Error);
    CHECK_THROWS_AS(parse_size("5X"), Error);
    CHECK_THROWS_AS(parse_size("99999999999999999999"), Error);
}

TEST_CASE("a source built beside reused ones cannot take a name one of them publishes", "[cache][e2e]")
{
    test::TempDir dir;
    const fs::path src = dir / "src";
    fs::create_directories(src);
    fs::copy_file(test::fixtures() / "site/img/hero.jpg", src / "pic.jpg");
    test::spit(src / "app.js", "console.log('x');\n");
    test::spit(dir / "stable.toml", "[output]\nstable = [\"pic.*\"]\n[images]\nwidths = []\n");
    const std::vector<std::string> config{"--config", (dir / "stable.toml").string()};
    age(src);
    build(src, dir / "out", dir / "cache", config);
    const auto before = tree(dir / "out");

    // pic.jpg is reused as it is; the new pic.png would write its pic.avif.
    fs::copy_file(test::fixtures() / "site/img/logo.png", src / "pic.png");
    std::vector<std::string> args{
        "build", src.string(), "-o", (dir / "out").string(), "--cache-dir", (dir / "cache").string()};
    args.insert(args.end(), config.begin(), config.end());
    const auto p = test::run_cachet(args);
    CHECK(p.exit_code == 1);
    CHECK_THAT(p.err, Catch::Contains("output name collision: pic.avif would be written by both pic.jpg and pic.png"));
    for (const auto& [path, bytes] : before) // nothing pic.jpg published was overwritten
        if (path != "cachet-manifest.json")
            CHECK(test::slurp(dir / "out" / path) == bytes);

    // A manifest renamed onto a reused output: the manifest keeps the name, the source fails.
    fs::remove(src / "pic.png");
    test::spit(dir / "clash.toml", "[output]\nstable = [\"pic.*\"]\nmanifest = \"pic.avif\"\n[images]\nwidths = []\n");
    args.back() = (dir / "clash.toml").string();
    const auto q = test::run_cachet(args);
    CHECK(q.exit_code == 1);
    CHECK_THAT(q.err,
               Catch::Contains("output name collision: pic.avif would be written by both the manifest and pic.jpg"));
    CHECK(test::read_json(dir / "out/pic.avif")["assets"].contains("app.js"));
}

TEST_CASE("a [[headers]] change rewrites the manifest's headers without building anything again", "[cache][e2e]")
{
    test::TempDir dir;
    const fs::path src = test::copy_site(dir);
    age(src);
    const Build first = build(src, dir / "out", dir / "cache");
    const auto before = test::read_json(dir / "out/cachet-manifest.json");
    CHECK(before["assets"]["index.html"]["outputs"][0]["cache_control"] == "no-cache");
    CHECK(before["assets"]["index.html"]["outputs"][0]["vary"] == "Accept-Encoding");
    CHECK(before["assets"]["fonts/dejavu-sans.woff2"]["outputs"][0]["cache_control"] ==
          "public, max-age=31536000, immutable");

    test::spit(dir / "headers.toml", "[[headers]]\nmatch = \"fonts/**\"\ncache_control = \"public, max-age=600\"\n"
                                     "extra = { \"Access-Control-Allow-Origin\" = \"*\" }\n");
    const Build second = build(src, dir / "out", dir / "cache", {"--config", (dir / "headers.toml").string()});
    CHECK(second.summary["built"] == 0);
    const auto after = test::read_json(dir / "out/cachet-manifest.json");
    const auto& font = after["assets"]["fonts/dejavu-sans.woff2"]["outputs"][0];
    CHECK(font["cache_control"] == "public, max-age=600");
    CHECK(font["headers"]["Access-Control-Allow-Origin"] == "*");
    CHECK(after["assets"]["index.html"] == before["assets"]["index.html"]);

    // The same as a build of that configuration from nothing; and back again.
    const auto p = test::run_cachet({"build", src.string(), "-o", (dir / "fresh").string(), "--no-cache", "--config",
                                     (dir / "headers.toml").string()});
    REQUIRE(p.exit_code == 0);
    CHECK(tree(dir / "out") == tree(dir / "fresh"));
    const Build third = build(src, dir / "out", dir / "cache");
    CHECK(third.summary["built"] == 0);
    CHECK(test::read_json(dir / "out/cachet-manifest.json") == before);
}

TEST_CASE("changing one image renames it and the files that name it, up the chain, and nothing else",
          "[cache][references][e2e]")
{
    test::TempDir dir;
    const fs::path src = test::copy_site(dir, "refs");
    age(src);
    const std::string config = no_retention(dir, "noret.toml");
    build(src, dir / "out", dir / "cache", {"--config", config});
    const auto before = test::read_json(dir / "out/cachet-manifest.json")["assets"];
    const auto before_tree = tree(dir / "out");

    // img/bg.png <- css/base.css (url) <- css/main.css (@import) <- index.html, blog/post.html (<link>)
    fs::copy_file(src / "img/a.png", src / "img/bg.png", fs::copy_options::overwrite_existing);
    const Build changed = build(src, dir / "out", dir / "cache", {"--config", config});
    CHECK(changed.summary["built"] == 5);
    CHECK(changed.summary["kinds"]["image"]["built"] == 1);
    CHECK(changed.summary["kinds"]["text"]["built"] == 4);
    const auto after = test::read_json(dir / "out/cachet-manifest.json")["assets"];
    const auto after_tree = tree(dir / "out");
    const std::set<std::string> renamed{"img/bg.png", "css/base.css", "css/main.css"};
    const std::set<std::string> rewritten{"index.html", "blog/post.html"};
    REQUIRE(after.size() == before.size());
    for (const auto& [source, asset] : after.items()) {
        INFO("source " << source);
        std::set<std::string> old_paths;
        for (const auto& o : before[source]["outputs"])
            old_paths.insert(o["path"].get<std::string>());
        for (const auto& o : asset["outputs"]) {
            const std::string path = o["path"];
            if (o["original"]) { // the source's own URL stays, with the new content
                CHECK(path == source);
                CHECK(old_paths.count(path) == 1);
                CHECK((after_tree.at(path) != before_tree.at(path)) == (renamed.count(source) == 1));
            } else if (renamed.count(source)) {
                CHECK(old_paths.count(path) == 0);
            } else {
                CHECK(old_paths.count(path) == 1);
                if (rewritten.count(source))
                    CHECK(after_tree.at(path) != before_tree.at(path));
                else
                    CHECK(after_tree.at(path) == before_tree.at(path));
            }
        }
        if (!renamed.count(source))
            CHECK(asset["outputs"].size() == old_paths.size());
    }
    // And it is what a build from nothing gives.
    CHECK(after_tree == fresh(dir, src, "fresh"));
}

TEST_CASE("a reference to a missing file stays as written until the file appears, then the referrer is rebuilt",
          "[cache][references][e2e]")
{
    test::TempDir dir;
    const fs::path src = test::copy_site(dir, "refs");
    age(src);
    test::spit(src / "extra.html", "<img src=\"img/later.png\"><a href=\"later.html\">a page served elsewhere</a>\n");
    const auto first = test::run_cachet(
        {"build", src.string(), "-o", (dir / "out").string(), "--json", "--cache-dir", (dir / "cache").string()});
    CHECK(first.exit_code == 0);
    CHECK_THAT(first.err, Catch::Contains("warning: extra.html: \"img/later.png\" names img/later.png, which is not "
                                          "in SRC: left as written"));
    CHECK_THAT(first.err, !Catch::Contains("later.html"));
    CHECK(as_text(test::slurp(dir / "out/extra.html")).find("\"img/later.png\"") != std::string_view::npos);

    const auto strict = test::run_cachet(
        {"build", src.string(), "-o", (dir / "strict").string(), "--strict", "--cache-dir", (dir / "cache").string()});
    CHECK(strict.exit_code == 1);
    CHECK_THAT(strict.err, Catch::Contains("failed: extra.html: refers to what this build does not have (--strict)"));

    fs::copy_file(src / "img/a.png", src / "img/later.png");
    const Build second = build(src, dir / "out", dir / "cache");
    CHECK(second.summary["kinds"]["text"]["built"] == 1); // extra.html, untouched itself
    const std::string page(as_text(test::slurp(dir / "out/extra.html")));
    CHECK(page.find("\"img/later.png\"") == std::string::npos);
    INFO(page);
    const auto manifest = test::read_json(dir / "out/cachet-manifest.json");
    bool named = false; // the PNG output of img/later.png, at its own width
    for (const auto& o : manifest["assets"]["img/later.png"]["outputs"])
        if (o["format"] == "png" && page.find("\"" + o["path"].get<std::string>() + "\"") != std::string::npos)
            named = true;
    CHECK(named);
}

namespace {

// The stat of path that tells a file rewritten from one left alone.
std::tuple<std::uintmax_t, fs::file_time_type, std::uint64_t> identity(const fs::path& path)
{
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return {fs::file_size(path), fs::last_write_time(path), st.st_ino};
}

// The index snapshot of the one OUT built with cache (and the path of its journal).
std::pair<fs::path, fs::path> index_files(const fs::path& cache)
{
    for (const auto& e : fs::directory_iterator(cache / ("v" + std::to_string(k_cache_format)) / "index"))
        if (e.path().extension() == ".bin") {
            fs::path log = e.path();
            return {e.path(), log.replace_extension(".log")};
        }
    FAIL("no index in " << cache);
    return {};
}

} // namespace

TEST_CASE("a build that changed little appends to the index journal, and the next build reads it back", "[cache][e2e]")
{
    test::TempDir dir;
    const fs::path src = test::copy_site(dir);
    age(src);
    const std::string config = no_retention(dir, "c.toml");
    const fs::path manifest = dir / "out/cachet-manifest.json";
    build(src, dir / "out", dir / "cache", {"--config", config});
    const auto [snapshot, journal] = index_files(dir / "cache");
    CHECK_FALSE(fs::exists(journal));
    const auto snapshot_before = identity(snapshot);

    test::spit(src / "css/site.css", "body { color: teal }\n");
    const Build second = build(src, dir / "out", dir / "cache", {"--config", config});
    CHECK(second.summary["kinds"]["text"]["built"].get<int>() >= 1);
    CHECK(identity(snapshot) == snapshot_before); // not written again
    REQUIRE(fs::exists(journal));
    CHECK(fs::file_size(journal) < fs::file_size(snapshot));

    // A no-op reads snapshot and journal: it finds the manifest it published and leaves it.
    const auto published = identity(manifest);
    const Build third = build(src, dir / "out", dir / "cache", {"--config", config});
    CHECK(third.summary["built"] == 0);
    CHECK(identity(manifest) == published);
    CHECK(tree(dir / "out") == fresh(dir, src, "fresh"));

    SECTION("a torn journal (a crash in the middle of an append) is cut back to its last whole record")
    {
        fs::resize_file(journal, fs::file_size(journal) - 5);
        test::spit(src / "css/site.css", "body { color: navy }\n");
        const Build torn = build(src, dir / "out", dir / "cache", {"--config", config});
        CHECK(tree(dir / "out") == fresh(dir, src, "fresh-torn"));
        const auto again = identity(manifest);
        const Build after = build(src, dir / "out", dir / "cache", {"--config", config});
        CHECK(after.summary["built"] == 0);
        CHECK(identity(manifest) == again);
    }
    SECTION("a journal left from another snapshot is not applied to the new one")
    {
        fs::copy_file(journal, dir / "stale.log");
        fs::remove(snapshot);
        fs::remove(journal);
        test::spit(src / "css/site.css", "body { color: olive }\n");  // so that the manifest changes
        build(src, dir / "out", dir / "cache", {"--config", config}); // no index: a new snapshot
        CHECK(fs::exists(snapshot));
        CHECK_FALSE(fs::exists(journal));
        fs::copy_file(dir / "stale.log", journal);
        const auto again = identity(manifest);
        const Build after = build(src, dir / "out", dir / "cache", {"--config", config});
        CHECK(after.summary["built"] == 0);
        CHECK(identity(manifest) == again); // the stale journal's head names an older manifest
        CHECK(tree(dir / "out") == fresh(dir, src, "fresh-stale"));
    }
}

TEST_CASE("a rebuild decodes the index entries of what it builds only, and counts the others as the last build did",
          "[cache][e2e]")
{
    test::TempDir dir;
    const fs::path src = test::copy_site(dir);
    age(src);
    const std::string config = no_retention(dir, "c.toml");
    const auto decoded = [](const Build& b) { // --timings: "build done (N index entries decoded)"
        const std::string& err = b.process.err;
        const auto at = err.find("build done (");
        INFO(err);
        REQUIRE(at != std::string::npos);
        return std::stoi(err.substr(at + std::strlen("build done (")));
    };
    // What a build that reads every record counts (from --json), but what it built or reused.
    const auto counts = [](const Build& b) {
        nlohmann::json c = b.summary;
        for (const char* changes :
             {"built", "cached", "cache_hit_rate", "elapsed_seconds", "published", "removed", "manifest"})
            c.erase(changes);
        for (auto& [kind, totals] : c["kinds"].items()) {
            totals.erase("built");
            totals.erase("cached");
        }
        return c;
    };
    const Build first = build(src, dir / "out", dir / "cache", {"--config", config});
    const Build noop = build(src, dir / "out", dir / "cache", {"--config", config, "--timings"});
    CHECK(noop.summary["built"] == 0);
    CHECK(decoded(noop) == 0);
    CHECK(counts(noop) == counts(first));

    test::spit(src / "css/site.css", "body { color: teal }\n");
    const Build one = build(src, dir / "out", dir / "cache", {"--config", config, "--timings"});
    CHECK(one.summary["built"].get<int>() >= 1);
    // The stylesheet's (its key), and those of what the pages naming it name (their URLs).
    CHECK(decoded(one) >= 1);
    CHECK(decoded(one) < one.summary["assets"].get<int>());
    const Build full = build(src, dir / "out-full", dir / "cache-full", {"--config", config});
    CHECK(counts(one) == counts(full));
    CHECK(tree(dir / "out") == fresh(dir, src, "fresh"));
    // And from the entries of that build's journal (once the stylesheet, just written, has
    // been hashed again: a stat younger than a second is not trusted).
    age(src);
    build(src, dir / "out", dir / "cache", {"--config", config});
    const Build again = build(src, dir / "out", dir / "cache", {"--config", config, "--timings"});
    CHECK(again.summary["built"] == 0);
    CHECK(decoded(again) == 0);
    CHECK(counts(again) == counts(full));
}

TEST_CASE("a changed file whose name starts as many others do decodes none of their entries", "[cache][e2e]")
{
    // Its new and old output names are looked up among the sources whose paths start as they
    // do ("a" here: a0.txt ... a59.txt), by their index entries' lists of outputs.
    test::TempDir dir;
    const fs::path src = dir / "site";
    test::spit(src / "a.css", "body { color: red }\n");
    for (int i = 0; i < 60; ++i)
        test::spit(src / ("a" + std::to_string(i) + ".txt"), std::to_string(i) + "\n");
    age(src);
    const std::string config = no_retention(dir, "c.toml");
    build(src, dir / "out", dir / "cache", {"--config", config});
    test::spit(src / "a.css", "body { color: teal }\n");
    const Build one = build(src, dir / "out", dir / "cache", {"--config", config, "--timings"});
    CHECK(one.summary["built"] == 1);
    const auto at = one.process.err.find("build done (");
    REQUIRE(at != std::string::npos);
    CHECK(std::stoi(one.process.err.substr(at + std::strlen("build done ("))) <= 1); // (the stylesheet's own)
    CHECK(tree(dir / "out") == fresh(dir, src, "fresh"));
}

TEST_CASE("an index of several chunks is read whole, and a damaged one is not used", "[cache][e2e]")
{
    test::TempDir dir;
    const fs::path src = dir / "site";
    for (int i = 0; i < 2600; ++i) // three chunks of the snapshot (1,024 entries each)
        test::spit(src / ("d" + std::to_string(i % 7)) / ("f" + std::to_string(i) + ".txt"), std::to_string(i) + "\n");
    age(src);
    const std::string config = no_retention(dir, "c.toml");
    build(src, dir / "out", dir / "cache", {"--config", config});
    const auto published = [](const std::string& err) { // a step of publishing the manifest (--timings)
        for (const char* step :
             {"manifest rendered", "manifest as published", "manifest unchanged", "manifest published"})
            if (err.find(step) != std::string::npos)
                return true;
        return false;
    };
    // A no-op: every source and output found as the index says, nothing published again.
    const Build noop = build(src, dir / "out", dir / "cache", {"--config", config, "--timings"});
    CHECK(noop.summary["built"] == 0);
    CHECK_FALSE(published(noop.process.err));
    const auto whole = tree(dir / "out");

    // The table of chunks (its offset, the trailer's last 8 bytes) made to point a byte early:
    // the index is not used, every source is hashed again and found in the cache.
    const auto [snapshot, journal] = index_files(dir / "cache");
    {
        Bytes bytes = test::slurp(snapshot);
        REQUIRE(bytes.size() > 8);
        std::uint64_t table = 0;
        std::memcpy(&table, bytes.data() + bytes.size() - 8, 8);
        --table;
        std::memcpy(bytes.data() + bytes.size() - 8, &table, 8);
        test::spit(snapshot, std::string(bytes.begin(), bytes.end()));
    }
    const Build damaged = build(src, dir / "out", dir / "cache", {"--config", config, "--timings"});
    CHECK(damaged.summary["built"] == 0);
    CHECK_THAT(damaged.process.err, Catch::Contains("manifest rendered"));
    CHECK(tree(dir / "out") == whole);
    const Build again = build(src, dir / "out", dir / "cache", {"--config", config, "--timings"});
    CHECK_FALSE(published(again.process.err));
}

TEST_CASE("a damaged byte anywhere in the index is never published", "[cache][e2e]")
{
    // The snapshot is a cache file, not flushed to disk: after a crash it may hold zeroes, and a
    // disk or a tool may change a byte. A record read from it is published as it is (its
    // outputs are only looked at by their stat), so every byte of it is checked before use.
    test::TempDir dir;
    const fs::path src = test::copy_site(dir);
    age(src);
    const std::string config = no_retention(dir, "c.toml");
    build(src, dir / "out", dir / "cache", {"--config", config});
    const auto [snapshot, journal] = index_files(dir / "cache");
    Bytes bytes = test::slurp(snapshot);
    const std::string_view text = as_text(bytes);
    // In the manifest fragment of a source the new stylesheet does not change (a font).
    const std::size_t record = text.find("\"integrity\":\"sha384-", text.find("fonts/dejavu-sans.woff2"));
    REQUIRE(record != std::string_view::npos);
    std::uint64_t table = 0;
    std::memcpy(&table, bytes.data() + bytes.size() - 8, 8);
    REQUIRE(table < bytes.size());

    std::string where;
    SECTION("a character of a record's integrity")
    {
        where = "record";
        bytes[record + 30] ^= 0x01;
    }
    SECTION("a block of zeroes in the records")
    {
        where = "zeroes";
        std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(record),
                  bytes.begin() + static_cast<std::ptrdiff_t>(std::min<std::uint64_t>(record + 64, table)), 0);
    }
    SECTION("the SRC the header names")
    {
        where = "header";
        const std::size_t at = text.find(fs::weakly_canonical(src).string());
        REQUIRE(at < record);
        bytes[at + 1] ^= 0x20;
    }
    SECTION("the table of chunks")
    {
        where = "table";
        bytes[static_cast<std::size_t>(table) + 1] ^= 0x01;
    }
    SECTION("the manifest's build id in the trailer")
    {
        where = "trailer";
        bytes[bytes.size() - 72] ^= 0x01;
    }
    INFO(where);
    test::spit(snapshot, std::string(bytes.begin(), bytes.end()));
    // Another stylesheet: the manifest is rendered again, from the records of every other source.
    test::spit(src / "css/site.css", "body { color: maroon }\n");
    build(src, dir / "out", dir / "cache", {"--config", config});
    CHECK(tree(dir / "out") == fresh(dir, src, "fresh"));
    // ... and the index written then is whole: the next build is a no-op.
    const Build again = build(src, dir / "out", dir / "cache", {"--config", config});
    CHECK(again.summary["built"] == 0);
}

TEST_CASE("a cache entry that misdescribes its bytes is rebuilt, never published", "[cache][e2e]")
{
    // Its blobs are checked against their digests; what it says of them (size, integrity,
    // ETag) goes into the manifest as it is, so it is checked against them too.
    test::TempDir dir;
    const fs::path src = test::copy_site(dir);
    const std::string config = no_retention(dir, "c.toml");
    build(src, dir / "out", dir / "cache", {"--config", config});
    fs::path entry;
    for (const auto& e : fs::recursive_directory_iterator(dir / "cache"))
        if (e.is_regular_file() && e.path().extension() == ".json" &&
            as_text(test::slurp(e.path())).find("\"source\":\"img/hero.jpg\"") != std::string_view::npos)
            entry = e.path();
    REQUIRE_FALSE(entry.empty());
    std::string text(as_text(test::slurp(entry)));
    std::string field;
    SECTION("an integrity")
    {
        field = "\"integrity\":\"sha384-";
        const std::size_t at = text.find(field) + field.size() + 10;
        text[at] = text[at] == 'A' ? 'B' : 'A';
    }
    SECTION("a size")
    {
        field = "\"bytes\":";
        const std::size_t at = text.find(field, text.find("\"outputs\"")) + field.size();
        text[at] = text[at] == '9' ? '1' : static_cast<char>(text[at] + 1);
    }
    SECTION("a content type")
    {
        field = "\"content_type\":\"image/";
        const std::size_t at = text.find(field) + field.size();
        text[at] = text[at] == 'a' ? 'b' : 'a';
    }
    SECTION("an ETag")
    {
        field = "\"etag\":\"\\\"";
        const std::size_t at = text.find(field) + field.size() + 3;
        text[at] = text[at] == 'a' ? 'b' : 'a';
    }
    INFO(field);
    test::spit(entry, text);
    fs::remove_all(dir / "out"); // every output is restored from the cache
    const Build again = build(src, dir / "out", dir / "cache", {"--config", config});
    CHECK_THAT(again.process.err, Catch::Contains("img/hero.jpg: cache entry") && Catch::Contains("is damaged"));
    CHECK(tree(dir / "out") == fresh(dir, src, "fresh"));
}
