#include "cli/common.hpp"
#include "cli/reporter.hpp"
#include "pipeline/cache/cache.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

namespace cachet::cli {
namespace {

namespace fs = std::filesystem;

struct CacheFlags {
    std::string cache_dir = default_cache_dir();
    std::string max_size;
    bool json = false;
};

int cache_stats(const CacheFlags& flags)
{
    if (!fs::is_directory(flags.cache_dir))
        throw Error(ErrorKind::usage, flags.cache_dir + ": no cache folder there");
    const Cache cache(flags.cache_dir);
    const CacheStats s = cache.stats();
    const auto last = s.last_build ? nlohmann::json::parse(*s.last_build) : nlohmann::json(nullptr);
    double hit_rate = 0;
    if (last.is_object()) {
        const double built = last.value("built", 0.0), cached = last.value("cached", 0.0);
        hit_rate = built + cached > 0 ? cached / (built + cached) : 0.0;
    }
    if (flags.json) {
        nlohmann::json doc = {{"cache_dir", flags.cache_dir}, {"entries", s.entries}, {"blobs", s.blobs},
                              {"indexes", s.indexes},         {"bytes", s.bytes},     {"last_build", last}};
        if (last.is_object())
            doc["hit_rate"] = std::round(hit_rate * 10000) / 10000;
        std::fputs((doc.dump(2) + "\n").c_str(), stdout);
        return k_exit_ok;
    }
    std::printf("cache: %s\nentries: %llu\nblobs: %llu\nbuild indexes: %llu\nsize: %s\n", flags.cache_dir.c_str(),
                static_cast<unsigned long long>(s.entries), static_cast<unsigned long long>(s.blobs),
                static_cast<unsigned long long>(s.indexes), human_bytes(s.bytes).c_str());
    if (last.is_object())
        std::printf("last build: %llu built, %llu cached, hit rate %.1f%%\n",
                    static_cast<unsigned long long>(last.value("built", 0ULL)),
                    static_cast<unsigned long long>(last.value("cached", 0ULL)), hit_rate * 100);
    else
        std::printf("last build: none recorded\n");
    if (last.is_object() && last.contains("remote")) {
        const auto& r = last["remote"];
        const auto n = [&](const char* key) { return static_cast<unsigned long long>(r.value(key, 0ULL)); };
        std::printf("last build's remote cache: %llu hits, %llu misses (%llu damaged), %llu errors, %llu timeouts, "
                    "%llu uploads, %s down, %s up\n",
                    n("hits"), n("misses"), n("damaged"), n("errors"), n("timeouts"), n("uploads"),
                    human_bytes(n("bytes_down")).c_str(), human_bytes(n("bytes_up")).c_str());
    }
    return k_exit_ok;
}

int cache_gc(const CacheFlags& flags)
{
    const std::uint64_t max = parse_size(flags.max_size);
    if (!fs::is_directory(flags.cache_dir))
        throw Error(ErrorKind::usage, flags.cache_dir + ": no cache folder there");
    const Cache cache(flags.cache_dir);
    const GcResult r = cache.gc(max);
    if (flags.json) {
        std::fputs((nlohmann::json({{"status", "ok"},
                                    {"bytes_before", r.bytes_before},
                                    {"bytes_after", r.bytes_after},
                                    {"max_bytes", max},
                                    {"entries_removed", r.entries_removed},
                                    {"blobs_removed", r.blobs_removed},
                                    {"temporaries_removed", r.temporaries_removed}})
                        .dump(2) +
                    "\n")
                       .c_str(),
                   stdout);
        return k_exit_ok;
    }
    std::printf("cache gc: %s -> %s (limit %s); removed %llu entries, %llu blobs and %llu temporary files\n",
                human_bytes(r.bytes_before).c_str(), human_bytes(r.bytes_after).c_str(), human_bytes(max).c_str(),
                static_cast<unsigned long long>(r.entries_removed), static_cast<unsigned long long>(r.blobs_removed),
                static_cast<unsigned long long>(r.temporaries_removed));
    return k_exit_ok;
}

} // namespace

std::vector<Command> add_cache_commands(CLI::App& app)
{
    auto flags = std::make_shared<CacheFlags>();
    CLI::App* cache = app.add_subcommand("cache", "Inspect or trim the build cache");
    cache->require_subcommand(1);
    cache->footer("Examples:\n"
                  "  cachet cache stats                 entries, size, the last build's hit rate\n"
                  "  cachet cache gc --max-size 2G      trim it, least recently used first");
    CLI::App* stats = cache->add_subcommand("stats", "Entries, size and the last build's hit rate");
    stats->add_option("--cache-dir", flags->cache_dir, "Build cache folder")
        ->capture_default_str()
        ->option_text("<DIR>");
    stats->add_flag("--json", flags->json, "Print JSON on stdout");
    stats->footer("Examples:\n"
                  "  cachet cache stats\n"
                  "  cachet cache stats --cache-dir .cachet-cache --json");
    CLI::App* gc = cache->add_subcommand("gc", "Delete least recently used entries down to a size");
    gc->add_option("--cache-dir", flags->cache_dir, "Build cache folder")->capture_default_str()->option_text("<DIR>");
    gc->add_option("--max-size", flags->max_size, "Size to trim to: 500M, 2G, 1048576...")
        ->required()
        ->option_text("<SIZE>");
    gc->add_flag("--json", flags->json, "Print what was removed as JSON on stdout");
    gc->footer("Examples:\n"
               "  cachet cache gc --max-size 2G\n"
               "  cachet cache gc --max-size 500M --cache-dir .cachet-cache");
    return {Command{stats, [flags] { return cache_stats(*flags); }, &flags->json},
            Command{gc, [flags] { return cache_gc(*flags); }, &flags->json}};
}

} // namespace cachet::cli
