// The CLI's conventions, through the binary: help, -V, and "did you mean" for a mistyped
// command, preset or setting (issue 20).
#include "pipeline/model/suggest.hpp"
#include "tests/test_support.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <tuple>

using namespace cachet;

TEST_CASE("closest_to finds a typo within a third of the word, swaps included, and nothing far", "[cli]")
{
    const std::vector<std::string> commands{"build", "watch", "cache", "export", "picture", "clean", "presets"};
    CHECK(closest_to("buidl", commands) == "build"); // a swap is one edit
    CHECK(closest_to("bild", commands) == "build");
    CHECK(closest_to("wtach", commands) == "watch");
    CHECK(closest_to("preset", commands) == "presets");
    CHECK(closest_to("xyz", commands).empty());
    CHECK(closest_to("deploy", commands).empty());
    CHECK(closest_to("build", commands).empty()); // the word itself is no suggestion
    CHECK(closest_to(std::string(1000, 'a'), commands).empty());
    CHECK(did_you_mean("imagez", {"images", "text"}) == "; did you mean images?");
    CHECK(did_you_mean("zzz", {"images"}).empty());
}

TEST_CASE("cachet help, help COMMAND and -V work, and Usage names cachet, not a path", "[cli][e2e]")
{
    // No argument at all: what cachet is and how to start, and a usage exit code.
    const auto bare = test::run_cachet({});
    CHECK(bare.exit_code == 2);
    CHECK_THAT(bare.err,
               Catch::Contains("Subcommands:") && Catch::Contains("Examples:\n  cachet build public -o dist"));

    auto p = test::run_cachet({"help"});
    CHECK(p.exit_code == 0);
    CHECK_THAT(p.out, Catch::Contains("Usage: cachet [OPTIONS] SUBCOMMAND") && Catch::Contains("build"));
    p = test::run_cachet({"help", "build"});
    CHECK(p.exit_code == 0);
    CHECK_THAT(p.out, Catch::Contains("Usage: cachet build [OPTIONS] SRC"));
    p = test::run_cachet({"build", "--help"});
    CHECK(p.exit_code == 0);
    CHECK_THAT(p.out, Catch::Contains("Usage: cachet build"));
    CHECK(p.out.find("Usage: /") == std::string::npos);
    p = test::run_cachet({"-V"});
    CHECK(p.exit_code == 0);
    CHECK_THAT(p.out, Catch::StartsWith("cachet 0."));
}

TEST_CASE("a mistyped command, preset or setting gets a did-you-mean and exit 2", "[cli][e2e]")
{
    auto p = test::run_cachet({"buidl", "public", "-o", "dist"});
    CHECK(p.exit_code == 2);
    CHECK_THAT(p.err, Catch::Contains("no such command: buidl; did you mean build?"));
    p = test::run_cachet({"deploy"});
    CHECK(p.exit_code == 2);
    CHECK_THAT(p.err, Catch::Contains("no such command: deploy") && !Catch::Contains("did you mean"));
    p = test::run_cachet({"help", "wtch"});
    CHECK(p.exit_code == 2);
    CHECK_THAT(p.err, Catch::Contains("no such command: wtch; did you mean watch?"));

    test::TempDir dir;
    test::spit(dir / "src/a.css", "a{}\n");
    p = test::run_cachet({"build", (dir / "src").string(), "-o", (dir / "out").string(), "--preset", "fsat"});
    CHECK(p.exit_code == 2);
    CHECK_THAT(p.err, Catch::Contains("unknown preset \"fsat\"") && Catch::Contains("did you mean fast?"));
    test::spit(dir / "c.toml", "[images]\nwidth = [320]\n\n[imagez]\nx = 1\n");
    p = test::run_cachet(
        {"build", (dir / "src").string(), "-o", (dir / "out").string(), "--config", (dir / "c.toml").string()});
    CHECK(p.exit_code == 2);
    CHECK_THAT(p.err, Catch::Contains("c.toml:2: images.width is not a known setting; did you mean images.widths?"));
}

TEST_CASE("export and picture take the output folder as --manifest, and say what to do when there is none",
          "[cli][e2e]")
{
    test::TempDir dir;
    test::spit(dir / "public/css/site.css", "body { color: red }\n");
    REQUIRE(test::run_cachet({"build", (dir / "public").string(), "-o", (dir / "dist").string(), "-q"}).exit_code == 0);
    const auto by_folder = test::run_cachet({"export", "headers", "--manifest", "dist"}, dir.path());
    CHECK(by_folder.exit_code == 0);
    const auto by_file = test::run_cachet({"export", "headers", "--manifest", "dist/cachet-manifest.json"}, dir.path());
    CHECK(by_folder.out == by_file.out);
    CHECK_THAT(by_folder.out, Catch::Contains("/css/site."));

    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"export", "nginx"}, std::vector<std::string>{"picture", "a.png"},
          std::vector<std::string>{"export", "s3", "--manifest", "public"}}) {
        const auto p = test::run_cachet(args, dir.path());
        INFO(args[0] << " " << args[1]);
        CHECK(p.exit_code == 2);
        CHECK_THAT(p.err, Catch::Contains("no manifest here: ") &&
                              Catch::Contains("run cachet build SRC -o OUT first, or pass --manifest OUT"));
        CHECK(p.out.empty());
    }
}

