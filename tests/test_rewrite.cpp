#include "pipeline/text/rewrite.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace cachet;

namespace {

OutputFile image_output(std::string path, ImageFormat format, int width)
{
    OutputFile o;
    o.path = std::move(path);
    o.format = format;
    o.width = width;
    o.height = width / 2;
    o.fingerprinted = true;
    return o;
}

AssetRecord image(std::string source, std::vector<OutputFile> outputs)
{
    AssetRecord r;
    r.source = std::move(source);
    r.kind = AssetKind::image;
    r.outputs = std::move(outputs);
    return r;
}

AssetRecord text(std::string source, std::string output)
{
    AssetRecord r;
    r.source = std::move(source);
    r.kind = AssetKind::text;
    OutputFile o;
    o.path = std::move(output);
    r.outputs.push_back(o);
    return r;
}

// A build where these sources are built, stable_paths keep their names, and nothing else exists.
struct Site {
    std::map<std::string, AssetRecord> built;
    std::vector<std::string> stable;
    std::vector<std::string> failed;

    ReferenceTarget operator()(const std::string& path) const
    {
        if (const auto it = built.find(path); it != built.end())
            return {ReferenceTarget::State::built, &it->second};
        if (std::find(stable.begin(), stable.end(), path) != stable.end())
            return {ReferenceTarget::State::unchanged, nullptr};
        if (std::find(failed.begin(), failed.end(), path) != failed.end())
            return {ReferenceTarget::State::failed, nullptr};
        return {};
    }
};

Rewritten rewrite(const Site& site, std::string_view path, std::string_view text, RewriteOptions options = {})
{
    return rewrite_references(path, text, find_references(path, text), std::cref(site), options);
}

Site sample_site()
{
    Site site;
    site.built["img/a.png"] = image("img/a.png", {image_output("img/a.1111111111.png", ImageFormat::png, 100),
                                                  image_output("img/a.2222222222.webp", ImageFormat::webp, 100)});
    site.built["img/aa.png"] = image("img/aa.png", {image_output("img/aa.3333333333.png", ImageFormat::png, 100)});
    site.built["img/hero.jpg"] =
        image("img/hero.jpg", {image_output("img/hero-640w.aaaaaaaaaa.avif", ImageFormat::avif, 640),
                               image_output("img/hero-640w.bbbbbbbbbb.webp", ImageFormat::webp, 640),
                               image_output("img/hero-640w.cccccccccc.jpg", ImageFormat::jpeg, 640),
                               image_output("img/hero.dddddddddd.avif", ImageFormat::avif, 1200),
                               image_output("img/hero.eeeeeeeeee.webp", ImageFormat::webp, 1200),
                               image_output("img/hero.ffffffffff.jpg", ImageFormat::jpeg, 1200)});
    site.built["img/thumb.webp"] =
        image("img/thumb.webp", {image_output("img/thumb.0000000000.webp", ImageFormat::webp, 80),
                                 image_output("img/thumb.9999999999.jpg", ImageFormat::jpeg, 80)});
    site.built["fonts/f.woff2"] = text("fonts/f.woff2", "fonts/f.4444444444.woff2");
    site.built["css/site.css"] = text("css/site.css", "css/site.5555555555.css");
    site.stable = {"about.html"};
    return site;
}

} // namespace

