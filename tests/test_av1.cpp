// The AV1 encoder cachet runs with (issue 7): the libaom it was built for is the one loaded and
// reported, every AVIF it writes decodes through decoders that share no code with that encoder
// (Debian's libavif with dav1d, and libvips through libheif), and AVIF bytes do not change
// between two builds.
#include "cachet_version.hpp"
#include "tests/test_support.hpp"

#include <avif/avif.h>
#include <catch2/catch.hpp>
#include <vips/vips8>

#include <chrono>
#include <map>
#include <memory>
#include <thread>

using namespace cachet;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Decoded {
    int width = 0, height = 0, frames = 0;
};

// Every frame decoded by dav1d (not aom, the encoder's own library), converted to RGB.
Decoded decode_with_dav1d(const Bytes& data)
{
    std::unique_ptr<avifDecoder, decltype(&avifDecoderDestroy)> d(avifDecoderCreate(), avifDecoderDestroy);
    d->codecChoice = AVIF_CODEC_CHOICE_DAV1D;
    REQUIRE(avifDecoderSetIOMemory(d.get(), data.data(), data.size()) == AVIF_RESULT_OK);
    REQUIRE(avifDecoderParse(d.get()) == AVIF_RESULT_OK);
    Decoded out{static_cast<int>(d->image->width), static_cast<int>(d->image->height), 0};
    avifResult result;
    while ((result = avifDecoderNextImage(d.get())) == AVIF_RESULT_OK) {
        avifRGBImage rgb;
        avifRGBImageSetDefaults(&rgb, d->image);
        avifRGBImageAllocatePixels(&rgb); // void in libavif 0.11
        const avifResult converted = avifImageYUVToRGB(d->image, &rgb);
        avifRGBImageFreePixels(&rgb);
        REQUIRE(converted == AVIF_RESULT_OK);
        ++out.frames;
    }
    CHECK(result == AVIF_RESULT_NO_IMAGES_REMAINING);
    CHECK(out.frames == d->imageCount);
    return out;
}

// "  libaom 3.12.1 (private, ...)" from `cachet --version`.
std::string reported_aom()
{
    const auto p = test::run_cachet({"--version"});
    REQUIRE(p.exit_code == 0);
    const auto at = p.out.find("  libaom ");
    REQUIRE(at != std::string::npos);
    const auto begin = at + 9;
    return p.out.substr(begin, p.out.find(' ', begin) - begin);
}

} // namespace

TEST_CASE("every AVIF cachet writes decodes through libavif with dav1d and through libvips", "[e2e][av1]")
{
    test::TempDir dir;
    const fs::path out = dir / "out";
    const auto p = test::run_cachet({"build", (test::fixtures() / "site").string(), "-o", out.string(), "-j", "2"});
    INFO(p.err);
    REQUIRE(p.exit_code == 0);
    const json manifest = test::read_json(out / "cachet-manifest.json");
    int checked = 0;
    for (const auto& [source, asset] : manifest["assets"].items()) {
        for (const auto& o : asset.value("outputs", json::array())) {
            if (o.value("format", "") != "avif")
                continue;
            INFO(o["path"].get<std::string>());
            const Bytes data = test::slurp(out / o["path"].get<std::string>());
            const Decoded d = decode_with_dav1d(data);
            CHECK(d.width == o["width"].get<int>());
            CHECK(d.height == o["height"].get<int>());
            CHECK(d.frames == o.value("frames", 1));
            REQUIRE(vips_init("cachet-tests") == 0);
            vips::VImage image = vips::VImage::new_from_buffer(data.data(), data.size(), "");
            CHECK(image.width() == d.width);
            CHECK(image.height() == d.height);
            CHECK(image.avg() > 0.0); // forces a full decode
            ++checked;
        }
    }
    CHECK(checked >= 6);
}

TEST_CASE("cachet reports the libaom it runs with, and it is the one it was built for", "[e2e][av1]")
{
    const std::string built_for = CACHET_AOM_VERSION;
    const std::string reported = reported_aom();
    CHECK(!reported.empty());
    if (!built_for.empty()) {
        CHECK(reported == built_for);
        const auto p = test::run_cachet({"--version"});
        CHECK_THAT(p.out, Catch::Contains("libaom " + built_for + " (private"));
    }
}

TEST_CASE("a cachet built for a private libaom refuses to run with another one", "[e2e][av1]")
{
    const std::string built_for = CACHET_AOM_VERSION;
    const fs::path system_aom = "/usr/lib/x86_64-linux-gnu/libaom.so.3";
    if (built_for.empty() || !fs::exists(system_aom))
        return; // nothing to mismatch: the build uses the system's libaom
    test::TempDir dir;
    const fs::path src = dir / "src";
    fs::create_directories(src);
    fs::copy_file(test::fixtures() / "site/img/logo.png", src / "logo.png");
    // LD_PRELOAD loads the system's libaom.so.3 first, so libavif binds to it, not the private one.
    const auto p = test::run_program({"env", "LD_PRELOAD=" + system_aom.string(), test::cachet_binary(), "build",
                                      src.string(), "-o", (dir / "out").string()});
    CHECK(p.exit_code != 0);
    CHECK_THAT(p.err, Catch::Contains("but this cachet was built for " + built_for));
    CHECK(!fs::exists(dir / "out" / "cachet-manifest.json"));
}

