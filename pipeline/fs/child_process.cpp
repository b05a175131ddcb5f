#include "pipeline/fs/child_process.hpp"

#include "pipeline/model/error.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace cachet {
namespace {

constexpr std::size_t k_error_kept = 4096;

void close_fd(int& fd)
{
    if (fd >= 0)
        ::close(fd);
    fd = -1;
}

int milliseconds_left(ChildProcess::Deadline deadline)
{
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 3600LL * 1000));
}

// SIGPIPE blocked for this thread while it lives; one raised meanwhile is taken, not delivered.
class NoSigpipe {
public:
    NoSigpipe()
    {
        sigemptyset(&m_pipe);
        sigaddset(&m_pipe, SIGPIPE);
        sigset_t pending;
        sigpending(&pending);
        m_was_pending = sigismember(&pending, SIGPIPE) == 1;
        m_blocked = pthread_sigmask(SIG_BLOCK, &m_pipe, &m_old) == 0;
    }
    NoSigpipe(const NoSigpipe&) = delete;
    NoSigpipe& operator=(const NoSigpipe&) = delete;
    ~NoSigpipe()
    {
        if (!m_blocked)
            return;
        if (!m_was_pending) {
            const timespec zero{};
            while (sigtimedwait(&m_pipe, nullptr, &zero) == SIGPIPE) {
            }
        }
        pthread_sigmask(SIG_SETMASK, &m_old, nullptr);
    }

private:
    sigset_t m_pipe{};
    sigset_t m_old{};
    bool m_was_pending = false;
    bool m_blocked = false;
};

} // namespace

std::optional<std::string> find_program(const std::string& program)
{
    auto runnable = [](const std::string& path) {
        struct stat st {};
        return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
    };
    if (program.empty())
        return std::nullopt;
    if (program.find('/') != std::string::npos)
        return runnable(program) ? std::optional<std::string>(program) : std::nullopt;
    const char* path = std::getenv("PATH");
    const std::string folders = path ? path : "/usr/local/bin:/usr/bin:/bin";
    std::size_t start = 0;
    while (start <= folders.size()) {
        const std::size_t end = std::min(folders.find(':', start), folders.size());
        const std::string folder = end == start ? "." : folders.substr(start, end - start);
        if (const std::string candidate = folder + "/" + program; runnable(candidate))
            return candidate;
        start = end + 1;
    }
    return std::nullopt;
}

