// Minification through esbuild (pipeline/text/minify.hpp): which files, which flags, the service
// protocol, hostile inputs, and the binary's outputs.
#include "pipeline/text/esbuild.hpp"
#include "pipeline/text/minify.hpp"

#include "pipeline/model/error.hpp"
#include "tests/test_support.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace cachet;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::string minified_text(const Minifier& m, Minifiable kind, std::string_view text)
{
    const auto out = m.minify(kind, as_bytes(text));
    INFO(out.refused);
    REQUIRE(out.bytes);
    return std::string(as_text(*out.bytes));
}

const std::string k_es5 = "/*! keep: MIT */\n"
                          "var options = { width: width, render: function () { return this.width; } };\n"
                          "function pick(value) {\n"
                          "    try { risky(); } catch (ignored) { }\n"
                          "    return value != null ? value : 'none';\n"
                          "}\n"
                          "function later(state) { return state === void 0 ? undefined : state.when; }\n"
                          "var missing = typeof window.thing === 'undefined';\n";

} // namespace

TEST_CASE("minifiable: scripts and stylesheets by extension, not those named minified", "[minify]")
{
    CHECK(minifiable("app.js") == Minifiable::script);
    CHECK(minifiable("lib/module.mjs") == Minifiable::script);
    CHECK(minifiable("x.cjs") == Minifiable::script);
    CHECK(minifiable("css/site.CSS") == Minifiable::stylesheet);
    CHECK(minifiable("jquery.min.js") == Minifiable::no);
    CHECK(minifiable("bootstrap.min.css") == Minifiable::no);
    CHECK(minifiable("lunr-min.js") == Minifiable::no);
    CHECK(minifiable("theme_min.css") == Minifiable::no);
    CHECK(minifiable("vendor.min/app.js") == Minifiable::script); // the name counts, not the folder
    CHECK(minifiable("data.json") == Minifiable::no);
    CHECK(minifiable("index.html") == Minifiable::no);
}

TEST_CASE("left_as_is: source-mapped, minified already, or too large", "[minify]")
{
    CHECK(left_as_is(k_es5).empty());
    CHECK(left_as_is(k_es5 + "//# sourceMappingURL=app.js.map\n") == "it names a source map");
    CHECK(left_as_is("a{b:c}\n/*# sourceMappingURL=site.css.map */") == "it names a source map");
    CHECK(left_as_is("/*! v1 */\n" + std::string(5000, 'a') + "\n") == "minified already");
    CHECK(left_as_is(std::string(9u << 20, '\n')) == "over 8 MiB");
}

TEST_CASE("esbuild packets: encoded as its service reads them, and malformed ones refused", "[minify]")
{
    EsbuildPacket p;
    p.id = 7;
    p.request = true;
    p.value.type = EsbuildValue::Type::map;
    p.value.fields["command"].type = EsbuildValue::Type::string;
    p.value.fields["command"].text = "transform";
    p.value.fields["n"].type = EsbuildValue::Type::integer;
    p.value.fields["n"].integer = 0x01020304;
    p.value.fields["list"].type = EsbuildValue::Type::array;
    p.value.fields["list"].items.resize(2);
    p.value.fields["list"].items[1].type = EsbuildValue::Type::boolean;
    p.value.fields["list"].items[1].boolean = true;
    const Bytes bytes = encode_esbuild_packet(p);
    // length, id << 1 (a request), a map of 3 keys in key order
    REQUIRE(bytes.size() > 13);
    CHECK(bytes[0] + (bytes[1] << 8) == static_cast<int>(bytes.size() - 4));
    CHECK(bytes[4] == 14);
    CHECK(bytes[8] == 6);
    CHECK(bytes[9] == 3);
    const ByteView body = ByteView(bytes).subspan(4);
    const auto back = decode_esbuild_packet(body);
    REQUIRE(back);
    CHECK(back->id == 7);
    CHECK(back->request);
    CHECK(back->value.find("command")->text == "transform");
    CHECK(back->value.find("n")->integer == 0x01020304);
    CHECK(back->value.find("list")->items[1].boolean);
    CHECK(back->value.find("none") == nullptr);
    // Every truncation, and a byte more, are refused; so are an unknown type and deep nesting.
    for (std::size_t n = 0; n < body.size(); ++n)
        CHECK_FALSE(decode_esbuild_packet(body.first(n)));
    Bytes longer(body.begin(), body.end());
    longer.push_back(0);
    CHECK_FALSE(decode_esbuild_packet(longer));
    CHECK_FALSE(decode_esbuild_packet(Bytes{1, 0, 0, 0, 9}));
    Bytes deep{1, 0, 0, 0};
    for (int i = 0; i < 100; ++i)
        for (const std::uint8_t b : {5, 1, 0, 0, 0})
            deep.push_back(b);
    deep.push_back(0);
    CHECK_FALSE(decode_esbuild_packet(deep));
    // A huge count with nothing behind it is refused without allocating for it.
    CHECK_FALSE(decode_esbuild_packet(Bytes{1, 0, 0, 0, 5, 0xff, 0xff, 0xff, 0x7f}));
    CHECK_FALSE(decode_esbuild_packet(Bytes{1, 0, 0, 0, 6, 0xff, 0xff, 0xff, 0x7f}));
}

