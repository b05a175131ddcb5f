#include "pipeline/build/asset_builder.hpp"

#include "pipeline/build/scheduler.hpp"

#include "pipeline/build/versions.hpp"
#include "pipeline/fs/atomic_file.hpp"
#include "pipeline/model/content_type.hpp"
#include "pipeline/model/error.hpp"
#include "pipeline/model/hash.hpp"
#include "pipeline/publish/headers.hpp"
#include "pipeline/text/compress.hpp"
#include "pipeline/text/references.hpp"

#include <exception>
#include <fstream>
#include <set>
#include <vector>

namespace cachet {

namespace {

// A text's encodings are made on threads of their own from this size (below it a thread costs
// more than it saves), up to this one (beyond it, three encoders at once would take more
// memory than the scheduler counted for the file).
constexpr std::size_t k_parallel_compress_min = std::size_t{8} << 10;
constexpr std::size_t k_parallel_compress_max = std::size_t{1} << 20;

// "sha256-<hex>" of a file read in pieces (a passthrough may be large).
std::string digest_file(const Asset& asset)
{
    std::ifstream in(asset.absolute, std::ios::binary);
    StreamDigest digest;
    std::vector<char> buffer(1 << 20);
    while (in) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        digest.update(
            ByteView(reinterpret_cast<const std::uint8_t*>(buffer.data()), static_cast<std::size_t>(in.gcount())));
    }
    if (in.bad())
        throw Error(ErrorKind::asset, asset.absolute + ": read error");
    return "sha256-" + digest.finish().first;
}

void set_fragment(AssetState& state, const AssetRecord& record, std::string_view base)
{
    state.fragment = manifest_fragment(record, base);
    state.fragment_digest = sha256_hex(as_bytes(state.fragment));
}

} // namespace

AssetBuilder::AssetBuilder(const Config& config, const FileSystem& fs, const OutputWriter& writer, const Cache* cache,
                           BuildIndex* previous, bool trust_stats, const Targets& targets,
                           const std::string& codec_versions, const Minifier* minifier)
    : m_config(config), m_fs(fs), m_preset(config.preset), m_writer(writer), m_cache(cache), m_previous(previous),
      m_trust_stats(trust_stats), m_headers_changed(previous && previous->headers != published_key(config.preset)),
      m_targets(targets), m_minifier(minifier), m_out(config.output),
      m_codecs(cache ? codec_fingerprint(config.cache_dir, codec_versions)
                     : std::string()) // reads no library when kept
{
    if (m_cache) {
        m_text_prefix = settings_prefix(AssetKind::text, settings_key(m_preset.text) +
                                                             settings_key(m_preset.references, m_preset.html) +
                                                             (m_minifier ? m_minifier->identity() + "\n" : ""));
        m_passthrough_prefix = settings_prefix(AssetKind::passthrough, "");
        if (m_preset.images.rules.empty())
            m_image_prefix = settings_prefix(AssetKind::image, settings_key(image_settings_for(m_preset, "")));
    }
}

std::vector<IndexEntry*> AssetBuilder::previous_entries(const std::vector<Asset>& assets) const
{
    std::vector<IndexEntry*> entries(assets.size(), nullptr);
    if (!m_previous)
        return entries;
    auto at = m_previous->assets.begin();
    const auto end = m_previous->assets.end();
    for (std::size_t i = 0; i < assets.size() && at != end; ++i) {
        while (at != end && at->first < assets[i].path)
            ++at;
        if (at != end && at->first == assets[i].path)
            entries[i] = &(at++)->second;
    }
    return entries;
}

IndexEntry* AssetBuilder::reusable(const Asset& asset, IndexEntry* entry, Trust trust) const
{
    if (!m_cache || !m_previous || !entry || (!m_trust_stats && trust == Trust::stats))
        return nullptr;
    IndexEntry& previous = *entry;
    if (trust == Trust::events) // the same session, so the same settings as last time
        return &previous;
    if (!has_settings(asset, previous.settings))
        return nullptr;
    // Same path, same bytes (by the stat), same settings: the same key, without hashing it.
    if (previous.source.mtime_ns == 0 || previous.source != FileStat{asset.bytes, asset.mtime_ns, asset.inode})
        return nullptr;
    const bool in_place = previous.in_place >= 0 ? previous.in_place == 1 : outputs_in_place(previous, m_fs, m_out);
    return in_place ? &previous : nullptr;
}

