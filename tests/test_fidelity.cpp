// A real site works after `cachet build` as before: every URL of the original site still
// answers, and what its scripts spell is left where they expect it.
#include "pipeline/text/script_names.hpp"
#include "tests/test_support.hpp"

#include <catch2/catch.hpp>
#include <vips/vips8>

#include <map>
#include <string>

namespace fs = std::filesystem;
using namespace cachet;
using json = nlohmann::json;

namespace {

// A site as documentation generators write them: a page whose script slices an image's src
// (Sphinx's doctools.js), a search that starts a worker by a URL built in script and loads its
// index by name (MkDocs), a stylesheet no script names, and a PDF.
fs::path scripted_site(const test::TempDir& dir)
{
    const fs::path src = dir / "src";
    fs::create_directories(src / "_static");
    fs::copy_file(test::fixtures() / "refs/img/a.png", src / "_static/minus.png");
    fs::copy_file(test::fixtures() / "refs/img/aa.png", src / "_static/plus.png");
    fs::copy_file(test::fixtures() / "site/img/logo.png", src / "_static/logo.png");
    test::spit(src / "_static/doctools.js", "const toggle = (el) => {\n"
                                            "  if (el.src.substr(-9) === \"minus.png\")\n"
                                            "    el.src = `${el.src.substr(0, el.src.length - 9)}plus.png`;\n"
                                            "  else el.src = `${el.src.substr(0, el.src.length - 8)}minus.png`;\n"
                                            "};\n"
                                            "//# sourceMappingURL=doctools.js.map\n");
    test::spit(src / "search/main.js", "var worker = new Worker(base_url + \"search/worker.js\");\n");
    test::spit(src / "search/worker.js", "importScripts('lunr.js'); fetch('search_index.json');\n");
    test::spit(src / "search/lunr.js", "var lunr = {};\n");
    test::spit(src / "search/search_index.json", "{\"docs\": []}\n");
    test::spit(src / "_static/site.css", ".logo { background: url(logo.png) }\n");
    test::spit(src / "manual.pdf", "%PDF-1.4\n% not much of a manual\n");
    test::spit(src / "index.html",
               "<!doctype html><html><head><link rel=\"stylesheet\" href=\"_static/site.css\">\n"
               "<script src=\"_static/doctools.js\"></script><script>var base_url = '.';</script>\n"
               "<script src=\"search/main.js\"></script></head><body>\n"
               "<img class=\"toggler\" src=\"_static/minus.png\" onclick=\"toggle(this)\" alt=\"-\">\n"
               "<img src=\"_static/logo.png\" alt=\"logo\"><a href=\"manual.pdf\">Manual</a>\n"
               "</body></html>\n");
    return src;
}

struct Built {
    json manifest;
    std::string page;
};

Built build(const test::TempDir& dir, const fs::path& src, const std::string& config = "", const fs::path& cache = {},
            const std::string& out = "out")
{
    std::vector<std::string> args{"build", src.string(), "-o", (dir / out).string()};
    if (!config.empty()) {
        test::spit(dir / "extra.toml", config);
        args.insert(args.end(), {"--config", (dir / "extra.toml").string()});
    }
    if (!cache.empty())
        args.insert(args.end(), {"--cache-dir", cache.string()});
    const auto p = test::run_cachet(args);
    INFO(p.err);
    REQUIRE(p.exit_code == 0);
    return {test::read_json(dir / out / "cachet-manifest.json"),
            std::string(as_text(test::slurp(dir / out / "index.html")))};
}

// Whether a reference to path in the page is as written.
bool as_written(const std::string& page, const std::string& path)
{
    return page.find("\"" + path + "\"") != std::string::npos;
}

} // namespace

TEST_CASE("names_in_scripts reads what scripts spell: built, sliced and compared names, not source maps or property "
          "access",
          "[fidelity]")
{
    const auto names = names_in_scripts(
        "a.js", "x.src.substr(-9) === \"minus.png\"; y = `${p}plus.png`; new Worker(base + './search/worker.js');\n"
                "fetch(\"data/\" + id + \".json\"); s.replace(/open\\.png$/, 'closed.png'); r.json(); a.map(f);\n"
                "//# sourceMappingURL=a.js.map\n  // a note on old.png\n/* and on older.png */ go('new.png');\n");
    CHECK(names == std::vector<std::string>{".json", "closed.png", "minus.png", "new.png", "open.png", "plus.png",
                                            "r.json", "search/worker.js"});
    CHECK(named_in_scripts(names, "_static/minus.png"));
    CHECK(named_in_scripts(names, "data/products.json")); // ".json": any JSON file may be built
    CHECK_FALSE(named_in_scripts(names, "a.js.map"));
    CHECK_FALSE(named_in_scripts(names, "img/hero.jpg"));
    // HTML: what runs (scripts, event handlers), not JSON-LD, not the markup around it.
    const auto page = names_in_scripts(
        "p.html", "<img src=\"hero.jpg\" onclick=\"swap('big.jpg')\"><script type=\"application/ld+json\">"
                  "{\"image\": \"og.png\"}</script><script>load('x.svg')</script>");
    CHECK(page == std::vector<std::string>{"big.jpg", "x.svg"});
}

