// A manifest in parts (output.manifest_parts): the top document and its part files, written
// by a build so that a change to a few sources writes a few parts, and read back whole.
#include "pipeline/model/hash.hpp"
#include "pipeline/publish/manifest.hpp"
#include "tests/test_support.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <set>

namespace fs = std::filesystem;
using namespace cachet;

namespace {

// n text records "f/0000.txt"... with a fragment each.
struct Entries {
    std::vector<std::string> sources;
    std::vector<std::string> fragments;
    std::vector<ManifestEntry> entries() const
    {
        std::vector<ManifestEntry> out;
        for (std::size_t i = 0; i < sources.size(); ++i)
            out.push_back({sources[i], fragments[i], {}});
        return out;
    }
};

std::string fragment_for(const std::string& source, int version = 0)
{
    AssetRecord r;
    r.source = source;
    r.kind = AssetKind::text;
    r.source_bytes = 1;
    r.source_digest = "sha256-" + std::to_string(version);
    OutputFile o;
    o.path = source;
    o.bytes = 1;
    o.content_type = "text/plain; charset=utf-8";
    o.integrity = "sha384-x";
    o.cache_control = "no-cache";
    r.outputs.push_back(o);
    return manifest_fragment(r, "/");
}

Entries make_entries(int n)
{
    Entries e;
    for (int i = 0; i < n; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "f/%04d.txt", i);
        e.sources.emplace_back(name);
        e.fragments.push_back(fragment_for(name));
    }
    return e;
}

// The part files a set of entries cuts into, by name.
std::set<std::string> part_names(const std::vector<ManifestEntry>& entries, std::size_t mean)
{
    std::set<std::string> out;
    for (const auto& [b, e] : manifest_part_ranges(entries, mean))
        out.insert(manifest_part_file(entries.data() + b, entries.data() + e));
    return out;
}

// Writes entries as a manifest in parts into folder, as a build does; returns its parts.
std::vector<ManifestPart> write_in_parts(const fs::path& folder, const std::vector<ManifestEntry>& entries,
                                         std::size_t mean)
{
    std::vector<ManifestPart> parts;
    std::string text;
    for (const auto& [b, e] : manifest_part_ranges(entries, mean)) {
        const ManifestEntry* begin = entries.data() + b;
        const ManifestEntry* end = entries.data() + e;
        render_manifest_part(text, begin, end);
        ManifestPart part{"cachet-manifest.parts/" + manifest_part_file(begin, end),
                          text.size(),
                          sri_sha384(as_bytes(text)),
                          std::string(begin->source),
                          std::string((end - 1)->source),
                          e - b};
        test::spit(folder / part.path, text);
        parts.push_back(part);
    }
    Preset preset;
    test::spit(folder / "cachet-manifest.json", render_manifest_top(parts, build_id_of(entries), preset, {}));
    return parts;
}

} // namespace