std::shared_ptr<ImageJob> AssetBuilder::start(const Asset& asset, AssetResult& result, AssetState& state) const
{
    if (has_control_character(asset.path))
        throw Error(ErrorKind::asset, "file name has a control character (a newline, a tab, an escape...); URLs, the "
                                      "manifest and server configuration cannot carry it: rename it");
    if (!is_valid_utf8(asset.path))
        throw Error(ErrorKind::asset, "file name is not valid UTF-8 (URLs and the manifest need UTF-8); rename it");
    AssetRecord& record = result.record;
    record.source = asset.path;
    record.kind = asset.kind;
    if (asset.kind == AssetKind::unsupported)
        throw Error(ErrorKind::asset, "unsupported image type ." + extension_of(asset.path) +
                                          " (set images.unsupported = \"passthrough\" to copy it as is)");
    IndexEntry* previous = nullptr; // each asset's entry is read by that asset's task only
    if (m_previous)
        if (const auto it = m_previous->assets.find(asset.path); it != m_previous->assets.end())
            previous = &it->second;
    if (previous && previous->taken)
        previous = nullptr;
    if (asset.kind == AssetKind::passthrough) {
        // Hashing is cheaper than copying: a touched but unchanged file is not written again.
        if (m_cache && previous) {
            set_key(asset, digest_file(asset), state);
            if (previous->entry.get().key == state.key && reuse_published(*previous, result, state))
                return nullptr;
        }
        m_writer.copy(asset, record, wants_original(asset));
        if (m_cache)
            set_key(asset, record.source_digest, state);
        return nullptr;
    }
    Bytes source;
    try {
        source = m_fs.read(asset.absolute);
    } catch (const Error& e) {
        throw Error(ErrorKind::asset, e.what()); // an unreadable source fails that asset only
    }
    record.source_bytes = source.size();
    record.source_digest = "sha256-" + sha256_hex(source);
    std::optional<Rewritten> rewritten; // the source with its references rewritten
    if (asset.kind == AssetKind::text && m_preset.references.rewrite && may_have_references(asset.path))
        rewritten = rewrite(asset, source, state);
    if (m_cache) {
        std::string digest = rewritten ? record.source_digest + "\nreferences " + sha256_hex(as_bytes(rewritten->edits))
                                       : record.source_digest;
        if (asset.kind == AssetKind::text) // the sidecars that give way to sources (build_text())
            for (const Encoding encoding : m_preset.text.encodings)
                if (const std::string sidecar = asset.path + "." + std::string(sidecar_extension(encoding));
                    m_targets.find(sidecar) != Targets::k_none)
                    digest += "\nsidecar taken " + sidecar;
        set_key(asset, digest, state);
        if (previous && previous->entry.get().key == state.key && reuse_published(*previous, result, state))
            return nullptr;
        std::string problem;
        if (auto entry = m_cache->find(state.key, problem); entry && materialize(*entry, result, state, problem))
            return nullptr;
        result.cache_problem = problem;
    }
    if (asset.kind == AssetKind::image) {
        auto job = start_image_job(m_preset, asset, std::move(source), result, state, m_preset.build.memory);
        job->keep_source = wants_original(asset) || asset.stable; // a stable name answers too
        return job;
    }
    if (rewritten)
        result.warnings = std::move(rewritten->warnings);
    const ByteView text = rewritten ? as_bytes(rewritten->text) : ByteView(source);
    if (const auto smaller = minified(asset, text))
        build_text(asset, *smaller, record, state);
    else
        build_text(asset, text, record, state);
    return nullptr;
}

// text minified, if it is a script or stylesheet that may be and esbuild makes it smaller.
std::optional<Bytes> AssetBuilder::minified(const Asset& asset, ByteView text) const
{
    const Minifiable kind = m_minifier ? minifiable(asset.path) : Minifiable::no;
    if (kind == Minifiable::no || !left_as_is(as_text(text)).empty())
        return std::nullopt;
    return m_minifier->minify(kind, text).bytes;
}

void AssetBuilder::remember(AssetResult& result, AssetState& state) const
{
    apply_headers(m_preset, result.record);
    set_fragment(state, result.record, m_preset.references.base);
    if (!m_cache)
        return;
    for (const auto& path : output_paths(result.record)) // (a staged file keeps its stat when renamed)
        state.output_stats.push_back(m_fs.stat(m_config.output / m_writer.written_at(path)).value_or(FileStat{}));
    if (result.record.kind != AssetKind::passthrough) // a passthrough's bytes are its source's
        m_cache->store(CacheEntry{state.key, result.record, result.warnings, state.blobs});
}

// A digest of everything but the source's path and bytes that decides an asset's outputs.
std::string AssetBuilder::settings_prefix(AssetKind kind, const std::string& settings) const
{
    return sha256_hex(as_bytes("cachet cache " + std::to_string(k_cache_format) + "\n" + m_codecs + "\nkind " +
                               std::string(to_string(kind)) + "\nhash_length " +
                               std::to_string(m_preset.output.hash_length) + "\n" + settings));
}

