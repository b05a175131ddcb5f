#include "pipeline/watch/watch.hpp"

#include "pipeline/cache/cache.hpp"
#include "pipeline/fs/atomic_file.hpp"
#include "pipeline/fs/glob.hpp"
#include "pipeline/model/error.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <memory>
#include <poll.h>
#include <set>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>
#include <unordered_map>

namespace cachet {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Thrown when inotify runs out of watches (fs.inotify.max_user_watches).
struct WatchLimit {};

// Recursive inotify watches on SRC: one per folder, kept in step as folders come and go.
class Inotify {
public:
    // limit: at most this many watches (0: as many as the kernel gives).
    Inotify(fs::path root, const Preset& preset, std::string skip, std::size_t limit)
        : m_root(std::move(root)), m_preset(preset), m_skip(std::move(skip)), m_limit(limit)
    {
        m_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (m_fd < 0)
            throw io_error(m_root.string(), "cannot start inotify", errno);
    }
    ~Inotify() { close(m_fd); }
    Inotify(const Inotify&) = delete;
    Inotify& operator=(const Inotify&) = delete;

    int fd() const { return m_fd; }

    // Watches the folder at rel ("" for SRC, else "a/b/") and every folder below it; returns
    // the files found there (they may have appeared before the watch did). Throws WatchLimit.
    std::vector<std::string> add_tree(const std::string& rel)
    {
        std::vector<std::string> files;
        add(rel, files);
        return files;
    }

    // Forgets the folder at rel ("a/b/") and everything below it (moved out of the tree).
    void forget(const std::string& rel)
    {
        for (auto it = m_dirs.begin(); it != m_dirs.end();)
            if (it->second.starts_with(rel)) {
                inotify_rm_watch(m_fd, it->first);
                it = m_dirs.erase(it);
            } else {
                ++it;
            }
    }

    // The folder path ("" or "a/b/") a watch descriptor stands for, if still watched.
    const std::string* dir_of(int wd) const
    {
        const auto it = m_dirs.find(wd);
        return it == m_dirs.end() ? nullptr : &it->second;
    }
    void dropped(int wd) { m_dirs.erase(wd); }

    // True if events about rel (a file, or a folder as "a/b/") do not concern the build.
    bool ignored(const std::string& rel) const
    {
        const std::string name = rel.ends_with('/') ? rel.substr(0, rel.size() - 1) : rel;
        const auto slash = name.rfind('/');
        const std::string_view base =
            slash == std::string::npos ? std::string_view(name) : std::string_view(name).substr(slash + 1);
        return base.starts_with(k_temporary_prefix) || glob_match_any(m_preset.output.ignore, rel) ||
               (!m_skip.empty() && (name == m_skip || name.starts_with(m_skip + "/")));
    }

private:
    void add(const std::string& rel, std::vector<std::string>& files)
    {
        if (!rel.empty() && ignored(rel))
            return;
        if (m_limit && m_dirs.size() >= m_limit)
            throw WatchLimit{};
        const fs::path dir = rel.empty() ? m_root : m_root / rel;
        const int wd = inotify_add_watch(m_fd, dir.c_str(),
                                         IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB | IN_CREATE | IN_DELETE |
                                             IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR |
                                             IN_DONT_FOLLOW | IN_EXCL_UNLINK);
        if (wd < 0) {
            if (errno == ENOSPC)
                throw WatchLimit{};
            if (errno == ENOENT || errno == ENOTDIR)
                return; // gone already
            throw io_error(dir.string(), "cannot watch folder", errno);
        }
        m_dirs[wd] = rel;
        std::error_code ec;
        for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
            const std::string name = rel + it->path().filename().string();
            if (it->is_directory(ec) && !it->is_symlink(ec))
                add(name + "/", files);
            else if (!ignored(name))
                files.push_back(name);
        }
    }

    fs::path m_root;
    const Preset& m_preset;
    std::string m_skip; // the cache folder, relative to SRC, if inside it
    int m_fd = -1;
    std::size_t m_limit = 0;
    std::unordered_map<int, std::string> m_dirs;
};

