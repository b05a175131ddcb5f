#include "pipeline/manifest.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace cachet;

namespace {

std::vector<AssetRecord> records()
{
    AssetRecord text;
    text.source = "js/app.js";
    text.kind = AssetKind::text;
    text.source_bytes = 10;
    text.source_digest = "sha256-00";
    OutputFile o;
    o.path = "js/app.0123456789.js";
    o.bytes = 10;
    o.content_type = "text/javascript; charset=utf-8";
    o.integrity = "sha384-x";
    o.cache_control = cache_control_for(true);
    o.fingerprinted = true;
    o.encodings.push_back({Encoding::br, "js/app.0123456789.js.br", 5});
    text.outputs.push_back(o);

    AssetRecord image;
    image.source = "img/a.png";
    image.kind = AssetKind::image;
    OutputFile i;
    i.path = "img/a.0123456789.avif";
    i.format = ImageFormat::avif;
    i.width = 3;
    i.height = 2;
    image.outputs.push_back(i);
    return {text, image};
}

} // namespace

TEST_CASE("render_manifest writes schema version 1 with sorted keys", "[manifest]")
{
    const std::string text = render_manifest(records(), load_preset("default"));
    const auto doc = nlohmann::json::parse(text);
    CHECK(doc["version"] == 1);
    CHECK(doc["preset"] == "default");
    CHECK(doc["assets"]["js/app.js"]["outputs"][0]["encodings"][0]["encoding"] == "br");
    CHECK(doc["assets"]["img/a.png"]["outputs"][0]["width"] == 3);
    CHECK_FALSE(doc["assets"]["img/a.png"]["outputs"][0].contains("encodings"));
    CHECK(text.find("\"assets\"") < text.find("\"generator\""));
    CHECK(text.find("\"img/a.png\"") < text.find("\"js/app.js\""));
    CHECK(text.back() == '\n');
}

TEST_CASE("render_manifest is byte-identical for the same records", "[manifest]")
{
    CHECK(render_manifest(records(), load_preset("default")) == render_manifest(records(), load_preset("default")));
}

TEST_CASE("cache_control_for: immutable only for fingerprinted names", "[manifest]")
{
    CHECK(cache_control_for(true) == "public, max-age=31536000, immutable");
    CHECK(cache_control_for(false) == "no-cache");
}