TEST_CASE("cachet manifest prints the compact manifest, or one source's entry, indented with --pretty", "[cli][e2e]")
{
    test::TempDir dir;
    test::spit(dir / "public/css/site.css", "body { color: red }\n");
    test::spit(dir / "public/index.html", "<link rel=stylesheet href=/css/site.css>\n");
    REQUIRE(test::run_cachet({"build", (dir / "public").string(), "-o", (dir / "dist").string(), "-q"}).exit_code == 0);
    const auto whole = test::run_cachet({"manifest", (dir / "dist").string()});
    CHECK(whole.exit_code == 0);
    const auto doc = nlohmann::json::parse(whole.out);
    CHECK(doc == test::read_json(dir / "dist/cachet-manifest.json"));
    CHECK(std::count(whole.out.begin(), whole.out.end(), '\n') == 1);
    const auto entry = test::run_cachet({"manifest", (dir / "dist").string(), "--source", "css/site.css", "--pretty"});
    CHECK(entry.exit_code == 0);
    CHECK(nlohmann::json::parse(entry.out) == doc["assets"]["css/site.css"]);
    CHECK_THAT(entry.out, Catch::Contains("\n  \"kind\": \"text\""));
    CHECK_THAT(entry.out, Catch::Contains("\"url\": \"/css/site."));
    const auto none = test::run_cachet({"manifest", (dir / "dist").string(), "--source", "nope.css"});
    CHECK(none.exit_code == 2);
    CHECK_THAT(none.err, Catch::Contains("has no source \"nope.css\""));
    test::spit(dir / "bad.json", "{\"version\": 9, \"assets\": {}}");
    const auto bad = test::run_cachet({"manifest", (dir / "bad.json").string()});
    CHECK(bad.exit_code == 2);
    CHECK_THAT(bad.err, Catch::Contains("manifest version 9 is not supported"));
}

TEST_CASE("the --json summary lists every warning, a reused source's too, and an argument error is JSON as well",
          "[cli][e2e]")
{
    test::TempDir dir;
    test::spit(dir / "src/index.html", "<img src=\"missing.png\"><link rel=stylesheet href=\"a.css\">\n");
    test::spit(dir / "src/a.css", "a { background: url(nope.png) }\n");
    const std::vector<std::string> build{"build",       (dir / "src").string(),   "-o",    (dir / "out").string(),
                                         "--cache-dir", (dir / "cache").string(), "--json"};
    for (const char* run : {"first", "reused"}) {
        INFO(run);
        const auto p = test::run_cachet(build);
        REQUIRE(p.exit_code == 0);
        const auto doc = nlohmann::json::parse(p.out);
        REQUIRE(doc["warnings"].size() == 2);
        CHECK(doc["warnings"][0]["path"] == "a.css");
        CHECK_THAT(doc["warnings"][0]["message"].get<std::string>(), Catch::Contains("nope.png"));
        CHECK(doc["warnings"][1]["path"] == "index.html");
        CHECK_THAT(p.err, Catch::Contains("0 failed, 2 warnings,"));
    }
    CHECK(nlohmann::json::parse(test::run_cachet(build).out)["cached"] == 2);

    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"build", (dir / "src").string(), "--json"},
          std::vector<std::string>{"build", (dir / "src").string(), "-o", (dir / "o").string(), "-j", "0", "--json"},
          std::vector<std::string>{"biuld", "--json"}}) {
        const auto p = test::run_cachet(args);
        INFO(p.out << p.err);
        CHECK(p.exit_code == 2);
        const auto doc = nlohmann::json::parse(p.out);
        CHECK(doc["status"] == "error");
        CHECK(doc["exit_code"] == 2);
        CHECK_FALSE(doc["error"].get<std::string>().empty());
    }
}

