#include "pipeline/config/config.hpp"

#include "pipeline/model/error.hpp"
#include "tests/test_support.hpp"

#include <catch2/catch.hpp>

using namespace cachet;

namespace {

std::string config_error(std::string_view text)
{
    Preset preset = load_preset("default");
    try {
        apply_config_text(preset, text, "cachet.toml");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::config);
        return e.what();
    }
    return "no error";
}

} // namespace

TEST_CASE("load_preset: every embedded preset loads and describes itself", "[config]")
{
    REQUIRE(embedded_presets().size() >= 3);
    for (const auto& p : embedded_presets()) {
        const Preset preset = load_preset(p.name);
        CHECK(preset.name == p.name);
        CHECK_FALSE(preset.description.empty());
    }
}

TEST_CASE("load_preset: named presets apply on top of default", "[config]")
{
    const Preset def = load_preset("default");
    const Preset fast = load_preset("fast");
    const Preset hq = load_preset("high-quality");
    CHECK(def.images.avif.speed == 6);
    CHECK(fast.images.avif.speed == 10);
    CHECK(hq.images.avif.chroma == Chroma::yuv444);
    CHECK(fast.text.extensions == def.text.extensions); // inherited
    CHECK(def.output.hash_length == 10);
    CHECK(def.text.min_bytes == 1024);
    CHECK(def.text.gzip_level == 12);
    CHECK(def.images.max_pixels == 268402689);
    CHECK(def.images.widths == std::vector<int>{640, 750, 828, 1080, 1200, 1920, 2048, 3840});
}

TEST_CASE("load_preset: an unknown name lists the available presets", "[config]")
{
    CHECK_THROWS_WITH(load_preset("turbo"), Catch::Contains("unknown preset \"turbo\"") && Catch::Contains("fast"));
}

TEST_CASE("load_preset: a path loads a preset file", "[config]")
{
    test::TempDir dir;
    test::spit(dir / "mine.toml", "description = \"mine\"\n[images.webp]\nquality = 55\n");
    const Preset p = load_preset((dir / "mine.toml").string());
    CHECK(p.name == "mine");
    CHECK(p.images.webp.quality == 55);
    CHECK(p.images.avif.quality == load_preset("default").images.avif.quality);
}

TEST_CASE("apply_config_text: overrides replace only the keys given", "[config]")
{
    Preset p = load_preset("default");
    apply_config_text(p, "[images]\nformats = [\"webp\"]\n[text]\nextensions = [\".JS\"]\nmin_saving = 0\n", "x");
    CHECK(p.images.formats == std::vector<ImageFormat>{ImageFormat::webp});
    CHECK(p.text.extensions == std::vector<std::string>{"js"});
    CHECK(p.text.min_saving == 0.0);
    CHECK(p.images.avif.quality == 56); // the default preset's
}

