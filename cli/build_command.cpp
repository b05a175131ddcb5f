#include "cli/common.hpp"
#include "cli/reporter.hpp"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <unistd.h>

namespace cachet::cli {
namespace {

int build(const BuildFlags& flags)
{
    const Config config = make_config(flags);
    if (flags.dry_run) {
        const ScanResult plan = plan_build(config);
        std::fputs((flags.json ? plan_json(plan, config) : plan_text(plan, config)).c_str(), stdout);
        return k_exit_ok;
    }
    limit_malloc_arenas();
    const Verbosity verbosity = flags.quiet             ? Verbosity::quiet
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
    const auto over =
        std::count_if(summary.budgets.begin(), summary.budgets.end(), [](const BudgetResult& b) { return b.over(); });
    if (over > 0) {
        std::fprintf(stderr, "cachet: %s: %ld budget%s exceeded\n", flags.budgets == "warn" ? "warning" : "error",
                     static_cast<long>(over), over == 1 ? "" : "s");
        if (flags.budgets != "warn")
            return k_exit_over_budget;
    }
    return k_exit_ok;
}

} // namespace

Command add_build_command(CLI::App& app)
{
    auto flags = std::make_shared<BuildFlags>();
    CLI::App* command = app.add_subcommand("build", "Build SRC into OUT and write the manifest");
    add_build_flags(*command, *flags);
    command->add_flag("--dry-run", flags->dry_run, "Print the plan and write nothing");
    command->add_flag("--json", flags->json, "Print a machine-readable summary on stdout");
    command->add_flag("--no-cache", flags->no_cache, "Build everything and keep no cache");
    command->add_option("--budgets", flags->budgets, "What an exceeded [[budgets]] limit does: error (exit 4) or warn")
        ->check(CLI::IsMember({"error", "warn"}))
        ->capture_default_str();
    return Command{command, [flags] { return build(*flags); }, &flags->json};
}

} // namespace cachet::cli
