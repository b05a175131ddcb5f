#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cachet {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline ByteView as_bytes(std::string_view s)
{
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

inline std::string_view as_text(ByteView b)
{
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// Appends bytes one by one (vector::insert of a brace list trips GCC 12's -Warray-bounds).
inline void append(Bytes& out, ByteView bytes)
{
    out.reserve(out.size() + bytes.size());
    for (const std::uint8_t b : bytes)
        out.push_back(b);
}

// Appends the low 32 bits of value, most significant byte first.
inline void put_be32(Bytes& out, std::uint64_t value)
{
    for (int shift = 24; shift >= 0; shift -= 8)
        out.push_back(static_cast<std::uint8_t>(value >> shift));
}

// bytes for people: "812 B", "1.5 MiB".
std::string human_bytes(std::uint64_t bytes);

// after against before for people: "-82%", "+4%", "0%"; "" when before is 0.
std::string percent_change(std::uint64_t before, std::uint64_t after);

} // namespace cachet
