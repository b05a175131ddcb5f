#pragma once
#include "pipeline/bytes.hpp"

#include <string>

namespace cachet {

// Lower-case hex SHA-256 of data (64 characters).
std::string sha256_hex(ByteView data);

// Subresource-integrity value of data: "sha384-" followed by the base64 digest.
std::string sri_sha384(ByteView data);

} // namespace cachet
