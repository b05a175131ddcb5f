// Never heavier: what a page's <img> or an image's fallback URL serves is not bigger than the
// source it came from.
#include "pipeline/image/jpeg_segments.hpp"
#include "pipeline/image/png_chunks.hpp"
#include "tests/test_support.hpp"

#include <catch2/catch.hpp>
#include <vips/vips8>
#include <zlib.h>

#include <string>

namespace fs = std::filesystem;
using namespace cachet;
using json = nlohmann::json;

namespace {

// png with a tEXt chunk (keyword, text) inserted after IHDR.
std::string with_text_chunk(const Bytes& png, const std::string& keyword, const std::string& text)
{
    const std::string data = keyword + '\0' + text;
    auto be32 = [](std::uint32_t v) {
        std::string out;
        for (int s = 24; s >= 0; s -= 8)
            out += static_cast<char>((v >> s) & 0xff);
        return out;
    };
    const std::string body = "tEXt" + data;
    const auto crc = crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()));
    const std::string chunk =
        be32(static_cast<std::uint32_t>(data.size())) + body + be32(static_cast<std::uint32_t>(crc));
    const std::string file(png.begin(), png.end());
    return file.substr(0, 33) + chunk + file.substr(33); // after the signature and IHDR
}

// The largest difference of any sample between two images of the same size, as RGBA.
double max_difference(vips::VImage a, vips::VImage b)
{
    auto rgba = [](vips::VImage i) {
        i = i.colourspace(VIPS_INTERPRETATION_sRGB);
        return i.has_alpha() ? i : i.bandjoin_const({255});
    };
    return (rgba(a) - rgba(b)).abs().max();
}

} // namespace

TEST_CASE("cachet build: a PNG's fallback is never heavier than the source at its own width, and carries no text "
          "chunks",
          "[e2e][weight]")
{
    test::TempDir dir;
    const fs::path src = dir / "src";
    fs::create_directories(src);
    // A palette PNG with transparency and a grey+alpha PNG: a full RGB(A) re-encode of either
    // is bigger than the source. The third carries a comment that must not be deployed.
    fs::copy_file(test::fixtures() / "images/palette-trns.png", src / "palette.png");
    fs::copy_file(test::fixtures() / "images/grey-alpha.png", src / "grey.png");
    test::spit(src / "commented.png",
               with_text_chunk(test::slurp(src / "palette.png"), "Comment", "taken at 51.5007 N, 0.1246 W"));
    // A PNG whose re-encode is smaller: that one ships.
    fs::copy_file(test::fixtures() / "site/img/logo.png", src / "logo.png");
    REQUIRE(test::run_cachet({"build", src.string(), "-o", (dir / "out").string()}).exit_code == 0);
    const json m = test::read_json(dir / "out/cachet-manifest.json");

    for (const std::string name : {"palette.png", "grey.png", "commented.png", "logo.png"}) {
        INFO(name);
        const auto source_bytes = fs::file_size(src / name);
        const vips::VImage source = test::load_image(src / name);
        const json& asset = m["assets"].at(name);
        const json* fallback = nullptr;
        for (const auto& o : asset["outputs"])
            if (o["format"] == "png" && o["width"] == source.width())
                fallback = &o;
        REQUIRE(fallback != nullptr);
        const fs::path path = dir / "out" / (*fallback)["path"].get<std::string>();
        CHECK(fs::file_size(path) <= source_bytes);
        CHECK((*fallback)["bytes"] == fs::file_size(path));
        CHECK(max_difference(test::load_image(path), source) == 0); // lossless either way
        const Bytes shipped = test::slurp(path);
        CHECK(std::string(shipped.begin(), shipped.end()).find("51.5007") == std::string::npos);
        // A modern format at that width ships only if smaller than what the fallback ships.
        for (const auto& o : asset["outputs"])
            if (o["format"] != "png" && o["width"] == source.width())
                CHECK(o["bytes"].get<std::uint64_t>() < (*fallback)["bytes"].get<std::uint64_t>());
        if (name == "logo.png")
            CHECK(fs::file_size(path) < source_bytes / 4); // re-encoded: 33 KB of source, far less out
    }
}

