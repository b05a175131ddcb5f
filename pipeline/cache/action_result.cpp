#include "pipeline/cache/action_result.hpp"

#include <string_view>

namespace cachet {
namespace {

// Protocol buffers wire types.
enum WireType : std::uint8_t { varint = 0, fixed64 = 1, length_delimited = 2, fixed32 = 5 };

// The field numbers used (remote_execution.proto).
constexpr std::uint32_t k_result_output_files = 2;
constexpr std::uint32_t k_result_exit_code = 4;
constexpr std::uint32_t k_result_stdout_digest = 6;
constexpr std::uint32_t k_file_path = 1;
constexpr std::uint32_t k_file_digest = 2;
constexpr std::uint32_t k_digest_hash = 1;
constexpr std::uint32_t k_digest_size = 2;

void put_varint(Bytes& out, std::uint64_t v)
{
    while (v >= 0x80) {
        out.push_back(static_cast<std::uint8_t>(v | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<std::uint8_t>(v));
}

void put_tag(Bytes& out, std::uint32_t field, WireType type)
{
    put_varint(out, (std::uint64_t{field} << 3) | type);
}

void put_bytes(Bytes& out, std::uint32_t field, ByteView data)
{
    put_tag(out, field, length_delimited);
    put_varint(out, data.size());
    out.insert(out.end(), data.begin(), data.end());
}

// Reads one message's fields in order; every read is bounds-checked.
class Fields {
public:
    explicit Fields(ByteView data) : m_data(data) {}

    struct Field {
        std::uint32_t number = 0;
        WireType type = varint;
        std::uint64_t value = 0; // varint
        ByteView bytes;          // length-delimited
    };

    // The next field into f; false at the end. Throws nothing: a malformed field sets bad().
    bool next(Field& f)
    {
        if (m_at == m_data.size() || m_bad)
            return false;
        std::uint64_t tag = 0;
        if (!varint_at(tag) || (tag >> 3) == 0 || (tag >> 3) > 0x1fffffff)
            return fail();
        f.number = static_cast<std::uint32_t>(tag >> 3);
        f.type = static_cast<WireType>(tag & 7);
        switch (f.type) {
        case varint: return varint_at(f.value) || fail();
        case fixed64: return skip(8);
        case fixed32: return skip(4);
        case length_delimited: {
            std::uint64_t n = 0;
            if (!varint_at(n) || n > m_data.size() - m_at)
                return fail();
            f.bytes = m_data.subspan(m_at, static_cast<std::size_t>(n));
            m_at += static_cast<std::size_t>(n);
            return true;
        }
        default: return fail(); // groups (3, 4) and the reserved types
        }
    }
    bool bad() const { return m_bad; }

private:
    bool varint_at(std::uint64_t& v)
    {
        v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (m_at == m_data.size())
                return false;
            const std::uint8_t b = m_data[m_at++];
            v |= std::uint64_t{b & 0x7fu} << shift;
            if ((b & 0x80) == 0)
                return true;
        }
        return false;
    }
    bool skip(std::size_t n)
    {
        if (n > m_data.size() - m_at)
            return fail();
        m_at += n;
        return true;
    }
    bool fail()
    {
        m_bad = true;
        return false;
    }

    ByteView m_data;
    std::size_t m_at = 0;
    bool m_bad = false;
};

bool is_sha256_hex(std::string_view s)
{
    if (s.size() != 64)
        return false;
    for (const char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    return true;
}

std::string text_of(ByteView bytes)
{
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// A Digest message into out's sha256 and bytes; whether it is a valid one.
bool decode_digest(ByteView data, ActionOutput& out)
{
    Fields digest(data);
    Fields::Field d;
    while (digest.next(d)) {
        if (d.number == k_digest_hash && d.type == length_delimited)
            out.sha256 = text_of(d.bytes);
        else if (d.number == k_digest_size && d.type == varint)
            out.bytes = d.value;
    }
    return !digest.bad() && is_sha256_hex(out.sha256) && out.bytes <= (std::uint64_t{1} << 62);
}

Bytes encode_digest(const ActionOutput& o)
{
    Bytes digest;
    put_bytes(digest, k_digest_hash, as_bytes(o.sha256));
    put_tag(digest, k_digest_size, varint);
    put_varint(digest, o.bytes);
    return digest;
}

std::optional<ActionOutput> decode_output_file(ByteView data)
{
    ActionOutput out;
    bool has_digest = false;
    Fields fields(data);
    Fields::Field f;
    while (fields.next(f)) {
        if (f.number == k_file_path && f.type == length_delimited) {
            out.path = text_of(f.bytes);
        } else if (f.number == k_file_digest && f.type == length_delimited) {
            if (!decode_digest(f.bytes, out))
                return std::nullopt;
            has_digest = true;
        }
    }
    if (fields.bad() || !has_digest || out.path.empty())
        return std::nullopt;
    return out;
}

} // namespace

Bytes encode_action_result(const ActionResult& result)
{
    Bytes out;
    for (const auto& o : result.outputs) {
        Bytes file;
        put_bytes(file, k_file_path, as_bytes(o.path));
        put_bytes(file, k_file_digest, encode_digest(o));
        put_bytes(out, k_result_output_files, file);
    }
    put_bytes(out, k_result_stdout_digest, encode_digest(result.record));
    return out; // exit_code 0 is the default, so not written
}

std::optional<ActionResult> decode_action_result(ByteView data)
{
    ActionResult result;
    bool has_record = false;
    Fields fields(data);
    Fields::Field f;
    while (fields.next(f)) {
        if (f.number == k_result_output_files && f.type == length_delimited) {
            auto file = decode_output_file(f.bytes);
            if (!file)
                return std::nullopt;
            result.outputs.push_back(std::move(*file));
        } else if (f.number == k_result_stdout_digest && f.type == length_delimited) {
            if (!decode_digest(f.bytes, result.record))
                return std::nullopt;
            has_record = true;
        } else if (f.number == k_result_exit_code && f.type == varint && f.value != 0) {
            return std::nullopt; // a failed action: nothing of it is to be used
        }
    }
    if (fields.bad() || !has_record)
        return std::nullopt;
    return result;
}

} // namespace cachet
