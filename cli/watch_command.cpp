#include "cli/common.hpp"
#include "cli/huge_pages.hpp"
#include "cli/reporter.hpp"
#include "cli/terminal.hpp"
#include "pipeline/watch/watch.hpp"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>

namespace cachet::cli {
namespace {

struct WatchFlags {
    BuildFlags build;
    unsigned debounce_ms = 10;
    bool poll = false;
};

// "14:02:31 cachet watch:", the head of every line of a session: when it happened, local time.
std::string stamp()
{
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%H:%M:%S", &local);
    return std::string(buffer) + " cachet watch:";
}

// "3 changed (a.css, b.css, c.png)", at most three names.
std::string changes(const std::vector<std::string>& changed)
{
    std::string what = std::to_string(changed.size()) + " changed (";
    for (std::size_t i = 0; i < changed.size() && i < 3; ++i)
        what += (i ? ", " : "") + printable(changed[i], 200);
    return what + (changed.size() > 3 ? ", ...)" : ")");
}

// The lines a watch session prints: one when a rebuild starts, one when it ends.
class WatchPrinter final : public WatchEvents {
public:
    explicit WatchPrinter(bool quiet) : m_quiet(quiet) {}
    void rebuilding(const std::vector<std::string>& changed, bool rescan) override
    {
        if (m_quiet)
            return;
        std::fprintf(stderr, "%s %s\n", stamp().c_str(),
                     changed.empty() ? (rescan ? "building, every source looked at" : "building")
                                     : ("rebuilding: " + changes(changed) + (rescan ? " + rescan" : "")).c_str());
    }
    void rebuilt(const Rebuild& r) override
    {
        if (m_quiet)
            return;
        std::uint64_t built = 0, cached = 0, failed = 0;
        for (const auto& [kind, t] : r.summary.kinds) {
            built += t.built();
            cached += t.cached;
            failed += t.failed;
        }
        std::string what;
        if (r.changed.empty())
            what = r.rescan ? "checked everything" : "built";
        else
            what = changes(r.changed) + (r.rescan ? " + rescan" : "");
        std::fprintf(stderr, "%s %s: %llu built, %llu unchanged, %llu failed%s, %.0f ms\n", stamp().c_str(),
                     what.c_str(), static_cast<unsigned long long>(built), static_cast<unsigned long long>(cached),
                     static_cast<unsigned long long>(failed),
                     r.summary.removed ? (", " + std::to_string(r.summary.removed) + " removed").c_str() : "",
                     r.summary.seconds * 1000);
        for (const auto& b : r.summary.budgets)
            if (b.over())
                std::fprintf(stderr, "%s over budget: %s: %s of %s\n", stamp().c_str(), b.name.c_str(),
                             human_bytes(b.bytes).c_str(), human_bytes(b.max_bytes).c_str());
    }
    void build_error(std::string_view message) override
    {
        std::fprintf(stderr, "%s %s %s\n", stamp().c_str(), terminal::paint("error:", terminal::Tone::error).c_str(),
                     printable(message, 2000).c_str());
    }
    void notice(std::string_view message) override
    {
        std::fprintf(stderr, "%s %s\n", stamp().c_str(), printable(message, 2000).c_str());
    }

private:
    bool m_quiet;
};

// The configuration of a watch session: the build's, made for development.
Config watch_config(const WatchFlags& flags)
{
    Config config = make_config(flags.build);
    // Development, not a deploy: no page of an earlier build needs its assets kept, and OUT
    // stays what `cachet build` makes of SRC from scratch.
    config.preset.output.keep = 0;
    config.preset.output.keep_age_s = 0;
    // A developer's edits are not a team's outputs: a watch session only reads the remote cache.
    config.preset.cache.read_only = true;
    return config;
}

int watch(const WatchFlags& flags)
{
    Config config = watch_config(flags); // (an invalid configuration stops the session before it starts)
    use_huge_pages();                    // (returns only if it does not start cachet again)
    WatchOptions options;
    options.reload = [&flags] { return watch_config(flags); };
    options.run = run_options();
    options.run.teardown = Teardown::free; // run() runs again and again
    // Every file is still renamed into place whole; waiting for the disk is what a deploy
    // needs, and it was a third of a rebuild's latency.
    options.run.sync = SyncWrites::no;
    if (const char* limit = std::getenv("CACHET_TEST_INOTIFY_LIMIT")) // a test hook: pretend the limit is this low
        options.inotify_limit = std::strtoul(limit, nullptr, 10);
    limit_malloc_arenas();
    keep_freed_memory();
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
        std::fprintf(stderr, "%s stopped\n", stamp().c_str());
    return k_exit_interrupted;
}

} // namespace

Command add_watch_command(CLI::App& app)
{
    auto flags = std::make_shared<WatchFlags>();
    flags->build.preset = "fast";
    CLI::App* command = app.add_subcommand("watch", "Build SRC into OUT, then rebuild on every change until Ctrl-C");
    add_build_flags(*command, flags->build);
    command->add_option("--debounce", flags->debounce_ms, "Milliseconds of quiet after a change before rebuilding")
        ->capture_default_str()
        ->check(CLI::Range(0u, 60000u))
        ->option_text("<MS>");
    command->add_flag("--poll", flags->poll, "Poll every 500 ms instead of using inotify");
    command->footer("Examples:\n"
                    "  cachet watch public -o dist                    rebuild on every save (preset fast)\n"
                    "  cachet watch public -o dist --preset default   the production encoders\n"
                    "  cachet watch public -o dist --poll             network and container file systems");
    return Command{command, [flags] { return watch(*flags); }};
}

} // namespace cachet::cli
