// Never heavier: what a page's <img> or an image's fallback URL serves is not bigger than the
// source it came from.
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
