#include "pipeline/build/versions.hpp"
#include "pipeline/model/hash.hpp"
#include "pipeline/publish/manifest.hpp"

#include <algorithm>
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
    o.cache_control = "public, max-age=31536000, immutable";
    o.etag = "\"0123456789abcdef0123456789abcdef\"";
    o.vary = "Accept-Encoding";
    o.headers = {{"Access-Control-Allow-Origin", "*"}, {"X-Robots-Tag", "noindex"}};
    o.fingerprinted = true;
    o.encodings.push_back({Encoding::br, "js/app.0123456789.js.br", 5, "\"fedcba9876543210fedcba9876543210\""});
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
    i.path = "img/a.0123456789.gif";
    i.format = ImageFormat::gif;
    i.frames = 12;
    image.outputs.push_back(i);
    return {text, image};
}

} // namespace

TEST_CASE("render_manifest writes schema version 2 with sorted keys, one line per asset", "[manifest]")
{
    const std::string text = render_manifest(records(), load_preset("default"));
    const auto doc = nlohmann::json::parse(text);
    CHECK(doc["version"] == 2);
    CHECK(std::count(text.begin(), text.end(), '\n') == 4); // "{"assets":{", two assets, the rest
    CHECK(text.find("\n\"img/a.png\":{") != std::string::npos);
    CHECK(text.find("  ") == std::string::npos); // compact
    CHECK(doc["preset"] == "default");
    CHECK(doc["assets"]["js/app.js"]["outputs"][0]["encodings"][0]["encoding"] == "br");
    CHECK(doc["assets"]["img/a.png"]["outputs"][0]["width"] == 3);
    CHECK_FALSE(doc["assets"]["img/a.png"]["outputs"][0].contains("encodings"));
    CHECK_FALSE(doc["assets"]["img/a.png"]["outputs"][0].contains("frames")); // stills say nothing
    CHECK(doc["assets"]["img/a.png"]["outputs"][1]["frames"] == 12);
    CHECK(doc["assets"]["img/a.png"]["outputs"][1]["format"] == "gif");
    CHECK(text.find("\"assets\"") < text.find("\"generator\""));
    CHECK(text.find("\"img/a.png\"") < text.find("\"js/app.js\""));
    CHECK(text.back() == '\n');
}

TEST_CASE("render_manifest is byte-identical for the same records", "[manifest]")
{
    CHECK(render_manifest(records(), load_preset("default")) == render_manifest(records(), load_preset("default")));
}

TEST_CASE("render_manifest writes each output's headers, Vary and the ETag of every variant", "[manifest]")
{
    const auto doc = nlohmann::json::parse(render_manifest(records(), load_preset("default")));
    const auto& out = doc["assets"]["js/app.js"]["outputs"][0];
    CHECK(out["etag"] == "\"0123456789abcdef0123456789abcdef\"");
    CHECK(out["vary"] == "Accept-Encoding");
    CHECK(out["headers"] == nlohmann::json{{"Access-Control-Allow-Origin", "*"}, {"X-Robots-Tag", "noindex"}});
    CHECK(out["encodings"][0]["etag"] == "\"fedcba9876543210fedcba9876543210\"");
    const auto& image = doc["assets"]["img/a.png"]["outputs"][0];
    CHECK_FALSE(image.contains("vary")); // no variants, nothing to vary on
    CHECK_FALSE(image.contains("headers"));
}

#include "pipeline/model/error.hpp"
#include "tests/test_support.hpp"

TEST_CASE("read_manifest reads back what render_manifest wrote", "[manifest]")
{
    test::TempDir dir;
    auto written = records();
    written[1].placeholder = Placeholder{"data:image/webp;base64,AAAA", "#102030"};
    written[1].outputs[0].content_type = "image/avif";
    const std::string text = render_manifest(written, load_preset("default"));
    test::spit(dir / "m.json", text);
    const auto read = read_manifest(dir / "m.json");
    REQUIRE(read.size() == 2);
    // Sorted by source, and rendering the read records gives the same bytes.
    CHECK(read[0].source == "img/a.png");
    CHECK(read[0].placeholder->dominant_color == "#102030");
    CHECK(read[1].outputs[0].encodings[0].encoding == Encoding::br);
    CHECK(read[0].outputs[0].frames == 1);
    CHECK(read[0].outputs[1].frames == 12);
    CHECK(render_manifest(read, load_preset("default")) == text);
}

TEST_CASE("each asset's url is what a plain reference to it gets: base and the path, percent-encoded", "[manifest]")
{
    auto recs = records();
    recs[0].outputs[0].path = "js/my app.0123456789.js";
    Preset preset = load_preset("default");
    preset.references.base = "/static";
    const auto doc = nlohmann::json::parse(render_manifest(recs, preset));
    CHECK(doc["assets"]["js/app.js"]["url"] == "/static/js/my%20app.0123456789.js");
    // No PNG shipped: the widest output in the first format every browser shows, not the AVIF.
    CHECK(doc["assets"]["img/a.png"]["url"] == "/static/img/a.0123456789.gif");
    CHECK(nlohmann::json::parse(manifest_fragment(recs[0], "/"))["url"] == "/js/my%20app.0123456789.js");
    CHECK_FALSE(nlohmann::json::parse(record_json(recs[0])).contains("url")); // a cache entry's record
}

TEST_CASE("read_manifest reads version 1 (indented, without url)", "[manifest]")
{
    test::TempDir dir;
    nlohmann::json doc = nlohmann::json::parse(render_manifest(records(), load_preset("default")));
    doc["version"] = 1;
    for (auto& [source, asset] : doc["assets"].items())
        asset.erase("url");
    test::spit(dir / "v1.json", doc.dump(2) + "\n");
    ManifestHead head;
    const auto read = read_manifest(dir / "v1.json", &head);
    CHECK(read == parse_manifest(render_manifest(records(), load_preset("default")), "v2"));
    CHECK(head.build_id == doc["build_id"]);
}