TEST_CASE("cachet.toml may name its preset, build says its preset and config first, presets NAME prints TOML",
          "[cli][e2e]")
{
    test::TempDir dir;
    test::spit(dir / "public/a.css", "a { color: red }\n");
    const std::vector<std::string> build{"build", "public", "-o", "dist", "--json"};
    auto preset_of = [&](const std::vector<std::string>& extra) {
        std::vector<std::string> args = build;
        args.insert(args.end(), extra.begin(), extra.end());
        const auto p = test::run_cachet(args, dir.path());
        INFO(p.err);
        REQUIRE(p.exit_code == 0);
        REQUIRE(std::filesystem::exists(dir / "dist/cachet-manifest.json"));
        return std::make_pair(test::read_json(dir / "dist/cachet-manifest.json")["preset"].get<std::string>(), p.err);
    };
    auto [name, err] = preset_of({});
    CHECK(name == "default");
    CHECK_THAT(err, Catch::StartsWith("cachet: building public into dist, preset default\n"));
    test::spit(dir / "cachet.toml", "preset = \"fast\"\n\n[text]\nencodings = [\"gzip\"]\n");
    std::tie(name, err) = preset_of({});
    CHECK(name == "fast");
    CHECK_THAT(err, Catch::StartsWith("cachet: building public into dist, preset fast, config cachet.toml\n"));
    std::tie(name, err) = preset_of({"--preset", "high-quality"}); // the command line wins
    CHECK(name == "high-quality");

    test::spit(dir / "cachet.toml", "\npreset = \"fsat\"\n");
    auto p = test::run_cachet(build, dir.path());
    CHECK(p.exit_code == 2);
    CHECK_THAT(p.err,
               Catch::Contains("cachet.toml:2: unknown preset \"fsat\"") && Catch::Contains("did you mean fast?"));
    test::spit(dir / "cachet.toml", "preset = 3\n");
    p = test::run_cachet(build, dir.path());
    CHECK(p.exit_code == 2);
    CHECK_THAT(p.err, Catch::Contains("cachet.toml:1: preset must be a preset's name"));

    p = test::run_cachet({"presets", "fast"});
    CHECK(p.exit_code == 0);
    CHECK_THAT(p.out, Catch::Contains("[images.avif]") && Catch::Contains("description = \"Fast"));
    p = test::run_cachet({"presets", "hihg-quality"});
    CHECK(p.exit_code == 2);
    CHECK_THAT(p.err, Catch::Contains("did you mean high-quality?"));
}

TEST_CASE("cachet config prints the settings a build would use, each with its origin, as TOML that reads back",
          "[cli][e2e][config]")
{
    test::TempDir dir;
    test::spit(dir / "cachet.toml", "preset = \"fast\"\n\n[images]\nwidths = [320]\n\n[cache]\n"
                                    "remote = [\"https://user:secret@cache.example/cachet\"]\n\n"
                                    "[[budgets]]\nmatch = \"*.js\"\nmax = \"100K\"\n");
    const auto p = test::run_cachet({"config", "--memory", "2G"}, dir.path());
    INFO(p.err << p.out);
    REQUIRE(p.exit_code == 0);
    CHECK_THAT(p.out, Catch::Contains("preset fast, then cachet.toml"));
    CHECK_THAT(p.out, Catch::Matches(R"([\s\S]*\nwidths = \[320\] +# cachet\.toml:4\n[\s\S]*)"));
    CHECK_THAT(p.out, Catch::Matches(R"([\s\S]*\nspeed = 10 +# presets/fast\.toml:[0-9]+\n[\s\S]*)"));
    CHECK_THAT(p.out,
               Catch::Matches(R"([\s\S]*\nformats = \["avif", "webp"\] +# presets/default\.toml:[0-9]+\n[\s\S]*)"));
    CHECK_THAT(p.out, Catch::Matches(R"([\s\S]*\nmemory = "2G" +# --memory\n[\s\S]*)"));
    CHECK_THAT(p.out, Catch::Contains("budgets = [{ match = \"*.js\", max = \"100K\" }]"));
    CHECK_THAT(p.out, Catch::Contains("https://***@cache.example/cachet"));
    CHECK(p.out.find("secret") == std::string::npos);

    // What it prints is a configuration: read back over the default preset, it gives the same
    // values (the remote server aside, whose credentials it hides).
    const auto json = test::run_cachet({"config", "--json", "--memory", "2G"}, dir.path());
    REQUIRE(json.exit_code == 0);
    const auto settings = nlohmann::json::parse(json.out)["settings"];
    test::spit(dir / "printed.toml", p.out);
    const auto again =
        test::run_cachet({"config", "--json", "--preset", "default", "--config", "printed.toml"}, dir.path());
    INFO(again.err);
    REQUIRE(again.exit_code == 0);
    const auto reread = nlohmann::json::parse(again.out)["settings"];
    CHECK(settings.size() >= 40);
    for (const auto& [key, entry] : settings.items()) {
        INFO(key);
        CHECK(reread[key]["value"] == entry["value"]);
        CHECK(reread[key]["from"].get<std::string>().rfind("printed.toml:", 0) == 0);
    }

    // A bad configuration is the same error as for build; presets have --json too.
    test::spit(dir / "bad.toml", "[images]\nwidth = [1]\n");
    const auto bad = test::run_cachet({"config", "--config", "bad.toml", "--json"}, dir.path());
    CHECK(bad.exit_code == 2);
    CHECK(nlohmann::json::parse(bad.out)["error"] ==
          "bad.toml:2: images.width is not a known setting; did you mean images.widths?");
    const auto presets = test::run_cachet({"presets", "--json"});
    REQUIRE(presets.exit_code == 0);
    CHECK(nlohmann::json::parse(presets.out).size() == 3);
    CHECK(nlohmann::json::parse(test::run_cachet({"presets", "fast", "--json"}).out)["toml"].get<std::string>().find(
              "speed = 10") != std::string::npos);
}

