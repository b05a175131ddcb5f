#include "pipeline/glob.hpp"

#include <catch2/catch.hpp>

using namespace cachet;

TEST_CASE("glob_match: a pattern without a slash matches the file name at any depth", "[glob]")
{
    CHECK(glob_match("robots.txt", "robots.txt"));
    CHECK(glob_match("robots.txt", "blog/robots.txt"));
    CHECK(glob_match("*.webmanifest", "app/site.webmanifest"));
    CHECK_FALSE(glob_match("*.webmanifest", "site.webmanifest.json"));
    CHECK_FALSE(glob_match("sw.js", "xsw.js"));
}

TEST_CASE("glob_match: '**' spans zero or more folders, '*' stays within one", "[glob]")
{
    CHECK(glob_match("icons/**", "icons/a.svg"));
    CHECK(glob_match("icons/**", "icons/solid/a.svg"));
    CHECK(glob_match("**/thumbs/*.jpg", "thumbs/a.jpg"));
    CHECK(glob_match("**/thumbs/*.jpg", "img/photos/thumbs/a.jpg"));
    CHECK_FALSE(glob_match("img/*.jpg", "img/photos/a.jpg"));
    CHECK(glob_match("img/*/a.jpg", "img/photos/a.jpg"));
    CHECK_FALSE(glob_match("icons/**", "img/icons/a.svg"));
    CHECK(glob_match(".git/**", ".git/"));
}

TEST_CASE("glob_match_any is true when one pattern matches", "[glob]")
{
    CHECK(glob_match_any({"a", "b/**"}, "b/c"));
    CHECK_FALSE(glob_match_any({}, "b/c"));
}
