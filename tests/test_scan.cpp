#include "pipeline/build/scan.hpp"

#include "tests/test_support.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

using namespace cachet;
namespace fs = std::filesystem;

TEST_CASE("classify sorts files into image, text, passthrough and unsupported", "[scan]")
{
    Preset preset = load_preset("default");
    CHECK(classify("a/b.JPG", preset) == AssetKind::image);
    CHECK(classify("a.tiff", preset) == AssetKind::image);
    CHECK(classify("a.avif", preset) == AssetKind::image);
    CHECK(classify("app.js", preset) == AssetKind::text);
    CHECK(classify("app.js.map", preset) == AssetKind::text);
    CHECK(classify("favicon.ico", preset) == AssetKind::text);
    CHECK(classify("f.woff2", preset) == AssetKind::passthrough);
    CHECK(classify("v.mp4", preset) == AssetKind::passthrough);
    CHECK(classify("LICENSE", preset) == AssetKind::passthrough);
    CHECK(classify("x.bmp", preset) == AssetKind::unsupported);
    preset.images.unsupported = UnsupportedImages::passthrough;
    CHECK(classify("x.heic", preset) == AssetKind::passthrough);
}

TEST_CASE("scan_tree lists files sorted byte-wise by relative path", "[scan]")
{
    test::TempDir dir;
    for (const char* f : {"a/b.txt", "a.txt", "B.txt", "a/c/d.css", "z.js"})
        test::spit(dir / f, "x");
    const ScanResult r = scan_tree(dir.path(), load_preset("default"));
    std::vector<std::string> paths;
    for (const auto& a : r.assets)
        paths.push_back(a.path);
    CHECK(paths == std::vector<std::string>{"B.txt", "a.txt", "a/b.txt", "a/c/d.css", "z.js"});
    CHECK(r.assets[0].bytes == 1);
    CHECK(r.warnings.empty());
}

TEST_CASE("scan_tree skips ignored files, links leaving the tree and special files", "[scan]")
{
    test::TempDir outside;
    test::spit(outside / "secret.txt", "secret");
    test::TempDir dir;
    test::spit(dir / "keep.css", "x");
    test::spit(dir / ".git/config", "x");
    test::spit(dir / "sub/.DS_Store", "x");
    fs::create_symlink(outside / "secret.txt", dir / "leak.txt");
    fs::create_symlink(dir / "keep.css", dir / "alias.css");
    fs::create_directory_symlink(outside.path(), dir / "linked-dir");
    REQUIRE(mkfifo((dir / "pipe").c_str(), 0644) == 0);

    const ScanResult r = scan_tree(dir.path(), load_preset("default"));
    std::vector<std::string> paths;
    for (const auto& a : r.assets)
        paths.push_back(a.path);
    CHECK(paths == std::vector<std::string>{"alias.css", "keep.css"});
    REQUIRE(r.warnings.size() == 3);
    CHECK_THAT(r.warnings[0], Catch::StartsWith("leak.txt: skipped") && Catch::Contains("outside"));
    CHECK_THAT(r.warnings[1], Catch::StartsWith("linked-dir: skipped"));
    CHECK_THAT(r.warnings[2], Catch::StartsWith("pipe: skipped"));
}

TEST_CASE("is_valid_utf8 accepts UTF-8 and rejects malformed sequences", "[scan]")
{
    CHECK(is_valid_utf8("img/caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac.png"));
    CHECK(is_valid_utf8("\xf0\x9f\x98\x80.svg"));
    CHECK_FALSE(is_valid_utf8("caf\xe9.png"));      // Latin-1
    CHECK_FALSE(is_valid_utf8("a\xc3"));            // truncated
    CHECK_FALSE(is_valid_utf8("\xc0\xaf"));         // overlong '/'
    CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));     // surrogate
    CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80")); // past U+10FFFF
}