TEST_CASE("cachet build: every URL of the original site answers, with the same kind of content", "[e2e][fidelity]")
{
    test::TempDir dir;
    const fs::path src = test::copy_site(dir);
    const Built b = build(dir, src);
    for (const auto& f : test::list_files(src)) {
        INFO(f);
        const fs::path at = dir / "out" / f;
        REQUIRE(fs::is_regular_file(at));
        const json& asset = b.manifest["assets"].at(f);
        const json* own = nullptr;
        for (const auto& o : asset["outputs"])
            if (o["path"] == f)
                own = &o;
        REQUIRE(own != nullptr);
        CHECK((*own)["bytes"] == fs::file_size(at));
        const std::string type = (*own)["content_type"];
        if (asset["kind"] == "passthrough")
            CHECK(test::slurp(at) == test::slurp(src / f));
        if (asset["kind"] == "image")
            CHECK(test::load_image(at).width() > 0); // decodes
        if (!(*own)["original"])
            continue; // it keeps its name (HTML, output.stable, dotfiles)
        // The original duplicates an output references name, with revalidated caching.
        CHECK((*own)["cache_control"] == (type.starts_with("image/") ? "public, max-age=86400" : "no-cache"));
        if (asset["kind"] == "text") {
            const auto& first = asset["outputs"][0];
            CHECK(first["fingerprinted"] == true);
            CHECK(test::slurp(at) == test::slurp(dir / "out" / first["path"].get<std::string>()));
            CHECK((*own)["encodings"].size() == first["encodings"].size());
        }
    }
    // The demo's own script, which fetches data/products.json and loads img/hero.jpg by URLs it
    // builds: the page's reference to hero.jpg stays as written, the others are rewritten.
    CHECK(fs::is_regular_file(dir / "out/data/products.json"));
    CHECK(as_written(b.page, "img/hero.jpg"));
    CHECK_FALSE(as_written(b.page, "img/logo.png"));

    SECTION("output.originals = false: fingerprinted names only, but for what keeps its name or scripts name")
    {
        const Built off = build(dir, src, "[output]\noriginals = false\n", {}, "off");
        for (const auto& [source, asset] : off.manifest["assets"].items()) {
            INFO(source);
            bool original = false;
            for (const auto& o : asset["outputs"])
                original |= o["original"].get<bool>();
            CHECK(original ==
                  (source == "data/products.json" || source == "img/hero.jpg")); // js/app.js builds their URLs
        }
        CHECK_FALSE(fs::exists(dir / "off/css/site.css"));
        CHECK(fs::exists(dir / "off/index.html"));
        CHECK(fs::exists(dir / "off/data/products.json"));
    }
}

TEST_CASE("cachet build: a file whose name a script spells keeps its URL where scripts read it, and answers there",
          "[e2e][fidelity]")
{
    test::TempDir dir;
    const fs::path src = scripted_site(dir);

    // Default: the toggler's src and the search files stay as written; what no script names is
    // fingerprinted.
    Built b = build(dir, src, "[output]\noriginals = false\n");
    CHECK(as_written(b.page, "_static/minus.png"));
    CHECK_FALSE(as_written(b.page, "_static/logo.png"));
    CHECK_FALSE(as_written(b.page, "_static/site.css"));
    for (const char* f :
         {"_static/minus.png", "_static/plus.png", "search/worker.js", "search/lunr.js", "search/search_index.json"}) {
        INFO(f);
        CHECK(fs::is_regular_file(dir / "out" / f)); // even with output.originals off
    }
    CHECK_FALSE(fs::exists(dir / "out/_static/logo.png"));

    SECTION("references.trust_scripts = true rewrites them too")
    {
        b = build(dir, src, "[output]\noriginals = false\n[references]\ntrust_scripts = true\n", {}, "trusting");
        CHECK_FALSE(as_written(b.page, "_static/minus.png"));
        CHECK_FALSE(fs::exists(dir / "trusting/_static/plus.png"));
    }
    SECTION("with a cache: a script that stops naming a file lets the page that names it be rewritten")
    {
        const fs::path cache = dir / "cache";
        b = build(dir, src, "", cache, "cached");
        CHECK(as_written(b.page, "_static/minus.png"));
        test::spit(src / "_static/doctools.js", "const toggle = () => {};\n");
        b = build(dir, src, "", cache, "cached");
        CHECK_FALSE(as_written(b.page, "_static/minus.png"));
        CHECK(fs::is_regular_file(dir / "cached/_static/minus.png")); // output.originals: still answers
        test::spit(src / "_static/doctools.js", "x.src = base + 'minus.png';\n");
        b = build(dir, src, "", cache, "cached");
        CHECK(as_written(b.page, "_static/minus.png"));
    }
}

