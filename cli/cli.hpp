#pragma once

namespace cachet::cli {

// Exit codes, documented in README.md.
enum ExitCode : int {
    k_exit_ok = 0,
    k_exit_assets_failed = 1,
    k_exit_usage = 2,
    k_exit_io = 3,
    k_exit_over_budget = 4, // everything built and published, but a [[budgets]] limit is exceeded
    k_exit_internal = 70,
    k_exit_install = 72,      // cachet's own files are missing or mismatched (sysexits' EX_OSFILE)
    k_exit_interrupted = 130, // SIGINT or SIGTERM: stopped cleanly, the previous manifest kept
};

// Parses argv, runs the command, prints through a reporter; returns the process exit code.
int main(int argc, char** argv);

} // namespace cachet::cli