struct Written {
    std::optional<FileStat> stat; // when last looked at
    Clock::time_point since;      // ... and since when it has been so
};

} // namespace

Watcher::Watcher(Config config, WatchOptions options) : m_config(std::move(config)), m_options(std::move(options))
{
    m_wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (m_wake_fd < 0)
        throw Error(ErrorKind::internal, "cannot create an eventfd");
    m_options.run.cancel = &m_stop;
}

Watcher::~Watcher()
{
    close(m_wake_fd);
}

void Watcher::stop() noexcept
{
    m_stop = true;
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = write(m_wake_fd, &one, sizeof one);
}

namespace {

// One `cachet watch` session: the first build, then a rebuild after every burst of changes.
class WatchSession {
public:
    WatchSession(const Config& config, const WatchOptions& options, const std::atomic<bool>& stop, int wake_fd,
                 Reporter& reporter, WatchEvents& events)
        : m_config(config), m_options(options), m_stop(stop), m_wake_fd(wake_fd), m_reporter(reporter),
          m_events(events), m_polling(options.poll), m_memory(std::make_unique<BuildMemory>())
    {
        check_folders(m_config);
        const std::vector<std::string> skipped = folders_to_skip(m_config);
        m_skip = skipped.empty() ? std::string() : skipped.front(); // the cache folder
        if (m_options.reload)
            m_config_file = fs::absolute(m_config.config_file.empty() ? fs::path("cachet.toml") : m_config.config_file);
    }

    ~WatchSession()
    {
        if (m_config_watch >= 0)
            close(m_config_watch);
    }
    WatchSession(const WatchSession&) = delete;
    WatchSession& operator=(const WatchSession&) = delete;

    void run()
    {
        start_watching();
        watch_config_file();
        m_events.rebuilding({}, true);
        build({}, true);
        while (!m_stop) {
            if (m_polling) {
                pollfd p{m_wake_fd, POLLIN, 0};
                ::poll(&p, 1, static_cast<int>(m_options.poll_interval.count()));
                if (m_stop)
                    break;
                if (!m_config_file.empty() && stat_file(m_config_file) != m_config_stat)
                    reload();
                build({}, true);
                continue;
            }
            const int timeout = wait_before_build();
            if (timeout == 0) {
                m_reporter.phase("quiet for the debounce");
                if (m_reload) {
                    reload();
                    if (m_dirty.empty() && !m_rescan)
                        continue; // an invalid configuration, and nothing else changed
                }
                std::vector<std::string> changed(m_dirty.begin(), m_dirty.end());
                const bool lost = m_rescan;
                m_dirty.clear();
                m_rescan = false;
                m_events.rebuilding(changed, lost);
                build(std::move(changed), lost);
                continue;
            }
            pollfd fds[3] = {
                {m_wake_fd, POLLIN, 0}, {m_inotify ? m_inotify->fd() : -1, POLLIN, 0}, {m_config_watch, POLLIN, 0}};
            if (::poll(fds, 3, timeout) < 0 && errno != EINTR)
                throw io_error(m_config.source.string(), "cannot wait for changes", errno);
            if (m_stop)
                break;
            if (fds[1].revents & POLLIN)
                read_events();
            if (fds[2].revents & POLLIN)
                read_config_events();
        }
    }

private:
    // Recursive inotify watches on SRC, or polling when asked or when inotify has no watches left.
    void start_watching()
    {
        if (!m_polling) {
            try {
                m_inotify.emplace(m_config.source, m_config.preset, m_skip, m_options.inotify_limit);
                m_inotify->add_tree("");
            } catch (const WatchLimit&) {
                fall_back_to_polling();
            }
        }
        if (!m_polling)
            m_events.notice("watching " + m_config.source.string() + " (inotify)");
        else if (m_options.poll)
            m_events.notice("watching " + m_config.source.string() + " (polling every " +
                            std::to_string(m_options.poll_interval.count()) + " ms)");
    }

