#pragma once
#include <stdexcept>
#include <string>
#include <string_view>

namespace cachet {

// What went wrong at run level; the CLI maps each to a documented exit code.
// install: cachet's own files are missing or do not match (the image module, its libaom).
enum class ErrorKind { usage, config, io, asset, internal, interrupted, install };

// The one exception type of the library. The message names the path (and line) at fault.
class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& message);
    ErrorKind kind() const noexcept { return m_kind; }

private:
    ErrorKind m_kind;
};

// Error with kind io, message "<path>: <what>: <strerror(err)>".
Error io_error(const std::string& path, const std::string& what, int err);

// Whether text holds a control character (below 0x20, or 0x7f): never part of a name cachet
// publishes (a newline in a file name would write a header of its own into an export).
bool has_control_character(std::string_view text);

// text as it may be printed on a terminal or in a log: control characters as \xNN (so no
// escape sequence from a file name or a file reaches the terminal), and at most max bytes of
// it, then how many more there were.
std::string printable(std::string_view text, std::size_t max = 400);

} // namespace cachet
