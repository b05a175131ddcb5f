#include "pipeline/build/image_job.hpp"
#include "pipeline/build/run.hpp"
#include "pipeline/build/totals.hpp"

#include <catch2/catch.hpp>

#include <cstdio>

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

namespace {

OutputFile image_output(ImageFormat format, int width, std::uint64_t bytes, bool original = false)
{
    OutputFile o;
    o.path = "img/a-" + std::to_string(width) + "." + std::string(file_extension(format));
    o.format = format;
    o.width = width;
    o.bytes = bytes;
    o.original = original;
    return o;
}

AssetRecord photo(std::string source, std::uint64_t source_bytes, std::uint64_t avif, std::uint64_t jpeg)
{
    AssetRecord r;
    r.source = std::move(source);
    r.kind = AssetKind::image;
    r.source_bytes = source_bytes;
    // Thumbnails are smaller than anything at full size: they must not count.
    r.outputs = {image_output(ImageFormat::avif, 640, 10),    image_output(ImageFormat::jpeg, 640, 20),
                 image_output(ImageFormat::avif, 1200, avif), image_output(ImageFormat::webp, 1200, avif / 2),
                 image_output(ImageFormat::jpeg, 1200, jpeg), image_output(ImageFormat::jpeg, 1200, 1, true)};
    return r;
}

} // namespace

TEST_CASE("delivered: an image's most preferred format at full size, and what a plain <img> gets", "[run][report]")
{
    const AssetRecord r = photo("img/a.jpg", 5000, 800, 2000);
    const Delivered d = delivered(r);
    REQUIRE(d.file);
    CHECK(d.bytes == 800); // AVIF, though the WebP is smaller: a browser that takes AVIF gets AVIF
    CHECK(d.format == "avif");
    CHECK(d.file->width == 1200);
    CHECK(d.plain_bytes == 2000); // the JPEG at full size, not the original copy, not a thumbnail
    CHECK(d.plain->format == ImageFormat::jpeg);

    AssetRecord text;
    text.source = "app.js";
    text.kind = AssetKind::text;
    text.source_bytes = 1000;
    OutputFile js;
    js.bytes = 990;
    js.encodings = {{Encoding::zstd, "app.js.zst", 400, {}}, {Encoding::br, "app.js.br", 300, {}}};
    text.outputs = {js};
    CHECK(delivered(text).bytes == 300);
    CHECK(delivered(text).format == "br");
    CHECK(delivered(text).plain_bytes == 990);
    text.outputs.clear();
    CHECK(delivered(text).file == nullptr);
    CHECK(delivered(text).bytes == 0);
}

