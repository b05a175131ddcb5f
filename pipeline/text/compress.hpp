#pragma once
#include "pipeline/config/config.hpp"
#include "pipeline/model/bytes.hpp"

#include <string_view>

namespace cachet {

// Compresses data with encoding at the levels in settings. Byte-deterministic: no time or
// name in any header. Throws Error(internal) if the library fails.
Bytes compress(Encoding encoding, ByteView data, const TextSettings& settings);

// Decompresses data; throws Error(asset) if it is not a valid stream of that encoding.
Bytes decompress(Encoding encoding, ByteView data);

// File-name suffix of a sidecar without the dot: "zst", "br", "gz".
std::string_view sidecar_extension(Encoding encoding);

std::string zstd_version();
std::string brotli_version();
std::string deflate_version();

} // namespace cachet
