#include "pipeline/cache/record_codec.hpp"
#include "pipeline/model/fields.hpp"
#include "pipeline/model/record.hpp"
#include "pipeline/publish/manifest.hpp"

#include "pipeline/model/content_type.hpp"
#include "tests/test_support.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace cachet;

// Both codecs of a record (the manifest's JSON, the index's binary) must carry every field.
// A field added to a record type fails these counts: then set it in full_record() below, and
// the round trips say which codec does not carry it yet.
static_assert(field_count<AssetRecord>() == 6, "a field was added to AssetRecord: see tests/test_record.cpp");
static_assert(field_count<OutputFile>() == 17, "a field was added to OutputFile: see tests/test_record.cpp");
static_assert(field_count<EncodedFile>() == 4, "a field was added to EncodedFile: see tests/test_record.cpp");
static_assert(field_count<Placeholder>() == 2, "a field was added to Placeholder: see tests/test_record.cpp");

namespace {

// A record of kind with every field its kind has set to something other than its default
// (image fields for images, encoded variants for text; the manifest keeps three decimals of a
// Butteraugli distance).
AssetRecord full_record(AssetKind kind)
{
    AssetRecord r;
    r.source = "img/photo é.jpg";
    r.kind = kind;
    r.source_bytes = 123456789012ULL;
    r.source_digest = "sha256-2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
    OutputFile o;
    o.path = "img/photo é-640w.4f2a9c1b.avif";
    o.bytes = 4321;
    o.content_type = "image/avif";
    o.integrity = "sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC";
    o.cache_control = "public, max-age=31536000, immutable";
    o.headers = {{"Access-Control-Allow-Origin", "*"}, {"X-Robots-Tag", "noindex"}};
    o.vary = "Accept-Encoding";
    o.etag = "\"2c26b46b68ffc68ff99b453c1d304134\"";
    o.fingerprinted = true;
    o.original = true;
    if (kind == AssetKind::image) {
        o.format = ImageFormat::avif;
        o.width = 640;
        o.height = 427;
        o.frames = 3;
        o.quality = 63;
        o.butteraugli = 1.375;
        r.placeholder = Placeholder{"data:image/webp;base64,UklGRh4AAABXRUJQ", "#a1b2c3"};
    } else if (kind == AssetKind::text) {
        o.encodings = {{Encoding::br, o.path + ".br", 99, "\"a1\""}, {Encoding::zstd, o.path + ".zst", 101, "\"b2\""}};
    }
    r.outputs = {o, o};
    r.outputs[1].path += ".second";
    return r;
}

} // namespace

TEST_CASE("A record survives the manifest's JSON codec with every field", "[record]")
{
    for (const AssetKind kind : {AssetKind::image, AssetKind::text, AssetKind::passthrough}) {
        const AssetRecord record = full_record(kind);
        const AssetRecord back = parse_record(record.source, manifest_fragment(record, "/"));
        CHECK(back == record);
    }
}

TEST_CASE("A record survives the index's binary codec with every field", "[record]")
{
    for (const AssetKind kind : {AssetKind::image, AssetKind::text, AssetKind::passthrough}) {
        const AssetRecord record = full_record(kind);
        binary::Writer w;
        write_record(w, record);
        binary::Reader r(as_bytes(w.text()));
        const AssetRecord back = read_record(r, record.source);
        CHECK(r.done());
        CHECK(back == record);
    }
}

TEST_CASE("field_count counts the fields of an aggregate", "[record]")
{
    struct Three {
        int a = 0;
        std::string b;
        std::vector<int> c;
    };
    static_assert(field_count<Three>() == 3);
    CHECK(field_count<Placeholder>() == 2);
}

TEST_CASE("The image format rows agree with the manifest schema, content types and extensions", "[record]")
{
    const auto schema = test::read_json(CACHET_SCHEMA);
    std::set<std::string> in_schema;
    // The "format" enum of an output, wherever the schema defines it.
    std::function<void(const nlohmann::json&)> walk = [&](const nlohmann::json& node) {
        if (node.is_object()) {
            if (const auto f = node.find("format"); f != node.end() && f->is_object() && f->contains("enum"))
                for (const auto& name : f->at("enum"))
                    in_schema.insert(name.get<std::string>());
            for (const auto& [key, value] : node.items())
                walk(value);
        } else if (node.is_array()) {
            for (const auto& value : node)
                walk(value);
        }
    };
    walk(schema);
    std::set<std::string> in_table;
    for (const auto& row : k_image_formats) {
        in_table.insert(std::string(row.name));
        CHECK(image_format_named(row.name) == row.format);
        CHECK(image_format_of_extension(row.extension) == row.format);
        CHECK(content_type_for("a/b." + std::string(row.extension)) == row.mime);
    }
    CHECK(in_schema == in_table);
    CHECK(content_type_for("x.jpeg") == "image/jpeg");
    CHECK(k_modern_formats.front() == ImageFormat::jxl); // most preferred first (JPEG XL: where it ships)
    CHECK(k_modern_formats[1] == ImageFormat::avif);
    CHECK(k_formats_for_img.front() == ImageFormat::jpeg); // a plain <img> takes the fallback first
}
