#include "pipeline/text/fingerprint.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace cachet;

TEST_CASE("fingerprinted_path puts the hash before the extension", "[fingerprint]")
{
    CHECK(fingerprinted_path("js/app.js", "3f9a1c2b7d") == "js/app.3f9a1c2b7d.js");
    CHECK(fingerprinted_path("css/bootstrap.min.css", "abc") == "css/bootstrap.min.abc.css");
    CHECK(fingerprinted_path("LICENSE", "abc") == "LICENSE.abc");
    CHECK(fingerprinted_path("dir.v2/LICENSE", "abc") == "dir.v2/LICENSE.abc");
    CHECK(fingerprinted_path(".htaccess", "abc") == ".htaccess.abc");
}

TEST_CASE("fingerprinted_path keeps source-map double extensions together", "[fingerprint]")
{
    CHECK(fingerprinted_path("js/app.js.map", "abc") == "js/app.abc.js.map");
    CHECK(fingerprinted_path("css/site.min.css.map", "abc") == "css/site.min.abc.css.map");
    CHECK(fingerprinted_path("data/geo.map", "abc") == "data/geo.abc.map");
}

TEST_CASE("replace_extension swaps only the last extension", "[fingerprint]")
{
    CHECK(replace_extension("img/hero.jpg", "avif") == "img/hero.avif");
    CHECK(replace_extension("img/hero.large.png", "webp") == "img/hero.large.webp");
    CHECK(replace_extension("img.d/photo", "webp") == "img.d/photo.webp");
}

TEST_CASE("insert_before_extension puts width suffixes where a hash would go", "[fingerprint]")
{
    CHECK(insert_before_extension("img/hero.jpg", "-640w") == "img/hero-640w.jpg");
    CHECK(insert_before_extension("img/a.b/photo", "-640w") == "img/a.b/photo-640w");
    CHECK(insert_before_extension("img/hero.min.png", "-16w") == "img/hero.min-16w.png");
}

TEST_CASE("owner_prefix of every name an output can get starts its source's path", "[fingerprint]")
{
    CHECK(owner_prefix("img/hero-640w.3f9a1c2b7d.avif") == "img/hero");
    CHECK(owner_prefix("a.b/c.d/app.abc.js.br") == "a.b/c.d/app");
    CHECK(owner_prefix(".htaccess.abc") == "");
    CHECK(owner_prefix("LICENSE") == "LICENSE");
    const char* sources[] = {"js/app.js",        "css/site.min.css.map", "LICENSE",       "dir.v2/LICENSE",
                             ".htaccess",        "img/hero.jpg",         "img/a-b.c.png", "img/x.d/-dash.gif",
                             "img/hero.min.png", "img.d/photo",          "a/.png"};
    for (const std::string source : sources) {
        std::vector<std::string> names{source, fingerprinted_path(source, "abc")};
        for (const char* format : {"avif", "webp"}) {
            const std::string modern = replace_extension(source, format);
            names.push_back(fingerprinted_path(modern, "abc"));
            names.push_back(fingerprinted_path(insert_before_extension(modern, "-640w"), "abc"));
        }
        names.push_back(fingerprinted_path(insert_before_extension(source, "-16w"), "abc"));
        for (std::size_t i = 0, n = names.size(); i < n; ++i)
            names.push_back(names[i] + ".br");
        for (const auto& name : names) {
            INFO(source << " -> " << name);
            CHECK(std::string_view(source).starts_with(owner_prefix(name)));
        }
    }
}