TEST_CASE("apply_config_text: errors name file:line and the key", "[config]")
{
    SECTION("unknown key")
    {
        CHECK(config_error("[images.avif]\nqualty = 3\n") ==
              "cachet.toml:2: images.avif.qualty is not a known setting; did you mean images.avif.quality?");
    }
    SECTION("unknown section")
    {
        CHECK(config_error("\n\n[imagez]\nx = 1\n") ==
              "cachet.toml:3: imagez is not a known setting; did you mean images?");
    }
    SECTION("out of range")
    {
        CHECK(config_error("[images.avif]\n\nquality = 200\n") ==
              "cachet.toml:3: images.avif.quality must be an integer from 0 to 100 or \"auto\"");
    }
    SECTION("wrong type")
    {
        CHECK(config_error("[images.webp]\nquality = \"high\"\n") ==
              "cachet.toml:2: images.webp.quality must be an integer from 0 to 100 or \"auto\"");
        CHECK(config_error("[output]\nstable = \"robots.txt\"\n") ==
              "cachet.toml:2: output.stable must be an array of strings");
    }
    SECTION("unknown enum value")
    {
        CHECK_THAT(config_error("[images]\nformats = [\"avif\", \"heic\"]\n"),
                   Catch::StartsWith("cachet.toml:2: images.formats has unknown value \"heic\""));
        CHECK_THAT(config_error("[images.avif]\nchroma = \"422\"\n"), Catch::Contains("expected one of: 420, 444"));
    }
    SECTION("widths")
    {
        CHECK(config_error("[images]\nwidths = [640, 0]\n") ==
              "cachet.toml:2: images.widths must contain only integers from 1 to 65535");
        Preset p = load_preset("default");
        apply_config_text(p, "[images]\nwidths = [300, 100, 300]\n", "x");
        CHECK(p.images.widths == std::vector<int>{100, 300}); // sorted, duplicates folded
    }
    SECTION("duplicate")
    {
        CHECK(config_error("[text]\nencodings = [\"br\", \"br\"]\n") ==
              "cachet.toml:2: text.encodings lists \"br\" twice");
    }
    SECTION("syntax error")
    {
        CHECK_THAT(config_error("[images\nx = 1\n"), Catch::StartsWith("cachet.toml:1: "));
    }
}

TEST_CASE("apply_config_file: a missing file is a config error naming it", "[config]")
{
    Preset p = load_preset("default");
    try {
        apply_config_file(p, "/nonexistent/cachet.toml");
        FAIL("expected an error");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::config);
        CHECK_THAT(e.what(), Catch::Contains("/nonexistent/cachet.toml"));
    }
}

TEST_CASE("images.rules: matching rules apply in order, later keys winning", "[config]")
{
    Preset p = load_preset("default");
    apply_config_text(p,
                      "[[images.rules]]\n"
                      "match = \"icons/**\"\n"
                      "widths = []\n"
                      "[[images.rules]]\n"
                      "match = [\"**/thumbs/**\", \"*.gif\"]\n"
                      "formats = [\"webp\"]\n"
                      "[[images.rules]]\n"
                      "match = \"photos/**\"\n"
                      "avif.quality = 62\n"
                      "[images.rules.webp]\n"
                      "quality = 70\n"
                      "[[images.rules]]\n"
                      "match = \"photos/best/**\"\n"
                      "avif = { quality = 90, speed = 3 }\n",
                      "cachet.toml");
    REQUIRE(p.images.rules.size() == 4);
    CHECK(image_settings_for(p, "icons/a.png").widths.empty());
    CHECK(image_settings_for(p, "img/icons/a.png").widths == p.images.widths); // icons/** is anchored
    CHECK(image_settings_for(p, "img/thumbs/a.jpg").formats == std::vector<ImageFormat>{ImageFormat::webp});
    CHECK(image_settings_for(p, "x/anim.gif").formats == std::vector<ImageFormat>{ImageFormat::webp});
    const ImageSettings photo = image_settings_for(p, "photos/a.jpg");
    CHECK(photo.avif.quality == 62);
    CHECK(photo.webp.quality == 70);
    CHECK(photo.avif.speed == 6);
    const ImageSettings best = image_settings_for(p, "photos/best/a.jpg");
    CHECK(best.avif.quality == 90);
    CHECK(best.avif.speed == 3);
    CHECK(best.webp.quality == 70);
    const ImageSettings other = image_settings_for(p, "img/a.jpg");
    CHECK(other.avif.quality == 56); // no rule: the default
    CHECK(other.formats == p.images.formats);
}