TEST_CASE("png_without_metadata drops text and time chunks, and refuses what it cannot serve as is", "[weight]")
{
    const Bytes png = test::slurp(test::fixtures() / "images/palette-trns.png");
    const std::string commented = with_text_chunk(png, "Comment", "secret");
    const Bytes with_comment(commented.begin(), commented.end());
    const auto stripped = png_without_metadata(with_comment, PngProfile::keep);
    REQUIRE(stripped);
    CHECK(*stripped == png); // the fixture has no metadata chunk: exactly its bytes again
    // A chunk of another kind survives; eXIf, acTL and (when refused) iCCP make it unusable.
    auto with_chunk = [&](const std::string& type) {
        std::string s = with_text_chunk(png, "k", "v");
        s.replace(37, 4, type); // the inserted chunk's type, after signature, IHDR and its length
        const auto crc = crc32(0, reinterpret_cast<const Bytef*>(s.data() + 37), 4 + 2 + 1);
        for (int i = 0; i < 4; ++i)
            s[static_cast<std::size_t>(41 + 3 + i)] = static_cast<char>((crc >> (24 - 8 * i)) & 0xff);
        return Bytes(s.begin(), s.end());
    };
    CHECK(png_without_metadata(with_chunk("zTXt"), PngProfile::keep) == png);
    CHECK(png_without_metadata(with_chunk("tIME"), PngProfile::keep) == png);
    CHECK(png_without_metadata(with_chunk("sBIT"), PngProfile::keep) != png); // kept
    CHECK(!png_without_metadata(with_chunk("eXIf"), PngProfile::keep));
    CHECK(!png_without_metadata(with_chunk("acTL"), PngProfile::keep));
    CHECK(png_without_metadata(with_chunk("iCCP"), PngProfile::keep));
    CHECK(!png_without_metadata(with_chunk("iCCP"), PngProfile::refuse));
    // Damaged: a bad CRC, cut short, not a PNG.
    Bytes bad_crc = png;
    bad_crc[30] ^= 1;
    CHECK(!png_without_metadata(bad_crc, PngProfile::keep));
    CHECK(!png_without_metadata(ByteView(png.data(), png.size() - 5), PngProfile::keep));
    CHECK(!png_without_metadata(as_bytes("GIF89a"), PngProfile::keep));
}

namespace {

// The segment of a JPEG file that starts with marker (ff xx) and holds text, or "".
std::string jpeg_segment(const std::string& jpeg, unsigned char marker, const std::string& text)
{
    for (std::size_t at = 2; at + 4 <= jpeg.size();) {
        const auto m = static_cast<unsigned char>(jpeg[at + 1]);
        const std::size_t length = (static_cast<std::size_t>(static_cast<unsigned char>(jpeg[at + 2])) << 8) |
                                   static_cast<unsigned char>(jpeg[at + 3]);
        if (m == 0xda)
            break;
        if (m == marker && jpeg.compare(at + 4, text.size(), text) == 0)
            return jpeg.substr(at + 4, length - 2);
        at += 2 + length;
    }
    return "";
}

} // namespace

