#include "cli/common.hpp"
#include "cli/reporter.hpp"
#include "pipeline/watch/watch.hpp"

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace cachet::cli {
namespace {

struct WatchFlags {
    BuildFlags build;
    unsigned debounce_ms = 10;
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
            built += t.built();
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
    // A developer's edits are not a team's outputs: a watch session only reads the remote cache.
    config.preset.cache.read_only = true;
    if (const char* limit = std::getenv("CACHET_TEST_INOTIFY_LIMIT")) // a test hook: pretend the limit is this low
        options.inotify_limit = std::strtoul(limit, nullptr, 10);
    limit_malloc_arenas();
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

} // namespace

Command add_watch_command(CLI::App& app)
{
    auto flags = std::make_shared<WatchFlags>();
    flags->build.preset = "fast";
    CLI::App* command = app.add_subcommand("watch", "Build SRC into OUT, then rebuild on every change until Ctrl-C");
    add_build_flags(*command, flags->build);
    command->add_option("--debounce", flags->debounce_ms, "Milliseconds of quiet after a change before rebuilding")
        ->capture_default_str()
        ->check(CLI::Range(0u, 60000u));
    command->add_flag("--poll", flags->poll, "Poll every 500 ms instead of using inotify");
    return Command{command, [flags] { return watch(*flags); }};
}

} // namespace cachet::cli
