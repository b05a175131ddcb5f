#include "pipeline/build/versions.hpp"
#include "pipeline/image/image_stack.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <chrono>

namespace fs = std::filesystem;
using namespace cachet;

namespace {

struct Run {
    bool loaded_images = false; // whether the dynamic linker loaded libvips into the process
    nlohmann::json summary;
};

// Builds src into out with the cachet copy in bin, under LD_DEBUG=files so the dynamic
// linker names every library it loads.
Run build(const fs::path& bin, const fs::path& src, const fs::path& out, const fs::path& cache)
{
    const auto p = test::run_program({"env", "LD_DEBUG=files", (bin / "cachet").string(), "build", src.string(), "-o",
                                      out.string(), "--json", "--cache-dir", cache.string()});
    INFO(p.err.substr(0, 2000));
    REQUIRE(p.exit_code == 0);
    return {p.err.find("file=libvips.so") != std::string::npos, nlohmann::json::parse(p.out)};
}

} // namespace

TEST_CASE("the image stack linked in names the libraries in a fixed order", "[image_stack]")
{
    const auto versions = image_stack().library_versions();
    REQUIRE(versions.size() == 6);
    CHECK(versions[0].first == "libvips");
    CHECK(versions[1].first == "libwebp");
    CHECK(versions[2].first == "libavif");
    CHECK(versions[3].first == "libaom");
    CHECK(versions[4].first == "jpegli");
    CHECK(versions[5].first == "libjxl");
    CHECK(image_library_versions({}) == joined_versions(versions));
    CHECK_THAT(codec_fingerprint(), Catch::StartsWith("cachet " + cachet_version() + "; libvips "));
}

TEST_CASE("cachet loads the image libraries only for a build with an image to make", "[image_stack][e2e]")
{
    test::TempDir dir;
    // A copy of the executable and its module, whose file dates the test can change.
    const fs::path bin = dir / "bin";
    fs::create_directories(bin);
    fs::copy_file(test::cachet_binary(), bin / "cachet");
    fs::copy_file(fs::path(test::cachet_binary()).parent_path() / "cachet-images.so", bin / "cachet-images.so");
    const fs::path src = dir / "src";
    fs::create_directories(src);
    fs::copy_file(test::fixtures() / "site/img/logo.png", src / "logo.png");
    test::spit(src / "site.css", "body { color: red }\n");
    // Sources changed within a second of a build are hashed again (their stats are not trusted),
    // and an image looked at again loads the stack: these are older.
    for (const auto& f : {src / "logo.png", src / "site.css"})
        fs::last_write_time(f, fs::last_write_time(f) - std::chrono::hours(1));
    const fs::path out = dir / "out";
    const fs::path cache = dir / "cache";

    const Run first = build(bin, src, out, cache);
    CHECK(first.loaded_images);
    CHECK(first.summary["kinds"]["image"]["built"] == 1);
    CHECK(fs::exists(cache / "image-stack"));

    SECTION("a change to a stylesheet alone: the recorded versions are used")
    {
        test::spit(src / "site.css", "body { color: blue }\n");
        const Run second = build(bin, src, out, cache);
        CHECK_FALSE(second.loaded_images);
        CHECK(second.summary["kinds"]["text"]["built"] == 1);
        CHECK(second.summary["kinds"]["image"]["built"] == 0);
    }
    SECTION("a library file that changed: the versions are read again, and the image is still reused")
    {
        fs::last_write_time(bin / "cachet-images.so",
                            fs::last_write_time(bin / "cachet-images.so") + std::chrono::hours(1));
        test::spit(src / "site.css", "body { color: green }\n");
        const Run second = build(bin, src, out, cache);
        CHECK(second.loaded_images);
        CHECK(second.summary["kinds"]["image"]["built"] == 0);
        const Run third = build(bin, src, out, cache); // recorded again
        CHECK_FALSE(third.loaded_images);
    }
    SECTION("a damaged record: the versions are read again")
    {
        test::spit(cache / "image-stack", "cachet-image-stack 1\nenv\n");
        const Run second = build(bin, src, out, cache);
        CHECK(second.loaded_images);
        CHECK(second.summary["kinds"]["image"]["built"] == 0);
    }
    SECTION("an image to make loads them")
    {
        fs::copy_file(test::fixtures() / "site/img/hero.jpg", src / "hero.jpg");
        const Run second = build(bin, src, out, cache);
        CHECK(second.loaded_images);
        CHECK(second.summary["kinds"]["image"]["built"] == 1);
    }
}

TEST_CASE("a module from another build of cachet is refused before it is called", "[image_stack][e2e]")
{
    test::TempDir dir;
    const fs::path bin = dir / "bin";
    fs::create_directories(bin);
    fs::copy_file(test::cachet_binary(), bin / "cachet");
    const fs::path src = dir / "src";
    fs::create_directories(src);
    fs::copy_file(test::fixtures() / "site/img/logo.png", src / "logo.png");
    const std::string modules = CACHET_STALE_MODULES;
    for (const std::string& module : {modules.substr(0, modules.find(',')), modules.substr(modules.find(',') + 1)}) {
        fs::copy_file(module, bin / "cachet-images.so", fs::copy_options::overwrite_existing);
        const auto p =
            test::run_program({(bin / "cachet").string(), "build", src.string(), "-o", (dir / "out").string()});
        INFO(module << "\n" << p.err);
        CHECK(p.exit_code == 72); // an installation problem, not a crash
        CHECK_THAT(p.err, Catch::Contains((bin / "cachet-images.so").string() + " is from another build of cachet") &&
                              Catch::Contains("install the executable and its module together"));
        CHECK_FALSE(fs::exists(dir / "out" / "cachet-manifest.json"));
    }
    // Its own module beside it: the same executable builds.
    fs::copy_file(fs::path(test::cachet_binary()).parent_path() / "cachet-images.so", bin / "cachet-images.so",
                  fs::copy_options::overwrite_existing);
    const auto p = test::run_program({(bin / "cachet").string(), "build", src.string(), "-o", (dir / "out").string()});
    INFO(p.err);
    CHECK(p.exit_code == 0);
}
