#include "pipeline/build/image_job.hpp"
#include "pipeline/build/run.hpp"

#include <catch2/catch.hpp>

using namespace cachet;

TEST_CASE("output_widths: configured widths below the source's, then its own, never upscaled", "[run]")
{
    const std::vector<int> next = {640, 750, 828, 1080, 1200, 1920, 2048, 3840};
    CHECK(output_widths(next, 1000) == std::vector<int>{640, 750, 828, 1000});
    CHECK(output_widths(next, 640) == std::vector<int>{640});
    CHECK(output_widths(next, 480) == std::vector<int>{480});
    CHECK(output_widths(next, 5120) == std::vector<int>{640, 750, 828, 1080, 1200, 1920, 2048, 3840, 5120});
    CHECK(output_widths({}, 300) == std::vector<int>{300});
    CHECK(output_widths(next, 1) == std::vector<int>{1});
}

TEST_CASE("transfer_bytes is the smallest thing a client can download", "[run]")
{
    AssetRecord r;
    r.source_bytes = 1000;
    OutputFile a;
    a.bytes = 700;
    a.encodings.push_back({Encoding::br, "x.br", 300, {}});
    OutputFile b;
    b.bytes = 500;
    r.outputs = {a, b};
    CHECK(transfer_bytes(r) == 300);
    r.outputs.clear();
    CHECK(transfer_bytes(r) == 1000);
}
