#pragma once
#include <stdexcept>
#include <string>

namespace cachet {

// What went wrong at run level; the CLI maps each to a documented exit code.
enum class ErrorKind { usage, config, io, asset, internal, interrupted };

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

} // namespace cachet