TEST_CASE("manifest parts: one changed or added source changes one or two parts, every other keeps its name",
          "[manifest][parts]")
{
    Entries e = make_entries(2000);
    const auto before = part_names(e.entries(), 50);
    CHECK(before.size() > 20);
    CHECK(before.size() < 80);
    CHECK(part_names(e.entries(), 0).size() == 1);
    // cut_manifest(): the same cuts and names in one pass, and the build id of the whole.
    const auto entries = e.entries();
    std::string id;
    const auto cuts = cut_manifest(entries, 50, id);
    const auto ranges = manifest_part_ranges(entries, 50);
    REQUIRE(cuts.size() == ranges.size());
    for (std::size_t i = 0; i < cuts.size(); ++i) {
        CHECK(std::make_pair(cuts[i].begin, cuts[i].end) == ranges[i]);
        CHECK(cuts[i].file == manifest_part_file(entries.data() + cuts[i].begin, entries.data() + cuts[i].end));
    }
    CHECK(id == build_id_of(entries));
    CHECK(manifest_part_ranges({}, 50).empty());
    // In parts cut as the build id's groups, the id is made of the parts' names: the same id,
    // whether a part's name is hashed or taken from the last build (known()), and a name taken
    // is what goes into the id.
    std::string grouped;
    const auto groups = cut_manifest(entries, k_build_id_group, grouped);
    CHECK(groups.size() > 1);
    CHECK(grouped == id);
    std::vector<ManifestEntry> unchanged = entries;
    for (auto& u : unchanged)
        u.unchanged = true;
    std::string taken;
    std::size_t asked = 0;
    cut_manifest(unchanged, k_build_id_group, taken, [&](std::size_t b, std::size_t end) -> std::optional<std::string> {
        for (const auto& g : groups)
            if (g.begin == b && g.end == end) {
                ++asked;
                return g.file;
            }
        return std::nullopt;
    });
    CHECK(asked == groups.size());
    CHECK(taken == id);
    std::string misnamed;
    cut_manifest(unchanged, k_build_id_group, misnamed, [&](std::size_t, std::size_t) -> std::optional<std::string> {
        return std::string(20, '0') + ".json";
    });
    CHECK(misnamed != id);

    Entries changed = e;
    changed.fragments[1234] = fragment_for(changed.sources[1234], 1);
    auto after = part_names(changed.entries(), 50);
    std::vector<std::string> gone;
    std::set_difference(before.begin(), before.end(), after.begin(), after.end(), std::back_inserter(gone));
    CHECK(gone.size() == 1);

    Entries added = e;
    added.sources.insert(added.sources.begin() + 777, "f/0776b.txt");
    added.fragments.insert(added.fragments.begin() + 777, fragment_for("f/0776b.txt"));
    after = part_names(added.entries(), 50);
    gone.clear();
    std::set_difference(before.begin(), before.end(), after.begin(), after.end(), std::back_inserter(gone));
    CHECK(gone.size() >= 1);
    CHECK(gone.size() <= 2);
    CHECK(manifest_parts_folder("cachet-manifest.json") == "cachet-manifest.parts");
    CHECK(manifest_parts_folder("deploy/m.json") == "m.parts");
    CHECK(manifest_parts_folder(".json") == ".json.parts");
    CHECK(manifest_parts_folder("manifest") == "manifest.parts");
}

TEST_CASE("read_manifest reads a manifest in parts whole, the same records and build id as one file",
          "[manifest][parts]")
{
    test::TempDir dir;
    const Entries e = make_entries(300);
    const auto parts = write_in_parts(dir.path(), e.entries(), 20);
    REQUIRE(parts.size() > 3);
    ManifestHead head;
    const auto records = read_manifest(dir / "cachet-manifest.json", &head);
    CHECK(head.parts == parts);
    Preset preset;
    test::spit(dir / "one.json", render_manifest(e.entries(), preset, {}));
    ManifestHead one_head;
    const auto one = read_manifest(dir / "one.json", &one_head);
    REQUIRE(records.size() == one.size());
    for (std::size_t i = 0; i < one.size(); ++i)
        CHECK(records[i] == one[i]);
    CHECK(head.build_id == one_head.build_id);
    // The top alone (parse_manifest) gives no records, only its parts.
    ManifestHead top;
    CHECK(parse_manifest(as_text(test::slurp(dir / "cachet-manifest.json")), "top", &top).empty());
    CHECK(top.parts == parts);
}

TEST_CASE("read_manifest refuses a manifest whose part is missing, cut, altered, or holds other sources, naming the "
          "part",
          "[manifest][parts]")
{
    test::TempDir dir;
    const Entries e = make_entries(120);
    const auto parts = write_in_parts(dir.path(), e.entries(), 10);
    REQUIRE(parts.size() > 2);
    const fs::path manifest = dir / "cachet-manifest.json";
    const fs::path second = dir / parts[1].path;
    const Bytes good = test::slurp(second);
    auto refused = [&](const std::string& why) {
        CHECK_THROWS_WITH(read_manifest(manifest),
                          Catch::Contains(manifest.string()) && Catch::Contains(parts[1].path) && Catch::Contains(why));
        test::spit(second, as_text(good));
    };
    fs::remove(second);
    refused("cannot be read");
    test::spit(second, std::string(as_text(good)).substr(0, good.size() - 2));
    refused("the manifest says");
    std::string altered(as_text(good));
    altered[altered.find("no-cache")] = 'N';
    test::spit(second, altered);
    refused("does not match its integrity");
    // Parts swapped in the top: each is whole, but they no longer hold what it says.
    std::string top(as_text(test::slurp(manifest)));
    const std::string a = parts[0].path, b = parts[1].path;
    top.replace(top.find(a), a.size(), "#");
    top.replace(top.find(b), b.size(), a);
    top.replace(top.find('#'), 1, b);
    test::spit(manifest, top);
    CHECK_THROWS_WITH(read_manifest(manifest), Catch::Contains("the manifest says"));
}