    void fall_back_to_polling()
    {
        m_inotify.reset();
        m_polling = true;
        m_events.notice("the inotify watch limit is reached (fs.inotify.max_user_watches); polling every " +
                        std::to_string(m_options.poll_interval.count()) +
                        " ms instead. To watch, raise it: sysctl fs.inotify.max_user_watches=524288");
    }

    // An inotify watch on the configuration file's folder, for the file's name only.
    void watch_config_file()
    {
        if (m_config_file.empty())
            return;
        m_config_stat = stat_file(m_config_file);
        if (m_polling)
            return;
        m_config_watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (m_config_watch >= 0 &&
            inotify_add_watch(m_config_watch, m_config_file.parent_path().c_str(),
                              IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ONLYDIR) < 0) {
            close(m_config_watch);
            m_config_watch = -1;
        }
    }

    void read_config_events()
    {
        const std::string name = m_config_file.filename().string();
        for (;;) {
            const ssize_t n = read(m_config_watch, m_buffer, sizeof m_buffer);
            if (n <= 0)
                break;
            for (char* p = m_buffer; p < m_buffer + n;) {
                const auto* ev = reinterpret_cast<const inotify_event*>(p);
                if (ev->len > 0 && name == ev->name) {
                    m_reload = true;
                    m_last_event = Clock::now(); // the debounce applies: an editor's save is a burst
                }
                p += sizeof(inotify_event) + ev->len;
            }
        }
    }

    // The configuration file changed: its settings, afresh, and everything looked at again;
    // an invalid file is reported at once and the session keeps what it had.
    void reload()
    {
        m_reload = false;
        m_config_stat = stat_file(m_config_file);
        try {
            Config fresh = m_options.reload();
            check_folders(fresh);
            m_config = std::move(fresh);
        } catch (const Error& e) {
            m_events.build_error(std::string(e.what()) +
                                 " (the watch keeps its previous settings until this is fixed)");
            return;
        }
        m_events.notice("the configuration changed (" + m_config_file.string() +
                        "): settings reloaded, every "
                        "source looked at again");
        m_memory = std::make_unique<BuildMemory>(); // what it kept was planned with the old settings
        const std::vector<std::string> skipped = folders_to_skip(m_config);
        m_skip = skipped.empty() ? std::string() : skipped.front();
        if (m_inotify) { // the ignore globs may have changed
            m_inotify.reset();
            try {
                m_inotify.emplace(m_config.source, m_config.preset, m_skip, m_options.inotify_limit);
                m_inotify->add_tree("");
            } catch (const WatchLimit&) {
                fall_back_to_polling();
            }
        }
        m_rescan = true;
    }

    // One build; changed: what the events named (rescan: look at everything).
    void build(std::vector<std::string> changed, bool rescan)
    {
        try {
            Summary summary = cachet::run(m_config, m_reporter, m_options.run, *m_memory, rescan ? nullptr : &changed);
            std::uint64_t built = 0;
            for (const auto& [kind, t] : summary.kinds)
                built += t.built();
            // A poll that found nothing new stays silent.
            const bool news =
                m_first || !changed.empty() || built > 0 || summary.removed > 0 || summary.failures != m_last_failures;
            m_last_failures = summary.failures;
            m_first = false;
            if (news)
                m_events.rebuilt(Rebuild{std::move(changed), rescan, std::move(summary)});
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::interrupted)
                m_events.build_error(e.what());
        }
    }

    // How long poll() may wait for more events before the next build: forever with nothing
    // to build, the rest of the debounce, 50 ms while a file is still being written, 0 to
    // build now.
    int wait_before_build()
    {
        if (m_dirty.empty() && !m_rescan && !m_reload)
            return -1;
        const auto now = Clock::now();
        const auto quiet = std::chrono::duration_cast<std::chrono::milliseconds>(now - m_last_event);
        if (quiet < m_options.debounce)
            return static_cast<int>((m_options.debounce - quiet).count());
        // Someone is still writing: wait for the close, or for the file to stop changing.
        for (auto it = m_writing.begin(); it != m_writing.end();) {
            const auto stat = stat_file(m_config.source / it->first);
            if (!stat) {
                it = m_writing.erase(it);
            } else if (stat != it->second.stat) {
                it->second = Written{stat, now};
                ++it;
            } else if (now - it->second.since >= m_options.settle) {
                it = m_writing.erase(it);
            } else {
                ++it;
            }
        }
        return m_writing.empty() ? 0 : 50;
    }