TEST_CASE("minify never raises the syntax a script needs, and keeps legal comments", "[minify]")
{
    const test::TempDir dir;
    const Minifier m("esbuild", dir.path());
    REQUIRE_NOTHROW(m.check());
    const std::string es5 = minified_text(m, Minifiable::script, k_es5);
    CHECK(es5.size() < k_es5.size() * 3 / 4);
    CHECK(es5.rfind("/*! keep: MIT */", 0) == 0);
    CHECK(es5.find("width:width") != std::string::npos); // no shorthand property
    CHECK(es5.find("catch(") != std::string::npos);      // a catch binding
    CHECK(es5.find("??") == std::string::npos);
    CHECK(es5.find("?.") == std::string::npos);
    CHECK(es5.find("<\"u\"") == std::string::npos); // typeof x<"u" fails where typeof says "unknown"
    CHECK(es5.find("risky()") != std::string::npos);
    // A script with object literal extensions (ES2015) may get shorthand properties; its own ??
    // and ?. are written out in ES5, never added.
    const std::string modern = "var size = measure();\nvar shape = { size: size, area() { return size * size; } };\n"
                               "function area(s) { return s?.shape ?? shape; }\n";
    const std::string es6 = minified_text(m, Minifiable::script, modern);
    CHECK(es6.find("{size,") != std::string::npos);
    CHECK(es6.find("area(){") != std::string::npos);
    CHECK(es6.find("??") == std::string::npos);
    CHECK(es6.find("?.") == std::string::npos);
    // A module stays a module.
    CHECK(
        minified_text(m, Minifiable::script, "import { a } from './a.js';\nexport const b = a + 1;\n").find("export") !=
        std::string::npos);
    // Top-level names of a classic script are globals: never renamed.
    CHECK(minified_text(m, Minifiable::script, "function pickOne(list) { var chosen = list[0]; return chosen; }\n")
              .find("function pickOne(") != std::string::npos);
    // Scripts that read their own functions' source keep every name: RequireJS' sugared
    // define() and AngularJS' injection by parameter name.
    const std::string amd = "define(function (require, exports) {\n  var helper = require('./helper');\n"
                            "  exports.run = function (value) { return helper(value * 2); };\n});\n";
    CHECK(reads_own_source(amd));
    const std::string amd_out = minified_text(m, Minifiable::script, amd);
    CHECK(amd_out.find("function(require,exports)") != std::string::npos);
    CHECK(amd_out.find("require(\"./helper\")") != std::string::npos);
    const std::string ng =
        "angular.module('app').controller('Main', function ($scope, $http) {\n"
        "  $http.get('items.json').then(function (response) { $scope.items = response.data; });\n});\n";
    CHECK(reads_own_source(ng));
    const std::string ng_out = minified_text(m, Minifiable::script, ng);
    CHECK(ng_out.find("function($scope,$http)") != std::string::npos);
    CHECK(ng_out.size() < ng.size());
    CHECK_FALSE(reads_own_source(k_es5));
    CHECK(reads_own_source("define('named', function( require ) { return require('x'); });"));
    CHECK_FALSE(reads_own_source("define(['a'], factory);"));
    CHECK_FALSE(reads_own_source("var f = function (requirements) { return requirements; };"));
    // A script esbuild cannot read is refused, with its reason.
    const auto broken = m.minify(Minifiable::script, as_bytes("function (] {\n"));
    CHECK_FALSE(broken.bytes);
    CHECK_FALSE(broken.refused.empty());
    // The same input, from two threads at once, gives the same bytes.
    std::string a, b;
    std::thread t1([&] { a = std::string(as_text(*m.minify(Minifiable::script, as_bytes(k_es5)).bytes)); });
    std::thread t2([&] { b = std::string(as_text(*m.minify(Minifiable::script, as_bytes(k_es5)).bytes)); });
    t1.join();
    t2.join();
    CHECK(a == es5);
    CHECK(b == es5);
}

TEST_CASE("minify leaves stylesheets in the syntax old browsers read, and hacks as they are", "[minify]")
{
    const test::TempDir dir;
    const Minifier m("esbuild", dir.path());
    const std::string css =
        "/*! theme */\n.cover {\n  color: rgba(0, 0, 0, 0.5);\n  top: 0; right: 0; bottom: 0; left: 0;\n"
        "  background: url(\"img/a.png\") no-repeat;\n}\n/* plain */\n.b { margin: 0px 0px; }\n";
    const std::string out = minified_text(m, Minifiable::stylesheet, css);
    CHECK(out.rfind("/*! theme */", 0) == 0);
    CHECK(out.find("rgba(0,0,0,.5)") != std::string::npos); // not #00000080
    CHECK(out.find("inset") == std::string::npos);
    CHECK(out.find("url(img/a.png)") != std::string::npos);
    CHECK(out.find("plain") == std::string::npos);
    // esbuild reads past IE's star hack with a warning: such a stylesheet is left as it is.
    const auto hack = m.minify(Minifiable::stylesheet, as_bytes(".clearfix { *zoom: 1; display: block; }\n"));
    CHECK_FALSE(hack.bytes);
    CHECK_FALSE(hack.refused.empty());
}

