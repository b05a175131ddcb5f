#pragma once
#include "pipeline/fs/child_process.hpp"
#include "pipeline/model/bytes.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cachet {

// One value of esbuild's service protocol (cmd/esbuild/stdio_protocol.go): null, a boolean, a
// 32-bit integer, a string, bytes, an array or a map with string keys.
struct EsbuildValue {
    enum class Type : std::uint8_t { null, boolean, integer, string, bytes, array, map };
    Type type = Type::null;
    bool boolean = false;
    std::uint32_t integer = 0;
    std::string text; // a string's or bytes' contents
    std::vector<EsbuildValue> items;
    std::map<std::string, EsbuildValue> fields;

    // The field's value, or nullptr if this is no map or has no such field.
    const EsbuildValue* find(const std::string& key) const;
};

// A packet's body (after its length): the id, whether it is a request, and the value.
struct EsbuildPacket {
    std::uint32_t id = 0;
    bool request = false;
    EsbuildValue value;
};

// The packet with its length in front, as esbuild reads it.
Bytes encode_esbuild_packet(const EsbuildPacket& packet);
// A packet's body; nullopt if it is malformed (truncated, an unknown type, nested deeper than
// 64, or bytes left over).
std::optional<EsbuildPacket> decode_esbuild_packet(ByteView body);

// What a transform gave: the code if esbuild made it, and its messages ("file:line:column: text").
struct EsbuildResult {
    std::optional<Bytes> code;
    std::vector<std::string> errors;
    std::vector<std::string> warnings;
};

// esbuild run as a service: one process answers many transform requests over its standard input
// and output, in the protocol of its JavaScript API (`esbuild --service=VERSION`). Not thread
// safe: one caller at a time.
class EsbuildService {
public:
    // Starts program as a service; version is what `program --version` printed. Its address
    // space is limited to address_space bytes (a hostile input then ends it, not this machine).
    // Throws Error(install) if it cannot be started or does not greet with that version.
    EsbuildService(const std::string& program, const std::string& version, std::uint64_t address_space);

    // esbuild's transform of input with flags (its command-line flags). Throws Error(asset) if the
    // service broke (ended, broke the protocol, or did not answer by timeout); it is then
    // broken() for good.
    EsbuildResult transform(const std::vector<std::string>& flags, ByteView input, std::chrono::seconds timeout);
    bool broken() const { return m_broken; }

private:
    [[noreturn]] void fail(bool timed_out);

    std::string m_program;
    std::unique_ptr<ChildProcess> m_process;
    std::uint32_t m_next_id = 0;
    bool m_broken = false;
};

// The version `program --version` prints (a line of digits and dots). Throws Error(install)
// naming program if it cannot be run or prints something else.
std::string esbuild_version(const std::string& program);

} // namespace cachet
