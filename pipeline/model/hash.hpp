#pragma once
#include "pipeline/model/bytes.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace cachet {

// Lower-case hex SHA-256 of data (64 characters).
std::string sha256_hex(ByteView data);

// Subresource-integrity value of data: "sha384-" followed by the base64 digest.
std::string sri_sha384(ByteView data);

// FNV-1a 64 of data: a cheap checksum and spreading hash (not for anything an attacker picks).
std::uint64_t fnv1a(std::string_view data);

// XXH3 64 of data (libxxhash): a checksum for megabytes read on every build (tens of GB/s),
// that tells damaged bytes, not bytes an attacker picks.
std::uint64_t checksum64(ByteView data);

// Standard base64 (RFC 4648, with padding) of data.
std::string base64(ByteView data);

// SHA-256 of a stream fed in pieces (finish() gives its hex and starts a new one).
class Sha256Stream {
public:
    Sha256Stream();
    ~Sha256Stream();
    Sha256Stream(const Sha256Stream&) = delete;
    Sha256Stream& operator=(const Sha256Stream&) = delete;

    void update(ByteView data);
    std::string finish();

private:
    void* m_context;
};

// SHA-256 and SHA-384 of a stream fed in pieces, for files too large to hold in memory.
class StreamDigest {
public:
    StreamDigest();
    ~StreamDigest();
    StreamDigest(const StreamDigest&) = delete;
    StreamDigest& operator=(const StreamDigest&) = delete;

    void update(ByteView data);
    // Finishes both digests: (sha256 hex, "sha384-<base64>"). Call once.
    std::pair<std::string, std::string> finish();

private:
    void* m_sha256;
    void* m_sha384;
};

} // namespace cachet
