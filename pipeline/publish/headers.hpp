#pragma once
#include "pipeline/config/config.hpp"
#include "pipeline/publish/manifest.hpp"

#include <string>
#include <string_view>

namespace cachet {

// Cache-Control of an output that no [[headers]] rule gives one: a service worker and HTML
// "no-cache"; anything fingerprinted "public, max-age=31536000, immutable"; other images
// "public, max-age=86400"; other video "public, max-age=604800"; anything else "no-cache".
std::string default_cache_control(const OutputSettings& output, std::string_view source, const OutputFile& file);

// Sets the response headers of every output of record from preset: Cache-Control from the
// first [[headers]] rule matching the output's path or its source's path that gives one (else
// default_cache_control()); the extra headers of every matching rule, an earlier rule winning
// a name; Vary: Accept-Encoding when the output has encoded variants. True if anything changed.
bool apply_headers(const Preset& preset, AssetRecord& record);

// Everything apply_headers() reads from preset, as text: equal texts give equal headers.
std::string headers_key(const Preset& preset);

// What a published manifest depends on beyond its records: headers_key(), and whether it is in
// parts (and of what size). The build index keeps it.
std::string published_key(const Preset& preset);

// The strong ETag of bytes whose SHA-256 is sha256_hex: the quoted first 32 hex digits.
std::string strong_etag(std::string_view sha256_hex);

// True if path (relative to SRC) is a service worker script by output.service_worker.
bool is_service_worker(const OutputSettings& output, std::string_view path);

} // namespace cachet