namespace {

// A site of n small text files in ten folders (nothing to minify: the build needs no esbuild).
fs::path text_site(const test::TempDir& dir, int n)
{
    const fs::path src = dir / "site";
    for (int i = 0; i < n; ++i)
        test::spit(src / ("d" + std::to_string(i % 10)) / ("f" + std::to_string(i) + ".txt"),
                   "file " + std::to_string(i) + "\n");
    test::spit(src / "index.html", "<!doctype html><title>t</title><a href=\"d1/f1.txt\">f1</a>\n");
    return src;
}

struct Built {
    nlohmann::json top;
    std::map<std::string, fs::file_time_type> parts; // in OUT's parts folder: name, mtime
};

Built look(const fs::path& out)
{
    Built b;
    b.top = test::read_json(out / "cachet-manifest.json");
    std::error_code ec;
    for (fs::directory_iterator it(out / "cachet-manifest.parts", ec), end; !ec && it != end; it.increment(ec))
        b.parts[it->path().filename().string()] = fs::last_write_time(it->path());
    return b;
}

std::set<std::string> named(const nlohmann::json& top)
{
    std::set<std::string> out;
    for (const auto& p : top["parts"])
        out.insert(fs::path(p["path"].get<std::string>()).filename().string());
    return out;
}

} // namespace

