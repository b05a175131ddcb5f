#include "pipeline/model/error.hpp"

#include <cstring>

namespace cachet {

Error::Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), m_kind(kind) {}

Error io_error(const std::string& path, const std::string& what, int err)
{
    return Error(ErrorKind::io, path + ": " + what + ": " + std::strerror(err));
}

} // namespace cachet
