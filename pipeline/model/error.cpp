#include "pipeline/model/error.hpp"

#include <algorithm>

#include <cstring>

namespace cachet {

Error::Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), m_kind(kind) {}

Error io_error(const std::string& path, const std::string& what, int err)
{
    return Error(ErrorKind::io, path + ": " + what + ": " + std::strerror(err));
}

bool has_control_character(std::string_view text)
{
    for (const char c : text)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            return true;
    return false;
}

std::string printable(std::string_view text, std::size_t max)
{
    std::string out;
    const std::size_t shown = std::min(text.size(), max);
    out.reserve(shown + 16);
    for (std::size_t i = 0; i < shown; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x20 || c == 0x7f) {
            static constexpr char k_hex[] = "0123456789abcdef";
            out += "\\x";
            out += k_hex[c >> 4];
            out += k_hex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
    if (shown < text.size())
        out += "... (" + std::to_string(text.size() - shown) + " more bytes)";
    return out;
}

} // namespace cachet