TEST_CASE("AVIF bytes are the ones recorded for this libaom, on any machine and any build of it", "[e2e][av1]")
{
    // Recorded from cachet's default preset with libaom 3.14.1 as tools/build-aom.sh builds it
    // (2026-12-04: the rate control, with the floor's trial encode and Butteraugli measure).
    // A change here means AVIF output changed: a new libaom, other build flags, other encoder
    // settings, or an encoder that is not deterministic across machines. Update it knowingly.
    if (std::string(CACHET_AOM_VERSION) != "3.14.1")
        return;
    test::TempDir dir;
    const fs::path src = dir / "src";
    fs::create_directories(src);
    fs::copy_file(test::fixtures() / "site/img/hero.jpg", src / "hero.jpg"); // photo
    fs::copy_file(test::fixtures() / "site/img/logo.png", src / "logo.png"); // graphic with alpha
    test::spit(dir / "cachet.toml", "[images]\nwidths = []\n");
    for (const char* jobs : {"1", "2"}) {
        const fs::path out = dir / (std::string("out-") + jobs);
        const auto p = test::run_cachet(
            {"build", src.string(), "-o", out.string(), "--config", (dir / "cachet.toml").string(), "-j", jobs});
        INFO(p.err);
        REQUIRE(p.exit_code == 0);
        const std::map<std::string, std::string> expected{
            {"hero.1fb30e778f.avif", "1fb30e778fa33eb7bb7206009b6c198a48c2bcf19f5e9c06da17d27baf038df8"},
            {"logo.90117d2b7f.avif", "90117d2b7f5a50d8dcdbc7e25f453213e0d8178978b470f2ab006961e4687f75"},
        };
        CHECK(test::file_digests(out, ".avif") == expected);
    }
}

TEST_CASE("aom_options reach libaom: a tuning changes the bytes, an unknown option fails naming the setting",
          "[e2e][av1]")
{
    test::TempDir dir;
    const fs::path src = dir / "src";
    fs::create_directories(src);
    fs::copy_file(test::fixtures() / "site/img/hero.jpg", src / "hero.jpg");
    fs::copy_file(test::fixtures() / "site/img/spinner.gif", src / "spinner.gif");
    auto build_with = [&](const std::string& name, const std::string& options) {
        test::spit(dir / (name + ".toml"),
                   "[images]\nwidths = []\nformats = [\"avif\"]\nfallback = false\n[images.avif]\naom_options = " +
                       options + "\n");
        return test::run_cachet(
            {"build", src.string(), "-o", (dir / name).string(), "--config", (dir / (name + ".toml")).string()});
    };
    const auto tuned = build_with("tuned", "{ tune = \"ssimulacra2\" }");
    const auto plain = build_with("plain", "{}");
    INFO(tuned.err << plain.err);
    REQUIRE(tuned.exit_code == 0); // the animation is encoded without the still-image tuning
    REQUIRE(plain.exit_code == 0);
    const auto a = test::file_digests(dir / "tuned", ".avif");
    const auto b = test::file_digests(dir / "plain", ".avif");
    REQUIRE(a.size() == 2);
    REQUIRE(b.size() == 2);
    CHECK(a.begin()->second != b.begin()->second);                       // hero: tuning applied
    CHECK(std::next(a.begin())->second == std::next(b.begin())->second); // spinner: not applied

    const auto bad = build_with("bad", "{ no-such-option = 1 }");
    CHECK(bad.exit_code != 0);
    CHECK_THAT(bad.err, Catch::Contains("hero.jpg") && Catch::Contains("no-such-option"));
}

TEST_CASE("an animated AVIF does not depend on the time it was encoded at", "[e2e][av1][animation]")
{
    // libavif 0.11 writes the wall-clock time into a sequence's mvhd/tkhd/mdhd boxes; cachet
    // clears it. Two builds more than a second apart must give the same bytes.
    test::TempDir dir;
    const fs::path src = dir / "src";
    fs::create_directories(src);
    fs::copy_file(test::fixtures() / "site/img/spinner.gif", src / "spinner.gif");
    test::spit(dir / "cachet.toml", "[images]\nwidths = []\nformats = [\"avif\"]\nfallback = false\n");
    std::map<std::string, std::string> first;
    for (const char* name : {"a", "b"}) {
        const auto p = test::run_cachet(
            {"build", src.string(), "-o", (dir / name).string(), "--config", (dir / "cachet.toml").string()});
        REQUIRE(p.exit_code == 0);
        const auto digests = test::file_digests(dir / name, ".avif");
        REQUIRE(digests.size() == 1);
        if (first.empty()) {
            first = digests;
            std::this_thread::sleep_for(std::chrono::milliseconds(1100));
        } else {
            CHECK(digests == first);
        }
    }
    const Decoded d = decode_with_dav1d(test::slurp(dir / "a" / first.begin()->first));
    CHECK(d.frames == 5);
}
