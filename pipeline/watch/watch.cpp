#include "pipeline/watch/watch.hpp"

#include "pipeline/cache/cache.hpp"
#include "pipeline/fs/atomic_file.hpp"
#include "pipeline/fs/glob.hpp"
#include "pipeline/model/error.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <map>
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

void Watcher::run(Reporter& reporter, WatchEvents& events)
{
    check_folders(m_config);
    const std::vector<std::string> skipped = folders_to_skip(m_config);
    const std::string skip = skipped.empty() ? std::string() : skipped.front(); // the cache folder

    std::vector<std::pair<std::string, std::string>> last_failures;
    bool first = true;
    BuildMemory memory; // the last build's scan and index, so a rebuild looks only at what changed
    auto build = [&](std::vector<std::string> changed, bool rescan) {
        try {
            Summary summary = cachet::run(m_config, reporter, m_options.run, memory, rescan ? nullptr : &changed);
            std::uint64_t built = 0;
            for (const auto& [kind, t] : summary.kinds)
                built += t.built();
            // A poll that found nothing new stays silent.
            const bool news =
                first || !changed.empty() || built > 0 || summary.removed > 0 || summary.failures != last_failures;
            last_failures = summary.failures;
            first = false;
            if (news)
                events.rebuilt(Rebuild{std::move(changed), rescan, std::move(summary)});
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::interrupted)
                events.build_error(e.what());
        }
    };

    std::optional<Inotify> inotify;
    bool polling = m_options.poll;
    if (!polling) {
        try {
            inotify.emplace(m_config.source, m_config.preset, skip, m_options.inotify_limit);
            inotify->add_tree("");
        } catch (const WatchLimit&) {
            inotify.reset();
            polling = true;
            events.notice("the inotify watch limit is reached (fs.inotify.max_user_watches); polling every " +
                          std::to_string(m_options.poll_interval.count()) +
                          " ms instead. To watch, raise it: sysctl fs.inotify.max_user_watches=524288");
        }
    }
    if (!polling)
        events.notice("watching " + m_config.source.string() + " (inotify)");
    else if (m_options.poll)
        events.notice("watching " + m_config.source.string() + " (polling every " +
                      std::to_string(m_options.poll_interval.count()) + " ms)");
    build({}, true);

    std::set<std::string> dirty;            // sources (or "a/b/" folders) named by events since the last build
    std::map<std::string, Written> writing; // files written but not closed yet
    bool rescan = false;
    Clock::time_point last_event{};
    alignas(inotify_event) char buffer[64 * 1024];

    auto on_limit = [&] {
        inotify.reset();
        polling = true;
        events.notice("the inotify watch limit is reached (fs.inotify.max_user_watches); polling every " +
                      std::to_string(m_options.poll_interval.count()) +
                      " ms instead. To watch, raise it: sysctl fs.inotify.max_user_watches=524288");
    };
    auto handle = [&](const inotify_event& ev) {
        if (ev.mask & IN_Q_OVERFLOW) { // events were lost: look at everything again
            rescan = true;
            try {
                inotify->add_tree("");
            } catch (const WatchLimit&) {
                on_limit();
            }
            return;
        }
        if (ev.mask & IN_IGNORED) {
            inotify->dropped(ev.wd);
            return;
        }
        const std::string* dir = inotify->dir_of(ev.wd);
        if (!dir)
            return;
        if (ev.len == 0) { // the watched folder itself went away or moved
            if (ev.mask & (IN_DELETE_SELF | IN_MOVE_SELF))
                rescan = true;
            return;
        }
        const std::string name = *dir + ev.name;
        if (ev.mask & IN_ISDIR) {
            const std::string folder = name + "/";
            if (inotify->ignored(folder))
                return;
            if (ev.mask & (IN_CREATE | IN_MOVED_TO)) {
                try {
                    for (auto& f : inotify->add_tree(folder)) { // files may have come before the watch
                        writing.emplace(f, Written{stat_file(m_config.source / f), Clock::now()});
                        dirty.insert(std::move(f));
                    }
                } catch (const WatchLimit&) {
                    on_limit();
                    return;
                }
            } else if (ev.mask & (IN_MOVED_FROM | IN_DELETE)) {
                inotify->forget(folder);
            }
            dirty.insert(folder);
            return;
        }
        if (inotify->ignored(name))
            return;
        if (ev.mask & (IN_CREATE | IN_MODIFY)) {
            if (!writing.count(name))
                writing.emplace(name, Written{stat_file(m_config.source / name), Clock::now()});
        } else if (ev.mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE)) {
            writing.erase(name);
        }
        dirty.insert(name);
    };

    while (!m_stop) {
        if (polling) {
            pollfd p{m_wake_fd, POLLIN, 0};
            ::poll(&p, 1, static_cast<int>(m_options.poll_interval.count()));
            if (m_stop)
                break;
            build({}, true);
            continue;
        }
        const auto now = Clock::now();
        int timeout = -1;
        if (!dirty.empty() || rescan) {
            const auto quiet = std::chrono::duration_cast<std::chrono::milliseconds>(now - last_event);
            timeout = quiet >= m_options.debounce ? 0 : static_cast<int>((m_options.debounce - quiet).count());
        }
        if (timeout == 0 && !writing.empty()) {
            // Someone is still writing: wait for the close, or for the file to stop changing.
            for (auto it = writing.begin(); it != writing.end();) {
                const auto stat = stat_file(m_config.source / it->first);
                if (!stat) {
                    it = writing.erase(it);
                } else if (stat != it->second.stat) {
                    it->second = Written{stat, now};
                    ++it;
                } else if (now - it->second.since >= m_options.settle) {
                    it = writing.erase(it);
                } else {
                    ++it;
                }
            }
            if (!writing.empty())
                timeout = 50;
        }
        if (timeout == 0) {
            reporter.phase("quiet for the debounce");
            std::vector<std::string> changed(dirty.begin(), dirty.end());
            const bool lost = rescan;
            dirty.clear();
            rescan = false;
            build(std::move(changed), lost);
            continue;
        }
        pollfd fds[2] = {{m_wake_fd, POLLIN, 0}, {inotify->fd(), POLLIN, 0}};
        if (::poll(fds, 2, timeout) < 0 && errno != EINTR)
            throw io_error(m_config.source.string(), "cannot wait for changes", errno);
        if (m_stop)
            break;
        if (fds[1].revents & POLLIN) {
            if (dirty.empty() && !rescan)
                reporter.phase("changes noticed");
            while (inotify) {
                const ssize_t n = read(inotify->fd(), buffer, sizeof buffer);
                if (n <= 0)
                    break;
                for (char* p = buffer; p < buffer + n;) {
                    const auto* ev = reinterpret_cast<const inotify_event*>(p);
                    handle(*ev);
                    if (!inotify)
                        break;
                    p += sizeof(inotify_event) + ev->len;
                }
            }
            last_event = Clock::now();
        }
    }
}

} // namespace cachet
