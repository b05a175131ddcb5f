// The build engine in-process, as ninja's build_test.cc drives its Builder: run() on a small
// site in a temporary folder, with a fake file system in front of the real one (recording,
// failing or lying about what the engine reads and writes) and a reporter that records.
#include "pipeline/build/run.hpp"
#include "pipeline/fs/file_system.hpp"
#include "pipeline/model/error.hpp"
#include "tests/test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <set>

namespace fs = std::filesystem;
using namespace cachet;

namespace {

// The real file system, with every write recorded (in order), and hooks that fail a write or
// alter a stat.
class FakeDisk final : public FileSystem {
public:
    std::function<bool(const fs::path&)> fail_write = [](const fs::path&) { return false; };
    std::function<std::optional<FileStat>(const std::string& name, std::optional<FileStat>)> alter_stat =
        [](const std::string&, std::optional<FileStat> st) { return st; };

    std::optional<FileStat> stat(const fs::path& path) const override
    {
        return alter_stat(path.filename().string(), real_file_system().stat(path));
    }
    std::optional<FileStat> stat_in(const OpenFolder& folder, const char* path) const override
    {
        return alter_stat(fs::path(path).filename().string(), real_file_system().stat_in(folder, path));
    }
    Bytes read(const fs::path& path) const override { return real_file_system().read(path); }
    void write(const fs::path& path, ByteView data, Durability durability) const override
    {
        if (fail_write(path))
            throw io_error(path.string(), "cannot write", 28 /* ENOSPC */);
        real_file_system().write(path, data, durability);
        std::lock_guard lock(m_mutex);
        m_writes.push_back(path.filename().string());
    }

    std::vector<std::string> writes() const
    {
        std::lock_guard lock(m_mutex);
        return m_writes;
    }

private:
    mutable std::mutex m_mutex;
    mutable std::vector<std::string> m_writes;
};

// What run() told the outside world, in order.
class RecordingReporter final : public Reporter {
public:
    std::function<void(const Asset&)> on_start = [](const Asset&) {};
    std::vector<std::string> finished;                 // source paths, in order
    std::map<std::string, AssetResult::Status> status; // by source path

    void build_started(std::size_t) override {}
    void asset_started(const Asset& asset) override { on_start(asset); }
    void asset_finished(const Asset& asset, const AssetResult& result) override
    {
        finished.push_back(asset.path);
        status[asset.path] = result.status;
    }
    void warning(std::string_view) override {}
};

// A small site of text and passthrough files (no images: in-process tests stay fast): a page
// naming a stylesheet that names a font, a script, and a file copied as it is.
struct Site {
    test::TempDir dir;
    Config config;

    explicit Site(unsigned jobs = 2)
    {
        const fs::path src = dir / "src";
        fs::create_directories(src / "css");
        fs::create_directories(src / "fonts");
        test::spit(src / "index.html",
                   "<!doctype html><link rel=stylesheet href=\"css/site.css\"><script src=\"app.js\"></script>"
                   "<p>" +
                       std::string(3000, 'x') + "</p>\n");
        test::spit(src / "css/site.css",
                   "@font-face{src:url(../fonts/a.woff2)}body{margin:0}" + std::string(2000, ' ') + "\n");
        test::spit(src / "fonts/a.woff2", "wOF2 not really a font");
        test::spit(src / "app.js", "console.log('hello');" + std::string(2000, ' ') + "\n");
        test::spit(src / "notes.txt", "copied as it is\n");
        config.source = src;
        config.output = dir / "out";
        config.preset = load_preset("default");
        config.jobs = jobs;
        config.cache_dir = dir / "cache";
    }

    fs::path manifest() const { return config.output / "cachet-manifest.json"; }

    Summary build(Reporter& reporter, const FileSystem* disk = nullptr, const std::atomic<bool>* cancel = nullptr)
    {
        RunOptions options;
        options.file_system = disk;
        options.cancel = cancel;
        return run(config, reporter, options);
    }
};

std::size_t index_of(const std::vector<std::string>& v, const std::string& x)
{
    return static_cast<std::size_t>(std::find(v.begin(), v.end(), x) - v.begin());
}

} // namespace

