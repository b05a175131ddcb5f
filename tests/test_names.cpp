// Names that must not change: output.stable images at their exact URL, dotfiles and
// .well-known files as they are, and cachet's own configuration never deployed.
#include "tests/test_support.hpp"

#include <catch2/catch.hpp>
#include <vips/vips8>

#include <set>

namespace fs = std::filesystem;
using namespace cachet;
using json = nlohmann::json;

namespace {

// The first bytes of a file, to tell its format.
std::string magic(const fs::path& path, std::size_t n)
{
    const Bytes bytes = test::slurp(path);
    return std::string(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(std::min(n, bytes.size())));
}

std::set<std::string> output_paths_of(const json& asset)
{
    std::set<std::string> out;
    for (const auto& o : asset["outputs"])
        out.insert(o["path"].get<std::string>());
    return out;
}

} // namespace

TEST_CASE("cachet build: an output.stable image answers at its exact name, extension as written, in its own format",
          "[e2e][names]")
{
    test::TempDir dir;
    const fs::path src = dir / "src";
    fs::create_directories(src / "social");
    fs::copy_file(test::fixtures() / "site/img/logo.png", src / "apple-touch-icon.png");
    fs::copy_file(test::fixtures() / "site/img/hero.jpg", src / "social/card.jpeg");
    fs::copy_file(test::fixtures() / "site/img/hero.jpg", src / "hero.jpg"); // not stable
    test::spit(dir / "c.toml", "[output]\nstable = [\"apple-touch-icon*.png\", \"social/*.jpeg\"]\n"
                               "[images]\nwidths = [64]\n");
    const auto p =
        test::run_cachet({"build", src.string(), "-o", (dir / "out").string(), "--config", (dir / "c.toml").string()});
    REQUIRE(p.exit_code == 0);
    const json m = test::read_json(dir / "out/cachet-manifest.json");

    const auto icon = output_paths_of(m["assets"].at("apple-touch-icon.png"));
    CHECK(icon.count("apple-touch-icon.png") == 1); // no width in the name
    CHECK(test::load_image(dir / "out/apple-touch-icon.png").width() == 128);
    CHECK(magic(dir / "out/apple-touch-icon.png", 4) == "\x89PNG");
    CHECK(icon.count("apple-touch-icon-64w.png") == 1); // smaller widths stay as they are named

    const auto card = output_paths_of(m["assets"].at("social/card.jpeg"));
    CHECK(card.count("social/card.jpeg") == 1); // .jpeg stays .jpeg
    CHECK(test::load_image(dir / "out/social/card.jpeg").width() == 480);
    CHECK(magic(dir / "out/social/card.jpeg", 2) == "\xFF\xD8");
    for (const auto& path : card)
        if (path != "social/card.jpeg")
            CHECK(path.find(".jpeg") == std::string::npos); // other outputs keep their format's extension

    // Not stable: fingerprinted, and a copy at its own URL (output.originals), not referenced.
    for (const auto& o : m["assets"].at("hero.jpg")["outputs"])
        CHECK((o["path"] == "hero.jpg") == (o["original"] == true));
}

TEST_CASE("cachet build: dotfiles and .well-known files keep their names, and cachet.toml in SRC is not deployed",
          "[e2e][names]")
{
    test::TempDir dir;
    const fs::path src = dir / "src";
    test::spit(src / ".htaccess", "Options -Indexes\n");
    test::spit(src / ".well-known/security.txt", "Contact: mailto:security@example.org\n");
    test::spit(src / "docs/.nojekyll", "");
    test::spit(src / "cachet.toml", "[images]\nwidths = []\n");
    test::spit(src / "index.html", "<p>hi</p>\n");
    const auto p = test::run_cachet({"build", src.string(), "-o", (dir / "out").string()});
    REQUIRE(p.exit_code == 0);
    const json m = test::read_json(dir / "out/cachet-manifest.json");
    for (const std::string name : {".htaccess", ".well-known/security.txt", "docs/.nojekyll"}) {
        INFO(name);
        CHECK(output_paths_of(m["assets"].at(name)) == std::set<std::string>{name});
        CHECK(test::slurp(dir / "out" / name) == test::slurp(src / name));
    }
    CHECK(!m["assets"].contains("cachet.toml"));
    CHECK(!fs::exists(dir / "out/cachet.toml"));
}