// Everything but the source's path and bytes that decides an asset's outputs, as a digest.
std::string AssetBuilder::settings_id(const Asset& asset) const
{
    std::string id;
    switch (asset.kind) {
    case AssetKind::image:
        id = m_image_prefix.empty()
                 ? settings_prefix(asset.kind, settings_key(image_settings_for(m_preset, asset.path)))
                 : m_image_prefix;
        break;
    case AssetKind::text: id = m_text_prefix; break;
    default: id = m_passthrough_prefix; break;
    }
    id += asset.stable ? 's' : 'f';
    id += wants_original(asset) ? 'o' : '-';
    return id;
}

// settings == settings_id(asset), mostly without building the latter, but for whether it wants
// an original (which scripts may decide: same_originals(), once their names are known).
bool AssetBuilder::has_settings(const Asset& asset, std::string_view settings) const
{
    const std::string& prefix = asset.kind == AssetKind::image  ? m_image_prefix
                                : asset.kind == AssetKind::text ? m_text_prefix
                                                                : m_passthrough_prefix;
    if (prefix.empty())
        return settings == settings_id(asset);
    return settings.size() == prefix.size() + 2 && settings.compare(0, prefix.size(), prefix) == 0 &&
           settings[prefix.size()] == (asset.stable ? 's' : 'f');
}

bool AssetBuilder::same_originals(const Asset& asset, std::size_t index, const IndexEntry& previous) const
{
    const std::string_view settings = previous.settings;
    return !settings.empty() && settings.back() == (wants_original(asset, index) ? 'o' : '-');
}

// Whether asset gets an output at its own URL beside its fingerprinted ones: with
// output.originals, or when scripts name it (their URL must answer). One that keeps its name
// has none: its output is there already.
bool AssetBuilder::wants_original(const Asset& asset) const
{
    return wants_original(asset,
                          asset.stable || m_preset.output.originals ? Targets::k_none : m_targets.find(asset.path));
}

bool AssetBuilder::wants_original(const Asset& asset, std::size_t index) const
{
    if (asset.stable)
        return false;
    if (m_preset.output.originals)
        return true;
    return index != Targets::k_none && m_targets.named(index);
}

// Sets state's settings and its cache key for the source bytes with that digest.
void AssetBuilder::set_key(const Asset& asset, const std::string& source_digest, AssetState& state) const
{
    state.settings = settings_id(asset);
    state.key = sha256_hex(as_bytes(state.settings + "\n" + asset.path + "\n" + source_digest));
}

// The text asset's source with its references rewritten (dependency order made sure that
// what they name is built); notes what it refers to in state. Throws Error(asset) under
// --strict if a reference names a file that is not there or failed.
Rewritten AssetBuilder::rewrite(const Asset& asset, ByteView source, AssetState& state) const
{
    const std::string_view text = as_text(source);
    const std::vector<Reference> references = find_references(asset.path, text);
    Dependencies deps = dependencies_of(asset.path, references, m_preset.references.base);
    state.loads = std::move(deps.loads);
    state.back = std::move(deps.back);
    state.kept = m_targets.kept(state.loads, state.back);
    Rewritten out = rewrite_references(
        asset.path, text, references, [&](const std::string& path) { return m_targets.target(path, state.gave_way); },
        RewriteOptions{m_preset.references.base, m_preset.html.picture, m_preset.html.integrity});
    if (m_config.missing_references == MissingReferences::fail && !out.missing.empty()) {
        std::string list;
        for (const auto& m : out.missing)
            list += (list.empty() ? "" : "; ") + m;
        throw Error(ErrorKind::asset, "refers to what this build does not have (--strict): " + list);
    }
    return out;
}

// Reuses what the last build published into OUT for this source, if every output file is
// still there as that build wrote it.
bool AssetBuilder::reuse_published(IndexEntry& previous, AssetResult& result, AssetState& state) const
{
    if (!outputs_in_place(previous, m_fs, m_out))
        return false;
    const CacheEntry& entry = previous.entry.get();
    m_writer.claim_all(entry.record, entry.blobs);
    take(previous, result, state);
    return true;
}

void AssetBuilder::reuse(IndexEntry& previous, AssetResult& result, AssetStates& states, std::size_t index) const
{
    if (m_headers_changed) {
        take(previous, result, states.edit(index));
        return;
    }
    result.status = AssetResult::Status::cached;
    result.entry = &previous;
    result.entry_warned = previous.warned;
    previous.taken = true;
}

