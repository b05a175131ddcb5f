#pragma once
#include "pipeline/model/bytes.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace cachet {

// A program run with its standard input and output as pipes to this process, and its standard
// error kept (the first 4 KiB) for messages. Reads and writes wait until a deadline; the program
// is killed and reaped when the object goes. Writing to a program that has gone never raises
// SIGPIPE in this process.
class ChildProcess {
public:
    using Deadline = std::chrono::steady_clock::time_point;

    // Starts program (looked up on PATH when it has no slash) with args (not counting argv[0]),
    // its address space limited to address_space bytes when that is not 0. Throws Error(install)
    // naming program if it cannot be started.
    ChildProcess(const std::string& program, const std::vector<std::string>& args, std::uint64_t address_space = 0);
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ~ChildProcess();

    // Writes all of data to the program's standard input. False if it closed it, ended, or the
    // deadline passed first.
    bool write(ByteView data, Deadline deadline);
    // Reads exactly n bytes of its standard output. nullopt at its end, on an error, or if the
    // deadline passes first.
    std::optional<Bytes> read(std::size_t n, Deadline deadline);
    // All of its standard output to its end (closing its input first), at most limit bytes;
    // nullopt if there is more, or the deadline passes first.
    std::optional<Bytes> read_all(std::size_t limit, Deadline deadline);
    // How the program ended, for messages: "exited with status 2", "was killed by signal 9",
    // or "did not answer in time" (then it is killed), followed by the first line of what it
    // wrote to its standard error, if anything.
    std::string ending(bool timed_out);

private:
    // Waits for the output pipe (or the input pipe when writing) up to deadline, draining
    // standard error meanwhile. False if the deadline passed.
    bool wait_for(int fd, short events, Deadline deadline);
    void drain_error();

    pid_t m_pid = -1;
    int m_in = -1;  // its standard input
    int m_out = -1; // its standard output
    int m_err = -1; // its standard error
    std::string m_error;
    std::optional<int> m_status;
};

// The absolute path of program as execvp() would find it on PATH (program itself if it has a
// slash), or nullopt.
std::optional<std::string> find_program(const std::string& program);

} // namespace cachet
