// Hostile and careless inputs (issue 18): each class of defect a campaign found, closed, and
// checked through the real binary.
#include "tests/test_support.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace fs = std::filesystem;
using namespace cachet;

namespace {

test::Process build_with(const test::TempDir& dir, const std::string& config)
{
    test::spit(dir / "src/index.html", "<p>hi</p>\n");
    test::spit(dir / "hostile.toml", config);
    return test::run_cachet({"build", (dir / "src").string(), "-o", (dir / "out").string(), "--config",
                             (dir / "hostile.toml").string()});
}

} // namespace

TEST_CASE("cachet build: every number setting refuses NaN and the infinities", "[hostile][config]")
{
    for (const std::string setting : {"[text]\nmin_saving", "[images.auto]\ndistance"})
        for (const std::string value : {"nan", "-nan", "inf", "-inf"}) {
            test::TempDir dir;
            INFO(setting << " = " << value);
            const auto p = build_with(dir, setting + " = " + value + "\n");
            CHECK(p.exit_code == 2);
            CHECK_THAT(p.err, Catch::Contains("must be a number from"));
            CHECK_FALSE(fs::exists(dir / "out/cachet-manifest.json"));
        }
}
