#pragma once
// What the commands of cli/ share: the build flags and their registration, the Config and
// RunOptions they make, signals, exit codes.
#include "cli/cli.hpp"
#include "pipeline/build/run.hpp"
#include "pipeline/config/config.hpp"
#include "pipeline/model/error.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <functional>
#include <optional>
#include <poll.h>
#include <pthread.h>
#include <string>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace cachet::cli {

// $CACHET_CACHE_DIR, else $XDG_CACHE_HOME/cachet, else $HOME/.cache/cachet (else, with no home,
// .cachet-cache in the working directory).
std::string default_cache_dir();

// A subcommand as main() runs it: its parser, and what runs when it was given.
struct Command {
    CLI::App* app = nullptr;
    std::function<int()> run;
    const bool* json = nullptr; // --json, if the command has it: errors are then printed as JSON too
};

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
    bool preset_given = false; // --preset was on the command line (it wins over cachet.toml's)
    std::string config_file;
    unsigned jobs = std::max(1u, std::thread::hardware_concurrency());
    bool dry_run = false;
    bool json = false;
    bool quiet = false;
    bool verbose = false; // build: the table of every source after the build
    bool timings = false;
    std::string budgets = "error";
    bool strict = false;
    std::string cache_dir = default_cache_dir();
    bool no_cache = false;
    std::string memory;                    // "": the preset's [build] memory
    std::vector<std::string> remote_cache; // --remote-cache (empty: $CACHET_REMOTE_CACHE, then [cache] remote)
    bool no_remote_cache = false;
    bool remote_read_only = false;
    std::string remote_timeout;
};

// Registers on command the flags `cachet build` and `cachet watch` share: SRC, -o, --preset,
// --config, -j, --cache-dir, -q, --timings and --strict.
void add_build_flags(CLI::App& command, BuildFlags& flags);

// When each step of a build ended, from the start of main(), if --timings.
std::optional<std::chrono::steady_clock::time_point> timings_since(const BuildFlags& flags);

// The process exit code for an error of kind.
int exit_code_for(ErrorKind kind);

// The process policy of a build, as far as the environment sets it.
RunOptions run_options();

// The build's configuration: the preset, then --config or ./cachet.toml on top.
Config make_config(const BuildFlags& flags);

// Gives glibc two malloc arenas (unless MALLOC_ARENA_MAX says otherwise): large pixel buffers
// freed in one arena are not reused by another.
void limit_malloc_arenas();
// For a process that builds again and again (watch): what a rebuild frees is kept for the next
// rather than given back to the kernel, which zeroes every page again on its next touch.
void keep_freed_memory();

// The commands, each in cli/<name>_command.cpp.
Command add_build_command(CLI::App& app);
Command add_watch_command(CLI::App& app);
std::vector<Command> add_cache_commands(CLI::App& app);
std::vector<Command> add_manifest_commands(CLI::App& app); // picture, export, clean
std::vector<Command> add_settings_commands(CLI::App& app); // presets, config

} // namespace cachet::cli