TEST_CASE("cachet build with output.manifest_parts publishes a top and its parts, rewrites only the part a change "
          "touches, restores a damaged part, and goes back to one file",
          "[manifest][parts][e2e]")
{
    test::TempDir dir;
    const fs::path src = text_site(dir, 400);
    const fs::path out = dir / "out";
    test::spit(dir / "parts.toml", "[output]\nmanifest_parts = 16\n");
    auto build = [&](const fs::path& to, bool parts) {
        std::vector<std::string> args{"build", src.string(), "-o", to.string(), "--cache-dir", (dir / "cache").string(),
                                      "-q"};
        if (parts)
            args.insert(args.end(), {"--config", (dir / "parts.toml").string()});
        const auto p = test::run_cachet(args);
        INFO(p.err);
        REQUIRE(p.exit_code == 0);
    };
    build(out, true);
    const Built first = look(out);
    CHECK(first.top["version"] == 3);
    CHECK_FALSE(first.top.contains("assets"));
    CHECK(first.top["parts"].size() > 10);
    CHECK(named(first.top).size() == first.parts.size()); // every part file is named, each once

    // The same site in one file: the same records and build id.
    build(dir / "one", false);
    const auto one = test::read_json(dir / "one" / "cachet-manifest.json");
    CHECK(one["version"] == 2);
    CHECK(one["build_id"] == first.top["build_id"]);
    nlohmann::json assets = nlohmann::json::object();
    for (const auto& p : first.top["parts"]) {
        const auto part = test::read_json(out / p["path"].get<std::string>());
        CHECK(part["version"] == 3);
        CHECK(part["assets"].size() == p["sources"]);
        assets.update(part["assets"]);
    }
    CHECK(assets == one["assets"]);
    // The schema (docs/manifest.schema.json) describes the top and the parts.
    for (const std::string& doc :
         {std::string("cachet-manifest.json"), first.top["parts"][0]["path"].get<std::string>()}) {
        const auto valid = test::run_program({"/usr/bin/python3", CACHET_FIXTURES "/../tests/validate_manifest.py",
                                              CACHET_SCHEMA, (out / doc).string()});
        INFO(valid.out << valid.err);
        CHECK(valid.exit_code == 0);
    }
    // What reads a manifest reads it whole: an export, an entry, a picture of the site.
    const auto entry = test::run_cachet({"manifest", out.string(), "--source", "d3/f13.txt"});
    CHECK(entry.exit_code == 0);
    CHECK(nlohmann::json::parse(entry.out) == one["assets"]["d3/f13.txt"]);
    const auto s3 = test::run_cachet({"export", "s3", "--manifest", out.string()});
    REQUIRE(s3.exit_code == 0);
    const auto at_parts = s3.out.find("--include 'cachet-manifest.parts/*'");
    const auto at_top = s3.out.find("--include 'cachet-manifest.json'");
    CHECK(at_parts != std::string::npos);
    CHECK(at_parts < at_top); // the parts go up before the top that names them
    const auto nginx = test::run_cachet({"export", "nginx", "--manifest", out.string()});
    INFO(nginx.err);
    CHECK(nginx.out.find("cachet-manifest\\\\.parts/") != std::string::npos); // a location for the parts

    // Nothing changed: nothing written.
    const auto top_time = fs::last_write_time(out / "cachet-manifest.json");
    build(out, true);
    CHECK(fs::last_write_time(out / "cachet-manifest.json") == top_time);
    CHECK(look(out).parts == first.parts);

    // One source changed: one new part; the others kept, untouched; the replaced one stays
    // one build (a reader of the last top may still want it).
    test::spit(src / "d3" / "f13.txt", "changed\n");
    build(out, true);
    const Built second = look(out);
    std::vector<std::string> added;
    for (const auto& name : named(second.top))
        if (first.parts.count(name) == 0)
            added.push_back(name);
    CHECK(added.size() == 1);
    for (const auto& name : named(second.top))
        if (first.parts.count(name) != 0)
            CHECK(second.parts.at(name) == first.parts.at(name));
    CHECK(second.parts.size() == first.parts.size() + 1);
    // The kept parts' names come from the last top; a new OUT, which has none, hashes every part
    // again and names them all the same.
    build(dir / "afresh", true);
    const Built afresh = look(dir / "afresh");
    CHECK(afresh.top["build_id"] == second.top["build_id"]);
    CHECK(named(afresh.top) == named(second.top));
    CHECK(test::run_cachet({"manifest", out.string(), "--source", "d3/f13.txt"}).out.find("sha256-") !=
          std::string::npos);

    // A part deleted or rewritten in OUT is written again by the next build, though no source changed.
    const std::string victim = *named(second.top).begin();
    fs::remove(out / "cachet-manifest.parts" / victim);
    const std::string other = *named(second.top).rbegin();
    std::string text(as_text(test::slurp(out / "cachet-manifest.parts" / other)));
    text[text.size() / 2] = text[text.size() / 2] == 'x' ? 'y' : 'x'; // the same size, other bytes
    test::spit(out / "cachet-manifest.parts" / other, text);
    build(out, true);
    const auto check = test::run_cachet({"export", "nginx", "--manifest", out.string()});
    INFO(check.err);
    CHECK(check.exit_code == 0);
    CHECK(fs::exists(out / "cachet-manifest.parts" / victim));
    // The part the second build replaced went once the top naming it was itself replaced.
    const Built third = look(out);
    CHECK(named(third.top).size() == third.parts.size());

    // cachet clean keeps the manifest in parts.
    CHECK(test::run_cachet({"clean", out.string(), "--keep", "0", "--age", "0s"}).exit_code == 0);
    CHECK(test::read_json(out / "cachet-manifest.json")["version"] == 3);
    CHECK(test::run_cachet({"export", "nginx", "--manifest", out.string()}).exit_code == 0);

    // Back to one file: the parts go within two builds (the last top's stay one build).
    build(out, false);
    CHECK(test::read_json(out / "cachet-manifest.json")["version"] == 2);
    test::spit(src / "d3" / "f13.txt", "changed again\n");
    build(out, false);
    CHECK_FALSE(fs::exists(out / "cachet-manifest.parts"));
}

TEST_CASE("without a cache, a build in parts still leaves the parts of the top it replaced for one build",
          "[manifest][parts][e2e]")
{
    test::TempDir dir;
    const fs::path src = text_site(dir, 60);
    const fs::path out = dir / "out";
    test::spit(dir / "parts.toml", "[output]\nmanifest_parts = 8\n");
    auto build = [&] {
        const auto p = test::run_cachet(
            {"build", src.string(), "-o", out.string(), "--no-cache", "-q", "--config", (dir / "parts.toml").string()});
        INFO(p.err);
        REQUIRE(p.exit_code == 0);
        return named(test::read_json(out / "cachet-manifest.json"));
    };
    const auto first = build();
    test::spit(src / "d3" / "f13.txt", "changed\n");
    const auto second = build();
    CHECK(second != first);
    for (const auto& name : first) // the first top's parts: one build more
        CHECK(fs::exists(out / "cachet-manifest.parts" / name));
    test::spit(src / "d3" / "f13.txt", "changed again\n");
    const auto third = build();
    std::set<std::string> expected = second;
    expected.insert(third.begin(), third.end());
    CHECK(look(out).parts.size() == expected.size()); // the first top's own parts are gone
}