TEST_CASE("cachet build: a sidecar never takes the name of a source (MkDocs' sitemap.xml.gz)", "[e2e][fidelity]")
{
    test::TempDir dir;
    const fs::path src = dir / "src";
    std::string sitemap = "<?xml version=\"1.0\"?>\n<urlset>\n";
    for (int i = 0; i < 100; ++i)
        sitemap += "  <url><loc>https://example.com/page" + std::to_string(i) + "/</loc></url>\n";
    test::spit(src / "sitemap.xml", sitemap + "</urlset>\n");
    test::spit(src / "data.json", "[" + std::string(3000, ' ') + "]\n");
    test::spit(src / "index.html", "<p>site</p>\n");
    const fs::path cache = dir / "cache";
    build(dir, src, "", cache);
    CHECK(fs::exists(dir / "out/sitemap.xml.gz")); // cachet's sidecar, while no source has that name
    test::spit(src / "sitemap.xml.gz", "the site's own\n");
    test::spit(src / "data.json.br", "the site's own\n");
    const Built b = build(dir, src, "", cache); // no collision, with or without the cache
    CHECK(test::slurp(dir / "out/sitemap.xml.gz") == test::slurp(src / "sitemap.xml.gz"));
    CHECK(test::slurp(dir / "out/data.json.br") == test::slurp(src / "data.json.br"));
    for (const auto& o : b.manifest["assets"]["data.json"]["outputs"])
        for (const auto& e : o["encodings"])
            CHECK(e["path"] != "data.json.br");
}

TEST_CASE("cachet build --strict: a failure publishes nothing, and OUT stays as the last build left it",
          "[e2e][fidelity]")
{
    test::TempDir dir;
    const fs::path src = test::copy_site(dir);
    const fs::path out = dir / "out";
    REQUIRE(test::run_cachet({"build", src.string(), "-o", out.string(), "--strict", "-q"}).exit_code == 0);
    std::map<std::string, Bytes> before;
    for (const auto& f : test::list_files(out))
        before[f] = test::slurp(out / f);

    // The page and the stylesheet change, and the page names a file that is not there.
    test::spit(src / "index.html",
               std::string(as_text(test::slurp(src / "index.html"))) + "<img src=\"img/missing.png\" alt=\"\">\n");
    test::spit(src / "css/site.css", std::string(as_text(test::slurp(src / "css/site.css"))) + "p { margin: 0 }\n");
    const auto p = test::run_cachet({"build", src.string(), "-o", out.string(), "--strict", "--json"});
    INFO(p.err);
    CHECK(p.exit_code == 1);
    CHECK(nlohmann::json::parse(p.out)["published"] == false);
    CHECK_THAT(p.err, Catch::Contains("nothing published"));
    for (const auto& [f, bytes] : before) { // what the manifest names, as it named it
        INFO(f);
        CHECK(test::slurp(out / f) == bytes);
    }
    for (const auto& f : test::list_files(out)) {
        INFO(f);
        CHECK(f.find(".cachet-tmp-") == std::string::npos); // nothing staged is left behind
    }

    // Without --strict the same build publishes everything but the failure... and then the
    // page and the stylesheet's own URL hold the new text.
    const auto loose = test::run_cachet({"build", src.string(), "-o", out.string(), "-q"});
    CHECK(loose.exit_code == 0); // a missing reference is a warning
    CHECK(test::slurp(out / "css/site.css") != before.at("css/site.css"));
    CHECK(test::slurp(out / "index.html") != before.at("index.html"));
}