TEST_CASE("images.rules: errors name file:line", "[config]")
{
    CHECK(config_error("[[images.rules]]\nwidths = []\n") ==
          "cachet.toml:1: images.rules needs match = \"glob\" or a list of globs");
    CHECK(config_error("[[images.rules]]\nmatch = \"a/**\"\n\navif.qualty = 3\n") ==
          "cachet.toml:4: images.avif.qualty is not a known setting; did you mean images.avif.quality?");
    CHECK(config_error("[[images.rules]]\nmatch = \"a/**\"\nmax_pixels = 3\n") ==
          "cachet.toml:3: images.rules.max_pixels cannot be set per rule");
    CHECK(config_error("[[images.rules]]\nmatch = \"a/**\"\nwebp.quality = 300\n") ==
          "cachet.toml:3: images.webp.quality must be an integer from 0 to 100 or \"auto\"");
    CHECK(config_error("[images]\nrules = 3\n") ==
          "cachet.toml:2: images.rules must be an array of tables ([[images.rules]])");
}

TEST_CASE("quality = \"auto\" and its settings parse", "[config]")
{
    Preset p = load_preset("default");
    CHECK(p.images.avif.quality_mode == QualityMode::fixed);
    apply_config_text(p, "[images.avif]\nquality = \"auto\"\n[images.auto]\ndistance = 2\nreference_width = 320\n",
                      "x");
    CHECK(p.images.avif.quality_mode == QualityMode::automatic);
    CHECK(p.images.webp.quality_mode == QualityMode::fixed);
    CHECK(p.images.auto_distance == 2.0);
    CHECK(p.images.auto_reference_width == 320);
    apply_config_text(p, "[images.avif]\nquality = 40\n", "y");
    CHECK(p.images.avif.quality_mode == QualityMode::fixed);
    CHECK(config_error("[images.auto]\ndistance = 0\n") ==
          "cachet.toml:2: images.auto.distance must be a number from 0.1 to 20 (a Butteraugli 3-norm distance)");
}

TEST_CASE("images.avif.aom_options and alpha_quality parse, and cachet's own settings are refused", "[config]")
{
    Preset p = load_preset("default");
    CHECK(p.images.avif.aom_options ==
          std::map<std::string, std::string>{{"tune", "ssimulacra2"}, {"enable-cdef", "1"}, {"deltaq-strength", "38"}});
    CHECK(p.images.avif.alpha_quality == 55);
    apply_config_text(
        p, "[images.avif]\nalpha_quality = 100\naom_options = { tune = \"iq\", sharpness = 2, enable-qm = true }\n",
        "x");
    CHECK(p.images.avif.alpha_quality == 100);
    CHECK(p.images.avif.aom_options ==
          std::map<std::string, std::string>{{"enable-qm", "1"}, {"sharpness", "2"}, {"tune", "iq"}});
    apply_config_text(p, "[images.avif]\naom_options = {}\n", "y");
    CHECK(p.images.avif.aom_options.empty());
    CHECK(config_error("[images.avif]\naom_options = { row-mt = 1 }\n") ==
          "cachet.toml:2: images.avif.aom_options.row-mt is set by cachet (one thread per encode keeps outputs "
          "independent of -j)");
    CHECK(config_error("[images.avif]\naom_options = { tune = 1.5 }\n") ==
          "cachet.toml:2: images.avif.aom_options.tune must be a string, an integer or a boolean");
    CHECK(
        config_error("[images.avif]\naom_options = \"tune=iq\"\n") ==
        "cachet.toml:2: images.avif.aom_options must be a table of encoder options (aom_options = { tune = \"iq\" })");
    CHECK(config_error("[images.avif]\nalpha_quality = 101\n") ==
          "cachet.toml:2: images.avif.alpha_quality must be an integer from 0 to 100");
}