void AssetBuilder::take(IndexEntry& previous, AssetResult& result, AssetState& state) const
{
    result.status = AssetResult::Status::cached;
    CacheEntry entry = previous.entry.take();
    result.record = std::move(entry.record);
    result.warnings = std::move(entry.warnings);
    state.key = std::move(entry.key);
    state.settings = previous.settings.str();
    state.blobs = std::move(entry.blobs);
    state.output_stats = output_stats(previous.outputs);
    state.fragment = previous.fragment.str();
    state.fragment_digest = previous.fragment_digest.str();
    state.reused = previous.source;
    state.loads = std::move(previous.loads);
    state.back = std::move(previous.back);
    state.script_names = std::move(previous.script_names);
    state.kept = std::move(previous.kept);
    previous.taken = true;
    state.same_entry = true;
    if (m_headers_changed && apply_headers(m_preset, result.record)) { // [[headers]] changed since
        set_fragment(state, result.record, m_preset.references.base);
        state.same_entry = false;
    }
}

// Writes a cache entry's outputs into OUT from its blobs, all verified before any is
// written. False, with problem set, if the entry is incomplete or a blob is damaged.
bool AssetBuilder::materialize(const CacheEntry& entry, AssetResult& result, AssetState& state,
                               std::string& problem) const
{
    std::vector<std::pair<std::string, Bytes>> files;
    for (const auto& path : output_paths(entry.record)) {
        const auto it = entry.blobs.find(path);
        if (it == entry.blobs.end()) {
            problem = "cache entry " + entry.key + " lacks the bytes of " + path + "; rebuilt";
            return false;
        }
        auto data = m_cache->blob(it->second, problem);
        if (!data)
            return false;
        files.emplace_back(path, std::move(*data));
    }
    if (const std::string why = misdescribed(entry, {files.begin(), files.end()}); !why.empty()) {
        problem = "cache entry " + entry.key + " is damaged (" + why + "); rebuilt";
        return false;
    }
    m_writer.claim_all(entry.record, entry.blobs);
    std::set<std::string> fingerprinted;
    for (const auto& o : entry.record.outputs)
        if (o.fingerprinted) {
            fingerprinted.insert(o.path);
            for (const auto& e : o.encodings)
                fingerprinted.insert(e.path);
        }
    for (const auto& [path, data] : files) {
        m_writer.write_file(path, data, fingerprinted.count(path) != 0);
        state.output_stats.push_back(m_fs.stat(m_config.output / m_writer.written_at(path)).value_or(FileStat{}));
    }
    result.status = AssetResult::Status::cached;
    result.record = entry.record;
    result.warnings = entry.warnings;
    state.blobs = entry.blobs;
    apply_headers(m_preset, result.record); // the entry may come from a build with other [[headers]]
    set_fragment(state, result.record, m_preset.references.base);
    return true;
}

void AssetBuilder::build_text(const Asset& asset, ByteView source, AssetRecord& record, AssetState& state) const
{
    std::vector<std::pair<Encoding, Bytes>> variants;
    const TextSettings& text = m_preset.text;
    if (source.size() >= text.min_bytes && !source.empty()) {
        // The encodings of one file are made side by side when that is worth a thread and
        // bounded in memory (brotli 11 and zstd 19 take milliseconds on 10 KB, and a rebuild
        // of one stylesheet waits for them); the bytes do not depend on it.
        const std::size_t n = text.encodings.size();
        const bool side_by_side =
            m_config.jobs > 1 && source.size() >= k_parallel_compress_min && source.size() <= k_parallel_compress_max;
        std::vector<Bytes> packed(n);
        std::vector<std::exception_ptr> failures(n);
        parallel_for(side_by_side ? static_cast<unsigned>(n) : 1U, n, [&](std::size_t e) {
            try {
                packed[e] = compress(text.encodings[e], source, text);
            } catch (...) {
                failures[e] = std::current_exception();
            }
        });
        for (std::size_t e = 0; e < n; ++e) {
            if (failures[e])
                std::rethrow_exception(failures[e]);
            const double saving = 1.0 - static_cast<double>(packed[e].size()) / static_cast<double>(source.size());
            if (saving >= text.min_saving)
                variants.emplace_back(text.encodings[e], std::move(packed[e]));
        }
    }
    // A sidecar never takes the name of a source (MkDocs ships sitemap.xml and its own
    // sitemap.xml.gz): that file is the site's, and answers at its URL as it is.
    auto add_variants = [&](OutputFile& out) {
        for (const auto& [encoding, packed] : variants)
            if (m_targets.find(out.path + "." + std::string(sidecar_extension(encoding))) == Targets::k_none)
                m_writer.write_variant(asset.path, out, encoding, packed, state);
    };
    OutputFile out = m_writer.write(asset.path, asset.path, source, state);
    add_variants(out);
    record.outputs.push_back(std::move(out));
    if (!wants_original(asset))
        return;
    OutputFile original = m_writer.write_original(asset.path, record.outputs.back(), source, state);
    add_variants(original);
    record.outputs.push_back(std::move(original));
}

} // namespace cachet
