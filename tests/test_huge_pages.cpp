#include "cli/huge_pages.hpp"
#include "pipeline/cache/cache.hpp"
#include "tests/test_support.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

using namespace cachet;
namespace fs = std::filesystem;

namespace {

// The environment process pid runs with: the one its last exec gave it, a line per variable.
std::string environment_of(int pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (char& c : text)
        if (c == '\0')
            c = '\n';
    return "\n" + text;
}

void set_environment(const char* name, const std::optional<std::string>& value)
{
    if (value)
        setenv(name, value->c_str(), 1);
    else
        unsetenv(name);
}

} // namespace

// [rss]: not in the sanitizer run (tools/harden.sh), whose allocator has no use for the tunable.
TEST_CASE("cachet starts again in glibc's huge pages only when asked and keeps the user's tunables",
          "[cli][huge_pages][rss]")
{
    test::TempDir dir;
    const fs::path src = dir / "site";
    const fs::path out = dir / "out";
    const fs::path cache = dir / "cache";
    test::spit(src / "css/site.css", "body { color: #123456 }\n");
    test::spit(src / "js/app.js", "console.log('cachet');\n");
    // What a watch session on the site runs with, once its first build is done.
    const auto watch_environment = [&](const std::optional<std::string>& huge,
                                       const std::optional<std::string>& tunables) {
        set_environment("CACHET_HUGE_PAGES", huge);
        set_environment("GLIBC_TUNABLES", tunables);
        test::Background watch(
            {test::cachet_binary(), "watch", src.string(), "-o", out.string(), "--cache-dir", cache.string()});
        set_environment("CACHET_HUGE_PAGES", std::nullopt);
        set_environment("GLIBC_TUNABLES", std::nullopt);
        REQUIRE(test::eventually([&] { return watch.err().find("checked everything") != std::string::npos; }));
        std::string environment = environment_of(watch.pid());
        watch.signal(SIGINT);
        CHECK(watch.wait() == 130);
        return environment;
    };
    const std::string ours = "glibc.malloc.hugetlb=1";

    // Not asked for: cachet runs as it was started, whatever the size of the site (an index
    // padded to the size of one of 10,000 sources; then unreadable, so the two files are
    // built again).
    CHECK(watch_environment(std::nullopt, std::nullopt).find("GLIBC_TUNABLES") == std::string::npos);
    fs::path index;
    for (const auto& e : fs::directory_iterator(cache / ("v" + std::to_string(k_cache_format)) / "index"))
        if (e.path().extension() == ".bin")
            index = e.path();
    REQUIRE(!index.empty());
    std::ofstream(index, std::ios::binary | std::ios::app) << std::string(std::size_t{22} << 20, '\0');
    CHECK(watch_environment(std::nullopt, std::nullopt).find("GLIBC_TUNABLES") == std::string::npos);
    CHECK(watch_environment("0", std::nullopt).find("GLIBC_TUNABLES") == std::string::npos);

    // Asked for: started again with the tunable, after the user's own tunables.
    // (The dynamic loader rewrites the variable where it lies as it reads it: ':' may read as
    // a line break here.)
    CHECK_THAT(watch_environment("1", "glibc.malloc.arena_max=2"),
               Catch::Contains("GLIBC_TUNABLES=glibc.malloc.arena_max=2") && Catch::Contains(ours));
    CHECK_THAT(watch_environment("1", std::nullopt),
               Catch::Contains("GLIBC_TUNABLES=" + ours) && Catch::Contains("MIMALLOC_LARGE_OS_PAGES=1"));
    // The user's own hugetlb setting is theirs.
    const std::string theirs = watch_environment("1", "glibc.malloc.hugetlb=0");
    CHECK_THAT(theirs, Catch::Contains("GLIBC_TUNABLES=glibc.malloc.hugetlb=0"));
    CHECK(theirs.find(ours) == std::string::npos);

    // The build command does the same: its output is the site's all the same.
    setenv("CACHET_HUGE_PAGES", "1", 1);
    const test::Process built =
        test::run_cachet({"build", src.string(), "-o", out.string(), "--cache-dir", cache.string()});
    unsetenv("CACHET_HUGE_PAGES");
    INFO(built.err);
    CHECK(built.exit_code == 0);
    CHECK(test::read_json(out / "cachet-manifest.json")["assets"].contains("css/site.css"));
}

TEST_CASE("cachet allocates through mimalloc", "[cli][rss]")
{
    // Linked before libc (CMakeLists.txt), it serves the whole process; mimalloc prints its
    // statistics at exit when asked (not in a sanitizer build, which keeps its own malloc).
    setenv("MIMALLOC_SHOW_STATS", "1", 1);
    const test::Process p = test::run_cachet({"--help"});
    unsetenv("MIMALLOC_SHOW_STATS");
    CHECK(p.exit_code == 0);
    CHECK_THAT(p.err, Catch::Contains("heap stats") && Catch::Contains("committed"));
}
