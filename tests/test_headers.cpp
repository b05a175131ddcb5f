#include "pipeline/model/error.hpp"
#include "pipeline/publish/headers.hpp"

#include "tests/test_support.hpp"

#include <catch2/catch.hpp>

using namespace cachet;

namespace {

OutputFile output(std::string path, std::string content_type, bool fingerprinted)
{
    OutputFile o;
    o.path = std::move(path);
    o.content_type = std::move(content_type);
    o.fingerprinted = fingerprinted;
    return o;
}

AssetRecord record(std::string source, std::vector<OutputFile> outputs)
{
    AssetRecord r;
    r.source = std::move(source);
    r.outputs = std::move(outputs);
    return r;
}

} // namespace

TEST_CASE("default Cache-Control: immutable when fingerprinted, no-cache for HTML and service workers, a day for "
          "images, a week for video",
          "[headers]")
{
    const Preset p = load_preset("default");
    CHECK(default_cache_control(p.output, "app.js", output("app.0123456789.js", "text/javascript", true)) ==
          "public, max-age=31536000, immutable");
    CHECK(default_cache_control(p.output, "index.html", output("index.html", "text/html; charset=utf-8", false)) ==
          "no-cache");
    CHECK(default_cache_control(p.output, "a/sw.js", output("a/sw.js", "text/javascript; charset=utf-8", false)) ==
          "no-cache");
    CHECK(default_cache_control(p.output, "service-worker.js",
                                output("service-worker.js", "text/javascript; charset=utf-8", true)) == "no-cache");
    CHECK(default_cache_control(p.output, "icon.png", output("apple-touch-icon.png", "image/png", false)) ==
          "public, max-age=86400");
    CHECK(default_cache_control(p.output, "clip.mp4", output("clip.mp4", "video/mp4", false)) ==
          "public, max-age=604800");
    CHECK(default_cache_control(p.output, "robots.txt", output("robots.txt", "text/plain; charset=utf-8", false)) ==
          "no-cache");
}

TEST_CASE("apply_headers: the first rule giving Cache-Control wins, extra headers merge (earlier rules winning a "
          "name), Vary only with variants",
          "[headers]")
{
    const Preset p = test::preset_with(R"([[headers]]
match = "fonts/**"
cache_control = "public, max-age=600"
extra = { "Access-Control-Allow-Origin" = "*" }

[[headers]]
match = ["*.woff2", "*.html"]
cache_control = "public, max-age=5"
extra = { "access-control-allow-origin" = "https://example.com", "X-Content-Type-Options" = "nosniff" }
)");
    AssetRecord font = record("fonts/a.woff2", {output("fonts/a.0123456789.woff2", "font/woff2", true)});
    CHECK(apply_headers(p, font));
    CHECK(font.outputs[0].cache_control == "public, max-age=600");
    using Headers = std::vector<std::pair<std::string, std::string>>;
    CHECK(font.outputs[0].headers ==
          Headers{{"Access-Control-Allow-Origin", "*"}, {"X-Content-Type-Options", "nosniff"}});
    CHECK(font.outputs[0].vary.empty());
    CHECK_FALSE(apply_headers(p, font)); // nothing left to change

    // Matched by its source path, not its output path.
    AssetRecord page = record("about.htm.html", {output("about.htm.html", "text/html; charset=utf-8", false)});
    page.outputs[0].encodings.push_back({Encoding::br, "about.htm.html.br", 10, "\"x\""});
    apply_headers(p, page);
    CHECK(page.outputs[0].cache_control == "public, max-age=5");
    CHECK(page.outputs[0].vary == "Accept-Encoding");

    AssetRecord other = record("app.js", {output("app.0123456789.js", "text/javascript", true)});
    apply_headers(p, other);
    CHECK(other.outputs[0].cache_control == "public, max-age=31536000, immutable");
    CHECK(other.outputs[0].headers.empty());
}

TEST_CASE("[[headers]] errors name file:line and the reason", "[headers]")
{
    CHECK_THAT(test::config_error("[[headers]]\ncache_control = \"no-store\"\n"),
               Catch::Contains("cachet.toml:1: headers needs match"));
    CHECK_THAT(test::config_error("[[headers]]\nmatch = \"*\"\n"), Catch::Contains("sets nothing"));
    CHECK_THAT(test::config_error("[[headers]]\nmatch = \"*\"\nextra = { \"Content-Type\" = \"text/plain\" }\n"),
               Catch::Contains("headers.extra.Content-Type is set by cachet"));
    CHECK_THAT(test::config_error("[[headers]]\nmatch = \"*\"\nextra = { \"Bad Name\" = \"x\" }\n"),
               Catch::Contains("is not a valid header name"));
    CHECK_THAT(test::config_error("[[headers]]\nmatch = \"*\"\ncache_control = \"a\\nb\"\n"),
               Catch::Contains("cachet.toml:3: headers.cache_control must be a non-empty header value"));
    CHECK_THAT(test::config_error("[[headers]]\nmatch = \"*\"\nmaxage = 5\n"),
               Catch::Contains("headers.maxage is not a known"));
    CHECK_THAT(test::config_error("headers = 5\n"), Catch::Contains("must be an array of tables"));
}

TEST_CASE("headers_key changes with every setting apply_headers reads", "[headers]")
{
    const std::string base = headers_key(load_preset("default"));
    CHECK(headers_key(test::preset_with("[[headers]]\nmatch = \"*\"\ncache_control = \"no-store\"\n")) != base);
    CHECK(headers_key(test::preset_with("[output]\nservice_worker = [\"worker.js\"]\n")) != base);
    CHECK(headers_key(load_preset("default")) == base);
}
