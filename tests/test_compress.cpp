#include "pipeline/text/compress.hpp"

#include "pipeline/model/error.hpp"
#include "tests/test_support.hpp"

#include <catch2/catch.hpp>

using namespace cachet;

namespace {

Bytes sample_text()
{
    std::string s;
    for (int i = 0; i < 2000; ++i)
        s += "function f" + std::to_string(i % 37) + "(a,b){return a+b*" + std::to_string(i) + "}\n";
    return Bytes(s.begin(), s.end());
}

} // namespace

TEST_CASE("compress round-trips through each library's own decoder", "[compress]")
{
    const Bytes text = sample_text();
    const TextSettings settings;
    const Bytes z = compress(Encoding::zstd, text, settings);
    const Bytes b = compress(Encoding::br, text, settings);
    const Bytes g = compress(Encoding::gzip, text, settings);
    CHECK(z.size() < text.size() / 5);
    CHECK(b.size() < text.size() / 5);
    CHECK(g.size() < text.size() / 5);
    CHECK(test::unzstd(z) == text);
    CHECK(test::unbrotli(b, text.size()) == text);
    CHECK(test::gunzip(g, text.size()) == text);
    for (const auto e : {Encoding::zstd, Encoding::br, Encoding::gzip})
        CHECK(decompress(e, compress(e, text, settings)) == text);
}

TEST_CASE("compress is byte-deterministic and writes no time into gzip headers", "[compress]")
{
    const Bytes text = sample_text();
    const TextSettings settings;
    for (const auto e : {Encoding::zstd, Encoding::br, Encoding::gzip})
        CHECK(compress(e, text, settings) == compress(e, text, settings));
    const Bytes g = compress(Encoding::gzip, text, settings);
    REQUIRE(g.size() > 10);
    CHECK(g[0] == 0x1f);
    CHECK(g[1] == 0x8b);
    CHECK((g[3] & 0x08) == 0);               // FNAME: no file name
    CHECK((g[4] | g[5] | g[6] | g[7]) == 0); // MTIME
}

TEST_CASE("compress honours the preset levels", "[compress]")
{
    const Bytes text = sample_text();
    TextSettings fast;
    fast.zstd_level = 1;
    fast.brotli_quality = 1;
    fast.gzip_level = 1;
    const TextSettings best;
    CHECK(compress(Encoding::br, text, best).size() < compress(Encoding::br, text, fast).size());
    CHECK(compress(Encoding::gzip, text, best).size() < compress(Encoding::gzip, text, fast).size());
    CHECK(compress(Encoding::zstd, text, best).size() < compress(Encoding::zstd, text, fast).size());
}

TEST_CASE("decompress rejects data that is not a stream of that encoding", "[compress]")
{
    const Bytes junk(100, 0x42);
    CHECK_THROWS_AS(decompress(Encoding::zstd, junk), Error);
    CHECK_THROWS_AS(decompress(Encoding::br, junk), Error);
    CHECK_THROWS_AS(decompress(Encoding::gzip, junk), Error);
    const TextSettings settings;
    Bytes truncated = compress(Encoding::br, sample_text(), settings);
    truncated.resize(truncated.size() / 2);
    CHECK_THROWS_AS(decompress(Encoding::br, truncated), Error);
}

TEST_CASE("sidecar_extension names the files browsers negotiate for", "[compress]")
{
    CHECK(sidecar_extension(Encoding::zstd) == "zst");
    CHECK(sidecar_extension(Encoding::br) == "br");
    CHECK(sidecar_extension(Encoding::gzip) == "gz");
}
