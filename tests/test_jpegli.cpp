// cachet's JPEG encoder, jpegli (issue 21): every JPEG it writes decodes with libjpeg-turbo, a
// decoder that shares no code with it, at the size the manifest gives and with the source's
// ICC profile; its settings reach it; and its bytes do not change between builds or machines.
// (Chromium decodes them too: the `report` check of tests/integration/servers.py shows each
// format of the fixture site's images, JPEG fallbacks among them, and fails on any undecoded.)
#include "cachet_version.hpp"
#include "tests/test_support.hpp"

#include <catch2/catch.hpp>

#include <csetjmp>
#include <cstdio>
#include <jpeglib.h> // the system's libjpeg-turbo, not the headers jpegli was built with
#include <map>

using namespace cachet;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Decoded {
    bool ok = false;
    int width = 0, height = 0, components = 0, h_samp = 0;
    bool progressive = false;
    std::size_t icc_bytes = 0;
};

struct DecodeError {
    jpeg_error_mgr base;
    std::jmp_buf back;
};

[[noreturn]] void decode_error_exit(j_common_ptr cinfo)
{
    std::longjmp(reinterpret_cast<DecodeError*>(cinfo->err)->back, 1);
}

// Every scanline decoded by libjpeg-turbo; ok is false if it reported an error.
Decoded decode_with_libjpeg_turbo(const Bytes& data, std::vector<JSAMPLE>& row)
{
    jpeg_decompress_struct cinfo{};
    DecodeError err{};
    cinfo.err = jpeg_std_error(&err.base);
    err.base.error_exit = decode_error_exit;
    Decoded out;
    if (setjmp(err.back) != 0) {
        jpeg_destroy_decompress(&cinfo);
        return Decoded{};
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data.data(), static_cast<unsigned long>(data.size()));
    jpeg_save_markers(&cinfo, JPEG_APP0 + 2, 0xffff);
    jpeg_read_header(&cinfo, TRUE);
    JOCTET* icc = nullptr;
    unsigned int icc_size = 0;
    if (jpeg_read_icc_profile(&cinfo, &icc, &icc_size)) {
        out.icc_bytes = icc_size;
        std::free(icc);
    }
    out.progressive = cinfo.progressive_mode != 0;
    out.h_samp = cinfo.comp_info[0].h_samp_factor;
    jpeg_start_decompress(&cinfo);
    out.width = static_cast<int>(cinfo.output_width);
    out.height = static_cast<int>(cinfo.output_height);
    out.components = cinfo.output_components;
    row.resize(static_cast<std::size_t>(cinfo.output_width) * static_cast<std::size_t>(cinfo.output_components));
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW r = row.data();
        jpeg_read_scanlines(&cinfo, &r, 1);
    }
    jpeg_finish_decompress(&cinfo);
    out.ok = err.base.num_warnings == 0;
    jpeg_destroy_decompress(&cinfo);
    return out;
}

Decoded decode(const Bytes& data)
{
    std::vector<JSAMPLE> row;
    return decode_with_libjpeg_turbo(data, row);
}

// The JPEG at the source's own width (no responsive widths) built with settings.
Bytes hero_jpeg(const test::TempDir& dir, const fs::path& src, const std::string& name, const std::string& settings)
{
    test::spit(dir / (name + ".toml"), "[images]\nwidths = []\nformats = []\n[images.jpeg]\n" + settings);
    const fs::path out = dir / name;
    const auto p = test::run_cachet(
        {"build", src.string(), "-o", out.string(), "--config", (dir / (name + ".toml")).string(), "--no-cache"});
    INFO(p.err);
    REQUIRE(p.exit_code == 0);
    const json m = test::read_json(out / "cachet-manifest.json");
    for (const auto& o : m["assets"]["hero.jpg"]["outputs"])
        if (o["format"] == "jpeg" && !o["original"].get<bool>())
            return test::slurp(out / o["path"].get<std::string>());
    FAIL("no JPEG output for hero.jpg");
    return {};
}

} // namespace