ChildProcess::ChildProcess(const std::string& program, const std::vector<std::string>& args,
                           std::uint64_t address_space)
{
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    auto fail = [&](const std::string& what, int e) {
        for (int* p : {in, out, err})
            for (int i = 0; i < 2; ++i)
                close_fd(p[i]);
        throw Error(ErrorKind::install, "cannot run " + program + ": " + what + ": " + std::strerror(e));
    };
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0)
        fail("pipe", errno);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attributes, &none); // not this thread's (SIGPIPE may be blocked)
    posix_spawnattr_setsigdefault(&attributes, &all);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(program.c_str()));
    for (const auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const int spawned = posix_spawnp(&m_pid, program.c_str(), &actions, &attributes, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (spawned != 0) {
        m_pid = -1;
        fail("posix_spawn", spawned);
    }
    if (address_space != 0) {
        const rlimit limit{address_space, address_space};
        ::prlimit(m_pid, RLIMIT_AS, &limit, nullptr); // before it allocates much: it has only started
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    m_in = in[1];
    m_out = out[0];
    m_err = err[0];
    for (const int fd : {m_in, m_out, m_err})
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

ChildProcess::~ChildProcess()
{
    close_fd(m_in);
    close_fd(m_out);
    close_fd(m_err);
    if (m_pid > 0 && !m_status) {
        ::kill(m_pid, SIGKILL);
        int status = 0;
        while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
}

void ChildProcess::drain_error()
{
    char buffer[4096];
    while (m_err >= 0) {
        const ssize_t n = ::read(m_err, buffer, sizeof buffer);
        if (n > 0) {
            m_error.append(buffer,
                           static_cast<std::size_t>(std::min<ssize_t>(
                               n, static_cast<ssize_t>(k_error_kept - std::min(k_error_kept, m_error.size())))));
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            close_fd(m_err);
        return;
    }
}

bool ChildProcess::wait_for(int fd, short events, Deadline deadline)
{
    for (;;) {
        pollfd fds[2] = {{fd, events, 0}, {m_err, POLLIN, 0}};
        const int ready = ::poll(fds, m_err >= 0 ? 2 : 1, milliseconds_left(deadline));
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            return false;
        if (m_err >= 0 && fds[1].revents != 0)
            drain_error();
        if (fds[0].revents != 0)
            return true;
    }
}

bool ChildProcess::write(ByteView data, Deadline deadline)
{
    if (m_in < 0)
        return false;
    const NoSigpipe no_sigpipe;
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(m_in, data.data() + done, data.size() - done);
        if (n > 0) {
            done += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!wait_for(m_in, POLLOUT, deadline))
                return false;
            continue;
        }
        return false; // EPIPE: it has gone
    }
    return true;
}

std::optional<Bytes> ChildProcess::read(std::size_t n, Deadline deadline)
{
    Bytes out(n);
    std::size_t done = 0;
    while (done < n && m_out >= 0) {
        const ssize_t got = ::read(m_out, out.data() + done, n - done);
        if (got > 0) {
            done += static_cast<std::size_t>(got);
            continue;
        }
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!wait_for(m_out, POLLIN, deadline))
                return std::nullopt;
            continue;
        }
        return std::nullopt; // its end, or an error
    }
    if (done < n)
        return std::nullopt;
    return out;
}

std::optional<Bytes> ChildProcess::read_all(std::size_t limit, Deadline deadline)
{
    close_fd(m_in);
    Bytes out;
    std::uint8_t buffer[16384];
    while (m_out >= 0) {
        const ssize_t got = ::read(m_out, buffer, sizeof buffer);
        if (got > 0) {
            if (out.size() + static_cast<std::size_t>(got) > limit)
                return std::nullopt;
            out.insert(out.end(), buffer, buffer + got);
            continue;
        }
        if (got == 0)
            return out;
        if (errno == EINTR)
            continue;
        if ((errno == EAGAIN || errno == EWOULDBLOCK) && wait_for(m_out, POLLIN, deadline))
            continue;
        return std::nullopt;
    }
    return out;
}

std::string ChildProcess::ending(bool timed_out)
{
    close_fd(m_in);
    if (!m_status && m_pid > 0) {
        int status = 0;
        pid_t got = 0;
        // It closed its output or broke the protocol: give it a moment to end on its own.
        for (int i = 0; i < 100 && !timed_out; ++i) {
            got = ::waitpid(m_pid, &status, WNOHANG);
            if (got != 0)
                break;
            ::usleep(10 * 1000);
        }
        if (got == 0 || timed_out) {
            ::kill(m_pid, SIGKILL);
            got = 0;
        }
        while (got == 0 || (got < 0 && errno == EINTR))
            got = ::waitpid(m_pid, &status, 0);
        m_status = status;
    }
    if (m_err >= 0) {
        const Deadline soon = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
        while (m_err >= 0 && wait_for(m_err, POLLIN, soon))
            drain_error();
    }
    std::string out;
    if (timed_out)
        out = "did not answer in time";
    else if (m_status && WIFEXITED(*m_status))
        out = "exited with status " + std::to_string(WEXITSTATUS(*m_status));
    else if (m_status && WIFSIGNALED(*m_status))
        out = "was killed by signal " + std::to_string(WTERMSIG(*m_status));
    else
        out = "ended";
    std::string first = m_error.substr(0, m_error.find('\n'));
    if (first.size() > 200)
        first = first.substr(0, 200) + "...";
    for (char& c : first) // it may quote its input
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            c = '?';
    return first.empty() ? out : out + " (" + first + ")";
}

} // namespace cachet
