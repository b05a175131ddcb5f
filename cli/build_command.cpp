#include "cli/common.hpp"
#include "cli/huge_pages.hpp"
#include "cli/reporter.hpp"
#include "cli/terminal.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace cachet::cli {
namespace {

// "i/N" (1 <= i <= N <= 10000) as a Shard; throws Error(usage) naming where it came from.
Shard parse_shard(const std::string& text, const std::string& where)
{
    unsigned index = 0, count = 0;
    char rest = 0;
    if (std::sscanf(text.c_str(), "%u/%u%c", &index, &count, &rest) != 2 || count < 1 || count > 10000 || index < 1 ||
        index > count || text.find_first_not_of("0123456789/") != std::string::npos)
        throw Error(ErrorKind::usage,
                    where + ": \"" + printable(text) + "\" is not a shard: i/N, with i from 1 to N (N at most 10000)");
    return Shard{index, count};
}

// The shard from --shard, else $CACHET_SHARD, else a Kubernetes Indexed Job's
// $JOB_COMPLETION_INDEX (from 0) of $CACHET_SHARD_COUNT.
std::optional<Shard> shard_from(const std::string& flag)
{
    if (!flag.empty())
        return parse_shard(flag, "--shard");
    if (const char* env = std::getenv("CACHET_SHARD"); env && *env)
        return parse_shard(env, "CACHET_SHARD");
    const char* index = std::getenv("JOB_COMPLETION_INDEX");
    const char* count = std::getenv("CACHET_SHARD_COUNT");
    if (index && *index && count && *count) {
        const std::string text = std::string(index) + "/" + count;
        Shard shard = parse_shard(std::to_string(std::strtoul(index, nullptr, 10) + 1) + "/" + count,
                                  "JOB_COMPLETION_INDEX/CACHET_SHARD_COUNT (" + text + ")");
        if (std::string(index).find_first_not_of("0123456789") != std::string::npos)
            throw Error(ErrorKind::usage, "JOB_COMPLETION_INDEX: \"" + printable(index) + "\" is not a number");
        return shard;
    }
    return std::nullopt;
}

int build(const BuildFlags& flags, const std::string& shard_flag)
{
    Config config = make_config(flags);
    config.shard = shard_from(shard_flag);
    if (config.shard)
        config.preset.output.manifest = shard_manifest_name(config.preset.output.manifest, *config.shard);
    if (!flags.dry_run)
        use_huge_pages(); // (returns only if it does not start cachet again)
    if (flags.dry_run) {
        const ScanResult plan = plan_build(config);
        std::fputs((flags.json ? plan_json(plan, config) : plan_text(plan, config)).c_str(), stdout);
        return k_exit_ok;
    }
    if (!flags.quiet) // what this build is, before anything else it prints
        std::fprintf(stderr, "cachet: building %s into %s, preset %s%s\n", printable(config.source.string()).c_str(),
                     printable(config.output.string()).c_str(), printable(config.preset.name).c_str(),
                     config.config_file.empty() ? "" : (", config " + printable(config.config_file.string())).c_str());
    limit_malloc_arenas();
    const Verbosity verbosity = flags.quiet               ? Verbosity::quiet
                                : terminal::interactive() ? Verbosity::progress
                                                          : Verbosity::lines;
    ConsoleReporter reporter(verbosity, timings_since(flags),
                             flags.verbose && !flags.quiet ? ConsoleReporter::Table::yes : ConsoleReporter::Table::no);
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
        std::fputs(terminal::wrapped(summary_text(summary, flags.verbose), terminal::columns()).c_str(), stderr);
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
    auto shard = std::make_shared<std::string>();
    CLI::App* command = app.add_subcommand("build", "Build SRC into OUT and write the manifest");
    add_build_flags(*command, *flags);
    command->add_flag("--dry-run", flags->dry_run, "Print the plan and write nothing");
    command->add_flag("--json", flags->json, "Print a machine-readable summary on stdout");
    command->add_flag("--no-cache", flags->no_cache, "Build everything and keep no cache");
    command->add_flag("-v,--verbose", flags->verbose,
                      "After the build, a table of every source (its size, what visitors download, its files) "
                      "and the bytes written per format");
    command->add_option("--budgets", flags->budgets, "What an exceeded [[budgets]] limit does: error (exit 4) or warn")
        ->check(CLI::IsMember({"error", "warn"}))
        ->capture_default_str()
        ->option_text("<error|warn>");
    command
        ->add_option("--shard", *shard,
                     "Build only share i of N of the images (i/N, from 1) into the caches, with a partial "
                     "manifest; a build without --shard then finds them done (also $CACHET_SHARD, or "
                     "$JOB_COMPLETION_INDEX with $CACHET_SHARD_COUNT)")
        ->option_text("<i/N>");
    command->footer("Examples:\n"
                    "  cachet build public -o dist                    build with the default preset\n"
                    "  cachet build public -o dist --preset fast -v   quicker encoders, a table of every file\n"
                    "  cachet build public -o dist --json > report.json\n"
                    "  cachet build public -o dist --remote-cache https://cache.example.com/cachet\n"
                    "  cachet build public -o dist --dry-run          what would be built, nothing written");
    return Command{command, [flags, shard] { return build(*flags, *shard); }, &flags->json};
}

} // namespace cachet::cli