TEST_CASE("Engine: a file is finished after the files it names, whatever the number of workers", "[engine]")
{
    for (const unsigned jobs : {1u, 2u, 4u}) {
        Site site(jobs);
        RecordingReporter reporter;
        const Summary summary = site.build(reporter);
        CHECK(summary.failures.empty());
        const auto& order = reporter.finished;
        REQUIRE(order.size() == 5);
        CHECK(index_of(order, "fonts/a.woff2") < index_of(order, "css/site.css"));
        CHECK(index_of(order, "css/site.css") < index_of(order, "index.html"));
        CHECK(index_of(order, "app.js") < index_of(order, "index.html"));
    }
}

TEST_CASE("Engine: the manifest is written after every output", "[engine]")
{
    Site site;
    FakeDisk disk;
    RecordingReporter reporter;
    site.build(reporter, &disk);
    const auto writes = disk.writes();
    REQUIRE(!writes.empty());
    // (staged, then renamed into place with the staged pages: see RenameJournal)
    CHECK(writes.back() == ".cachet-tmp-stage-cachet-manifest.json");
    CHECK(std::count(writes.begin(), writes.end(), ".cachet-tmp-stage-cachet-manifest.json") == 1);
    CHECK(writes.size() > 5); // the outputs (and their sidecars) came first
}

TEST_CASE("Engine: a rebuild with nothing changed reuses every asset and writes nothing", "[engine]")
{
    Site site;
    RecordingReporter first;
    site.build(first);
    FakeDisk disk;
    RecordingReporter second;
    const Summary summary = site.build(second, &disk);
    CHECK(disk.writes().empty());
    for (const auto& [path, status] : second.status)
        CHECK(status == AssetResult::Status::cached);
    CHECK(second.status.size() == 5);
    CHECK(summary.kinds.at("text").built() == 0);
}

TEST_CASE("Engine: an output that is no longer as the last build wrote it is written again", "[engine]")
{
    Site site;
    RecordingReporter first;
    site.build(first);
    // The stylesheet's output (whatever its fingerprinted name) now looks altered in OUT.
    FakeDisk disk;
    disk.alter_stat = [](const std::string& name, std::optional<FileStat> st) {
        if (st && name.starts_with("site.") && name.ends_with(".css"))
            ++st->size;
        return st;
    };
    RecordingReporter second;
    site.build(second, &disk);
    const auto writes = disk.writes();
    CHECK(std::any_of(writes.begin(), writes.end(),
                      [](const std::string& w) { return w.starts_with("site.") && w.ends_with(".css"); }));
    // Restored from the cache (its bytes are known), and nothing else was touched but the
    // manifest's check.
    CHECK(second.status.at("css/site.css") == AssetResult::Status::cached);
    CHECK(std::none_of(writes.begin(), writes.end(), [](const std::string& w) { return w.starts_with("app."); }));
}

TEST_CASE("Engine: a failed write stops the build with an I/O error and leaves the last manifest as it was", "[engine]")
{
    Site site;
    RecordingReporter first;
    site.build(first);
    const Bytes before = test::slurp(site.manifest());
    test::spit(site.config.source / "app.js", "console.log('changed');" + std::string(2000, ' ') + "\n");
    for (const bool fail_manifest : {false, true}) {
        FakeDisk disk;
        disk.fail_write = [fail_manifest](const fs::path& p) {
            const std::string name = p.filename().string();
            return fail_manifest ? name.ends_with("cachet-manifest.json") : name.starts_with("app.");
        };
        RecordingReporter second;
        try {
            site.build(second, &disk);
            FAIL("the build should have failed");
        } catch (const Error& e) {
            CHECK(e.kind() == ErrorKind::io);
        }
        CHECK(test::slurp(site.manifest()) == before);
    }
    // The next build, on a disk that works, publishes the change.
    RecordingReporter third;
    site.build(third);
    CHECK(test::slurp(site.manifest()) != before);
    CHECK(third.status.at("app.js") != AssetResult::Status::failed);
}

TEST_CASE("Engine: a cancelled build stops starting assets and publishes nothing", "[engine]")
{
    Site site(1);
    std::atomic<bool> cancel{false};
    RecordingReporter reporter;
    reporter.on_start = [&](const Asset&) { cancel = true; }; // as SIGINT would, mid-build
    try {
        site.build(reporter, nullptr, &cancel);
        FAIL("the build should have been interrupted");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::interrupted);
    }
    CHECK(reporter.finished.size() == 1); // the one started; nothing after it
    CHECK(!fs::exists(site.manifest()));
}
