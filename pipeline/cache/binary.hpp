#pragma once
// The binary encoding of the cache's index files: varint integers and length-prefixed
// strings, read with bounds checks (std::runtime_error when truncated or malformed).
#include "pipeline/fs/file_stat.hpp"
#include "pipeline/model/bytes.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cachet::binary {

class Writer {
public:
    void u(std::uint64_t v)
    {
        while (v >= 0x80) {
            m_out.push_back(static_cast<char>(v | 0x80));
            v >>= 7;
        }
        m_out.push_back(static_cast<char>(v));
    }
    void i(std::int64_t v) { u((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63)); }
    void s(std::string_view v)
    {
        u(v.size());
        m_out.append(v);
    }
    void raw(std::string_view v) { m_out.append(v); }
    void stat(const FileStat& f)
    {
        u(f.size);
        i(f.mtime_ns);
        u(f.inode);
    }
    std::string& text() { return m_out; }

private:
    std::string m_out;
};

class Reader {
public:
    explicit Reader(ByteView data) : m_p(data.data()), m_end(data.data() + data.size()) {}
    std::uint64_t u()
    {
        std::uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (m_p == m_end)
                throw std::runtime_error("truncated");
            const std::uint8_t b = *m_p++;
            v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
            if (!(b & 0x80))
                return v;
        }
        throw std::runtime_error("bad number");
    }
    std::int64_t i()
    {
        const std::uint64_t v = u();
        return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
    }
    int small() { return static_cast<int>(u() & 0x7fffffff); }
    std::string s() { return std::string(view()); }
    // A string as s() reads it, viewed where it is in the data.
    std::string_view view()
    {
        const std::uint64_t n = u();
        return std::string_view(reinterpret_cast<const char*>(bytes(n).data()), static_cast<std::size_t>(n));
    }
    // The next n bytes, viewed where they are.
    ByteView bytes(std::uint64_t n)
    {
        if (n > static_cast<std::uint64_t>(m_end - m_p))
            throw std::runtime_error("truncated");
        const ByteView v(m_p, static_cast<std::size_t>(n));
        m_p += n;
        return v;
    }
    FileStat stat()
    {
        FileStat f;
        f.size = u();
        f.mtime_ns = i();
        f.inode = u();
        return f;
    }
    bool done() const { return m_p == m_end; }
    std::size_t left() const { return static_cast<std::size_t>(m_end - m_p); }
    // A count read from the data, bounded for reserve(): each item takes at least a byte, so
    // a damaged count reserves no more than the bytes left.
    std::size_t capacity_for(std::uint64_t count) const
    {
        return static_cast<std::size_t>(std::min<std::uint64_t>(count, static_cast<std::uint64_t>(m_end - m_p)));
    }

private:
    const std::uint8_t* m_p;
    const std::uint8_t* m_end;
};

} // namespace cachet::binary
