#pragma once
#include "pipeline/config/config.hpp"
#include "pipeline/model/record.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cachet {

inline constexpr int k_manifest_version = 2;
// Versions read_manifest() accepts: 1 (indented, no "url"), k_manifest_version.
inline constexpr int k_oldest_manifest_version = 1;

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
    std::string build_id;                // derived from the "assets" value, never from the clock
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

// The manifest document (schema version 2, docs/manifest.schema.json): compact JSON, keys
// sorted, one line per asset (so that it stays readable with grep and diff), newline-terminated,
// so the same records always give the same bytes.
std::string render_manifest(const std::vector<AssetRecord>& records, const Preset& preset,
                            const std::vector<Generation>& generations = {});

// The text record takes in the manifest: its value under "assets", compact, with its "url":
// base (references.base) and the path of output_for_url(record), percent-encoded.
std::string manifest_fragment(const AssetRecord& record, std::string_view base);

// record as compact JSON of the manifest's shape, without "url" (a cache entry's record).
std::string record_json(const AssetRecord& record);

// The record for source from its manifest_fragment() (or any JSON of that shape); throws
// std::exception if it is not JSON or a field is missing or has the wrong type.
AssetRecord parse_record(const std::string& source, std::string_view json_text);

// The same document as render_manifest() from entries in any order, so that a build reusing
// stored fragments (and their digests) need not render every record again.
std::string render_manifest(std::vector<ManifestEntry> entries, const Preset& preset,
                            const std::vector<Generation>& generations = {});
// The same into out (cleared first; its capacity is kept, so a watch session renders into the
// same memory each time instead of faulting in megabytes of fresh pages). Returns its build id.
std::string render_manifest(std::string& out, std::vector<ManifestEntry> entries, const Preset& preset,
                            const std::vector<Generation>& generations);

// The records of the manifest file at path, sorted by source (and, if head, its build id and
// generations; a manifest from before build ids gets the digest of its bytes as its id). Throws Error(config) naming
// the file if it cannot be read, is not JSON, does not have the schema's shape, or has a version cachet does not read
// (k_oldest_manifest_version to k_manifest_version).
std::vector<AssetRecord> read_manifest(const std::filesystem::path& path, ManifestHead* head = nullptr);
// The same for the manifest's text; name is what messages call it.
std::vector<AssetRecord> parse_manifest(std::string_view text, const std::string& name, ManifestHead* head = nullptr);

} // namespace cachet
