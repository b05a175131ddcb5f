// esbuild's service protocol, as its JavaScript API speaks it (cmd/esbuild/service.go and
// stdio_protocol.go in esbuild's source): every packet is a little-endian uint32 length, then a
// uint32 holding the id shifted left once with the low bit set on responses, then one value.
// The service greets with its version (a length and the string) before any packet.
#include "pipeline/text/esbuild.hpp"

#include "pipeline/model/error.hpp"

#include <algorithm>

namespace cachet {
namespace {

constexpr int k_max_depth = 64;
constexpr std::uint32_t k_max_packet = 512u << 20;

void put_le32(Bytes& out, std::uint32_t value)
{
    for (int shift = 0; shift < 32; shift += 8)
        out.push_back(static_cast<std::uint8_t>(value >> shift));
}

std::uint32_t le32(const std::uint8_t* p)
{
    return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
           static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

void put_text(Bytes& out, std::string_view text)
{
    put_le32(out, static_cast<std::uint32_t>(text.size()));
    const ByteView bytes = as_bytes(text);
    out.insert(out.end(), bytes.begin(), bytes.end());
}

void encode(Bytes& out, const EsbuildValue& value)
{
    using Type = EsbuildValue::Type;
    out.push_back(static_cast<std::uint8_t>(value.type));
    switch (value.type) {
    case Type::null: break;
    case Type::boolean: out.push_back(value.boolean ? 1 : 0); break;
    case Type::integer: put_le32(out, value.integer); break;
    case Type::string:
    case Type::bytes: put_text(out, value.text); break;
    case Type::array:
        put_le32(out, static_cast<std::uint32_t>(value.items.size()));
        for (const auto& item : value.items)
            encode(out, item);
        break;
    case Type::map:
        put_le32(out, static_cast<std::uint32_t>(value.fields.size()));
        for (const auto& [key, item] : value.fields) {
            put_text(out, key);
            encode(out, item);
        }
        break;
    }
}

class Decoder {
public:
    explicit Decoder(ByteView bytes) : m_bytes(bytes) {}

    bool u32(std::uint32_t& value)
    {
        if (m_bytes.size() - m_at < 4)
            return false;
        value = le32(m_bytes.data() + m_at);
        m_at += 4;
        return true;
    }

    bool text(std::string& out)
    {
        std::uint32_t n = 0;
        if (!u32(n) || m_bytes.size() - m_at < n)
            return false;
        out.assign(reinterpret_cast<const char*>(m_bytes.data() + m_at), n);
        m_at += n;
        return true;
    }

    bool value(EsbuildValue& out, int depth)
    {
        using Type = EsbuildValue::Type;
        if (depth > k_max_depth || m_at >= m_bytes.size())
            return false;
        const std::uint8_t type = m_bytes[m_at++];
        std::uint32_t n = 0;
        switch (type) {
        case 0: out.type = Type::null; return true;
        case 1:
            if (m_at >= m_bytes.size())
                return false;
            out.type = Type::boolean;
            out.boolean = m_bytes[m_at++] != 0;
            return true;
        case 2: out.type = Type::integer; return u32(out.integer);
        case 3: out.type = Type::string; return text(out.text);
        case 4: out.type = Type::bytes; return text(out.text);
        case 5:
            out.type = Type::array;
            if (!u32(n) || n > m_bytes.size() - m_at) // every item takes a byte at least
                return false;
            out.items.resize(n);
            for (auto& item : out.items)
                if (!value(item, depth + 1))
                    return false;
            return true;
        case 6:
            out.type = Type::map;
            if (!u32(n) || n > (m_bytes.size() - m_at) / 5) // a key's length and a type at least
                return false;
            for (std::uint32_t i = 0; i < n; ++i) {
                std::string key;
                EsbuildValue item;
                if (!text(key) || !value(item, depth + 1))
                    return false;
                out.fields[std::move(key)] = std::move(item);
            }
            return true;
        default: return false;
        }
    }

    bool done() const { return m_at == m_bytes.size(); }

private:
    ByteView m_bytes;
    std::size_t m_at = 0;
};

EsbuildValue string_value(std::string text)
{
    EsbuildValue v;
    v.type = EsbuildValue::Type::string;
    v.text = std::move(text);
    return v;
}

// "line:column: text" of each message in value (an array of esbuild's message maps).
std::vector<std::string> messages(const EsbuildValue* value)
{
    std::vector<std::string> out;
    if (!value)
        return out;
    for (const auto& m : value->items) {
        std::string line;
        if (const EsbuildValue* location = m.find("location"); location && location->type == EsbuildValue::Type::map) {
            const EsbuildValue* l = location->find("line");
            const EsbuildValue* c = location->find("column");
            if (l && c)
                line = std::to_string(l->integer) + ":" + std::to_string(c->integer) + ": ";
        }
        const EsbuildValue* text = m.find("text");
        out.push_back(line + (text ? text->text : std::string("(no text)")));
    }
    return out;
}

} // namespace

const EsbuildValue* EsbuildValue::find(const std::string& key) const
{
    if (type != Type::map)
        return nullptr;
    const auto it = fields.find(key);
    return it == fields.end() ? nullptr : &it->second;
}

Bytes encode_esbuild_packet(const EsbuildPacket& packet)
{
    Bytes out;
    put_le32(out, 0); // the length, patched below
    put_le32(out, packet.id << 1 | (packet.request ? 0u : 1u));
    encode(out, packet.value);
    const auto length = static_cast<std::uint32_t>(out.size() - 4);
    for (int i = 0; i < 4; ++i)
        out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(length >> (8 * i));
    return out;
}

std::optional<EsbuildPacket> decode_esbuild_packet(ByteView body)
{
    Decoder in(body);
    EsbuildPacket packet;
    std::uint32_t id = 0;
    if (!in.u32(id) || !in.value(packet.value, 0) || !in.done())
        return std::nullopt;
    packet.id = id >> 1;
    packet.request = (id & 1) == 0;
    return packet;
}

std::string esbuild_version(const std::string& program)
{
    ChildProcess child(program, {"--version"});
    const auto out = child.read_all(256, std::chrono::steady_clock::now() + std::chrono::seconds(30));
    std::string version = out ? std::string(as_text(*out)) : std::string();
    while (!version.empty() && (version.back() == '\n' || version.back() == '\r'))
        version.pop_back();
    const bool plain = !version.empty() && std::all_of(version.begin(), version.end(),
                                                       [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
    if (!plain)
        throw Error(ErrorKind::install, program + " --version did not print a version: it " + child.ending(!out));
    return version;
}

EsbuildService::EsbuildService(const std::string& program, const std::string& version, std::uint64_t address_space)
    : m_program(program), m_process(std::make_unique<ChildProcess>(
                              program, std::vector<std::string>{"--service=" + version}, address_space))
{
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    const auto length = m_process->read(4, deadline);
    std::optional<Bytes> greeting;
    if (length && le32(length->data()) == version.size())
        greeting = m_process->read(version.size(), deadline);
    if (!greeting || as_text(*greeting) != version)
        throw Error(ErrorKind::install,
                    program + " did not start as a service of version " + version + ": it " + m_process->ending(false));
}

void EsbuildService::fail(bool timed_out)
{
    m_broken = true;
    throw Error(ErrorKind::asset, "esbuild (" + m_program + ") " + m_process->ending(timed_out) +
                                      " while minifying it; set text.minify = false to build without it");
}

EsbuildResult EsbuildService::transform(const std::vector<std::string>& flags, ByteView input,
                                        std::chrono::seconds timeout)
{
    using Type = EsbuildValue::Type;
    if (m_broken)
        throw Error(ErrorKind::internal, "esbuild service used after it broke");
    EsbuildPacket request;
    request.id = m_next_id++;
    request.request = true;
    request.value.type = Type::map;
    request.value.fields["command"] = string_value("transform");
    EsbuildValue& list = request.value.fields["flags"];
    list.type = Type::array;
    for (const auto& f : flags)
        list.items.push_back(string_value(f));
    EsbuildValue& in = request.value.fields["input"];
    in.type = Type::bytes;
    in.text.assign(as_text(input));
    EsbuildValue& in_fs = request.value.fields["inputFS"];
    in_fs.type = Type::boolean;
    in_fs.boolean = false;

    const auto deadline = std::chrono::steady_clock::now() + timeout;
    if (!m_process->write(encode_esbuild_packet(request), deadline))
        fail(std::chrono::steady_clock::now() >= deadline);
    const auto length = m_process->read(4, deadline);
    if (!length)
        fail(std::chrono::steady_clock::now() >= deadline);
    const std::uint32_t n = le32(length->data());
    if (n > k_max_packet)
        fail(false);
    const auto body = m_process->read(n, deadline);
    if (!body)
        fail(std::chrono::steady_clock::now() >= deadline);
    const auto response = decode_esbuild_packet(*body);
    if (!response || response->request || response->id != request.id || response->value.type != Type::map)
        fail(false);

    EsbuildResult out;
    const EsbuildValue& v = response->value;
    if (const EsbuildValue* error = v.find("error")) { // flags it could not parse
        out.errors.push_back(error->text);
        return out;
    }
    out.errors = messages(v.find("errors"));
    out.warnings = messages(v.find("warnings"));
    const EsbuildValue* code = v.find("code");
    if (out.errors.empty() && code && (code->type == Type::string || code->type == Type::bytes))
        out.code = Bytes(code->text.begin(), code->text.end());
    return out;
}

} // namespace cachet
