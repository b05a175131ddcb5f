#pragma once
#include "pipeline/build/run.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace cachet {

struct WatchOptions {
    // Quiet time after the last event before a rebuild: enough for an editor's save (a temporary
    // file renamed over the original) or a checkout to come as one burst; a file still open for
    // writing is waited for besides (its close event, or settle).
    std::chrono::milliseconds debounce{10};
    bool poll = false; // poll instead of inotify
    std::chrono::milliseconds poll_interval{500};
    std::chrono::milliseconds settle{1000}; // a file written without being closed counts as done
                                            // once its size and mtime stay the same this long
    std::size_t inotify_limit = 0;          // at most this many inotify watches (0: the kernel's limit)
    RunOptions run;                         // how each build runs (its cancel flag is the session's)
    // The configuration again, read afresh, when the configuration file (Config::config_file,
    // else ./cachet.toml) is written, created or removed; null: the file is not watched. What
    // it throws is reported by WatchEvents::build_error and the session keeps its settings.
    std::function<Config()> reload;
};

// One rebuild of a watch session.
struct Rebuild {
    std::vector<std::string> changed; // source paths the events named, sorted (may be empty after a rescan)
    bool rescan = false;              // events were lost (queue overflow) or polling: the whole tree was checked
    Summary summary;
};

// What a watch session tells the outside world besides each build's assets.
class WatchEvents {
public:
    virtual ~WatchEvents() = default;
    // A rebuild starts for these changes (not for a poll, which may find none).
    virtual void rebuilding(const std::vector<std::string>& /*changed*/, bool /*rescan*/) {}
    virtual void rebuilt(const Rebuild& rebuild) = 0;
    // A build that could not run at all (bad folder, unwritable OUT...): the session goes on.
    virtual void build_error(std::string_view message) = 0;
    virtual void notice(std::string_view message) = 0; // watching, falling back to polling...
};

// `cachet watch`: an incremental build of config, then a rebuild after every burst of changes
// in SRC, until stop is set (the caller also calls wake() so the session notices at once).
// Each rebuild publishes a complete manifest atomically, as run() does; a rebuild interrupted
// by stop publishes nothing. Throws Error for a problem with SRC itself at the start.
class Watcher {
public:
    Watcher(Config config, WatchOptions options);
    ~Watcher();
    Watcher(const Watcher&) = delete;
    Watcher& operator=(const Watcher&) = delete;

    void run(Reporter& reporter, WatchEvents& events);
    // Ends run() soon; safe from any thread.
    void stop() noexcept;

private:
    Config m_config;
    WatchOptions m_options;
    std::atomic<bool> m_stop{false};
    int m_wake_fd = -1;
};

} // namespace cachet
