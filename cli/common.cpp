#include "cli/common.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <malloc.h>
#include <sstream>
#include <string_view>

namespace cachet::cli {

namespace fs = std::filesystem;

namespace {
// When main() began: the zero of --timings.
const auto g_started = std::chrono::steady_clock::now();
} // namespace

std::string default_cache_dir()
{
    const auto variable = [](const char* name) {
        const char* value = std::getenv(name);
        return std::string(value ? value : "");
    };
    if (std::string chosen = variable("CACHET_CACHE_DIR"); !chosen.empty())
        return chosen;
    // The XDG base directory convention: one cache per user, whatever the working directory.
    if (const std::string xdg = variable("XDG_CACHE_HOME"); !xdg.empty() && xdg.front() == '/')
        return xdg + "/cachet";
    if (const std::string home = variable("HOME"); !home.empty() && home.front() == '/')
        return home + "/.cache/cachet";
    return ".cachet-cache"; // no home at all (a bare container): the working directory
}

void add_build_flags(CLI::App& command, BuildFlags& flags)
{
    command.add_option("SRC", flags.source, "Source folder (the site's public/ tree)")->required();
    command.add_option("-o,--output", flags.output, "Output folder (must not be inside SRC)")
        ->required()
        ->option_text("<DIR>");
    command.add_option("--preset", flags.preset, "Preset name (see `cachet presets`) or path to a TOML file")
        ->capture_default_str()
        ->each([&flags](const std::string&) { flags.preset_given = true; })
        ->option_text("<NAME|FILE>");
    command
        .add_option("--config", flags.config_file,
                    "TOML file whose keys override the preset (default: ./cachet.toml if present)")
        ->option_text("<FILE>");
    command.add_option("-j,--jobs", flags.jobs, "Parallel jobs, encoder threads included (default: cores)")
        ->check(CLI::Range(1u, 1024u))
        ->option_text("<N>");
    command
        .add_option("--cache-dir", flags.cache_dir,
                    "Build cache folder; keep it between CI runs (default: $CACHET_CACHE_DIR, else "
                    "$XDG_CACHE_HOME/cachet, else ~/.cache/cachet)")
        ->option_text("<DIR>");
    command
        .add_option("--memory", flags.memory,
                    "Memory the images in flight may take at once: 512M, 2G... (default: [build] memory, 1G)")
        ->option_text("<SIZE>");
    command
        .add_option("--remote-cache", flags.remote_cache,
                    "Shared cache server: http(s)://host/path (Bazel HTTP cache protocol) or s3://bucket/prefix; "
                    "may be repeated (default: $CACHET_REMOTE_CACHE, then [cache] remote)")
        ->option_text("<URL>...");
    command.add_flag("--remote-read-only", flags.remote_read_only,
                     "Fetch from the remote cache, never upload (also $CACHET_REMOTE_READ_ONLY=1)");
    command
        .add_option("--remote-timeout", flags.remote_timeout,
                    "Longest a remote cache request may take: 2s, 500ms... (default: [cache] remote_timeout, 10s)")
        ->option_text("<TIME>");
    command.add_flag("--no-remote-cache", flags.no_remote_cache, "Use no remote cache, whatever else says to");
    command.add_flag("-q,--quiet", flags.quiet, "Print errors only");
    command.add_flag("--timings", flags.timings, "Print when each step of a build ends, in ms since start");
    command.add_flag("--strict", flags.strict,
                     "A reference to a file that is not in SRC (or failed) fails the file that makes it");
}

std::optional<std::chrono::steady_clock::time_point> timings_since(const BuildFlags& flags)
{
    if (!flags.timings)
        return std::nullopt;
    return g_started;
}

int exit_code_for(ErrorKind kind)
{
    switch (kind) {
    case ErrorKind::usage:
    case ErrorKind::config: return k_exit_usage;
    case ErrorKind::io: return k_exit_io;
    case ErrorKind::asset: return k_exit_assets_failed;
    case ErrorKind::internal: return k_exit_internal;
    case ErrorKind::interrupted: return k_exit_interrupted;
    case ErrorKind::install: return k_exit_install;
    }
    return k_exit_internal;
}

// The process policy of a build, as far as the environment sets it: CACHET_TEST_CODEC_VERSIONS
// (a test hook) replaces the codec versions in cache keys, to simulate an upgrade.
RunOptions run_options()
{
    RunOptions options;
    if (const char* versions = std::getenv("CACHET_TEST_CODEC_VERSIONS"))
        options.codec_versions = versions;
    return options;
}

namespace {

bool env_true(const char* name)
{
    const char* v = std::getenv(name);
    return v && (std::string_view(v) == "1" || std::string_view(v) == "true" || std::string_view(v) == "yes");
}

// The remote cache as the flags, then the environment, then the configuration say.
void apply_remote_flags(const BuildFlags& flags, RemoteCacheSettings& remote,
                        std::map<std::string, SettingOrigin>& origins)
{
    // (What `cachet config` shows of a server: where it came from, not the URL, which may hold
    // credentials.)
    if (!flags.remote_cache.empty()) {
        remote.urls = flags.remote_cache;
        origins["cache.remote"] = {"--remote-cache", "(" + std::to_string(remote.urls.size()) + " servers)"};
    } else if (const char* env = std::getenv("CACHET_REMOTE_CACHE"); env && *env) {
        remote.urls.clear();
        std::istringstream words{std::string(env)}; // several: separated by spaces
        for (std::string url; words >> url;)
            remote.urls.push_back(url);
        origins["cache.remote"] = {"CACHET_REMOTE_CACHE", "(" + std::to_string(remote.urls.size()) + " servers)"};
    }
    if (flags.no_remote_cache) {
        remote.urls.clear();
        origins["cache.remote"] = {"--no-remote-cache", "[]"};
    }
    if (flags.remote_read_only || env_true("CACHET_REMOTE_READ_ONLY")) {
        remote.read_only = true;
        origins["cache.remote_read_only"] = {flags.remote_read_only ? "--remote-read-only" : "CACHET_REMOTE_READ_ONLY",
                                             "true"};
    }
    if (!flags.remote_timeout.empty()) {
        try {
            remote.timeout_ms = parse_milliseconds(flags.remote_timeout);
        } catch (const Error& e) {
            throw Error(ErrorKind::usage, std::string("--remote-timeout: ") + e.what());
        }
        if (remote.timeout_ms < 1 || remote.timeout_ms > std::int64_t{3600} * 1000)
            throw Error(ErrorKind::usage, "--remote-timeout: must be between 1 ms and 3600 s");
        origins["cache.remote_timeout"] = {"--remote-timeout", "\"" + flags.remote_timeout + "\""};
    }
}

} // namespace

Config make_config(const BuildFlags& flags)
{
    Config config;
    config.source = flags.source;
    config.output = flags.output;
    config.jobs = flags.jobs;
    config.missing_references = flags.strict ? MissingReferences::fail : MissingReferences::warn;
    if (!flags.no_cache)
        config.cache_dir = flags.cache_dir;
    if (!flags.config_file.empty())
        config.config_file = flags.config_file;
    else if (fs::is_regular_file("cachet.toml"))
        config.config_file = "cachet.toml";
    // --preset, else the configuration file's `preset = "..."`, else the command's default.
    std::optional<std::string> base;
    if (!config.config_file.empty() && !flags.preset_given)
        base = config_base_preset(config.config_file);
    config.preset = load_preset(base ? *base : flags.preset);
    if (!config.config_file.empty())
        apply_config_file(config.preset, config.config_file);
    apply_remote_flags(flags, config.preset.cache, config.preset.origins);
    if (!flags.memory.empty()) {
        try {
            config.preset.build.memory = parse_size(flags.memory);
        } catch (const Error& e) {
            throw Error(ErrorKind::usage, std::string("--memory: ") + e.what());
        }
        if (config.preset.build.memory < (1 << 20))
            throw Error(ErrorKind::usage, "--memory: must be at least 1 MiB");
        config.preset.origins["build.memory"] = {"--memory", "\"" + flags.memory + "\""};
    }
    return config;
}

void limit_malloc_arenas()
{
    // glibc gives each thread its own malloc arena, and the large pixel buffers freed in one
    // arena are not reused by another: two arenas cut peak RSS on the corpus' 14.7 MP photos
    // from 903 to 787 MiB at -j 2, and ran faster (bench/corpus-build.sh). An explicit
    // MALLOC_ARENA_MAX in the environment wins.
    if (std::getenv("MALLOC_ARENA_MAX") == nullptr)
        mallopt(M_ARENA_MAX, 2);
}

void keep_freed_memory()
{
    // glibc hands a block over 128 KiB (the plan's per-source tables of a large site) back to
    // the kernel when it is freed, and trims its heaps' free tops: then every rebuild of a watch
    // session faulted them in again, zeroed, a millisecond or two at 10,000 sources. Blocks up
    // to 32 MiB (glibc's largest threshold) now come from the heaps, which are not trimmed; the
    // session's memory stays at what its largest build needed. The environment's own settings
    // (MALLOC_TRIM_THRESHOLD_, GLIBC_TUNABLES) win.
    const char* tunables = std::getenv("GLIBC_TUNABLES");
    if (std::getenv("MALLOC_TRIM_THRESHOLD_") || std::getenv("MALLOC_MMAP_THRESHOLD_") ||
        (tunables && (std::strstr(tunables, "trim_threshold") || std::strstr(tunables, "mmap_threshold"))))
        return;
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
}

} // namespace cachet::cli