TEST_CASE("every JPEG cachet writes decodes with libjpeg-turbo at the manifest's size, with the source's ICC profile",
          "[e2e][jpegli]")
{
    test::TempDir dir;
    const fs::path src = test::site_images(dir, {"hero.jpg", "greyscale.jpg", "display-p3.jpg", "rotated.jpg"});
    const auto p = test::run_cachet({"build", src.string(), "-o", (dir / "out").string(), "--no-cache"});
    INFO(p.err);
    REQUIRE(p.exit_code == 0);
    const json m = test::read_json(dir / "out/cachet-manifest.json");
    int checked = 0;
    for (const auto& [source, o] : test::outputs_in(m, "jpeg")) {
        INFO(o["path"].get<std::string>());
        const Decoded d = decode(test::slurp(dir / "out" / o["path"].get<std::string>()));
        CHECK(d.ok);
        CHECK(d.width == o["width"].get<int>());
        CHECK(d.height == o["height"].get<int>());
        CHECK(d.progressive); // the default preset's progressive = true
        CHECK((d.components == 3 || d.components == 1));
        if (source == "display-p3.jpg")
            CHECK(d.icc_bytes > 0); // the pixels stay in Display P3, so the profile goes along
        ++checked;
    }
    CHECK(checked >= 8);
}

TEST_CASE("images.jpeg settings reach the encoder: encoder, distance, chroma and progressive", "[e2e][jpegli]")
{
    test::TempDir dir;
    const fs::path src = test::site_images(dir, {"hero.jpg"});
    const Bytes standard = hero_jpeg(dir, src, "standard", "");
    const Bytes closer = hero_jpeg(dir, src, "closer", "distance = 0.8\n");
    const Bytes full_chroma = hero_jpeg(dir, src, "full-chroma", "chroma = \"444\"\n");
    const Bytes baseline = hero_jpeg(dir, src, "baseline", "progressive = false\n");
    const Bytes libjpeg = hero_jpeg(dir, src, "libjpeg", "encoder = \"libjpeg\"\n");
    CHECK(closer.size() > standard.size()); // a smaller distance costs bytes
    CHECK(decode(standard).h_samp == 2);    // 4:2:0 by default
    CHECK(decode(full_chroma).h_samp == 1);
    CHECK(decode(standard).progressive);
    CHECK(!decode(baseline).progressive);
    CHECK(decode(baseline).ok);
    CHECK(libjpeg != standard);
    CHECK(decode(libjpeg).ok);

    test::spit(dir / "bad.toml", "[images.jpeg]\nencoder = \"mozjpeg\"\n");
    const auto p = test::run_cachet(
        {"build", src.string(), "-o", (dir / "bad").string(), "--config", (dir / "bad.toml").string()});
    CHECK(p.exit_code != 0);
    CHECK_THAT(p.err, Catch::Contains("images.jpeg.encoder") && Catch::Contains("jpegli"));
}

TEST_CASE("JPEG bytes are the ones recorded for this jpegli, on any machine, at -j1 and -j2", "[e2e][jpegli]")
{
    // Recorded from cachet's default preset with jpegli 0.11.2 as tools/build-jpegli.sh builds
    // it (Highway compiled for one fixed SIMD target: an AVX2 build gives other bytes). A change
    // here means JPEG output changed: a new jpegli, other build flags, other encoder settings,
    // or an encoder that depends on the machine. Update it knowingly.
    if (std::string(CACHET_JPEGLI_VERSION) != "0.11.2")
        return;
    test::TempDir dir;
    const fs::path src = test::site_images(dir, {"hero.jpg", "greyscale.jpg"});
    test::spit(dir / "cachet.toml", "[images]\nwidths = []\nformats = []\n[output]\noriginals = false\n");
    for (const char* jobs : {"1", "2"}) {
        const fs::path out = dir / (std::string("out-") + jobs);
        const auto p = test::run_cachet(
            {"build", src.string(), "-o", out.string(), "--config", (dir / "cachet.toml").string(), "-j", jobs});
        INFO(p.err);
        REQUIRE(p.exit_code == 0);
        const std::map<std::string, std::string> expected{
            {"greyscale.a117b8bfdc.jpg", "a117b8bfdc9c37801be3972f16f1c05a0735803beb3ad14855bf016a71cb4832"},
            {"hero.3af488a39f.jpg", "3af488a39feab3dad4688dec3ebac093165159a9c84ab94afb5ad8cc4da4e0b0"},
        };
        CHECK(test::file_digests(out, ".jpg") == expected);
    }
}