TEST_CASE("read_manifest rejects an unknown version, bad JSON and a missing file, naming the file", "[manifest]")
{
    test::TempDir dir;
    test::spit(dir / "v4.json", R"({"version": 4, "assets": {}})");
    CHECK_THROWS_WITH(
        read_manifest(dir / "v4.json"),
        Catch::Contains("v4.json: manifest version 4 is not supported (this cachet reads versions 1 to 3)"));
    test::spit(dir / "v0.json", R"({"version": 0, "assets": {}})");
    CHECK_THROWS_AS(read_manifest(dir / "v0.json"), Error);
    test::spit(dir / "bad.json", R"({"version": 1, "assets": {"a": {"kind": "video"}}})");
    CHECK_THROWS_WITH(read_manifest(dir / "bad.json"), Catch::Contains("bad.json: not a valid cachet manifest"));
    test::spit(dir / "text.json", "not json");
    CHECK_THROWS_AS(read_manifest(dir / "text.json"), Error);
    CHECK_THROWS_WITH(read_manifest(dir / "missing.json"), Catch::Contains("missing.json"));
}

TEST_CASE("render_manifest from stored fragments gives nlohmann::json's dump of the document, a line per asset",
          "[manifest]")
{
    std::vector<AssetRecord> recs = records();
    AssetRecord odd = recs.front();
    odd.source = "css/\"quoted\" ü\\back.css"; // escapes and UTF-8 in a key
    odd.placeholder = Placeholder{"data:image/webp;base64,AAAA", "#102030"};
    recs.push_back(odd);
    const Preset preset = load_preset("default");

    nlohmann::json assets = nlohmann::json::object();
    for (const auto& r : recs)
        assets[r.source] = nlohmann::json::parse(manifest_fragment(r, "/"));
    const std::vector<Generation> generations{{"0123456789abcdef0123", {"css/a.1.css", "js/b.2.js"}},
                                              {"unknown", {"x \"y\".txt"}}};
    // The build id: the assets (by source) in groups, each ending after a source whose FNV-1a
    // hash is 0 modulo 1000, or at the last; a group's id is the first 20 hex digits of the
    // SHA-256 of a line per asset (its path, NUL, the SHA-256 of its value as written, newline);
    // the build id, the first 20 hex digits of the SHA-256 of the groups' ids, each and a newline.
    std::vector<std::pair<std::string, std::string>> items;
    for (const auto& [source, value] : assets.items())
        items.emplace_back(source, value.dump());
    std::string lines, ids;
    for (std::size_t i = 0; i < items.size(); ++i) {
        lines += items[i].first + '\0' + sha256_hex(as_bytes(items[i].second)) + '\n';
        if (fnv1a(items[i].first) % 1000 == 0 || i + 1 == items.size()) {
            ids += sha256_hex(as_bytes(lines)).substr(0, 20) + '\n';
            lines.clear();
        }
    }
    const std::string id = sha256_hex(as_bytes(ids)).substr(0, 20);
    nlohmann::json doc = {{"version", k_manifest_version},
                          {"generator", "cachet " + cachet_version()},
                          {"preset", preset.name},
                          {"assets", assets},
                          {"build_id", id},
                          {"generations", nlohmann::json::array()}};
    for (const auto& g : generations)
        doc["generations"].push_back({{"build_id", g.build_id}, {"outputs", g.outputs}});
    // dump() with a line break before each asset and before the end of "assets".
    std::string expected = doc.dump() + "\n";
    for (const auto& [source, value] : assets.items()) {
        const std::string key = nlohmann::json(source).dump() + ":";
        expected.insert(expected.find(key), "\n");
    }
    expected.insert(expected.find(",\"build_id\":\"" + id) - 1, "\n"); // before the "}" that ends "assets"
    CHECK(doc["build_id"].get<std::string>().size() == 20);
    CHECK(render_manifest(recs, preset, generations) == expected);

    // Any order of fragments in, sorted out.
    std::vector<std::string> fragments;
    for (const auto& r : recs)
        fragments.push_back(manifest_fragment(r, "/"));
    std::vector<ManifestEntry> entries;
    for (std::size_t i = recs.size(); i-- > 0;)
        entries.push_back({recs[i].source, fragments[i], {}});
    CHECK(render_manifest(entries, preset, generations) == expected);
    // As pieces (what a build writes with writev()), the same bytes.
    ManifestText text;
    render_manifest(text, entries, preset, generations);
    CHECK(text.size() == expected.size());
    CHECK(text == expected);
    CHECK_FALSE(text == expected.substr(0, expected.size() - 1));
    CHECK_FALSE(text == std::string(expected.size(), ' '));
    CHECK(text.pieces().size() < 4 * entries.size()); // the short texts between fragments are one piece

    // Read back: the same id and generations.
    test::TempDir dir;
    test::spit(dir / "m.json", expected);
    ManifestHead head;
    read_manifest(dir / "m.json", &head);
    CHECK(head.build_id == doc["build_id"]);
    CHECK(head.generations == generations);

    const nlohmann::json empty = {{"version", k_manifest_version},
                                  {"generator", "cachet " + cachet_version()},
                                  {"preset", preset.name},
                                  {"assets", nlohmann::json::object()},
                                  {"build_id", sha256_hex(ByteView()).substr(0, 20)},
                                  {"generations", nlohmann::json::array()}};
    CHECK(render_manifest(std::vector<AssetRecord>{}, preset) == empty.dump() + "\n");
}
