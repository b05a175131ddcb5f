#pragma once
#include "pipeline/config/config.hpp"
#include "pipeline/image/placeholder.hpp"
#include "pipeline/fs/scan.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cachet {

inline constexpr int k_manifest_version = 1;

struct EncodedFile {
    Encoding encoding = Encoding::gzip;
    std::string path;
    std::uint64_t bytes = 0;
    std::string etag; // strong_etag() of these bytes
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
    std::optional<ImageFormat> format; // images only
    int width = 0;
    int height = 0;
    int frames = 1;                     // images: more than 1 for an animation
    std::vector<EncodedFile> encodings; // text only
    std::optional<int> quality;          // images with quality = "auto": the quality chosen
    std::optional<double> butteraugli;   // ... and its Butteraugli 3-norm at the reference width
};

struct AssetRecord {
    std::string source; // relative to SRC
    AssetKind kind = AssetKind::passthrough;
    std::uint64_t source_bytes = 0;
    std::string source_digest; // "sha256-<hex>"
    std::vector<OutputFile> outputs;
    std::optional<Placeholder> placeholder; // images only
};

// A previous build whose outputs OUT still keeps (for pages of that build still open), with
// those of its outputs that no newer build kept in OUT names.
struct Generation {
    std::string build_id;
    std::vector<std::string> outputs; // sorted
    bool operator==(const Generation&) const = default;
};

// What the manifest says besides its records.
struct ManifestHead {
    std::string preset;                  // the preset it was built with
    std::string build_id;               // derived from the "assets" value, never from the clock
    std::vector<Generation> generations; // newest first
};

// One asset as the manifest holds it: its source path, its manifest_fragment(), and the
// SHA-256 (hex) of that fragment if known ("": computed when needed).
struct ManifestEntry {
    std::string_view source;
    std::string_view fragment;
    std::string_view digest;
};

// The build id of a manifest holding entries (sorted by source): the first 20 hex digits of the
// SHA-256 of, per asset, its source path, a NUL, the SHA-256 (hex) of its value as written, and
// a newline. Content-derived, and cheap for a build that reuses most fragments' digests.
std::string build_id_of(const std::vector<ManifestEntry>& entries);

// The manifest document (schema version 1, docs/manifest.schema.json): keys sorted, two-space
// indented, newline-terminated, so the same records always give the same bytes.
std::string render_manifest(const std::vector<AssetRecord>& records, const Preset& preset,
                            const std::vector<Generation>& generations = {});

// The text record takes in the manifest: its value under "assets", indented for that place.
std::string manifest_fragment(const AssetRecord& record);

// The record for source from its manifest_fragment() (or any JSON of that shape); throws
// std::exception if it is not JSON or a field is missing or has the wrong type.
AssetRecord parse_record(const std::string& source, std::string_view json_text);

// The same document as render_manifest() from entries in any order, so that a build reusing
// stored fragments (and their digests) need not render every record again.
std::string render_manifest(std::vector<ManifestEntry> entries, const Preset& preset,
                            const std::vector<Generation>& generations = {});
// The same into out (cleared first; its capacity is kept, so a watch session renders into the
// same memory each time instead of faulting in megabytes of fresh pages).
void render_manifest(std::string& out, std::vector<ManifestEntry> entries, const Preset& preset,
                     const std::vector<Generation>& generations);

// The records of the manifest file at path, sorted by source (and, if head, its build id and
// generations; a manifest from before build ids gets the digest of its bytes as its id). Throws Error(config) naming the
// file if it cannot be read, is not JSON, does not have the schema's shape, or has a version
// other than k_manifest_version.
std::vector<AssetRecord> read_manifest(const std::filesystem::path& path, ManifestHead* head = nullptr);

} // namespace cachet