TEST_CASE("rewrite_references: CSS url() and @import, relative and root-relative, query and fragment kept", "[rewrite]")
{
    const Site site = sample_site();
    const auto r = rewrite(site, "css/site.css", R"css(@import "/css/site.css?v=1";
a { background: url(../img/a.png) } b { background: url("/img/aa.png#x") }
@font-face { src: url('../fonts/f.woff2?v=2#iefix') }
c { background: url(https://cdn.example/img/a.png), url(data:image/png;base64,AA) }
)css");
    CHECK(r.text == R"css(@import "/css/site.5555555555.css?v=1";
a { background: url(../img/a.1111111111.png) } b { background: url("/img/aa.3333333333.png#x") }
@font-face { src: url('../fonts/f.4444444444.woff2?v=2#iefix') }
c { background: url(https://cdn.example/img/a.png), url(data:image/png;base64,AA) }
)css");
    CHECK(r.warnings.empty());
    CHECK(r.missing.empty());
}

TEST_CASE("rewrite_references: a name that is a prefix of another is never mixed up", "[rewrite]")
{
    const Site site = sample_site();
    const auto r = rewrite(site, "index.html", R"(<img src="img/aa.png"><img src="img/a.png"><img src=img/a.png>)");
    CHECK(r.text ==
          R"(<img src="img/aa.3333333333.png"><img src="img/a.1111111111.png"><img src=img/a.1111111111.png>)");
}

TEST_CASE("rewrite_references: an image URL names the largest output in the source's own format, else the fallback",
          "[rewrite]")
{
    const Site site = sample_site();
    CHECK(output_for_url(site.built.at("img/hero.jpg"))->path == "img/hero.ffffffffff.jpg");
    CHECK(output_for_url(site.built.at("img/thumb.webp"))->path == "img/thumb.0000000000.webp");
    AssetRecord tiff = image("img/scan.tiff", {image_output("img/scan.1.webp", ImageFormat::webp, 10),
                                               image_output("img/scan.2.jpg", ImageFormat::jpeg, 10)});
    CHECK(output_for_url(tiff)->path == "img/scan.2.jpg");
    CHECK(output_for_url(image("x.png", {})) == nullptr);
}

TEST_CASE("rewrite_references: HTML srcset, preload, links, and what stays as written", "[rewrite]")
{
    Site site = sample_site();
    site.failed = {"img/broken.png"};
    const auto r = rewrite(site, "blog/post.html", R"(<link rel="preload" href="../fonts/f.woff2" as="font">
<img srcset="../img/a.png 1x, /img/hero.jpg 2x" src="../img/nope.png">
<a href="../about.html">About</a> <a href="/shop/">Shop</a> <a href="../missing-page.html">x</a>
<img src="../img/broken.png"><img src="../img/nope.png">)");
    CHECK(r.text == R"(<link rel="preload" href="../fonts/f.4444444444.woff2" as="font">
<img srcset="../img/a.1111111111.png 1x, /img/hero.ffffffffff.jpg 2x" src="../img/nope.png">
<a href="../about.html">About</a> <a href="/shop/">Shop</a> <a href="../missing-page.html">x</a>
<img src="../img/broken.png"><img src="../img/nope.png">)");
    // One warning per file; links to pages SRC does not hold are no mistake.
    CHECK(r.warnings == std::vector<std::string>{
                            "\"../img/nope.png\" names img/nope.png, which is not in SRC: left as written",
                            "\"../img/broken.png\" names img/broken.png, which failed to build: left as written"});
    CHECK(r.missing.size() == 3);
}

TEST_CASE("rewrite_references: a base path for root-relative URLs, and <base href> keeps relative ones", "[rewrite]")
{
    const Site site = sample_site();
    RewriteOptions options;
    options.base = "/static/";
    CHECK(rewrite(site, "index.html", R"(<img src="/static/img/a.png"><img src="/img/a.png"><img src="img/a.png">)",
                  options)
              .text ==
          R"(<img src="/static/img/a.1111111111.png"><img src="/img/a.png"><img src="img/a.1111111111.png">)");
    const auto based = rewrite(site, "index.html", R"(<base href="/x/"><img src="img/a.png"><img src="/img/a.png">)");
    CHECK(based.text == R"(<base href="/x/"><img src="img/a.png"><img src="/img/a.1111111111.png">)");
    CHECK(based.warnings.size() == 1);
}

TEST_CASE("rewrite_references: a source map's file gives way while its script waits", "[rewrite]")
{
    Site site;
    site.built["js/app.js"] = text("js/app.js", "js/app.6666666666.js");
    const std::string map = R"({"version":3,"file":"app.js","sources":["app.ts"],"mappings":"AAAA"})";
    CHECK(rewrite(site, "js/app.js.map", map).text ==
          R"({"version":3,"file":"app.6666666666.js","sources":["app.ts"],"mappings":"AAAA"})");
    auto waiting = [](const std::string&) { return ReferenceTarget{ReferenceTarget::State::waiting, nullptr}; };
    const auto r = rewrite_references("js/app.js.map", map, find_references("js/app.js.map", map), waiting, {});
    CHECK(r.text == map);
    CHECK(r.warnings.empty());
    const std::string js = "run();\n//# sourceMappingURL=app.js.map\n";
    CHECK_THROWS_WITH(rewrite_references("js/app.js", js, find_references("js/app.js", js), waiting, {}),
                      Catch::Contains("appeared while this build ran"));
}

TEST_CASE("rewrite_references: html.picture turns <img src> into <picture>", "[rewrite]")
{
    const Site site = sample_site();
    RewriteOptions options;
    options.picture = true;
    const auto r = rewrite(site, "index.html",
                           R"(<img src="img/hero.jpg" alt="Hills" sizes="50vw"/>
<picture><img src="img/a.png"></picture>
<img src="/img/thumb.webp" width="80">
<img src="img/aa.png" srcset="img/aa.png 1x">)",
                           options);
    // hero: AVIF lacks no width, so both sources; thumb: WebP is the <img>'s own format, no source for it
    CHECK(
        r.text ==
        R"(<picture><source type="image/avif" srcset="img/hero-640w.aaaaaaaaaa.avif 640w, img/hero.dddddddddd.avif 1200w" sizes="50vw">)"
        R"(<source type="image/webp" srcset="img/hero-640w.bbbbbbbbbb.webp 640w, img/hero.eeeeeeeeee.webp 1200w" sizes="50vw">)"
        R"(<img src="img/hero.ffffffffff.jpg" alt="Hills" sizes="50vw" srcset="img/hero-640w.cccccccccc.jpg 640w, img/hero.ffffffffff.jpg 1200w" width="1200" height="600"/></picture>
<picture><img src="img/a.1111111111.png"></picture>
<picture><source type="image/webp" srcset="/img/thumb.0000000000.webp 80w"><img src="/img/thumb.9999999999.jpg" width="80"></picture>
<img src="img/aa.3333333333.png" srcset="img/aa.3333333333.png 1x">)");
}

TEST_CASE("dependencies_of: what a file loads and what it names back, resolved and without repeats", "[rewrite]")
{
    const std::string css = "a{background:url(../img/a.png)} b{background:url(/img/a.png?x)} c{background:url(x.png)}";
    CHECK(dependencies_of("css/site.css", find_references("css/site.css", css), "/") ==
          Dependencies{{"css/x.png", "img/a.png"}, {}});
    const std::string map = R"({"version":3,"file":"app.js","mappings":""})";
    CHECK(dependencies_of("js/app.js.map", find_references("js/app.js.map", map), "/") ==
          Dependencies{{}, {"js/app.js"}});
}

TEST_CASE("rewrite_references: integrity attributes follow the rewritten file, and html.integrity adds them",
          "[rewrite]")
{
    Site site = sample_site();
    site.built["css/site.css"].outputs.front().integrity = "sha384-NEW";
    site.built["js/app.js"] = text("js/app.js", "js/app.6666666666.js");
    site.built["js/app.js"].outputs.front().integrity = "sha384-JS";
    const std::string html = R"(<link integrity="sha384-OLD" rel="stylesheet" href="css/site.css">
<script src="js/app.js"></script><link rel="icon" href="css/site.css">)";
    CHECK(rewrite(site, "index.html", html).text ==
          R"(<link integrity="sha384-NEW" rel="stylesheet" href="css/site.5555555555.css">
<script src="js/app.6666666666.js"></script><link rel="icon" href="css/site.5555555555.css">)");
    RewriteOptions options;
    options.integrity = true;
    CHECK(rewrite(site, "index.html", html, options).text ==
          R"(<link integrity="sha384-NEW" rel="stylesheet" href="css/site.5555555555.css">
<script src="js/app.6666666666.js" integrity="sha384-JS"></script><link rel="icon" href="css/site.5555555555.css">)");
}
