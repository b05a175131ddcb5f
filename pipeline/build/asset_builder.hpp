#pragma once
#include "pipeline/build/asset_state.hpp"
#include "pipeline/build/image_job.hpp"
#include "pipeline/build/outputs.hpp"
#include "pipeline/build/result.hpp"
#include "pipeline/build/scan.hpp"
#include "pipeline/build/targets.hpp"
#include "pipeline/cache/cache.hpp"
#include "pipeline/config/config.hpp"
#include "pipeline/fs/file_stat.hpp"
#include "pipeline/text/minify.hpp"
#include "pipeline/text/rewrite.hpp"

#include <memory>
#include <string>

namespace cachet {

// How an unchanged source is recognised: by its stat, or (in a watch session) by the absence of
// any file-system event about it since the last build.
enum class Trust { stats, events };

// Whether every output file of the last build's entry previous is in OUT (open as out) as that
// build wrote it: one stat each, relative to OUT.
bool outputs_in_place(const IndexEntry& previous, const FileSystem& fs, const OpenFolder& out);

// Sets in_place on every entry of index whose source stat may be trusted (journaled_only: only
// on those of index.journaled, the others' outputs looked at as their chunks were read), over
// jobs threads: run while SRC is scanned, so that the stats of OUT and of SRC are taken side by
// side.
void check_outputs(BuildIndex& index, const FileSystem& fs, const std::filesystem::path& out, unsigned jobs,
                   bool journaled_only = false);
// The same for a chunk of the index as it is read (Cache::load_index()), on the calling thread.
void check_outputs(std::map<std::string, IndexEntry>& entries, const FileSystem& fs, const std::filesystem::path& out);

// Builds one asset of a build, or finds it built: reuses what the last build into OUT
// published, restores it from the cache, or makes its outputs (text and passthrough assets
// outright, images through an ImageJob). Thread-safe for distinct assets.
class AssetBuilder {
public:
    // cache and previous may be null (no cache, or no earlier build into OUT); the previous
    // build's source stats are trusted only if trust_stats. codec_versions: see
    // RunOptions::codec_versions. minifier is null unless text.minify.
    AssetBuilder(const Config& config, const FileSystem& fs, const OutputWriter& writer, const Cache* cache,
                 BuildIndex* previous, bool trust_stats, const Targets& targets, const std::string& codec_versions,
                 const Minifier* minifier);

    // The last build's entry of asset, if its source and every output file in OUT are as that
    // build left them, so that reuse() can take it as it is (unless a file it refers to
    // changed: see plan_reuse()). Reads no file and never throws.
    // previous: the last build's entry at asset's path (previous_entries()), or null.
    IndexEntry* reusable(const Asset& asset, IndexEntry* previous, Trust trust) const;
    // The last build's entry of each of assets (sorted by path, as the index is), or null: one
    // walk over both (a lookup each cost a tenth of a watch rebuild at 10,000 sources).
    std::vector<IndexEntry*> previous_entries(const std::vector<Asset>& assets) const;

    // Whether the reusable() entry previous has an output at asset's own URL if and only if it
    // should now (scripts may have come to name it, or stopped).
    // index: asset's in the build's sources.
    bool same_originals(const Asset& asset, std::size_t index, const IndexEntry& previous) const;

    // Fills in result from a reusable() entry: the asset needs nothing more (its names are not
    // claimed: see ReusedOutputs). The result points at the entry (AssetResult::entry), and
    // states[index] is not made, unless [[headers]] changed since: then the record gets them
    // again and result and state take the entry's contents over.
    void reuse(IndexEntry& previous, AssetResult& result, AssetStates& states, std::size_t index) const;

    // Builds a text or passthrough asset completely; for an image, reads its header and
    // returns the job whose decode(), resize and encode tasks the caller runs, then
    // ship_image(). Throws Error for a failing asset.
    std::shared_ptr<ImageJob> start(const Asset& asset, AssetResult& result, AssetState& state) const;
    // Decodes a started image and plans its widths and formats (decode_image_job()).
    void decode(ImageJob& job) const { decode_image_job(job); }

    // After an asset was built: notes what its outputs look like in OUT and keeps it in the
    // cache. Throws Error(io) if the cache cannot be written.
    void remember(AssetResult& result, AssetState& state) const;

private:
    std::string settings_prefix(AssetKind kind, const std::string& settings) const;
    std::string settings_id(const Asset& asset) const;
    bool has_settings(const Asset& asset, std::string_view settings) const;
    bool wants_original(const Asset& asset) const;
    bool wants_original(const Asset& asset, std::size_t index) const; // index: asset's in Targets
    void set_key(const Asset& asset, const std::string& source_digest, AssetState& state) const;
    Rewritten rewrite(const Asset& asset, ByteView source, AssetState& state) const;
    bool reuse_published(IndexEntry& previous, AssetResult& result, AssetState& state) const;
    void take(IndexEntry& previous, AssetResult& result, AssetState& state) const;
    bool materialize(const CacheEntry& entry, AssetResult& result, AssetState& state, std::string& problem) const;
    void build_text(const Asset& asset, ByteView source, AssetRecord& record, AssetState& state) const;
    std::optional<Bytes> minified(const Asset& asset, ByteView text) const;

    const Config& m_config;
    const FileSystem& m_fs;
    const Preset& m_preset;
    const OutputWriter& m_writer;
    const Cache* m_cache;
    BuildIndex* m_previous;
    bool m_trust_stats;
    bool m_headers_changed; // the last build's published_key() differs: reused records get their headers again
    const Targets& m_targets;
    const Minifier* m_minifier;
    OpenFolder m_out;                 // OUT, for stats relative to it
    std::string m_codecs;             // codec_fingerprint(), with a cache only
    std::string m_text_prefix;        // settings_prefix() of text assets
    std::string m_passthrough_prefix; // ... of passthrough ones
    std::string m_image_prefix;       // ... of images, when no rule makes their settings differ by path
};

} // namespace cachet