TEST_CASE("the build report counts full-size downloads, the files that grew, the largest, and files over 500 KiB",
          "[run][report]")
{
    Totals totals(k_large_file_bytes);
    Summary summary;
    const auto add = [&](const AssetRecord& record) {
        Asset asset;
        asset.path = record.source;
        asset.kind = record.kind;
        asset.bytes = record.source_bytes;
        AssetResult result;
        result.status = AssetResult::Status::built;
        result.record = record;
        totals.add(asset, result, summary);
    };
    add(photo("img/a.jpg", 5000, 800, 2000));
    add(photo("img/b.jpg", 1000, 900, 1100)); // its fallback is heavier than its source
    add(photo("img/c.jpg", 900'000, 600'000, 700'000));
    for (int i = 0; i < 4; ++i)
        add(photo("img/t" + std::to_string(i) + ".jpg", 100, 10 + i, 50));
    totals.name(summary);
    const KindTotals& images = summary.kinds.at("image");
    CHECK(images.assets == 7);
    CHECK(images.bytes_in == 906'400);
    CHECK(images.delivered == 800 + 900 + 600'000 + 10 + 11 + 12 + 13);
    CHECK(images.plain == 2000 + 1100 + 700'000 + 4 * 50);
    CHECK(images.delivered_as == std::vector<std::string>{"avif"});
    // The every-width totals stay for --json and -v: three AVIFs an image.
    CHECK(images.outputs.at("avif").files == 14);
    REQUIRE(summary.grown.size() == 1);
    CHECK(summary.grown[0].path == "img/b.jpg");
    REQUIRE(summary.largest.size() == 5);
    CHECK(summary.largest[0].path == "img/c.jpg");
    CHECK(summary.largest[1].path == "img/b.jpg");
    CHECK(summary.largest[2].path == "img/a.jpg");
    CHECK(summary.largest[3].path == "img/t3.jpg");
    CHECK(summary.largest[4].path == "img/t2.jpg");
    REQUIRE(summary.large.size() == 1); // 600,000 bytes of AVIF: over 500 KiB
    CHECK(summary.large[0].path == "img/c.jpg");
    REQUIRE(summary.warnings.size() == 1);
    CHECK(summary.warnings[0].first == "img/c.jpg");
    CHECK_THAT(summary.warnings[0].second, Catch::Contains("585.9 KiB as delivered (avif), over 500.0 KiB"));

    Totals quiet(0); // [[budgets]] set: no default warning
    Summary other;
    Asset asset{};
    asset.path = "img/c.jpg";
    asset.kind = AssetKind::image;
    AssetResult result;
    result.record = photo("img/c.jpg", 900'000, 600'000, 700'000);
    quiet.add(asset, result, other);
    CHECK(other.large.empty());
    CHECK(other.warnings.empty());
}

namespace {

// 20,000 photos, over two threads' worth: ties in size across the halves (the largest keep the
// first added), a few grown and large ones, failures and warnings on both sides, some skipped.
void many_photos(std::vector<Asset>& assets, std::vector<AssetResult>& results, std::vector<char>& skipped)
{
    for (int i = 0; i < 20'000; ++i) { // over two threads' worth
        char name[32];
        std::snprintf(name, sizeof name, "img/%05d.jpg", i);
        // Ties in size across the halves (the largest keep the first added), a few grown and large
        // ones, failures and warnings on both sides, some skipped.
        const std::uint64_t avif = i % 997 != 0               ? 100 + static_cast<std::uint64_t>(i % 50)
                                   : (i >= 8000 && i < 12000) ? 800'000 // two equal on each side of the middle
                                                              : 700'000;
        AssetResult result;
        result.status = i % 7 == 0 ? AssetResult::Status::cached : AssetResult::Status::built;
        result.record = photo(name, 1000, avif, i % 301 == 0 ? 5000 : 500);
        if (i % 1009 == 0) {
            result.status = AssetResult::Status::failed;
            result.message = "broken " + std::to_string(i);
        }
        if (i % 613 == 0)
            result.warnings.push_back("warned " + std::to_string(i));
        Asset asset;
        asset.path = name;
        asset.kind = AssetKind::image;
        asset.bytes = 1000;
        assets.push_back(asset);
        results.push_back(std::move(result));
        skipped.push_back(i % 4001 == 3 ? 1 : 0);
    }
}

// Checks that two summaries count the same.
void check_same_counts(const Summary& one, const Summary& two)
{
    auto files = [](const std::vector<FileReport>& v) {
        std::vector<std::pair<std::string, std::uint64_t>> out;
        for (const auto& f : v)
            out.emplace_back(f.path, f.bytes);
        return out;
    };
    CHECK(two.failures == one.failures);
    CHECK(two.failures.size() == 20);
    CHECK(two.warnings == one.warnings);
    CHECK(files(two.largest) == files(one.largest));
    CHECK(files(two.grown) == files(one.grown));
    CHECK(files(two.large) == files(one.large));
    CHECK(two.not_modern == one.not_modern);
    CHECK(two.images_modern == one.images_modern);
    CHECK(two.images_not_modern == one.images_not_modern);
    CHECK(last_build_json(two) == last_build_json(one));
    const KindTotals& a = one.kinds.at("image");
    const KindTotals& b = two.kinds.at("image");
    CHECK(b.assets == a.assets);
    CHECK(b.cached == a.cached);
    CHECK(b.failed == a.failed);
    CHECK(b.bytes_in == a.bytes_in);
    CHECK(b.delivered == a.delivered);
    CHECK(b.plain == a.plain);
    CHECK(b.delivered_as == a.delivered_as);
    REQUIRE(b.outputs.size() == a.outputs.size());
    for (const auto& [format, t] : a.outputs) {
        CHECK(b.outputs.at(format).files == t.files);
        CHECK(b.outputs.at(format).bytes == t.bytes);
    }
}

} // namespace

TEST_CASE("count_all on two threads gives the summary of adding every source in order", "[run][report]")
{
    std::vector<Asset> assets;
    std::vector<AssetResult> results;
    std::vector<char> skipped;
    many_photos(assets, results, skipped);
    Summary one;
    Totals totals(k_large_file_bytes);
    for (std::size_t i = 0; i < assets.size(); ++i)
        if (!skipped[i])
            totals.add(assets[i], results[i], one);
    totals.name(one);
    Summary two;
    count_all(assets, results, skipped, k_large_file_bytes, 2, two);
    CHECK(two.failures.size() == 20);
    check_same_counts(one, two);
}

TEST_CASE("count_all counts a source reused as its index entry holds it from what the last count took of it",
          "[run][report]")
{
    std::vector<Asset> assets;
    std::vector<AssetResult> results;
    std::vector<char> skipped;
    many_photos(assets, results, skipped);
    // Every other source that did not fail is reused as its index entry holds it.
    std::vector<IndexEntry> entries(assets.size());
    for (std::size_t i = 0; i < assets.size(); i += 2)
        if (results[i].status != AssetResult::Status::failed) {
            entries[i].set_entry(CacheEntry{"", std::move(results[i].record), std::move(results[i].warnings), {}});
            results[i] = AssetResult{};
            results[i].status = AssetResult::Status::cached;
            results[i].entry = &entries[i];
            results[i].entry_warned = entries[i].warned;
        }
    Summary plain;
    count_all(assets, results, skipped, k_large_file_bytes, 2, plain);
    CHECK(plain.failures.size() == 20);
    CHECK(plain.warnings.size() > 20);

    Tallies tallies; // a first build: every source is read, and tallied
    Summary first;
    count_all(assets, results, skipped, k_large_file_bytes, 2, first, &tallies);
    check_same_counts(plain, first);
    REQUIRE(tallies.by_source.size() == assets.size());
    CHECK(std::count_if(tallies.by_source.begin(), tallies.by_source.end(), [](const Tally& t) { return t.ok; }) ==
          static_cast<std::ptrdiff_t>(assets.size() - 20 - std::count(skipped.begin(), skipped.end(), 1)));

    tallies.same_sources = true; // the next build of the same sources
    Summary again;
    count_all(assets, results, skipped, k_large_file_bytes, 2, again, &tallies);
    check_same_counts(plain, again);

    // The tallies as the index entries keep them: a build without a watch's memory counts a
    // reused source from its entry's tally, and gets the same counts.
    std::size_t held = 0;
    for (std::size_t i = 0; i < assets.size(); ++i)
        if (results[i].entry && tallies.by_source[i].ok) { // (not a skipped one)
            entries[i].tally = encode_tally(tallies.by_source[i]);
            const auto back = decode_tally(entries[i].tally);
            REQUIRE(back);
            CHECK(encode_tally(*back) == entries[i].tally.view());
            CHECK(back->format == tallies.by_source[i].format);
            ++held;
        }
    CHECK(held > 20);
    Summary from_entries;
    count_all(assets, results, skipped, k_large_file_bytes, 2, from_entries);
    check_same_counts(plain, from_entries);
    CHECK_FALSE(decode_tally("not a tally"));
    for (std::size_t i = 0; i < assets.size(); ++i)
        entries[i].tally = HeldText();

    // What is counted of a reused source is its tally (its entry is not read again), and a
    // source built anew is read.
    CacheEntry changed = entries[2].entry.take();
    changed.record.outputs.clear();
    entries[2].set_entry(std::move(changed));
    results[5].record.outputs[2].bytes += 1000; // its AVIF at full size
    Summary tallied;
    count_all(assets, results, skipped, k_large_file_bytes, 2, tallied, &tallies);
    CHECK(tallied.kinds.at("image").delivered == plain.kinds.at("image").delivered + 1000);
    tallies.same_sources = false; // other sources: every one read again
    Summary read;
    count_all(assets, results, skipped, k_large_file_bytes, 2, read, &tallies);
    CHECK(read.kinds.at("image").delivered < tallied.kinds.at("image").delivered);
    CHECK(read.kinds.at("image").outputs.at("avif").files == plain.kinds.at("image").outputs.at("avif").files - 2);
}