    void read_events()
    {
        if (m_dirty.empty() && !m_rescan)
            m_reporter.phase("changes noticed");
        while (m_inotify) {
            const ssize_t n = read(m_inotify->fd(), m_buffer, sizeof m_buffer);
            if (n <= 0)
                break;
            for (char* p = m_buffer; p < m_buffer + n;) {
                const auto* ev = reinterpret_cast<const inotify_event*>(p);
                handle(*ev);
                if (!m_inotify)
                    break;
                p += sizeof(inotify_event) + ev->len;
            }
        }
        m_last_event = Clock::now();
    }

    void handle(const inotify_event& ev)
    {
        if (ev.mask & IN_Q_OVERFLOW) { // events were lost: look at everything again
            m_rescan = true;
            try {
                m_inotify->add_tree("");
            } catch (const WatchLimit&) {
                fall_back_to_polling();
            }
            return;
        }
        if (ev.mask & IN_IGNORED) {
            m_inotify->dropped(ev.wd);
            return;
        }
        const std::string* dir = m_inotify->dir_of(ev.wd);
        if (!dir)
            return;
        if (ev.len == 0) { // the watched folder itself went away or moved
            if (ev.mask & (IN_DELETE_SELF | IN_MOVE_SELF))
                m_rescan = true;
            return;
        }
        const std::string name = *dir + ev.name;
        if (ev.mask & IN_ISDIR) {
            handle_folder(ev, name + "/");
            return;
        }
        if (m_inotify->ignored(name))
            return;
        if (ev.mask & (IN_CREATE | IN_MODIFY)) {
            if (!m_writing.count(name))
                m_writing.emplace(name, Written{stat_file(m_config.source / name), Clock::now()});
        } else if (ev.mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE)) {
            m_writing.erase(name);
        }
        m_dirty.insert(name);
    }

    void handle_folder(const inotify_event& ev, const std::string& folder)
    {
        if (m_inotify->ignored(folder))
            return;
        if (ev.mask & (IN_CREATE | IN_MOVED_TO)) {
            try {
                for (auto& f : m_inotify->add_tree(folder)) { // files may have come before the watch
                    m_writing.emplace(f, Written{stat_file(m_config.source / f), Clock::now()});
                    m_dirty.insert(std::move(f));
                }
            } catch (const WatchLimit&) {
                fall_back_to_polling();
                return;
            }
        } else if (ev.mask & (IN_MOVED_FROM | IN_DELETE)) {
            m_inotify->forget(folder);
        }
        m_dirty.insert(folder);
    }

    Config m_config; // (a changed configuration file replaces it)
    const WatchOptions& m_options;
    const std::atomic<bool>& m_stop;
    int m_wake_fd;
    Reporter& m_reporter;
    WatchEvents& m_events;
    std::string m_skip;
    bool m_polling;
    std::optional<Inotify> m_inotify;
    // The last build's scan and index, so a rebuild looks only at what changed.
    std::unique_ptr<BuildMemory> m_memory;
    fs::path m_config_file; // watched for changes, absolute; empty: not watched
    std::optional<FileStat> m_config_stat;
    int m_config_watch = -1; // an inotify descriptor for it
    bool m_reload = false;   // it changed since the last build
    std::vector<std::pair<std::string, std::string>> m_last_failures;
    bool m_first = true;
    std::set<std::string> m_dirty;            // sources (or "a/b/" folders) named by events since the last build
    std::map<std::string, Written> m_writing; // files written but not closed yet
    bool m_rescan = false;
    Clock::time_point m_last_event{};
    alignas(inotify_event) char m_buffer[64 * 1024];
};

} // namespace

void Watcher::run(Reporter& reporter, WatchEvents& events)
{
    WatchSession(m_config, m_options, m_stop, m_wake_fd, reporter, events).run();
}

} // namespace cachet