TEST_CASE("the rate control's steps and floor parse, change the settings key and refuse bad values", "[config][rate]")
{
    Preset p = load_preset("default");
    const std::string before = settings_key(p.images);
    apply_config_text(p,
                      "[images.avif]\nquality_step = 2.5\nmax_distance = 2.2\n[images.webp]\nquality_step = 1\n"
                      "[images.jpeg]\ndistance_step = 0.15\n",
                      "x");
    CHECK(p.images.avif.quality_step == 2.5);
    CHECK(p.images.avif.max_distance == 2.2);
    CHECK(p.images.webp.quality_step == 1);
    CHECK(p.images.jpeg.distance_step == 0.15);
    const std::string after = settings_key(p.images);
    CHECK(after != before);
    p.images.jpeg.distance_step = 0.25;
    CHECK(settings_key(p.images) != after);
    CHECK(load_preset("default").images.webp.small_quality == 78);
    const std::string small_before = settings_key(p.images);
    apply_config_text(p, "[images.webp]\nsmall_quality = 70\n", "x");
    CHECK(p.images.webp.small_quality == 70);
    CHECK(settings_key(p.images) != small_before);
    const std::string raised_before = settings_key(p.images);
    CHECK(p.images.avif.raised_step_factor == 0.9);                         // the default preset's
    apply_config_text(p, "[images.avif]\nraised_step_factor = 0.9\n", "x"); // as it was: the same key
    CHECK(settings_key(p.images) == raised_before);
    apply_config_text(p, "[images.avif]\nraised_step_factor = 0.5\n", "x");
    CHECK(p.images.avif.raised_step_factor == 0.5);
    CHECK(settings_key(p.images) != raised_before);
    CHECK(config_error("[images.avif]\nraised_step_factor = 1.5\n") ==
          "cachet.toml:2: images.avif.raised_step_factor must be a number from 0 to 1 (a fraction of quality_step, "
          "for an image max_distance raised)");
    CHECK(config_error("[images.webp]\nsmall_quality = 101\n") ==
          "cachet.toml:2: images.webp.small_quality must be an integer from 0 to 100");
    const std::string avif_small_before = settings_key(p.images);
    CHECK(load_preset("default").images.avif.small_quality == 0); // off (docs/rate-control.md)
    apply_config_text(p, "[images.avif]\nsmall_quality = 40\n", "x");
    CHECK(p.images.avif.small_quality == 40);
    CHECK(settings_key(p.images) != avif_small_before);
    CHECK(config_error("[images.avif]\nsmall_quality = -1\n") ==
          "cachet.toml:2: images.avif.small_quality must be an integer from 0 to 100");
    CHECK(config_error("[images.avif]\nquality_step = -1\n") ==
          "cachet.toml:2: images.avif.quality_step must be a number from 0 to 20 (quality per doubling of an "
          "output's pixels)");
    CHECK(config_error("[images.jpeg]\ndistance_step = 9\n") ==
          "cachet.toml:2: images.jpeg.distance_step must be a number from 0 to 5 (distance per doubling of an "
          "output's pixels)");
}

TEST_CASE("references and html settings: defaults, a base path made to end in '/', and bad values refused", "[config]")
{
    const Preset defaults = load_preset("default");
    CHECK(defaults.references.rewrite);
    CHECK(defaults.references.base == "/");
    CHECK_FALSE(defaults.html.picture);
    CHECK_FALSE(defaults.html.integrity);
    const Preset set = test::preset_with("[references]\nrewrite = false\nbase = \"/static\"\n[html]\npicture = true\n"
                                         "integrity = true\n");
    CHECK_FALSE(set.references.rewrite);
    CHECK(set.references.base == "/static/");
    CHECK(set.html.picture);
    CHECK(set.html.integrity);
    for (const char* bad : {"\"static/\"", "\"\"", "\"/a b/\"", "\"/a?x\"", "\"//cdn/\"", "1"})
        CHECK(config_error(std::string("[references]\nbase = ") + bad + "\n") ==
              "cachet.toml:2: references.base must be the URL path SRC is served at, such as \"/\" or \"/static/\"");
    CHECK(config_error("[html]\npicture = \"yes\"\n") == "cachet.toml:2: html.picture must be true or false");
    // Every one of them is part of the text assets' cache keys.
    CHECK(settings_key(set.references, set.html) != settings_key(defaults.references, defaults.html));
}