TEST_CASE("a script that ends esbuild fails its asset with a message, and the next one and one of 8 MiB are minified",
          "[minify]")
{
    const test::TempDir dir;
    const Minifier m("esbuild", dir.path());
    // Nested a hundred thousand deep: esbuild runs out of its address space and ends.
    const std::string deep = "x=" + std::string(100000, '[') + std::string(100000, ']') + ";\n";
    try {
        (void)m.minify(Minifiable::script, as_bytes(deep));
        FAIL("esbuild was expected to end");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::asset);
        CHECK_THAT(e.what(), Catch::Contains("esbuild") && Catch::Contains("text.minify = false"));
    }
    CHECK(minified_text(m, Minifiable::script, k_es5).size() < k_es5.size());
    // A script just under the 8 MiB bound fits in esbuild's address space.
    std::string large;
    for (int i = 0; large.size() < (8u << 20) - 200; ++i) {
        const std::string n = std::to_string(i);
        large += "function f" + n + "(a, b) { var local" + n + " = a + b * " + n + "; if (local" + n + " > " + n +
                 ") { return [local" + n + ", 'text " + n + "']; } return { key" + n + ": local" + n + " }; }\n";
    }
    REQUIRE(left_as_is(large).empty());
    CHECK(minified_text(m, Minifiable::script, large).size() < large.size() * 3 / 4);
}

TEST_CASE("cachet build minifies scripts and stylesheets, leaves the minified and mapped ones, and caches",
          "[e2e][minify]")
{
    const test::TempDir dir;
    fs::create_directories(dir / "src/js");
    test::spit(dir / "src/js/app.js", k_es5);
    test::spit(dir / "src/js/lib.min.js", "var a = 1;  // already minified by name\n");
    const std::string mapped = k_es5 + "//# sourceMappingURL=app.js.map\n";
    test::spit(dir / "src/js/mapped.js", mapped);
    const std::string css = ".hero {\n  background: url(\"img.svg\");\n  margin: 0px;\n}\n";
    test::spit(dir / "src/site.css", css);
    test::spit(dir / "src/img.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\" height=\"1\"/>");
    test::spit(dir / "src/index.html", "<link rel=stylesheet href=site.css><script src=js/app.js></script>");
    auto build = [&](const std::string& out, const std::vector<std::string>& extra) {
        std::vector<std::string> args{"build",       (dir / "src").string(),  "-o", (dir / out).string(),
                                      "--cache-dir", (dir / "cache").string()};
        args.insert(args.end(), extra.begin(), extra.end());
        return test::run_cachet(args);
    };
    auto p = build("out", {"-j", "2"});
    INFO(p.err);
    REQUIRE(p.exit_code == 0);
    const json m = test::read_json(dir / "out/cachet-manifest.json");
    auto output = [&](const std::string& out, const json& manifest, const std::string& source) {
        return std::string(
            as_text(test::slurp(dir / out / manifest["assets"][source]["outputs"][0]["path"].get<std::string>())));
    };
    CHECK(output("out", m, "js/app.js").size() < k_es5.size() * 3 / 4);
    CHECK(output("out", m, "js/lib.min.js") == "var a = 1;  // already minified by name\n");
    CHECK(output("out", m, "js/mapped.js") == mapped);
    const std::string site = output("out", m, "site.css");
    CHECK(site.find("margin:0}") != std::string::npos);
    CHECK(site.find("url(img.") != std::string::npos); // rewritten to the fingerprinted name, then minified
    // The page names the minified files; their integrity is of the minified bytes.
    CHECK(m["assets"]["js/app.js"]["outputs"][0]["bytes"].get<std::size_t>() == output("out", m, "js/app.js").size());
    // A second build into another folder is all cache hits, byte for byte; -j1 gives the same.
    p = build("again", {"-j", "1"});
    REQUIRE(p.exit_code == 0);
    CHECK(test::read_json(dir / "again/cachet-manifest.json") == m);
    const auto summary = build("third", {"--json"});
    CHECK(json::parse(summary.out)["built"].get<int>() == 0);
    // text.minify = false ships them as they are.
    test::spit(dir / "plain.toml", "[text]\nminify = false\n");
    p = build("plain", {"--config", (dir / "plain.toml").string()});
    REQUIRE(p.exit_code == 0);
    const json plain = test::read_json(dir / "plain/cachet-manifest.json");
    CHECK(output("plain", plain, "js/app.js") == k_es5);
    // Without esbuild, the build stops before it writes anything, saying what to do.
    test::spit(dir / "none.toml", "[text]\nesbuild = \"/nonexistent/esbuild\"\n");
    p = build("out", {"--config", (dir / "none.toml").string()});
    CHECK(p.exit_code == 72);
    CHECK_THAT(p.err, Catch::Contains("esbuild") && Catch::Contains("text.minify = false"));
    CHECK(test::read_json(dir / "out/cachet-manifest.json") == m);
}
