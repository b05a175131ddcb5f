#include "tests/test_support.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>

namespace fs = std::filesystem;
using namespace cachet;

namespace {

// The fingerprinted outputs of the stylesheet in a manifest: the file and its encoded variants
// (its original, at css/site.css, is rewritten in place by each build).
std::vector<std::string> stylesheet(const nlohmann::json& manifest)
{
    std::vector<std::string> out;
    for (const auto& o : manifest["assets"]["css/site.css"]["outputs"]) {
        if (o["original"])
            continue;
        out.push_back(o["path"]);
        for (const auto& e : o["encodings"])
            out.push_back(e["path"]);
    }
    std::sort(out.begin(), out.end());
    return out;
}

void edit(const fs::path& css, int n)
{
    test::spit(css, std::string(as_text(test::slurp(css))) + "\n.edit" + std::to_string(n) + " { color: red }\n");
}

void make_old(const fs::path& out, const std::vector<std::string>& paths)
{
    for (const auto& p : paths)
        fs::last_write_time(out / p, fs::file_time_type::clock::now() - std::chrono::hours(2));
}

} // namespace

TEST_CASE("OUT keeps the previous builds' outputs, lists them in the manifest, and lets them go after keep and "
          "age",
          "[retention][e2e]")
{
    const bool with_cache = GENERATE(true, false);
    INFO((with_cache ? "with the build cache" : "without a cache"));
    test::TempDir dir;
    const fs::path src = test::copy_site(dir);
    const fs::path out = dir / "out";
    auto build = [&](std::vector<std::string> extra = {}) {
        std::vector<std::string> args{"build", src.string(), "-o", out.string(), "--json"};
        if (with_cache)
            args.insert(args.end(), {"--cache-dir", (dir / "cache").string()});
        args.insert(args.end(), extra.begin(), extra.end());
        const auto p = test::run_cachet(args);
        INFO(p.err);
        REQUIRE(p.exit_code == 0);
        return test::read_json(out / "cachet-manifest.json");
    };

    const auto first = build();
    CHECK(first["generations"].empty());
    const auto v1 = stylesheet(first);

    edit(src / "css/site.css", 1);
    const auto second = build();
    const auto v2 = stylesheet(second);
    CHECK(second["build_id"] != first["build_id"]);
    REQUIRE(second["generations"].size() == 1);
    CHECK(second["generations"][0]["build_id"] == first["build_id"]);
    CHECK(second["generations"][0]["outputs"].get<std::vector<std::string>>() == v1);
    for (const auto& p : v1)
        CHECK(fs::exists(out / p)); // a page of build 1 still finds its stylesheet

    edit(src / "css/site.css", 2);
    const auto third = build();
    REQUIRE(third["generations"].size() == 2); // keep = 2: both earlier builds, whatever their age
    CHECK(third["generations"][0]["build_id"] == second["build_id"]);
    CHECK(third["generations"][1]["build_id"] == first["build_id"]);

    // Beyond `keep`, files stay while younger than keep_age (1h), and go once older.
    edit(src / "css/site.css", 3);
    const auto fourth = build();
    REQUIRE(fourth["generations"].size() == 3);
    make_old(out, v1);
    edit(src / "css/site.css", 4);
    const auto fifth = build();
    REQUIRE(fifth["generations"].size() == 3); // build 1's outputs expired, builds 2-4 kept (2 by age)
    CHECK(fifth["generations"][0]["build_id"] == fourth["build_id"]);
    CHECK(fifth["generations"][2]["build_id"] == second["build_id"]);
    for (const auto& p : v1)
        CHECK_FALSE(fs::exists(out / p));
    for (const auto& p : v2)
        CHECK(fs::exists(out / p));

    // cachet clean: keeps what the manifest names, takes everything else it lists.
    const auto clean = test::run_cachet({"clean", out.string(), "--keep", "0", "--age", "0"});
    INFO(clean.err);
    REQUIRE(clean.exit_code == 0);
    CHECK_THAT(clean.out, Catch::Contains("cachet clean: removed"));
    const auto cleaned = test::read_json(out / "cachet-manifest.json");
    CHECK(cleaned["generations"].empty());
    CHECK(cleaned["assets"] == fifth["assets"]);
    CHECK(cleaned["build_id"] == fifth["build_id"]);
    for (const auto& p : v2)
        CHECK_FALSE(fs::exists(out / p));
    for (const auto& p : stylesheet(fifth))
        CHECK(fs::exists(out / p));

    // The build after a clean starts from what is there.
    edit(src / "css/site.css", 5);
    const auto sixth = build();
    REQUIRE(sixth["generations"].size() == 1);
    CHECK(sixth["generations"][0]["build_id"] == fifth["build_id"]);
}

TEST_CASE("the build id comes from the manifest's content: the same sources give the same id anywhere",
          "[retention][e2e]")
{
    test::TempDir dir;
    const fs::path src = test::copy_site(dir);
    REQUIRE(test::run_cachet({"build", src.string(), "-o", (dir / "a").string()}).exit_code == 0);
    REQUIRE(test::run_cachet({"build", src.string(), "-o", (dir / "b").string(), "-j", "1"}).exit_code == 0);
    const auto a = test::read_json(dir / "a/cachet-manifest.json");
    CHECK(a["build_id"] == test::read_json(dir / "b/cachet-manifest.json")["build_id"]);
    CHECK(a["build_id"].get<std::string>().size() == 20);

    const auto bad_age = test::run_cachet({"clean", (dir / "a").string(), "--age", "soon"});
    CHECK(bad_age.exit_code == 2);
    CHECK_THAT(bad_age.err, Catch::Contains("\"soon\" is not a duration"));
    const auto no_manifest = test::run_cachet({"clean", (dir / "nothing").string()});
    CHECK(no_manifest.exit_code == 2);
    CHECK_THAT(no_manifest.err, Catch::Contains("cachet-manifest.json"));
}