TEST_CASE("picture, export, clean, cache and presets answer --json, and --manifest is a path for every command",
          "[cli][e2e]")
{
    test::TempDir dir;
    const auto build = test::run_cachet({"build", (test::fixtures() / "site").string(), "-o", (dir / "out").string(),
                                         "--cache-dir", (dir / "cache").string()});
    REQUIRE(build.exit_code == 0);
    const auto picture = test::run_cachet({"picture", "img/hero.jpg", "--manifest", "out", "--json"}, dir.path());
    REQUIRE(picture.exit_code == 0);
    CHECK_THAT(nlohmann::json::parse(picture.out)["html"].get<std::string>(), Catch::StartsWith("<picture>"));
    const auto missing = test::run_cachet({"picture", "img/nope.jpg", "--manifest", "out", "--json"}, dir.path());
    CHECK(missing.exit_code == 2);
    CHECK(nlohmann::json::parse(missing.out)["status"] == "error");

    // clean: --manifest is a path, as for export and picture; a bare name in OUT (what it was
    // once) is refused with the path to use.
    const auto clean =
        test::run_cachet({"clean", "out", "--manifest", "out/cachet-manifest.json", "--json"}, dir.path());
    INFO(clean.err);
    REQUIRE(clean.exit_code == 0);
    CHECK(nlohmann::json::parse(clean.out)["removed"] == 0);
    const auto folder = test::run_cachet({"clean", "out", "--manifest", "out"}, dir.path());
    CHECK(folder.exit_code == 0);
    const auto old = test::run_cachet({"clean", "out", "--manifest", "cachet-manifest.json"}, dir.path());
    CHECK(old.exit_code == 2);
    CHECK_THAT(old.err, Catch::Contains("did you mean out/cachet-manifest.json?"));
    test::spit(dir / "elsewhere.json", "{}");
    const auto outside = test::run_cachet({"clean", "out", "--manifest", "elsewhere.json"}, dir.path());
    CHECK(outside.exit_code == 2);
    CHECK_THAT(outside.err, Catch::Contains("is not in out"));

    const auto gc =
        test::run_cachet({"cache", "gc", "--max-size", "1G", "--cache-dir", (dir / "cache").string(), "--json"});
    REQUIRE(gc.exit_code == 0);
    CHECK(nlohmann::json::parse(gc.out)["entries_removed"] == 0);
    const auto no_cache = test::run_cachet({"cache", "stats", "--cache-dir", (dir / "nothing").string(), "--json"});
    CHECK(nlohmann::json::parse(no_cache.out).contains("status"));

    // Every --help has examples and plain placeholders, none of CLI11's type names.
    for (const std::vector<std::string>& command : {std::vector<std::string>{"build"},
                                                    {"watch"},
                                                    {"export"},
                                                    {"picture"},
                                                    {"clean"},
                                                    {"manifest"},
                                                    {"config"},
                                                    {"presets"},
                                                    {"cache"},
                                                    {"cache", "stats"},
                                                    {"cache", "gc"},
                                                    {"report"},
                                                    {}}) {
        std::vector<std::string> args = command;
        args.emplace_back("--help");
        const auto help = test::run_cachet(args);
        INFO(help.out);
        CHECK(help.exit_code == 0);
        // (its own examples, not the top level's, which a subcommand inherits unless it has some)
        std::string words = command.empty() ? "build" : command[0];
        for (std::size_t i = 1; i < command.size(); ++i)
            words += " " + command[i];
        CHECK_THAT(help.out, Catch::Contains("Examples:\n  cachet " + words));
        for (const char* noise : {"TEXT", "UINT", "INT:", "REQUIRED", "{false}", "<VALUE>", "Usage: /"})
            CHECK(help.out.find(noise) == std::string::npos);
    }
}
