#include "cli/cli.hpp"

#include "cli/reporter.hpp"
#include "pipeline/cache/cache.hpp"
#include "pipeline/fs/atomic_file.hpp"
#include "pipeline/model/error.hpp"
#include "pipeline/export/export.hpp"
#include "pipeline/publish/markup.hpp"
#include "pipeline/publish/retention.hpp"
#include "pipeline/build/versions.hpp"
#include "pipeline/watch/watch.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <csignal>
#include <functional>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <cstdio>
#include <cstdlib>
#include <malloc.h>
#include <filesystem>
#include <iostream>
#include <thread>
#include <unistd.h>

namespace cachet::cli {
namespace {

namespace fs = std::filesystem;

// $CACHET_CACHE_DIR, else .cachet-cache in the working directory.
std::string default_cache_dir()
{
    const char* env = std::getenv("CACHET_CACHE_DIR");
    return env && *env ? env : ".cachet-cache";
}

// Turns SIGINT and SIGTERM into a call of on_signal on a thread of its own while it lives.
// Construct it before any other thread, which then inherits the blocked signals. The thread
// sleeps in poll() on a signalfd and an eventfd, so ending it costs no wait.
class SignalStop {
public:
    explicit SignalStop(std::function<void()> on_signal)
    {
        sigemptyset(&m_set);
        sigaddset(&m_set, SIGINT);
        sigaddset(&m_set, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &m_set, &m_old);
        m_signals = signalfd(-1, &m_set, SFD_CLOEXEC);
        m_wake = eventfd(0, EFD_CLOEXEC);
        if (m_signals < 0 || m_wake < 0) {
            const int err = errno;
            pthread_sigmask(SIG_SETMASK, &m_old, nullptr);
            throw io_error("signalfd/eventfd", "cannot watch for SIGINT and SIGTERM", err);
        }
        m_thread = std::jthread([this, f = std::move(on_signal)] {
            while (true) {
                pollfd fds[2] = {{m_signals, POLLIN, 0}, {m_wake, POLLIN, 0}};
                if (poll(fds, 2, -1) < 0 && errno != EINTR)
                    return;
                if (fds[1].revents)
                    return;
                signalfd_siginfo info{};
                if (fds[0].revents && read(m_signals, &info, sizeof info) == static_cast<ssize_t>(sizeof info))
                    f();
            }
        });
    }
    ~SignalStop()
    {
        const std::uint64_t one = 1;
        if (write(m_wake, &one, sizeof one) == static_cast<ssize_t>(sizeof one))
            m_thread.join();
        else
            m_thread.detach();
        close(m_signals);
        close(m_wake);
        pthread_sigmask(SIG_SETMASK, &m_old, nullptr);
    }
    SignalStop(const SignalStop&) = delete;
    SignalStop& operator=(const SignalStop&) = delete;

private:
    sigset_t m_set{};
    sigset_t m_old{};
    int m_signals = -1;
    int m_wake = -1;
    std::jthread m_thread;
};

struct BuildFlags {
    std::string source;
    std::string output;
    std::string preset = "default";
    std::string config_file;
    unsigned jobs = std::max(1u, std::thread::hardware_concurrency());
    bool dry_run = false;
    bool json = false;
    bool quiet = false;
    bool timings = false;
    std::string budgets = "error";
    bool strict = false;
    std::string cache_dir = default_cache_dir();
    bool no_cache = false;
};

// When main() began: the zero of --timings.
const auto g_started = std::chrono::steady_clock::now();

std::optional<std::chrono::steady_clock::time_point> timings_since(const BuildFlags& flags)
{
    if (!flags.timings)
        return std::nullopt;
    return g_started;
}

std::string version_text()
{
    std::string out = "cachet " + cachet_version() + "\n";
    for (const auto& [library, version] : library_versions())
        out += "  " + library + " " + version + "\n";
    out.pop_back();
    return out;
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

Config make_config(const BuildFlags& flags)
{
    Config config;
    config.source = flags.source;
    config.output = flags.output;
    config.jobs = flags.jobs;
    config.missing_references = flags.strict ? MissingReferences::fail : MissingReferences::warn;
    if (!flags.no_cache)
        config.cache_dir = flags.cache_dir;
    config.preset = load_preset(flags.preset);
    if (!flags.config_file.empty())
        apply_config_file(config.preset, flags.config_file);
    else if (fs::is_regular_file("cachet.toml"))
        apply_config_file(config.preset, "cachet.toml");
    return config;
}

int build(const BuildFlags& flags)
{
    const Config config = make_config(flags);
    if (flags.dry_run) {
        const ScanResult plan = plan_build(config);
        std::fputs((flags.json ? plan_json(plan, config) : plan_text(plan, config)).c_str(), stdout);
        return k_exit_ok;
    }
    // glibc gives each thread its own malloc arena, and the large pixel buffers freed in one
    // arena are not reused by another: two arenas cut peak RSS on the corpus' 14.7 MP photos
    // from 903 to 787 MiB at -j 2, and ran faster (bench/corpus-build.sh). An explicit
    // MALLOC_ARENA_MAX in the environment wins.
    if (std::getenv("MALLOC_ARENA_MAX") == nullptr)
        mallopt(M_ARENA_MAX, 2);
    const Verbosity verbosity = flags.quiet              ? Verbosity::quiet
                                : isatty(STDERR_FILENO) ? Verbosity::progress
                                                        : Verbosity::lines;
    ConsoleReporter reporter(verbosity, timings_since(flags));
    std::atomic<bool> cancel{false};
    RunOptions options = run_options();
    options.teardown = Teardown::leave; // cachet build exits right after run()
    options.cancel = &cancel;
    Summary summary;
    {
        // Ctrl-C: the workers stop, temporary files go, the previous manifest stays; exit 130.
        const SignalStop signals([&] { cancel = true; });
        summary = run(config, reporter, options);
    }
    reporter.finish();
    if (flags.json)
        std::fputs(summary_json(summary).c_str(), stdout);
    if (!flags.quiet)
        std::fputs(summary_text(summary).c_str(), stderr);
    if (!summary.failures.empty())
        return k_exit_assets_failed;
    const auto over = std::count_if(summary.budgets.begin(), summary.budgets.end(),
                                    [](const BudgetResult& b) { return b.over(); });
    if (over > 0) {
        std::fprintf(stderr, "cachet: %s: %ld budget%s exceeded\n", flags.budgets == "warn" ? "warning" : "error",
                     static_cast<long>(over), over == 1 ? "" : "s");
        if (flags.budgets != "warn")
            return k_exit_over_budget;
    }
    return k_exit_ok;
}

struct PictureFlags {
    std::string source;
    std::string manifest = "cachet-manifest.json";
    PictureOptions options;
};

int picture(const PictureFlags& flags)
{
    for (const auto& record : read_manifest(flags.manifest))
        if (record.source == flags.source) {
            std::fputs(picture_element(record, flags.options).c_str(), stdout);
            return k_exit_ok;
        }
    throw Error(ErrorKind::usage, flags.manifest + " has no source \"" + flags.source + "\"");
}

struct ExportFlags {
    std::string format;
    std::string manifest = "cachet-manifest.json";
    std::string output; // "" or "-": standard output
    std::string out_dir;
    ExportOptions options;
};

int export_command(ExportFlags flags)
{
    const auto records = read_manifest(flags.manifest);
    const ExportFormat format = export_format_named(flags.format);
    // OUT is the manifest's folder unless given; the manifest's own URL is its path in OUT.
    const fs::path manifest = fs::absolute(flags.manifest).lexically_normal();
    const fs::path out = flags.out_dir.empty() ? manifest.parent_path() : fs::absolute(flags.out_dir).lexically_normal();
    const fs::path relative = manifest.lexically_relative(out);
    flags.options.manifest_path = relative.empty() || *relative.begin() == ".." ? manifest.filename().generic_string()
                                                                               : relative.generic_string();
    flags.options.out_dir = flags.out_dir.empty() ? fs::path(flags.manifest).parent_path().string() : flags.out_dir;
    if (flags.options.out_dir.empty())
        flags.options.out_dir = ".";
    const std::string text = export_manifest(format, records, flags.options);
    if (flags.output.empty() || flags.output == "-") {
        std::fputs(text.c_str(), stdout);
        return k_exit_ok;
    }
    write_file_atomic(flags.output, as_bytes(text));
    if (format == ExportFormat::s3)
        fs::permissions(flags.output, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                        fs::perm_options::add);
    return k_exit_ok;
}

struct CleanFlags {
    std::string output;
    std::string manifest = "cachet-manifest.json";
    int keep = 2;
    std::string age = "1h";
};

int clean(const CleanFlags& flags)
{
    const auto age = std::chrono::seconds(parse_duration(flags.age));
    const CleanResult r = clean_output(flags.output, flags.manifest, flags.keep, age);
    std::printf("cachet clean: removed %llu files; %zu earlier build%s kept\n",
                static_cast<unsigned long long>(r.removed), r.generations, r.generations == 1 ? "" : "s");
    return k_exit_ok;
}

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
    return k_exit_ok;
}

int cache_gc(const CacheFlags& flags)
{
    const std::uint64_t max = parse_size(flags.max_size);
    if (!fs::is_directory(flags.cache_dir))
        throw Error(ErrorKind::usage, flags.cache_dir + ": no cache folder there");
    const Cache cache(flags.cache_dir);
    const GcResult r = cache.gc(max);
    std::printf("cache gc: %s -> %s (limit %s); removed %llu entries and %llu blobs\n",
                human_bytes(r.bytes_before).c_str(), human_bytes(r.bytes_after).c_str(), human_bytes(max).c_str(),
                static_cast<unsigned long long>(r.entries_removed), static_cast<unsigned long long>(r.blobs_removed));
    return k_exit_ok;
}

struct WatchFlags {
    BuildFlags build;
    unsigned debounce_ms = 50;
    bool poll = false;
};

// The one line a watch session prints per rebuild.
class WatchPrinter final : public WatchEvents {
public:
    explicit WatchPrinter(bool quiet) : m_quiet(quiet) {}
    void rebuilt(const Rebuild& r) override
    {
        if (m_quiet)
            return;
        std::uint64_t built = 0, cached = 0, failed = 0;
        for (const auto& [kind, t] : r.summary.kinds) {
            built += t.assets - t.failed - t.cached;
            cached += t.cached;
            failed += t.failed;
        }
        std::string what;
        if (r.changed.empty()) {
            what = r.rescan ? "checked everything" : "built";
        } else {
            what = std::to_string(r.changed.size()) + " changed (";
            for (std::size_t i = 0; i < r.changed.size() && i < 3; ++i)
                what += (i ? ", " : "") + r.changed[i];
            what += r.changed.size() > 3 ? ", ...)" : ")";
            if (r.rescan)
                what += " + rescan";
        }
        std::fprintf(stderr, "cachet watch: %s: %llu built, %llu unchanged, %llu failed%s, %.0f ms\n", what.c_str(),
                     static_cast<unsigned long long>(built), static_cast<unsigned long long>(cached),
                     static_cast<unsigned long long>(failed),
                     r.summary.removed ? (", " + std::to_string(r.summary.removed) + " removed").c_str() : "",
                     r.summary.seconds * 1000);
        for (const auto& b : r.summary.budgets)
            if (b.over())
                std::fprintf(stderr, "cachet watch: over budget: %s: %s of %s\n", b.name.c_str(),
                             human_bytes(b.bytes).c_str(), human_bytes(b.max_bytes).c_str());
    }
    void build_error(std::string_view message) override
    {
        std::fprintf(stderr, "cachet watch: error: %.*s\n", static_cast<int>(message.size()), message.data());
    }
    void notice(std::string_view message) override
    {
        std::fprintf(stderr, "cachet watch: %.*s\n", static_cast<int>(message.size()), message.data());
    }

private:
    bool m_quiet;
};

int watch(const WatchFlags& flags)
{
    Config config = make_config(flags.build);
    WatchOptions options;
    options.run = run_options();
    options.run.teardown = Teardown::free; // run() runs again and again
    // Development, not a deploy: no page of an earlier build needs its assets kept, and OUT
    // stays what `cachet build` makes of SRC from scratch.
    config.preset.output.keep = 0;
    config.preset.output.keep_age_s = 0;
    // Every file is still renamed into place whole; waiting for the disk is what a deploy
    // needs, and it was a third of a rebuild's latency.
    options.run.sync = SyncWrites::no;
    if (const char* limit = std::getenv("CACHET_TEST_INOTIFY_LIMIT")) // a test hook: pretend the limit is this low
        options.inotify_limit = std::strtoul(limit, nullptr, 10);
    if (std::getenv("MALLOC_ARENA_MAX") == nullptr)
        mallopt(M_ARENA_MAX, 2);
    options.debounce = std::chrono::milliseconds(flags.debounce_ms);
    options.poll = flags.poll;
    Watcher watcher(std::move(config), options);
    ConsoleReporter reporter(flags.build.quiet ? Verbosity::quiet : Verbosity::watch, timings_since(flags.build));
    WatchPrinter printer(flags.build.quiet);
    {
        const SignalStop signals([&] { watcher.stop(); });
        watcher.run(reporter, printer);
    }
    if (!flags.build.quiet)
        std::fprintf(stderr, "cachet watch: stopped\n");
    return k_exit_interrupted;
}

int list_presets()
{
    for (const auto& p : embedded_presets()) {
        const Preset preset = load_preset(p.name);
        std::printf("%-14s %s\n", std::string(p.name).c_str(), preset.description.c_str());
    }
    return k_exit_ok;
}

} // namespace

int main(int argc, char** argv)
{
    CLI::App app{"cachet: turns a site's public/ tree into a deployable, fingerprinted, precompressed tree "
                 "with a manifest"};
    app.set_version_flag("--version", version_text);
    app.require_subcommand(1);

    BuildFlags flags;
    CLI::App* build_cmd = app.add_subcommand("build", "Build SRC into OUT and write the manifest");
    build_cmd->add_option("SRC", flags.source, "Source folder (the site's public/ tree)")->required();
    build_cmd->add_option("-o,--output", flags.output, "Output folder (must not be inside SRC)")->required();
    build_cmd->add_option("--preset", flags.preset, "Preset name (see `cachet presets`) or path to a TOML file")
        ->capture_default_str();
    build_cmd->add_option("--config", flags.config_file,
                          "TOML file whose keys override the preset (default: ./cachet.toml if present)");
    build_cmd->add_option("-j,--jobs", flags.jobs, "Parallel jobs, encoder threads included (default: cores)")
        ->check(CLI::Range(1u, 1024u));
    build_cmd->add_flag("--dry-run", flags.dry_run, "Print the plan and write nothing");
    build_cmd->add_flag("--json", flags.json, "Print a machine-readable summary on stdout");
    build_cmd->add_flag("-q,--quiet", flags.quiet, "Print errors only");
    build_cmd->add_flag("--timings", flags.timings, "Print when each step of the build ends, in ms since start");
    build_cmd->add_option("--cache-dir", flags.cache_dir,
                          "Build cache folder; keep it between CI runs (default: $CACHET_CACHE_DIR or .cachet-cache)")
        ->capture_default_str();
    build_cmd->add_flag("--no-cache", flags.no_cache, "Build everything and keep no cache");
    build_cmd->add_option("--budgets", flags.budgets, "What an exceeded [[budgets]] limit does: error (exit 4) or warn")
        ->check(CLI::IsMember({"error", "warn"}))
        ->capture_default_str();
    build_cmd->add_flag("--strict", flags.strict,
                        "A reference to a file that is not in SRC (or failed) fails the file that makes it");

    WatchFlags watch_flags;
    watch_flags.build.preset = "fast";
    CLI::App* watch_cmd =
        app.add_subcommand("watch", "Build SRC into OUT, then rebuild on every change until Ctrl-C");
    watch_cmd->add_option("SRC", watch_flags.build.source, "Source folder")->required();
    watch_cmd->add_option("-o,--output", watch_flags.build.output, "Output folder (must not be inside SRC)")
        ->required();
    watch_cmd->add_option("--preset", watch_flags.build.preset, "Preset name or path to a TOML file")
        ->capture_default_str();
    watch_cmd->add_option("--config", watch_flags.build.config_file,
                          "TOML file whose keys override the preset (default: ./cachet.toml if present)");
    watch_cmd->add_option("-j,--jobs", watch_flags.build.jobs, "Parallel jobs (default: cores)")
        ->check(CLI::Range(1u, 1024u));
    watch_cmd->add_option("--cache-dir", watch_flags.build.cache_dir, "Build cache folder")->capture_default_str();
    watch_cmd->add_option("--debounce", watch_flags.debounce_ms,
                          "Milliseconds of quiet after a change before rebuilding")
        ->capture_default_str()
        ->check(CLI::Range(0u, 60000u));
    watch_cmd->add_flag("--poll", watch_flags.poll, "Poll every 500 ms instead of using inotify");
    watch_cmd->add_flag("-q,--quiet", watch_flags.build.quiet, "Print errors only");
    watch_cmd->add_flag("--timings", watch_flags.build.timings, "Print when each step of each rebuild ends");
    watch_cmd->add_flag("--strict", watch_flags.build.strict,
                        "A reference to a file that is not in SRC (or failed) fails the file that makes it");

    CacheFlags cache_flags;
    CLI::App* cache_cmd = app.add_subcommand("cache", "Inspect or trim the build cache");
    cache_cmd->require_subcommand(1);
    CLI::App* stats_cmd = cache_cmd->add_subcommand("stats", "Entries, size and the last build's hit rate");
    stats_cmd->add_option("--cache-dir", cache_flags.cache_dir, "Build cache folder")->capture_default_str();
    stats_cmd->add_flag("--json", cache_flags.json, "Print JSON");
    CLI::App* gc_cmd = cache_cmd->add_subcommand("gc", "Delete least recently used entries down to a size");
    gc_cmd->add_option("--cache-dir", cache_flags.cache_dir, "Build cache folder")->capture_default_str();
    gc_cmd->add_option("--max-size", cache_flags.max_size, "Size to trim to: 500M, 2G, 1048576...")->required();

    PictureFlags picture_flags;
    CLI::App* picture_cmd = app.add_subcommand("picture", "Print a <picture> element for a built image");
    picture_cmd->add_option("PATH", picture_flags.source, "Source path of the image, as in the manifest")->required();
    picture_cmd->add_option("--manifest", picture_flags.manifest, "The manifest to read")->capture_default_str();
    picture_cmd->add_option("--sizes", picture_flags.options.sizes, "The sizes attribute")->capture_default_str();
    picture_cmd->add_option("--alt", picture_flags.options.alt, "The alt text");
    picture_cmd->add_option("--class", picture_flags.options.css_class, "The class of the <img>");
    picture_cmd->add_option("--base", picture_flags.options.base, "Prefix of every URL (where OUT is served)")
        ->capture_default_str();

    ExportFlags export_flags;
    CLI::App* export_cmd = app.add_subcommand(
        "export", "Write server, CDN or uploader configuration from a manifest: headers (_headers for Netlify and "
                  "Cloudflare Pages), nginx, caddy, s3 (an aws CLI upload script), sw-precache (Workbox list)");
    export_cmd->add_option("FORMAT", export_flags.format, "headers, nginx, caddy, s3 or sw-precache")->required();
    export_cmd->add_option("--manifest", export_flags.manifest, "The manifest to read")->capture_default_str();
    export_cmd->add_option("-o,--output", export_flags.output, "File to write (default: standard output)");
    export_cmd->add_option("--out", export_flags.out_dir, "The output folder the manifest describes (default: the "
                                                         "manifest's folder)");
    export_cmd->add_option("--base", export_flags.options.base, "headers, sw-precache: the URL path OUT is served at")
        ->capture_default_str();
    export_cmd->add_option("--precache", export_flags.options.precache, "sw-precache: globs of the outputs to list")
        ->capture_default_str();
    export_cmd->add_flag("--negotiate", export_flags.options.negotiate,
                         "nginx: serve the AVIF or WebP of a fallback image's size at its URL to browsers that accept it");
    export_cmd->add_option("--service-worker", export_flags.options.service_worker,
                           "Globs of service worker scripts (never precached, uploaded after pages)")
        ->capture_default_str();

    CleanFlags clean_flags;
    CLI::App* clean_cmd = app.add_subcommand(
        "clean", "Delete the outputs of earlier builds that OUT no longer needs to keep (never what the manifest names)");
    clean_cmd->add_option("OUT", clean_flags.output, "The output folder")->required();
    clean_cmd->add_option("--keep", clean_flags.keep, "Earlier builds kept whole")
        ->capture_default_str()
        ->check(CLI::Range(0, 1000));
    clean_cmd->add_option("--age", clean_flags.age, "Files of older builds stay until this old (30m, 1h, 2d, seconds)")
        ->capture_default_str();
    clean_cmd->add_option("--manifest", clean_flags.manifest, "The manifest's name in OUT")->capture_default_str();

    app.add_subcommand("presets", "List the built-in presets");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? k_exit_ok : k_exit_usage;
    }

    try {
        if (build_cmd->parsed())
            return build(flags);
        if (picture_cmd->parsed())
            return picture(picture_flags);
        if (export_cmd->parsed())
            return export_command(export_flags);
        if (clean_cmd->parsed())
            return clean(clean_flags);
        if (watch_cmd->parsed())
            return watch(watch_flags);
        if (stats_cmd->parsed())
            return cache_stats(cache_flags);
        if (gc_cmd->parsed())
            return cache_gc(cache_flags);
        return list_presets();
    } catch (const Error& e) {
        std::fprintf(stderr, "cachet: error: %s\n", e.what());
        const int code = exit_code_for(e.kind());
        if (flags.json)
            std::fputs((nlohmann::json({{"status", "error"}, {"error", e.what()}, {"exit_code", code}}).dump(2) + "\n")
                           .c_str(),
                       stdout);
        return code;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cachet: internal error: %s\n", e.what());
        return k_exit_internal;
    }
}

} // namespace cachet::cli
