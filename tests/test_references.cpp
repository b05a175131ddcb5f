#include "pipeline/text/references.hpp"

#include <catch2/catch.hpp>

using namespace cachet;

namespace {

std::vector<std::string> urls(std::string_view path, std::string_view text)
{
    std::vector<std::string> out;
    for (const auto& r : find_references(path, text)) {
        CHECK(text.substr(r.begin, r.end - r.begin) == r.url); // the range is the URL as written
        out.push_back(r.url);
    }
    return out;
}

using Urls = std::vector<std::string>;

} // namespace

TEST_CASE("find_references in CSS: url() quoted or not, with query or fragment, @import, sourceMappingURL",
          "[references]")
{
    const std::string css = R"css(@import "base.css";
@import url(theme.css) screen;
@font-face { src: url( "../fonts/a.woff2?v=2#iefix" ) format("woff2"), URL(fonts/b.woff); }
.hero { background: url('/img/hero.jpg'), url(data:image/png;base64,AAAA); }
.x::after { content: "url(not-a-reference.png)"; }
/* url(commented.png) */
.y { mask: image-url(nope.png); }
/*# sourceMappingURL=site.css.map */
)css";
    CHECK(urls("css/site.css", css) == Urls{"base.css", "theme.css", "../fonts/a.woff2?v=2#iefix", "fonts/b.woff",
                                            "/img/hero.jpg", "data:image/png;base64,AAAA", "site.css.map"});
}

TEST_CASE("find_references in HTML: src, href, srcset, poster, style, <style>, but not comments or scripts",
          "[references]")
{
    const std::string html = R"html(<!doctype html>
<html><head>
<link rel="preload" href="/fonts/a.woff2" as="font"><link rel=icon href=favicon.ico>
<link rel="manifest" href="site.webmanifest"><link rel="stylesheet" href="css/site.css">
<style>body { background: url(img/bg.png) }</style>
<script>const s = "<img src='script.png'>";</script>
<!-- <img src="comment.png"> -->
</head><body>
<picture><source type="image/avif" srcset="img/a-1x.avif 1x, img/a-2x.avif 2x"><img src="img/a.jpg" alt=""></picture>
<img srcset="s.png, m.png 2x , l.png 3x" src="s.png">
<video poster="img/poster.jpg" src="v.mp4"></video>
<div style="background-image: url('img/div.png')" data-src="ignored.png"></div>
<a href="about.html#team">About</a><a href="https://example.com/x.png">out</a>
</body></html>
)html";
    CHECK(urls("index.html", html) == Urls{"/fonts/a.woff2", "favicon.ico", "site.webmanifest", "css/site.css",
                                           "img/bg.png", "img/a-1x.avif", "img/a-2x.avif", "img/a.jpg", "s.png",
                                           "m.png", "l.png", "s.png", "img/poster.jpg", "v.mp4", "img/div.png",
                                           "about.html#team", "https://example.com/x.png"});
}

TEST_CASE("find_references in scripts, source maps and web app manifests", "[references]")
{
    CHECK(urls("js/app.js", "let a = '//# sourceMappingURL=no.map';\nrun();\n//# sourceMappingURL=app.js.map\n") ==
          Urls{"app.js.map"});
    CHECK(urls("js/app.js", "run();\n").empty());
    CHECK(urls("js/app.js.map", R"({"version":3,"file":"app.js","sources":["app.ts"],"mappings":"AAAA"})") ==
          Urls{"app.js"});
    CHECK(
        urls("site.webmanifest",
             R"({"name": "x", "icons": [{"src": "icons/192.png", "sizes": "192x192"}, {"src": "/icons/512.png"}]})") ==
        Urls{"icons/192.png", "/icons/512.png"});
    CHECK(urls("data.json", R"({"src": "x.png"})").empty());
    CHECK(urls("broken.map", "{not json").empty());
}

TEST_CASE("resolve_reference: relative and root-relative, base path, and what names no file of SRC", "[references]")
{
    CHECK(resolve_reference("css/site.css", "../fonts/a.woff2?v=2#iefix") == "fonts/a.woff2");
    CHECK(resolve_reference("css/site.css", "img/x.png") == "css/img/x.png");
    CHECK(resolve_reference("css/site.css", "./x.png") == "css/x.png");
    CHECK(resolve_reference("a/b/page.html", "/img/hero.jpg") == "img/hero.jpg");
    CHECK(resolve_reference("page.html", "/static/img/hero.jpg", "/static") == "img/hero.jpg");
    CHECK(resolve_reference("page.html", "/img/hero.jpg", "/static/") == std::nullopt); // outside the base
    CHECK(resolve_reference("page.html", "my%20photo.jpg") == "my photo.jpg");
    CHECK(resolve_reference("css/site.css", "../../etc/passwd") == std::nullopt);
    for (const char* external :
         {"https://cdn.example/a.png", "data:image/png;base64,AA", "mailto:x@y", "//cdn/a.png", "#top", "", "docs/"})
        CHECK(resolve_reference("index.html", external) == std::nullopt);
}

TEST_CASE("reference_url keeps the original's style and its query and fragment", "[references]")
{
    CHECK(reference_url("../fonts/a.woff2?v=2#iefix", "css/site.1.css", "fonts/a.2.woff2") ==
          "../fonts/a.2.woff2?v=2#iefix");
    CHECK(reference_url("img/a.png", "index.html", "img/a.3.png") == "img/a.3.png");
    CHECK(reference_url("x.png", "a/b/c.css", "a/x.4.png") == "../x.4.png");
    CHECK(reference_url("/img/a.png", "a/b/c.css", "img/a.5.png", "/static") == "/static/img/a.5.png");
    CHECK(reference_url("my%20photo.jpg", "index.html", "my photo.6.jpg") == "my%20photo.6.jpg");
}
