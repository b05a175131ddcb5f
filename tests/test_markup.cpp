#include "pipeline/publish/markup.hpp"

#include "pipeline/model/error.hpp"

#include <catch2/catch.hpp>

using namespace cachet;

namespace {

OutputFile image(const std::string& path, ImageFormat format, int width, int height)
{
    OutputFile o;
    o.path = path;
    o.format = format;
    o.width = width;
    o.height = height;
    return o;
}

AssetRecord hero()
{
    AssetRecord r;
    r.source = "img/hero.jpg";
    r.kind = AssetKind::image;
    // AVIF did not ship at 640 (never bigger): it must not appear at that width.
    r.outputs = {image("img/hero-640w.a.webp", ImageFormat::webp, 640, 400),
                 image("img/hero-640w.b.jpg", ImageFormat::jpeg, 640, 400),
                 image("img/hero-1280w.c.avif", ImageFormat::avif, 1280, 800),
                 image("img/hero-1280w.d.webp", ImageFormat::webp, 1280, 800),
                 image("img/hero-1280w.e.jpg", ImageFormat::jpeg, 1280, 800)};
    return r;
}

} // namespace

TEST_CASE("picture_element lists each format at exactly the widths it shipped", "[markup]")
{
    PictureOptions options;
    options.alt = "A \"quoted\" <hill>";
    options.css_class = "hero";
    const std::string html = picture_element(hero(), options);
    CHECK(html ==
          "<picture>\n"
          "  <source type=\"image/avif\" srcset=\"/img/hero-1280w.c.avif 1280w\" sizes=\"100vw\">\n"
          "  <source type=\"image/webp\" srcset=\"/img/hero-640w.a.webp 640w, /img/hero-1280w.d.webp 1280w\" "
          "sizes=\"100vw\">\n"
          "  <img src=\"/img/hero-1280w.e.jpg\" srcset=\"/img/hero-640w.b.jpg 640w, /img/hero-1280w.e.jpg 1280w\" "
          "sizes=\"100vw\" width=\"1280\" height=\"800\" alt=\"A &quot;quoted&quot; &lt;hill&gt;\" class=\"hero\" "
          "loading=\"lazy\" decoding=\"async\">\n"
          "</picture>\n");
}

TEST_CASE("picture_element uses the base URL and refuses non-images", "[markup]")
{
    PictureOptions options;
    options.base = "https://cdn.example/static/";
    CHECK_THAT(picture_element(hero(), options),
               Catch::Contains("src=\"https://cdn.example/static/img/hero-1280w.e.jpg\""));
    AssetRecord text;
    text.source = "a.css";
    text.kind = AssetKind::text;
    CHECK_THROWS_WITH(picture_element(text, options), "a.css is not an image (it is text)");
}

TEST_CASE("url_path_escape keeps srcset separators out of URLs", "[markup]")
{
    CHECK(url_path_escape("img/a b,c.jpg") == "img/a%20b%2Cc.jpg");
    CHECK(url_path_escape("img/caf\xc3\xa9.jpg") == "img/caf%C3%A9.jpg");
    CHECK(url_path_escape("img/ok-1_2.~x.jpg") == "img/ok-1_2.~x.jpg");
    CHECK(html_escape("a&'b") == "a&amp;&#39;b");
}
