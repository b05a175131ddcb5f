#include "pipeline/export/export.hpp"
#include "pipeline/model/error.hpp"
#include "tests/test_support.hpp"

#include <catch2/catch.hpp>

#include <fnmatch.h>
#include <map>
#include <random>
#include <regex>
#include <set>

using namespace cachet;
namespace fs = std::filesystem;

namespace {

using Urls = std::vector<std::pair<std::string, std::size_t>>;

// What a _headers splat pattern matches: one '*' standing for any characters, '/' included.
bool splat_match(const std::string& pattern, const std::string& url)
{
    const auto star = pattern.find('*');
    if (star == std::string::npos)
        return pattern == url;
    const std::string prefix = pattern.substr(0, star), suffix = pattern.substr(star + 1);
    return url.size() >= prefix.size() + suffix.size() && url.compare(0, prefix.size(), prefix) == 0 &&
           url.compare(url.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Every URL matched by exactly one pattern, of its own group.
void check_cover(const Urls& urls, const Urls& patterns)
{
    for (const auto& [url, group] : urls) {
        std::vector<std::size_t> groups;
        for (const auto& [pattern, g] : patterns)
            if (splat_match(pattern, url))
                groups.push_back(g);
        INFO(url);
        REQUIRE(groups.size() == 1);
        CHECK(groups[0] == group);
    }
}

OutputFile output(std::string path, std::string type, std::string cache_control, bool fingerprinted)
{
    OutputFile o;
    o.path = std::move(path);
    o.content_type = std::move(type);
    o.cache_control = std::move(cache_control);
    o.fingerprinted = fingerprinted;
    o.integrity = "sha384-" + std::string(64, 'A');
    o.etag = "\"" + std::string(32, 'a') + "\"";
    return o;
}

std::vector<AssetRecord> site()
{
    const std::string immutable = "public, max-age=31536000, immutable";
    AssetRecord page{"index.html", AssetKind::text, 10, "sha256-0", {}, {}};
    page.outputs.push_back(output("index.html", "text/html; charset=utf-8", "no-cache", false));
    page.outputs[0].encodings.push_back({Encoding::br, "index.html.br", 5, "\"" + std::string(32, 'b') + "\""});
    page.outputs[0].vary = "Accept-Encoding";
    AssetRecord script{"js/app.js", AssetKind::text, 10, "sha256-1", {}, {}};
    script.outputs.push_back(output("js/app.0123456789.js", "text/javascript; charset=utf-8", immutable, true));
    AssetRecord worker{"sw.js", AssetKind::text, 10, "sha256-2", {}, {}};
    worker.outputs.push_back(output("sw.js", "text/javascript; charset=utf-8", "no-cache", false));
    AssetRecord font{"fonts/a b.woff2", AssetKind::passthrough, 10, "sha256-3", {}, {}};
    font.outputs.push_back(output("fonts/a b.0123456789.woff2", "font/woff2", immutable, true));
    font.outputs[0].headers = {{"Access-Control-Allow-Origin", "*"}, {"Content-Disposition", "inline"}};
    AssetRecord robots{"robots.txt", AssetKind::text, 10, "sha256-4", {}, {}};
    robots.outputs.push_back(output("robots.txt", "text/plain; charset=utf-8", "no-cache", false));
    return {page, script, worker, font, robots};
}

} // namespace

TEST_CASE("disjoint_patterns covers every URL exactly once, each pattern within one group", "[export]")
{
    SECTION("one group: one pattern")
    {
        const Urls urls{{"/a.js", 0}, {"/b/c.css", 0}};
        const auto patterns = disjoint_patterns(urls);
        CHECK(patterns == Urls{{"/*", 0}});
    }
    SECTION("extensions and folders")
    {
        const Urls urls{{"/index.html", 1}, {"/about.html", 1}, {"/app.1.js", 0},       {"/a/x.1.js", 0},
                        {"/a/y.1.css", 0},  {"/a/b/", 1},       {"/a/b/index.html", 1}, {"/sw.js", 1},
                        {"/.js", 0},        {"/a/.hidden", 2}};
        const auto patterns = disjoint_patterns(urls);
        check_cover(urls, patterns);
        CHECK(patterns.size() <= 8);
    }
    SECTION("random trees")
    {
        std::mt19937 random(7);
        const std::vector<std::string> folders{"/", "/a/", "/a/b/", "/c/", "/a/c/"};
        const std::vector<std::string> names{"x", "y.js", "z.css", "w.js", "index.html", "", ".js", "q.min.js"};
        for (int round = 0; round < 200; ++round) {
            std::map<std::string, std::size_t> picked;
            const int n = 1 + static_cast<int>(random() % 30);
            for (int i = 0; i < n; ++i)
                picked.emplace(folders[random() % folders.size()] + names[random() % names.size()] +
                                   (random() % 3 == 0 ? std::to_string(i) : ""),
                               random() % 3);
            const Urls urls(picked.begin(), picked.end());
            check_cover(urls, disjoint_patterns(urls));
        }
    }
}

TEST_CASE("export headers: one rule per pattern with the manifest's headers, pretty URLs included", "[export]")
{
    const std::string text = export_manifest(ExportFormat::headers, site(), ExportOptions{});
    CHECK_THAT(text, Catch::Contains("\n/\n  Cache-Control: no-cache\n")); // index.html's pretty URL
    CHECK_THAT(text, Catch::Contains("  Access-Control-Allow-Origin: *\n"));
    CHECK_THAT(text, Catch::Contains("  Cache-Control: public, max-age=31536000, immutable\n"));
    CHECK(text.find("  Vary:") == std::string::npos); // the platform compresses and varies itself
    CHECK(text == export_manifest(ExportFormat::headers, site(), ExportOptions{}));
}

TEST_CASE("export headers fails clearly over Cloudflare's 100 rules", "[export]")
{
    std::vector<AssetRecord> records;
    for (int i = 0; i < 150; ++i) {
        AssetRecord r{"f" + std::to_string(i) + ".txt", AssetKind::passthrough, 1, "sha256-0", {}, {}};
        // Alternating Cache-Control in one folder and one extension: no pattern can group them.
        r.outputs.push_back(
            output(r.source, "text/plain; charset=utf-8", i % 2 ? "no-cache" : "public, max-age=60", false));
        records.push_back(r);
    }
    CHECK_THROWS_WITH(export_manifest(ExportFormat::headers, records, ExportOptions{}),
                      Catch::Contains("need 151 rules") && Catch::Contains("limit of 100"));
}

namespace {

// The commands of an S3 plan: each `aws s3 cp`'s include filters (or its one key) and the
// options S3 stores.
struct S3Command {
    std::vector<std::pair<bool, std::string>> filters; // (include, pattern); per object: the key itself
    std::string stored;                                // " --content-type ... --cache-control ..."

    // As the aws CLI decides: after --exclude '*', the last filter that matches (fnmatch).
    bool takes(const std::string& key) const
    {
        bool in = false;
        for (const auto& [include, pattern] : filters)
            if (fnmatch(pattern.c_str(), key.c_str(), FNM_NOESCAPE) == 0)
                in = include;
        return in;
    }
};

std::vector<S3Command> s3_commands(const std::string& plan)
{
    std::vector<S3Command> out;
    std::string joined; // continuation lines joined
    for (std::size_t at = 0; at < plan.size();) {
        auto end = plan.find('\n', at);
        if (end == std::string::npos)
            end = plan.size();
        std::string line = plan.substr(at, end - at);
        at = end + 1;
        if (!line.empty() && line.back() == '\\') {
            joined += line.substr(0, line.size() - 1);
            continue;
        }
        line = joined + line;
        joined.clear();
        if (line.rfind("$aws s3 cp", 0) != 0)
            continue;
        S3Command c;
        const std::regex quoted(R"(--(include|exclude) '([^']*)')");
        for (std::sregex_iterator it(line.begin(), line.end(), quoted), last; it != last; ++it)
            if ((*it)[2] != "*" || (*it)[1] == "include") // (the leading --exclude '*' is the default)
                c.filters.emplace_back((*it)[1] == "include", (*it)[2]);
        if (c.filters.empty()) { // per object: "$out"/'key'
            const auto key = line.find("\"$out\"/'") + 8;
            c.filters.emplace_back(true, line.substr(key, line.find('\'', key) - key));
        }
        const auto stored = line.find(" --content-type ");
        c.stored = line.substr(stored, line.rfind(" \"$@\"") - stored);
        while (c.stored.find("  ") != std::string::npos)
            c.stored.erase(c.stored.find("  "), 1);
        out.push_back(std::move(c));
    }
    return out;
}

} // namespace

TEST_CASE("export s3: fingerprinted objects first, then other files, pages, service workers, the manifest, grouped "
          "or per object, the same objects with the same headers",
          "[export]")
{
    ExportOptions per_object;
    per_object.s3_per_object = true;
    const std::string text = export_manifest(ExportFormat::s3, site(), per_object);
    auto at = [&](const std::string& key) {
        const auto p = text.find("\"$out\"/'" + key + "'");
        INFO(key);
        REQUIRE(p != std::string::npos);
        return p;
    };
    CHECK(at("js/app.0123456789.js") < at("robots.txt"));
    CHECK(at("fonts/a b.0123456789.woff2") < at("robots.txt"));
    CHECK(at("robots.txt") < at("index.html.br"));
    CHECK(at("index.html.br") < at("index.html"));
    CHECK(at("index.html") < at("sw.js"));
    CHECK(at("sw.js") < at("cachet-manifest.json"));
    CHECK_THAT(text, Catch::Contains("'index.html.br' --content-type 'text/html; charset=utf-8' --content-encoding br "
                                     "--cache-control 'no-cache'"));
    CHECK_THAT(text, Catch::Contains("--content-disposition 'inline'"));
    CHECK_THAT(text,
               Catch::Contains("# S3 cannot store these headers; set them at the CDN: Access-Control-Allow-Origin"));

    // The grouped plan uploads each of those objects exactly once (by the aws CLI's fnmatch
    // filters), with the same stored headers, in an order that keeps the one above; on a
    // site with many files of a kind, in far fewer commands. (Names with fnmatch's special
    // characters match only themselves.)
    auto big = site();
    for (int i = 0; i < 60; ++i) {
        AssetRecord module{"js/m" + std::to_string(i) + ".js", AssetKind::text, 10, "sha256-5", {}, {}};
        module.outputs.push_back(output("js/m" + std::to_string(i) + ".0123456789.js", "text/javascript; charset=utf-8",
                                        "public, max-age=31536000, immutable", true));
        module.outputs[0].encodings.push_back({Encoding::br, module.outputs[0].path + ".br", 5, "\"e\""});
        // ... and its copy at its own URL (output.originals), beside it in the same folder.
        module.outputs.push_back(
            output("js/m" + std::to_string(i) + ".js", "text/javascript; charset=utf-8", "no-cache", false));
        module.outputs[1].original = true;
        module.outputs[1].encodings.push_back({Encoding::br, module.outputs[1].path + ".br", 5, "\"f\""});
        big.push_back(module);
    }
    AssetRecord odd{"js/we[ir]d*?.js", AssetKind::text, 10, "sha256-6", {}, {}};
    odd.outputs.push_back(output("js/we[ir]d*?.js", "text/javascript; charset=utf-8", "no-cache", false));
    big.push_back(odd);
    for (const auto& records : {site(), big}) {
        const auto objects = s3_commands(export_manifest(ExportFormat::s3, records, per_object));
        const auto groups = s3_commands(export_manifest(ExportFormat::s3, records, ExportOptions{}));
        INFO(objects.size() << " objects, " << groups.size() << " commands");
        CHECK(groups.size() <= objects.size());
        if (records.size() > 60) { // (fingerprinted and original copies side by side: a few filters each)
            std::size_t filters = 0;
            for (const auto& g : groups)
                filters += g.filters.size();
            CHECK(groups.size() * 10 < objects.size());
            CHECK(filters < 20);
        }
        std::map<std::string, std::size_t> command_of;
        for (const auto& object : objects) {
            const std::string& key = object.filters[0].second;
            INFO(key);
            std::vector<std::size_t> matched;
            for (std::size_t g = 0; g < groups.size(); ++g)
                if (groups[g].takes(key))
                    matched.push_back(g);
            REQUIRE(matched.size() == 1);
            CHECK(groups[matched[0]].stored == object.stored);
            command_of[key] = matched[0];
        }
        // The order: a variant before its file; fingerprinted, other files, pages, workers, manifest.
        for (const auto& [key, command] : command_of)
            if (command_of.count(key + ".br"))
                CHECK(command_of[key + ".br"] <= command);
        for (const auto& [key, command] : command_of)
            if (key.find(".0123456789.") != std::string::npos)
                CHECK(command < command_of["robots.txt"]);
        CHECK(command_of["robots.txt"] < command_of["index.html.br"]);
        CHECK(command_of["index.html"] < command_of["sw.js"]);
        CHECK(command_of["cachet-manifest.json"] == groups.size() - 1);
    }
}

TEST_CASE("export sw-precache: fingerprinted URLs without a revision, others revisioned by their bytes", "[export]")
{
    ExportOptions options;
    options.base = "/static";
    const auto list = nlohmann::json::parse(export_manifest(ExportFormat::sw_precache, site(), options));
    REQUIRE(list.size() == 2); // index.html and app.js; not sw.js, not the font or robots.txt
    CHECK(list[0]["url"] == "/static/index.html");
    CHECK(list[0]["revision"] == std::string(32, 'a'));
    CHECK(list[1]["url"] == "/static/js/app.0123456789.js");
    CHECK(list[1]["revision"].is_null());
    CHECK(list[1]["integrity"] == "sha384-" + std::string(64, 'A'));
}

TEST_CASE("export nginx and caddy: every header of every group, quoted for each program", "[export]")
{
    const std::string nginx = export_manifest(ExportFormat::nginx, site(), ExportOptions{});
    CHECK_THAT(nginx, Catch::Contains("gzip_static on;\nbrotli_static on;"));
    CHECK_THAT(nginx, Catch::Contains("\"text/javascript; charset=utf-8\" js;"));
    CHECK_THAT(nginx, Catch::Contains("add_header Vary \"Accept-Encoding\" always;"));
    CHECK_THAT(nginx, Catch::Contains("add_header Access-Control-Allow-Origin \"*\" always;"));
    const std::string caddy = export_manifest(ExportFormat::caddy, site(), ExportOptions{});
    CHECK_THAT(caddy, Catch::Contains("precompressed zstd br gzip"));
    CHECK_THAT(caddy, Catch::Contains("Content-Type \"font/woff2\""));
    CHECK_THAT(caddy, Catch::Contains("    defer\n"));
}

TEST_CASE("export nginx and caddy negotiate by default: per fallback image, AVIF before WebP", "[export]")
{
    AssetRecord photo{"img/a.jpg", AssetKind::image, 10, "sha256-0", {}, {}};
    for (const auto& [path, format] :
         std::vector<std::pair<std::string, ImageFormat>>{{"img/a-100w.1.avif", ImageFormat::avif},
                                                          {"img/a-100w.2.webp", ImageFormat::webp},
                                                          {"img/a-100w.3.jpg", ImageFormat::jpeg},
                                                          {"img/a-200w.4.webp", ImageFormat::webp},
                                                          {"img/a-200w.5.jpg", ImageFormat::jpeg}}) {
        OutputFile o = output(path, "image/x", "public, max-age=31536000, immutable", true);
        o.format = format;
        o.width = path.find("100w") != std::string::npos ? 100 : 200;
        o.height = o.width / 2;
        photo.outputs.push_back(o);
    }
    ExportOptions options; // negotiate: on by default
    const std::string text = export_manifest(ExportFormat::nginx, {photo}, options);
    const auto at100 = text.find("location = \"/img/a-100w.3.jpg\"");
    REQUIRE(at100 != std::string::npos);
    CHECK(text.find("rewrite ^ \"/img/a-100w.1.avif\" break;", at100) <
          text.find("rewrite ^ \"/img/a-100w.2.webp\" break;", at100));
    const auto at200 = text.find("location = \"/img/a-200w.5.jpg\"");
    REQUIRE(at200 != std::string::npos);
    CHECK(text.find("avif", at200) == std::string::npos); // no AVIF shipped at 200w
    CHECK(text.find("add_header Vary \"Accept\" always;", at200) != std::string::npos);
    const std::string caddy = export_manifest(ExportFormat::caddy, {photo}, options);
    const auto avif = caddy.find("rewrite @cachet_negotiate0 \"/img/a-100w.1.avif\"");
    const auto webp = caddy.find("rewrite @cachet_negotiate1 \"/img/a-100w.2.webp\"");
    CHECK(avif < webp);
    CHECK(caddy.find("not header Accept \"*image/avif*\"") < webp); // WebP only where AVIF is not accepted
    options.negotiate = false;                                      // --no-negotiate
    CHECK(export_manifest(ExportFormat::nginx, {photo}, options).find("rewrite") == std::string::npos);
    CHECK(export_manifest(ExportFormat::caddy, {photo}, options).find("rewrite") == std::string::npos);
}

TEST_CASE("cachet export: through the binary, --file writes the file, -o is OUT as for build, a bad format is a "
          "usage error",
          "[export][e2e]")
{
    test::TempDir dir;
    const auto build = test::run_cachet({"build", (test::fixtures() / "site").string(), "-o", (dir / "out").string()});
    REQUIRE(build.exit_code == 0);
    const auto to_stdout =
        test::run_cachet({"export", "headers", "--manifest", (dir / "out/cachet-manifest.json").string()});
    REQUIRE(to_stdout.exit_code == 0);
    CHECK_THAT(to_stdout.out, Catch::Contains("/cachet-manifest.json\n  Cache-Control: no-cache"));
    const auto to_file = test::run_cachet({"export", "s3", "--manifest", (dir / "out/cachet-manifest.json").string(),
                                           "--file", (dir / "upload.sh").string()});
    REQUIRE(to_file.exit_code == 0);
    CHECK((fs::status(dir / "upload.sh").permissions() & fs::perms::owner_exec) != fs::perms::none);
    // A bare file name is in the working folder (the README's own example).
    const auto bare = test::run_cachet(
        {"export", "nginx", "--manifest", (dir / "out/cachet-manifest.json").string(), "--file", "cachet.nginx"},
        dir.path());
    INFO(bare.err);
    CHECK(bare.exit_code == 0);
    CHECK(fs::is_regular_file(dir / "cachet.nginx"));
    // -o means what it means for build: the output folder. A file name there (what -o meant for
    // export once) is refused with the flag to use, never taken as a folder.
    const auto old = test::run_cachet({"export", "nginx", "--manifest", "out", "-o", "old.nginx"}, dir.path());
    CHECK(old.exit_code == 2);
    CHECK_THAT(old.err, Catch::Contains("use --file old.nginx"));
    CHECK(!fs::exists(dir / "old.nginx"));
    const auto with_out =
        test::run_cachet({"export", "s3", "--manifest", "out", "-o", "out", "--file", "up2.sh", "--json"}, dir.path());
    REQUIRE(with_out.exit_code == 0);
    const auto doc = nlohmann::json::parse(with_out.out);
    CHECK(doc["file"] == "up2.sh");
    CHECK(doc["bytes"] == fs::file_size(dir / "up2.sh"));
    CHECK(doc["text"].is_null());
    CHECK_THAT(std::string(as_text(test::slurp(dir / "up2.sh"))), Catch::Contains("out=${CACHET_OUT:-'out'}"));
    const auto bad = test::run_cachet({"export", "apache", "--manifest", (dir / "out/cachet-manifest.json").string()});
    CHECK(bad.exit_code == 2);
    CHECK_THAT(bad.err, Catch::Contains("unknown export format \"apache\""));
    const auto missing = test::run_cachet({"export", "nginx", "--manifest", (dir / "nope.json").string()});
    CHECK(missing.exit_code == 2);
    CHECK_THAT(missing.err, Catch::Contains("nope.json"));
}
