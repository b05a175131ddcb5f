#include "pipeline/fs/glob.hpp"

#include <catch2/catch.hpp>

#include <fnmatch.h>

#include <string>
#include <vector>

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

TEST_CASE("glob_match decides a file name as fnmatch with FNM_PERIOD does, on every shortcut it takes", "[glob]")
{
    const std::vector<std::string> patterns{"*.swp",         ".*.swp", "*~", ".*~", ".#*",   "4913", "*___jb_tmp___",
                                            ".cachet-tmp-*", "*",      ".*", "a*b", "*.s?p", "[.]x", ".DS_Store"};
    const std::vector<std::string> names{
        "a.swp", ".a.swp",        ".swp",          "x~",           ".x~", "~",   ".#x", "#x",
        "4913",  "f___jb_tmp___", ".cachet-tmp-1", ".cachet-tmp-", "ab",  "a.b", "aXb", "b",
        ".x",    "x.sap",         ".DS_Store",     "DS_Store",     "",    "a"};
    for (const auto& p : patterns)
        for (const auto& n : names) {
            INFO(p << " against '" << n << "'");
            CHECK(glob_match(p, n) == (fnmatch(p.c_str(), n.c_str(), FNM_PERIOD) == 0));
            CHECK(glob_match(p, "dir/" + n) == (fnmatch(p.c_str(), n.c_str(), FNM_PERIOD) == 0));
        }
}

TEST_CASE("glob_match: literal folders in a pattern are looked for before the path is split", "[glob]")
{
    CHECK(glob_match("**/.git/**", "a/.git/config"));
    CHECK(glob_match("**/.git/**", ".git/config"));
    CHECK_FALSE(glob_match("**/.git/**", "a/.github/x"));
    CHECK_FALSE(glob_match("**/.git/**", "a/b/c.txt"));
    CHECK(glob_match("img/*/a.jpg", "img/x/a.jpg"));
    CHECK_FALSE(glob_match("img/*/a.jpg", "img/x/b.jpg"));
}
