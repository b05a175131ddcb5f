#pragma once
#include "pipeline/model/asset.hpp"
#include "pipeline/model/formats.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cachet {

// What one source became: the vocabulary of the manifest, the cache and the exporters. Its
// codecs (JSON in publish/manifest.cpp, binary in cache/record_codec.cpp) are checked against
// each other field by field by tests/test_record.cpp.

inline constexpr std::size_t k_placeholder_max_bytes = 400;

// What a page shows before an image loads, as Next.js's blurDataURL.
struct Placeholder {
    std::string data_uri;       // a tiny WebP (at most 16 px a side) as base64, <= 400 bytes
    std::string dominant_color; // "#rrggbb"
    bool operator==(const Placeholder&) const = default;
};

// A precompressed sidecar of an output.
struct EncodedFile {
    Encoding encoding = Encoding::gzip;
    std::string path;
    std::uint64_t bytes = 0;
    std::string etag; // strong_etag() of these bytes
    bool operator==(const EncodedFile&) const = default;
};

struct OutputFile {
    std::string path; // relative to OUT, '/'-separated
    std::uint64_t bytes = 0;
    std::string content_type;
    std::string integrity; // SRI of the identity bytes
    std::string cache_control;
    std::vector<std::pair<std::string, std::string>> headers; // [[headers]] extras, sorted by name
    std::string vary;                                         // "Accept-Encoding" when encoded variants exist
    std::string etag;                                         // strong_etag() of the identity bytes
    bool fingerprinted = false;
    // Served at the source's own URL (output.originals, a stable name, or a name scripts use):
    // the same kind of content the original site had there.
    bool original = false;
    std::optional<ImageFormat> format; // images only
    int width = 0;
    int height = 0;
    int frames = 1;                     // images: more than 1 for an animation
    std::vector<EncodedFile> encodings; // text only
    std::optional<int> quality;         // images with quality = "auto": the quality chosen
    std::optional<double> butteraugli;  // ... and its Butteraugli 3-norm at the reference width
    bool operator==(const OutputFile&) const = default;
};

struct AssetRecord {
    std::string source; // relative to SRC
    AssetKind kind = AssetKind::passthrough;
    std::uint64_t source_bytes = 0;
    std::string source_digest; // "sha256-<hex>"
    std::vector<OutputFile> outputs;
    std::optional<Placeholder> placeholder; // images only
    bool operator==(const AssetRecord&) const = default;
};

// The output paths of record: each file, then its encoded variants.
std::vector<std::string> output_paths(const AssetRecord& record);

// The output a plain reference to record's source gets (a rewritten <img src>, url(), a
// template helper reading the manifest's "url"): for an image, its widest output in the
// source's own format, else in the first format every browser shows; for other sources their
// first output. Originals are never chosen for an image (they only answer its old URL). Null
// if record has no output.
const OutputFile* output_for_url(const AssetRecord& record);

// Whether record has an output in a modern format (AVIF, WebP) for browsers that take one.
bool has_modern_format(const AssetRecord& record);

// What a visitor's browser downloads for record's source shown at full size.
struct Delivered {
    // A current browser: for an image, its most preferred format at the widest width (what a
    // <picture> or Accept negotiation gives); otherwise output_for_url(). Null if no output.
    const OutputFile* file = nullptr;
    std::uint64_t bytes = 0;           // ... as that browser gets it: its smallest encoded variant, if any
    std::string_view format;           // ... named: "avif", "webp", "jpeg"..., or "br", "zstd", "gzip", "identity"
    const OutputFile* plain = nullptr; // output_for_url(): what a plain <img> or link gets
    std::uint64_t plain_bytes = 0;     // ... its bytes, not encoded
};
Delivered delivered(const AssetRecord& record);

// path with what cannot stand as is in a URL path (spaces, controls, quotes, brackets, '#',
// '?', '%', '\\', ',') percent-encoded; '/' and other UTF-8 bytes are kept.
std::string percent_encoded(std::string_view path);

} // namespace cachet
