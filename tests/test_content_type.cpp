#include "pipeline/model/content_type.hpp"

#include <catch2/catch.hpp>

using namespace cachet;

TEST_CASE("content_type_for gives text types a utf-8 charset", "[content_type]")
{
    CHECK(content_type_for("a/app.3f9a1c2b7d.js") == "text/javascript; charset=utf-8");
    CHECK(content_type_for("index.html") == "text/html; charset=utf-8");
    CHECK(content_type_for("i.svg") == "image/svg+xml; charset=utf-8");
    CHECK(content_type_for("x.map") == "application/json; charset=utf-8");
}

TEST_CASE("content_type_for reads the extension case-insensitively and defaults to octet-stream", "[content_type]")
{
    CHECK(content_type_for("PHOTO.JPG") == "image/jpeg");
    CHECK(content_type_for("f.woff2") == "font/woff2");
    CHECK(content_type_for("blob.unknownext") == "application/octet-stream");
    CHECK(content_type_for("Makefile") == "application/octet-stream");
    CHECK(extension_of("dir.d/.hidden") == "");
}
