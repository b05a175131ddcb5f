#pragma once
#include "pipeline/config/config.hpp"
#include "pipeline/model/record.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cachet {

inline constexpr int k_manifest_version = 2;
// A manifest in parts (output.manifest_parts): a top document naming part files that hold the
// assets (docs/manifest.md).
inline constexpr int k_manifest_parts_version = 3;
// Versions read_manifest() accepts: 1 (indented, no "url"), k_manifest_version and
// k_manifest_parts_version.
inline constexpr int k_oldest_manifest_version = 1;
inline constexpr int k_newest_manifest_version = k_manifest_parts_version;

// One part of a manifest in parts: a file holding the assets from first to last (in source
// order), named by their content.
struct ManifestPart {
    std::string path; // relative to the manifest's folder: "<manifest_parts_folder()>/<id>.json"
    std::uint64_t bytes = 0;
    std::string integrity; // "sha384-<base64>" of its bytes
    std::string first;     // its first source
    std::string last;      // its last source
    std::uint64_t sources = 0;
    bool operator==(const ManifestPart&) const = default;
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
    std::string build_id;                // derived from the "assets" value, never from the clock
    std::vector<Generation> generations; // newest first
    std::vector<ManifestPart> parts;     // a manifest in parts': in source order (else empty)
};

// One asset as the manifest holds it: its source path, its manifest_fragment(), and the
// SHA-256 (hex) of that fragment if known ("": computed when needed).
// Hex digits of SHA-256 in a build id and in a manifest part's name.
inline constexpr std::size_t k_build_id_length = 20;

struct ManifestEntry {
    std::string_view source;
    std::string_view fragment;
    std::string_view digest;
    bool unchanged = false; // the last build published this source with this digest
};

// The build id of a manifest holding entries (sorted by source): the entries are cut into
// groups as parts of k_build_id_group are (manifest_part_ranges()); a group's id is the first 20
// hex digits of the SHA-256 of, per asset, its source path, a NUL, the SHA-256 (hex) of its
// value as written, and a newline; the build id is the first 20 hex digits of the SHA-256 of
// the groups' ids, each followed by a newline. Content-derived, and cheap for a build that
// reuses most fragments' digests; in parts of k_build_id_group, a part's file name is its
// group's id, so a build that keeps a part's name hashes nothing of it again.
inline constexpr std::size_t k_build_id_group = 1000;
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
// A rendered manifest as the pieces of its text, in order: views of its entries' fragments
// (which must outlive it) and of the short texts between them, which it holds. Written as it
// is (FileSystem::write_pieces()), a manifest of 100,000 sources (about 100 MB) is not first
// copied into one string. Its memory is kept by clear(): a watch session renders into the
// same memory each time.
class ManifestText {
public:
    void clear();
    std::size_t size() const { return m_size; }
    // Its pieces, in order (valid until it is cleared or changed).
    const std::vector<std::string_view>& pieces() const { return m_views; }
    std::string joined() const;
    bool operator==(std::string_view bytes) const;

    // Making it: text that outlives it is viewed, other text copied in; finish() once done.
    void view(std::string_view text);
    void copy(std::string_view text);
    void finish();

private:
    struct Piece {
        const char* data; // null: the next `size` bytes of m_held
        std::size_t size;
    };
    std::vector<Piece> m_pieces;
    std::string m_held;
    std::vector<std::string_view> m_views;
    std::size_t m_size = 0;
};

// The same into out (cleared first). Returns its build id.
std::string render_manifest(ManifestText& out, std::vector<ManifestEntry> entries, const Preset& preset,
                            const std::vector<Generation>& generations);
// How that document ends, from its build id on (generations, generator, preset, version): a
// build whose entries are all the last build's compares this with the end of the manifest it
// published instead of rendering the whole document again.
std::string manifest_tail(const std::string& build_id, const Preset& preset,
                          const std::vector<Generation>& generations);

// Where a manifest's parts go, beside it: "cachet-manifest.json" -> "cachet-manifest.parts"
// (relative to the manifest's folder, as ManifestPart::path).
std::string manifest_parts_folder(std::string_view manifest_name);

// entries (sorted by source) cut into parts of about `mean` sources each: a part ends after a
// source whose path hashes to 0 modulo mean, so that adding or changing one source changes one
// part (two at most) and every other part keeps its bytes and its name. Returns each part's
// [begin, end) in entries. mean 0: one part.
std::vector<std::pair<std::size_t, std::size_t>> manifest_part_ranges(const std::vector<ManifestEntry>& entries,
                                                                      std::size_t mean);

// A part's name in the parts folder, from its entries (their build_id_of()): "<20 hex>.json".
std::string manifest_part_file(const ManifestEntry* begin, const ManifestEntry* end);

// entries cut as manifest_part_ranges() does, each part with its manifest_part_file(), and
// the build id of them all (build_id_of()). known(begin, end) may name the file of a part of
// the last build that held exactly entries [begin, end), all unchanged (see ManifestEntry):
// that name is taken rather than hashed again (in parts of k_build_id_group, for the build id
// too).
struct ManifestCut {
    std::size_t begin = 0;
    std::size_t end = 0;
    std::string file;
};
std::vector<ManifestCut>
cut_manifest(const std::vector<ManifestEntry>& entries, std::size_t mean, std::string& build_id,
             const std::function<std::optional<std::string>(std::size_t, std::size_t)>& known = nullptr);

// A part's document into out (cleared first): {"assets":{...},"version":3} with one line per
// asset, as render_manifest() writes them.
void render_manifest_part(std::string& out, const ManifestEntry* begin, const ManifestEntry* end);

// The top document of a manifest in parts (keys sorted, one line per part).
std::string render_manifest_top(const std::vector<ManifestPart>& parts, const std::string& build_id,
                                const Preset& preset, const std::vector<Generation>& generations);

// The records of the manifest file at path, sorted by source (and, if head, its build id and
// generations; a manifest from before build ids gets the digest of its bytes as its id). Throws Error(config) naming
// the file if it cannot be read, is not JSON, does not have the schema's shape, or has a version cachet does not read
// (k_oldest_manifest_version to k_newest_manifest_version). A manifest in parts is read whole:
// each part is checked against its size and integrity, and must hold the sources the top says.
std::vector<AssetRecord> read_manifest(const std::filesystem::path& path, ManifestHead* head = nullptr);
// The same for the manifest's text; name is what messages call it. The top of a manifest in
// parts gives no records (its parts are files: read_manifest() reads them), only head->parts.
std::vector<AssetRecord> parse_manifest(std::string_view text, const std::string& name, ManifestHead* head = nullptr);

} // namespace cachet