TEST_CASE("jpeg_without_metadata keeps the picture byte for byte and drops what is not it, and exif_upright reads the "
          "orientation",
          "[weight]")
{
    const std::string upright(as_text(test::slurp(test::fixtures() / "images/orientation-1.jpg")));
    const std::string turned(as_text(test::slurp(test::fixtures() / "images/orientation-6.jpg")));
    CHECK(exif_upright(as_bytes(jpeg_segment(upright, 0xe1, "Exif"))));
    CHECK_FALSE(exif_upright(as_bytes(jpeg_segment(turned, 0xe1, "Exif"))));
    CHECK(exif_upright(ByteView()));
    CHECK_FALSE(exif_upright(as_bytes(std::string_view("Exif\0\0MM\0*", 10)))); // cut short

    // EXIF: refused unless dropped on purpose.
    CHECK_FALSE(jpeg_without_metadata(as_bytes(upright), PngProfile::keep));
    const auto stripped = jpeg_without_metadata(as_bytes(upright), PngProfile::keep, SourceExif::drop);
    REQUIRE(stripped);
    const std::string out(stripped->begin(), stripped->end());
    CHECK(out.find("Exif") == std::string::npos);
    CHECK(out.size() < upright.size());
    test::TempDir dir;
    test::spit(dir / "stripped.jpg", out);
    CHECK(max_difference(test::load_image(dir / "stripped.jpg"),
                         test::load_image(test::fixtures() / "images/orientation-1.jpg")) == 0);

    // A comment and trailing bytes go; a JPEG that is not all there, CMYK, or not a JPEG is refused.
    const std::string comment = "\xff\xfe" + std::string("\0\x0etaken here!", 14);
    const std::string noted = out.substr(0, 2) + comment + out.substr(2) + "TRAILING";
    const auto cleaned = jpeg_without_metadata(as_bytes(noted), PngProfile::keep);
    REQUIRE(cleaned);
    CHECK(std::string(cleaned->begin(), cleaned->end()).find("taken here") == std::string::npos);
    CHECK(std::string(cleaned->begin(), cleaned->end()).find("TRAILING") == std::string::npos);
    CHECK_FALSE(jpeg_without_metadata(as_bytes(out.substr(0, out.size() - 40)), PngProfile::keep));
    CHECK_FALSE(jpeg_without_metadata(test::slurp(test::fixtures() / "images/cmyk.jpg"), PngProfile::keep));
    CHECK_FALSE(jpeg_without_metadata(as_bytes("GIF89a"), PngProfile::keep));
    // An ICC profile stays unless the outputs convert it away.
    const Bytes tagged = test::slurp(test::fixtures() / "images/adobe-rgb.jpg");
    CHECK(jpeg_without_metadata(tagged, PngProfile::keep, SourceExif::drop));
    CHECK_FALSE(jpeg_without_metadata(tagged, PngProfile::refuse, SourceExif::drop));
}

TEST_CASE("cachet build: a JPEG or GIF source is never outweighed by its own fallback, and its own URL answers",
          "[e2e][weight]")
{
    test::TempDir dir;
    const fs::path src = dir / "src";
    fs::create_directories(src);
    // A JPEG already compressed hard: a re-encode at the preset's quality is bigger.
    const vips::VImage hero = test::load_image(test::fixtures() / "site/img/hero.jpg");
    hero.jpegsave((src / "tight.jpg").string().c_str(), vips::VImage::option()->set("Q", 20)->set("strip", true));
    // A GIF whose PNG fallback is bigger (10 KB of GIF, 18.8 KB of PNG).
    fs::copy_file(test::fixtures() / "site/img/badge.gif", src / "badge.gif");
    test::spit(src / "index.html", "<img src=\"tight.jpg\" alt=\"\"><img src=\"badge.gif\" alt=\"\">\n");
    REQUIRE(test::run_cachet({"build", src.string(), "-o", (dir / "out").string()}).exit_code == 0);
    const json m = test::read_json(dir / "out/cachet-manifest.json");
    const std::string page(as_text(test::slurp(dir / "out/index.html")));
    for (const std::string name : {"tight.jpg", "badge.gif"}) {
        INFO(name);
        const auto source_bytes = fs::file_size(src / name);
        const vips::VImage source = test::load_image(src / name);
        for (const auto& o : m["assets"].at(name)["outputs"]) {
            if (o["width"] != source.width())
                continue;
            INFO(o["path"]);
            CHECK(o["bytes"].get<std::uint64_t>() <= source_bytes);    // every format at the source's width
            if (o["format"] == (name == "tight.jpg" ? "jpeg" : "gif")) // the source's own pixels
                CHECK(max_difference(test::load_image(dir / "out" / o["path"].get<std::string>()), source) == 0);
        }
        CHECK(fs::file_size(dir / "out" / name) <= source_bytes);
        // What the page's <img> names is no heavier either.
        const std::size_t at = page.find(name.substr(0, name.find('.')));
        REQUIRE(at != std::string::npos);
        const std::string url = page.substr(at, page.find('"', at) - at);
        CHECK(fs::file_size(dir / "out" / url) <= source_bytes);
    }
}
