#include "pipeline/build/run.hpp"

#include "pipeline/fs/atomic_file.hpp"
#include "pipeline/publish/budget.hpp"
#include "pipeline/cache/cache.hpp"
#include "pipeline/text/compress.hpp"
#include "pipeline/model/content_type.hpp"
#include "pipeline/model/error.hpp"
#include "pipeline/text/fingerprint.hpp"
#include "pipeline/fs/glob.hpp"
#include "pipeline/model/hash.hpp"
#include "pipeline/publish/headers.hpp"
#include "pipeline/image/image_stack.hpp"
#include "pipeline/text/order.hpp"
#include "pipeline/text/references.hpp"
#include "pipeline/publish/retention.hpp"
#include "pipeline/text/rewrite.hpp"
#include "pipeline/build/versions.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <mutex>
#include <memory>
#include <new>
#include <fcntl.h>
#include <unistd.h>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>
#include <tuple>

namespace cachet {
namespace {

namespace fs = std::filesystem;

// How an unchanged source is recognised: by its stat, or (in a watch session) by the absence of
// any file-system event about it since the last build.
enum class Trust { stats, events };

// What the build cache needs to know about one asset of this build, beside its AssetResult.
struct AssetState {
    std::string key;                          // cache key ("" without a cache)
    std::map<std::string, std::string> blobs; // output path -> SHA-256 hex of the bytes written
    std::vector<FileStat> output_stats;       // each output file as written, in output_paths() order
    std::string fragment;                     // manifest_fragment() of the record
    std::string fragment_digest;              // its SHA-256, hex (for the build id)
    std::string settings;                     // settings_id() of the asset
    std::optional<FileStat> reused;           // set when the last build's outputs were reused as they
                                              // are: the source stat that build recorded
    std::vector<std::string> loads;           // text: the sources it refers to (Dependencies)
    std::vector<std::string> back;            // ... and names by back-reference only
    std::vector<std::string> gave_way;        // back-references left as written in this build, sorted
    bool same_entry = false;                  // reused, and its index entry is the last build's as it was
};

// Whether the outputs of the source at path keep its name (HTML, output.stable, service workers).
bool keeps_name(const Preset& preset, const std::string& path)
{
    const std::string ext = extension_of(path);
    return ext == "html" || ext == "htm" || glob_match_any(preset.output.stable, path) ||
           is_service_worker(preset.output, path);
}

// The sources of this build as the references of a text file being built see them: which
// exist, which are built (and so may be read), which keep their names.
class Targets {
public:
    static constexpr std::size_t k_none = static_cast<std::size_t>(-1);

    Targets(const Preset& preset, const std::vector<Asset>& assets, const std::vector<AssetResult>& results)
        : m_preset(preset), m_assets(assets), m_results(results),
          m_done(std::make_unique<std::atomic<char>[]>(assets.size()))
    {
    }

    // The index of the source at path (assets are sorted by path), or k_none.
    std::size_t find(std::string_view path) const
    {
        const std::size_t i = find_first(path);
        return i < m_assets.size() && m_assets[i].path == path ? i : k_none;
    }

    // The index of the first source whose path is not less than path (assets.size() if none).
    std::size_t find_first(std::string_view path) const
    {
        return static_cast<std::size_t>(
            std::lower_bound(m_assets.begin(), m_assets.end(), path,
                             [](const Asset& a, std::string_view p) { return std::string_view(a.path) < p; }) -
            m_assets.begin());
    }

    // Whether a file referring to assets[index] needs it built first: unless its name stays.
    bool needs_build(std::size_t index) const
    {
        return m_assets[index].kind == AssetKind::image || !keeps_name(m_preset, m_assets[index].path);
    }

    // assets[index] is finished (its result final): files referring to it may read it.
    void mark_done(std::size_t index) { m_done[index].store(1, std::memory_order_release); }

    ReferenceTarget target(const std::string& path, const std::vector<std::string>& gave_way) const
    {
        const std::size_t index = find(path);
        if (index == k_none)
            return {};
        if (!needs_build(index))
            return {ReferenceTarget::State::unchanged, nullptr};
        if (std::binary_search(gave_way.begin(), gave_way.end(), path) ||
            !m_done[index].load(std::memory_order_acquire))
            return {ReferenceTarget::State::waiting, nullptr};
        const AssetResult& result = m_results[index];
        if (result.status == AssetResult::Status::failed)
            return {ReferenceTarget::State::failed, nullptr};
        return {ReferenceTarget::State::built, &result.record};
    }

private:
    const Preset& m_preset;
    const std::vector<Asset>& m_assets;
    const std::vector<AssetResult>& m_results;
    std::unique_ptr<std::atomic<char>[]> m_done;
};

// The outputs of the sources the last build into OUT published and this one reuses as they
// are. Their names were unique in that build, so none of them is claimed: only a name a source
// being built claims can collide with one, and it is looked up among the reused sources whose
// path starts as that name does (owner_prefix()), which are few.
class ReusedOutputs {
public:
    static constexpr std::size_t k_none = static_cast<std::size_t>(-1);

    ReusedOutputs(const std::vector<Asset>& assets, const std::vector<char>& reused,
                  const std::vector<AssetResult>& results, const std::vector<AssetState>& states)
        : m_assets(assets), m_reused(reused), m_results(results), m_states(states)
    {
    }

    // The index of the reused source with an output named path whose content is not digest,
    // or k_none.
    std::size_t conflict(std::string_view path, std::string_view digest) const;

    const std::string& source(std::size_t index) const { return m_assets[index].path; }

private:
    const std::vector<Asset>& m_assets;
    const std::vector<char>& m_reused;
    const std::vector<AssetResult>& m_results;
    const std::vector<AssetState>& m_states;
};

// Every output name claimed in this build, so that two different outputs never share a name.
class OutputNames {
public:
    explicit OutputNames(const ReusedOutputs& reused) : m_reused(reused) {}

    // Claims path for content digest from source; throws Error(asset) naming both sources if
    // path is already claimed, or named by a reused output, for other content.
    void claim(const std::string& path, const std::string& digest, const std::string& source)
    {
        std::lock_guard lock(m_mutex);
        const auto [it, inserted] = m_claims.try_emplace(path, Claim{digest, source});
        if (!inserted && it->second.digest != digest)
            throw collision(path, it->second.source, source);
        if (inserted)
            if (const std::size_t owner = m_reused.conflict(path, digest); owner != ReusedOutputs::k_none) {
                m_claims.erase(it);
                throw collision(path, m_reused.source(owner), source);
            }
    }

private:
    struct Claim {
        std::string digest;
        std::string source;
    };

    static Error collision(const std::string& path, const std::string& first, const std::string& second)
    {
        return Error(ErrorKind::asset,
                     "output name collision: " + path + " would be written by both " + first + " and " + second);
    }

    const ReusedOutputs& m_reused;
    std::mutex m_mutex;
    std::unordered_map<std::string, Claim> m_claims;
};

std::size_t ReusedOutputs::conflict(std::string_view path, std::string_view digest) const
{
    const std::string_view prefix = owner_prefix(path);
    auto i = static_cast<std::size_t>(
        std::lower_bound(m_assets.begin(), m_assets.end(), prefix,
                         [](const Asset& a, std::string_view p) { return std::string_view(a.path) < p; }) -
        m_assets.begin());
    for (; i < m_assets.size() && std::string_view(m_assets[i].path).starts_with(prefix); ++i) {
        if (!m_reused[i])
            continue;
        const AssetRecord& record = m_results[i].record;
        auto owned = [&](const std::string& name) {
            if (name != path)
                return false;
            const auto blob = m_states[i].blobs.find(name); // a passthrough's bytes are its source's
            const std::string_view content = blob != m_states[i].blobs.end()
                                                 ? std::string_view(blob->second)
                                                 : std::string_view(record.source_digest).substr(
                                                       std::min<std::size_t>(7, record.source_digest.size()));
            return content != digest;
        };
        for (const auto& o : record.outputs) {
            if (owned(o.path))
                return i;
            for (const auto& e : o.encodings)
                if (owned(e.path))
                    return i;
        }
    }
    return k_none;
}

// The output files this build wrote without flushing them, to be flushed before the manifest
// that names them is published: one fdatasync() each when they are few, one syncfs() for the
// whole file system when they are many (a full build of a large tree).
class WrittenFiles {
public:
    void add(const std::string& path)
    {
        std::lock_guard lock(m_mutex);
        if (m_paths.size() <= k_few)
            m_paths.push_back(path);
        ++m_count;
    }

    // Throws Error(io) naming the file or folder that cannot be flushed.
    void flush(const fs::path& out) const
    {
        if (m_count == 0)
            return;
        auto sync = [](const fs::path& p, bool whole_fs) {
            const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0 || (whole_fs ? syncfs(fd) : fdatasync(fd)) != 0) {
                const int err = errno;
                if (fd >= 0)
                    close(fd);
                throw io_error(p.string(), "cannot flush to disk", err);
            }
            close(fd);
        };
        if (m_count > k_few) {
            sync(out, true);
            return;
        }
        std::set<fs::path> folders; // where the renames into place happened
        for (const auto& p : m_paths) {
            sync(out / p, false);
            folders.insert((out / p).parent_path());
        }
        for (const auto& f : folders)
            sync(f, false);
    }

private:
    static constexpr std::size_t k_few = 64;
    std::mutex m_mutex;
    std::vector<std::string> m_paths;
    std::size_t m_count = 0;
};

struct Shape {
    int width;
    int height;
    int frames;
};

// One image in flight: its decode, and an encode task per (width, format) that any worker may
// run. The task that finishes last ships what is not bigger and completes the result.
struct ImageJob {
    struct Width {
        int width = 0;
        std::string name; // the output name before its extension is set
        Shape shape{};       // the outputs' size, known once resized
        Raster raster;       // this width of a still (empty at the source's own width)
        Animation animation; // ... or of an animation
        std::vector<std::optional<Bytes>> encoded; // per format in ImageJob::formats
        std::atomic<int> pending{0};               // encode tasks of this width not yet done
    };
    static constexpr std::size_t k_resize = static_cast<std::size_t>(-1); // Task::format of a resize

    const Asset* asset = nullptr;
    AssetResult* result = nullptr;
    AssetState* state = nullptr;
    ImageSettings images;
    DecodedImage decoded;
    std::vector<ImageFormat> formats; // the modern formats, then the fallback if any
    std::optional<ImageFormat> fallback;
    std::map<ImageFormat, QualityChoice> chosen; // quality = "auto" results
    std::vector<std::unique_ptr<Width>> widths;
    std::atomic<int> pending{0}; // resize and encode tasks not yet done
    std::atomic<bool> failed{false};
    std::mutex error_mutex;
    std::string error;

    void fail(std::string message)
    {
        std::lock_guard lock(error_mutex);
        if (!failed.exchange(true))
            error = std::move(message);
    }
};

// A folder opened for fstatat (O_PATH). fd() is -1 if it could not be opened (OUT does not exist
// yet): every lookup relative to it then fails, as it would.
class OpenFolder {
public:
    explicit OpenFolder(const fs::path& path) : m_fd(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)) {}
    ~OpenFolder()
    {
        if (m_fd >= 0)
            close(m_fd);
    }
    OpenFolder(const OpenFolder&) = delete;
    OpenFolder& operator=(const OpenFolder&) = delete;
    int fd() const { return m_fd; }

private:
    int m_fd;
};

class AssetBuilder {
public:
    // cache and previous may be null (no cache, or no earlier build into OUT); the previous
    // build's source stats are trusted only if trust_stats.
    AssetBuilder(const Config& config, OutputNames& names, WrittenFiles& written, const Cache* cache,
                 BuildIndex* previous, bool trust_stats, const Targets& targets)
        : m_config(config), m_preset(config.preset), m_names(names), m_written(written), m_cache(cache),
          m_previous(previous), m_trust_stats(trust_stats),
          m_headers_changed(previous && previous->headers != headers_key(config.preset)), m_targets(targets)
    {
        if (m_cache) {
            m_text_prefix = settings_prefix(AssetKind::text, settings_key(m_preset.text) +
                                                                 settings_key(m_preset.references, m_preset.html));
            m_passthrough_prefix = settings_prefix(AssetKind::passthrough, "");
            if (m_preset.images.rules.empty())
                m_image_prefix = settings_prefix(AssetKind::image, settings_key(image_settings_for(m_preset, "")));
        }
    }

    // The last build's entry of asset, if its source and every output file in OUT are as that
    // build left them, so that reuse() can take it as it is (unless a file it refers to
    // changed: see run_build). Reads no file and never throws.
    IndexEntry* reusable(const Asset& asset, Trust trust) const
    {
        if (!m_cache || !m_previous || (!m_trust_stats && trust == Trust::stats))
            return nullptr;
        const auto it = m_previous->assets.find(asset.path);
        if (it == m_previous->assets.end())
            return nullptr;
        IndexEntry& previous = it->second;
        if (trust == Trust::events) // the same session, so the same settings as last time
            return &previous;
        if (!has_settings(asset, previous.settings))
            return nullptr;
        // Same path, same bytes (by the stat), same settings: the same key, without hashing it.
        if (previous.source.mtime_ns == 0 || previous.source != FileStat{asset.bytes, asset.mtime_ns, asset.inode})
            return nullptr;
        return outputs_in_place(previous) ? &previous : nullptr;
    }

    // Fills in result from a reusable() entry: the asset needs nothing more (its names are not
    // claimed: see ReusedOutputs).
    void reuse(IndexEntry& previous, AssetResult& result, AssetState& state) const { take(previous, result, state); }

    // Builds a text or passthrough asset completely; for an image, decodes it and returns the
    // job whose encode tasks the caller schedules. Throws Error for a failing asset.
    std::shared_ptr<ImageJob> start(const Asset& asset, AssetResult& result, AssetState& state) const
    {
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
                if (previous->entry.key == state.key && reuse_published(*previous, result, state))
                    return nullptr;
            }
            copy_output(asset, record, state);
            if (m_cache)
                set_key(asset, record.source_digest, state);
            return nullptr;
        }
        Bytes source;
        try {
            source = read_file(asset.absolute);
        } catch (const Error& e) {
            throw Error(ErrorKind::asset, e.what()); // an unreadable source fails that asset only
        }
        record.source_bytes = source.size();
        record.source_digest = "sha256-" + sha256_hex(source);
        std::optional<Rewritten> rewritten; // the source with its references rewritten
        if (asset.kind == AssetKind::text && m_preset.references.rewrite && may_have_references(asset.path))
            rewritten = rewrite(asset, source, state);
        if (m_cache) {
            set_key(asset,
                    rewritten ? record.source_digest + "\nreferences " + sha256_hex(as_bytes(rewritten->edits))
                              : record.source_digest,
                    state);
            if (previous && previous->entry.key == state.key &&
                reuse_published(*previous, result, state))
                return nullptr;
            std::string problem;
            if (auto entry = m_cache->find(state.key, problem); entry && materialize(*entry, result, state, problem))
                return nullptr;
            result.cache_problem = problem;
        }
        if (asset.kind == AssetKind::image)
            return start_image(asset, source, result, state);
        if (rewritten) {
            result.warnings = std::move(rewritten->warnings);
            build_text(asset, as_bytes(rewritten->text), record, state);
        } else {
            build_text(asset, source, record, state);
        }
        return nullptr;
    }

    // After an asset was built: notes what its outputs look like in OUT and keeps it in the
    // cache. Throws Error(io) if the cache cannot be written.
    void remember(AssetResult& result, AssetState& state) const
    {
        apply_headers(m_preset, result.record);
        set_fragment(state, result.record);
        if (!m_cache)
            return;
        for (const auto& path : output_paths(result.record))
            state.output_stats.push_back(stat_file(m_config.output / path).value_or(FileStat{}));
        if (result.record.kind != AssetKind::passthrough) // a passthrough's bytes are its source's
            m_cache->store(CacheEntry{state.key, result.record, result.warnings, state.blobs});
    }

    // Resizes one width of job (a task, run before that width's encodes).
    void resize(ImageJob& job, std::size_t width_index) const
    {
        const ImageStack& stack = image_stack();
        ImageJob::Width& w = *job.widths[width_index];
        const Animation* animation = job.decoded.animation ? &*job.decoded.animation : nullptr;
        const Raster& source = job.decoded.raster;
        const int frames = animation ? static_cast<int>(animation->frames.size()) : 1;
        if (w.width == source.width) {
            w.shape = Shape{source.width, source.height, frames};
        } else if (animation) {
            w.animation.delays_ms = animation->delays_ms;
            w.animation.loop = animation->loop;
            for (const Raster& frame : animation->frames)
                w.animation.frames.push_back(stack.resize_raster(frame, w.width, k_any_height));
            w.shape = Shape{w.animation.width(), w.animation.height(), frames};
        } else {
            w.raster = stack.resize_raster(source, w.width, k_any_height);
            w.shape = Shape{w.raster.width, w.raster.height, 1};
        }
    }

    // Encodes one width of job in one format (a task, after resize(); thread-safe for
    // distinct formats).
    void encode(ImageJob& job, std::size_t width_index, std::size_t format_index) const
    {
        const ImageStack& stack = image_stack();
        ImageJob::Width& w = *job.widths[width_index];
        const Animation* animation = job.decoded.animation ? &*job.decoded.animation : nullptr;
        const bool own = w.width == job.decoded.raster.width;
        const ImageFormat format = job.formats[format_index];
        const EncodeOptions options{job.images, 1};
        w.encoded[format_index] = animation ? stack.encoder_for(format).encode_animation(own ? *animation : w.animation, options)
                                            : stack.encoder_for(format).encode(own ? job.decoded.raster : w.raster, options);
    }

    // Called once per job after its last encode task: frees what the tasks needed, then ships
    // the outputs that are not bigger, per width. Throws Error for a failing asset.
    void finish(ImageJob& job) const
    {
        AssetRecord& record = job.result->record;
        for (const auto& w : job.widths)
            ship_width(*job.asset, w->name, job, *w, record, *job.state);
        for (auto& out : record.outputs)
            if (const auto it = job.chosen.find(*out.format); it != job.chosen.end()) {
                out.quality = it->second.quality;
                out.butteraugli = it->second.distance;
            }
    }

private:
    // A digest of everything but the source's path and bytes that decides an asset's outputs.
    std::string settings_prefix(AssetKind kind, const std::string& settings) const
    {
        return sha256_hex(as_bytes("cachet cache " + std::to_string(k_cache_format) + "\n" + m_codecs + "\nkind " +
                                   std::string(to_string(kind)) + "\nhash_length " +
                                   std::to_string(m_preset.output.hash_length) + "\n" + settings));
    }

    static void set_fragment(AssetState& state, const AssetRecord& record)
    {
        state.fragment = manifest_fragment(record);
        state.fragment_digest = sha256_hex(as_bytes(state.fragment));
    }

    // Everything but the source's path and bytes that decides an asset's outputs, as a digest.
    std::string settings_id(const Asset& asset) const
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
        id += is_stable(asset.path) ? 's' : 'f';
        return id;
    }

    // settings == settings_id(asset), mostly without building the latter.
    bool has_settings(const Asset& asset, const std::string& settings) const
    {
        const std::string& prefix = asset.kind == AssetKind::image  ? m_image_prefix
                                    : asset.kind == AssetKind::text ? m_text_prefix
                                                                    : m_passthrough_prefix;
        if (prefix.empty())
            return settings == settings_id(asset);
        return settings.size() == prefix.size() + 1 && settings.compare(0, prefix.size(), prefix) == 0 &&
               settings.back() == (is_stable(asset.path) ? 's' : 'f');
    }

    // Sets state's settings and its cache key for the source bytes with that digest.
    void set_key(const Asset& asset, const std::string& source_digest, AssetState& state) const
    {
        state.settings = settings_id(asset);
        state.key = sha256_hex(as_bytes(state.settings + "\n" + asset.path + "\n" + source_digest));
    }

    // "sha256-<hex>" of a file read in pieces (a passthrough may be large).
    static std::string digest_file(const Asset& asset)
    {
        std::ifstream in(asset.absolute, std::ios::binary);
        StreamDigest digest;
        std::vector<char> buffer(1 << 20);
        while (in) {
            in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
            digest.update(ByteView(reinterpret_cast<const std::uint8_t*>(buffer.data()),
                                   static_cast<std::size_t>(in.gcount())));
        }
        if (in.bad())
            throw Error(ErrorKind::asset, asset.absolute.string() + ": read error");
        return "sha256-" + digest.finish().first;
    }

    void claim_all(const AssetRecord& record, const std::map<std::string, std::string>& blobs) const
    {
        const std::string source_sha = record.source_digest.substr(std::min<std::size_t>(7, record.source_digest.size()));
        for (const auto& path : output_paths(record)) {
            const auto it = blobs.find(path);
            m_names.claim(path, it != blobs.end() ? it->second : source_sha, record.source);
        }
    }

    // The text asset's source with its references rewritten (dependency order made sure that
    // what they name is built); notes what it refers to in state. Throws Error(asset) under
    // --strict if a reference names a file that is not there or failed.
    Rewritten rewrite(const Asset& asset, ByteView source, AssetState& state) const
    {
        const std::string_view text = as_text(source);
        const std::vector<Reference> references = find_references(asset.path, text);
        Dependencies deps = dependencies_of(asset.path, references, m_preset.references.base);
        state.loads = std::move(deps.loads);
        state.back = std::move(deps.back);
        Rewritten out = rewrite_references(
            asset.path, text, references,
            [&](const std::string& path) { return m_targets.target(path, state.gave_way); },
            RewriteOptions{m_preset.references.base, m_preset.html.picture, m_preset.html.integrity});
        if (m_config.missing_references == MissingReferences::fail && !out.missing.empty()) {
            std::string list;
            for (const auto& m : out.missing)
                list += (list.empty() ? "" : "; ") + m;
            throw Error(ErrorKind::asset, "refers to what this build does not have (--strict): " + list);
        }
        return out;
    }

    // Whether every output file of the last build's entry is in OUT as that build wrote it.
    bool outputs_in_place(const IndexEntry& previous) const
    {
        std::size_t n = 0;
        for (const auto& o : previous.entry.record.outputs) {
            for (std::size_t v = 0; v <= o.encodings.size(); ++v) {
                const std::string& path = v == 0 ? o.path : o.encodings[v - 1].path;
                if (n >= previous.outputs.size() || stat_file_at(m_out.fd(), path.c_str()) != previous.outputs[n])
                    return false;
                ++n;
            }
        }
        return n == previous.outputs.size();
    }

    // Reuses what the last build published into OUT for this source, if every output file is
    // still there as that build wrote it.
    bool reuse_published(IndexEntry& previous, AssetResult& result, AssetState& state) const
    {
        if (!outputs_in_place(previous))
            return false;
        claim_all(previous.entry.record, previous.entry.blobs);
        take(previous, result, state);
        return true;
    }

    void take(IndexEntry& previous, AssetResult& result, AssetState& state) const
    {
        result.status = AssetResult::Status::cached;
        result.record = std::move(previous.entry.record);
        result.warnings = std::move(previous.entry.warnings);
        state.key = std::move(previous.entry.key);
        state.settings = std::move(previous.settings);
        state.blobs = std::move(previous.entry.blobs);
        state.output_stats = std::move(previous.outputs);
        state.fragment = std::move(previous.fragment);
        state.fragment_digest = std::move(previous.fragment_digest);
        state.reused = previous.source;
        state.loads = std::move(previous.loads);
        state.back = std::move(previous.back);
        previous.taken = true;
        state.same_entry = true;
        if (m_headers_changed && apply_headers(m_preset, result.record)) { // [[headers]] changed since
            set_fragment(state, result.record);
            state.same_entry = false;
        }
    }

    // Writes a cache entry's outputs into OUT from its blobs, all verified before any is
    // written. False, with problem set, if the entry is incomplete or a blob is damaged.
    bool materialize(const CacheEntry& entry, AssetResult& result, AssetState& state, std::string& problem) const
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
        claim_all(entry.record, entry.blobs);
        for (const auto& [path, data] : files) {
            write_output_file(path, data);
            state.output_stats.push_back(stat_file(m_config.output / path).value_or(FileStat{}));
        }
        result.status = AssetResult::Status::cached;
        result.record = entry.record;
        result.warnings = entry.warnings;
        state.blobs = entry.blobs;
        apply_headers(m_preset, result.record); // the entry may come from a build with other [[headers]]
        set_fragment(state, result.record);
        return true;
    }

    void write_output_file(const std::string& path, ByteView data) const
    {
        write_file_atomic(m_config.output / path, data, Durability::deferred);
        m_written.add(path);
    }

    bool is_stable(const std::string& path) const { return keeps_name(m_preset, path); }

    // Names an output of source (fingerprinted unless stable), claims the name, describes it.
    OutputFile name_output(const std::string& source, const std::string& name, const std::string& digest,
                           std::string integrity, std::uint64_t bytes) const
    {
        const bool stable = is_stable(source);
        OutputFile out;
        out.fingerprinted = !stable;
        out.path = stable ? name
                          : fingerprinted_path(name, std::string_view(digest).substr(
                                                         0, static_cast<std::size_t>(m_preset.output.hash_length)));
        out.bytes = bytes;
        out.content_type = content_type_for(out.path);
        out.integrity = std::move(integrity);
        out.etag = strong_etag(digest); // Cache-Control and the other headers: apply_headers()
        m_names.claim(out.path, digest, source);
        return out;
    }

    // Writes data under OUT at name (fingerprinted unless stable) and describes it; keeps a
    // copy in the cache, if any.
    OutputFile write_output(const std::string& source, const std::string& name, ByteView data, AssetState& state) const
    {
        const std::string sha256 = sha256_hex(data);
        OutputFile out = name_output(source, name, sha256, sri_sha384(data), data.size());
        write_output_file(out.path, data);
        keep_blob(out.path, sha256, data, state);
        return out;
    }

    void keep_blob(const std::string& path, const std::string& sha256, ByteView data, AssetState& state) const
    {
        if (!m_cache)
            return;
        m_cache->store_blob(sha256, data);
        state.blobs[path] = sha256;
    }

    // Copies a passthrough source in pieces, hashing what it writes, so that files of any size
    // cost a fixed amount of memory and the name always matches the bytes written.
    void copy_output(const Asset& asset, AssetRecord& record, AssetState&) const
    {
        const fs::path provisional = m_config.output / asset.path;
        std::error_code ec;
        fs::create_directories(provisional.parent_path(), ec);
        if (ec)
            throw io_error(provisional.parent_path().string(), "cannot create folder", ec.value());
        std::ifstream in(asset.absolute, std::ios::binary);
        if (!in)
            throw Error(ErrorKind::asset, asset.absolute.string() + ": cannot read");
        AtomicFile file(provisional);
        StreamDigest digest;
        std::vector<char> buffer(1 << 20);
        std::uint64_t total = 0;
        while (in) {
            in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
            const auto n = static_cast<std::size_t>(in.gcount());
            const ByteView piece(reinterpret_cast<const std::uint8_t*>(buffer.data()), n);
            digest.update(piece);
            file.write(piece);
            total += n;
        }
        if (in.bad())
            throw Error(ErrorKind::asset, asset.absolute.string() + ": read error");
        auto [sha256, integrity] = digest.finish();
        OutputFile out = name_output(asset.path, asset.path, sha256, std::move(integrity), total);
        file.commit_as(m_config.output / out.path, Durability::deferred);
        m_written.add(out.path);
        record.source_bytes = total;
        record.source_digest = "sha256-" + sha256;
        record.outputs.push_back(std::move(out));
    }

    std::shared_ptr<ImageJob> start_image(const Asset& asset, ByteView source, AssetResult& result,
                                          AssetState& state) const
    {
        const ImageStack& stack = image_stack();
        auto job = std::make_shared<ImageJob>();
        job->asset = &asset;
        job->result = &result;
        job->state = &state;
        job->images = image_settings_for(m_preset, asset.path);
        ImageSettings& images = job->images;
        job->decoded = stack.decode_image(source, images.max_pixels, images.colour,
                                          AnimationLimits{images.animate, images.max_frames, images.max_animation_pixels});
        DecodedImage& decoded = job->decoded;
        result.warnings = std::move(decoded.warnings);
        decoded.raster.exif = stack.kept_exif(decoded.exif, images.keep_metadata);
        if (decoded.animation)
            decoded.animation->frames.front().exif = decoded.raster.exif; // encoders read the first frame's
        const Raster& raster = decoded.raster; // the first frame of an animation
        const Animation* animation = decoded.animation ? &*decoded.animation : nullptr;
        result.record.placeholder = stack.make_placeholder(raster, images);
        // quality = "auto": one search per format and source (first frame), reused at every width.
        for (const ImageFormat format : images.formats) {
            QualityMode& mode = format == ImageFormat::avif ? images.avif.quality_mode : images.webp.quality_mode;
            if (mode != QualityMode::automatic)
                continue;
            const QualityChoice choice = stack.find_quality(format, raster, images, 1);
            (format == ImageFormat::avif ? images.avif.quality : images.webp.quality) = choice.quality;
            mode = QualityMode::fixed;
            job->chosen[format] = choice;
        }

        job->formats = images.formats;
        if (animation && animation->loop != 0 && std::erase(job->formats, ImageFormat::avif) != 0)
            result.warnings.push_back("no AVIF: the animation plays " + std::to_string(animation->loop) +
                                      " time(s), and libavif 0.11 cannot record a loop count (an AVIF sequence "
                                      "would loop forever)");
        if (images.fallback) {
            job->fallback = animation ? ImageFormat::gif
                            : decoded.family == SourceFamily::graphic || raster.has_alpha() ? ImageFormat::png
                                                                                            : ImageFormat::jpeg;
            job->formats.push_back(*job->fallback);
        }
        const bool name_widths = !images.widths.empty();
        for (const int width : output_widths(images.widths, raster.width)) {
            auto w = std::make_unique<ImageJob::Width>();
            w->width = width;
            w->name = name_widths ? insert_before_extension(asset.path, "-" + std::to_string(width) + "w") : asset.path;
            w->encoded.resize(job->formats.size());
            w->pending = static_cast<int>(job->formats.size());
            job->widths.push_back(std::move(w));
        }
        job->pending = static_cast<int>(job->widths.size() * (1 + job->formats.size()));
        return job;
    }

    // Ships one width's encodes that are not bigger: a modern format must be smaller than the
    // fallback, and AVIF smaller than WebP, at the same width.
    void ship_width(const Asset& asset, const std::string& name, const ImageJob& job, const ImageJob::Width& w,
                    AssetRecord& record, AssetState& state) const
    {
        auto size_of = [&](std::optional<ImageFormat> format) -> std::optional<std::size_t> {
            for (std::size_t i = 0; i < job.formats.size(); ++i)
                if (job.formats[i] == format && w.encoded[i])
                    return w.encoded[i]->size();
            return std::nullopt;
        };
        const auto fallback_size = size_of(job.fallback);
        const auto webp_size = size_of(ImageFormat::webp);
        for (std::size_t i = 0; i < job.formats.size(); ++i) {
            const ImageFormat format = job.formats[i];
            const Bytes& bytes = *w.encoded[i];
            if (format != job.fallback && fallback_size && bytes.size() >= *fallback_size)
                continue;
            if (format == ImageFormat::avif && webp_size && bytes.size() >= *webp_size)
                continue;
            OutputFile out =
                write_output(asset.path, replace_extension(name, file_extension(format)), bytes, state);
            out.format = format;
            out.width = w.shape.width;
            out.height = w.shape.height;
            out.frames = w.shape.frames;
            record.outputs.push_back(std::move(out));
        }
    }

    void build_text(const Asset& asset, ByteView source, AssetRecord& record, AssetState& state) const
    {
        OutputFile out = write_output(asset.path, asset.path, source, state);
        const TextSettings& text = m_preset.text;
        if (source.size() >= text.min_bytes && !source.empty()) {
            for (const Encoding encoding : text.encodings) {
                const Bytes packed = compress(encoding, source, text);
                const double saving = 1.0 - static_cast<double>(packed.size()) / static_cast<double>(source.size());
                if (saving < text.min_saving)
                    continue;
                EncodedFile variant;
                variant.encoding = encoding;
                variant.path = out.path + "." + std::string(sidecar_extension(encoding));
                variant.bytes = packed.size();
                const std::string sha256 = sha256_hex(packed);
                variant.etag = strong_etag(sha256);
                m_names.claim(variant.path, sha256, asset.path);
                write_output_file(variant.path, packed);
                keep_blob(variant.path, sha256, packed, state);
                out.encodings.push_back(std::move(variant));
            }
        }
        record.outputs.push_back(std::move(out));
    }

    const Config& m_config;
    const Preset& m_preset;
    OutputNames& m_names;
    WrittenFiles& m_written;
    const Cache* m_cache;
    BuildIndex* m_previous;
    bool m_trust_stats;
    bool m_headers_changed; // the last build's [[headers]] differ: reused records get new headers
    const Targets& m_targets;
    OpenFolder m_out{m_config.output}; // OUT, for stats relative to it
    std::string m_codecs = m_cache ? codec_fingerprint(m_config.cache_dir) : std::string(); // reads no library when kept
    std::string m_text_prefix;        // settings_prefix() of text assets
    std::string m_passthrough_prefix; // ... of passthrough ones
    std::string m_image_prefix;       // ... of images, when no rule makes their settings differ by path
};

// Summary::kinds and failures, counted in arrays (by kind, and by format or encoding: a build
// adds up 10,000s of assets) and named once at the end.
class Totals {
public:
    void add(const Asset& asset, const AssetResult& result, Summary& summary)
    {
        Kind& kind = m_kinds[static_cast<std::size_t>(asset.kind)];
        ++kind.totals.assets;
        kind.totals.bytes_in += asset.bytes;
        if (result.status == AssetResult::Status::failed) {
            ++kind.totals.failed;
            summary.failures.emplace_back(asset.path, result.message);
            return;
        }
        if (result.status == AssetResult::Status::cached)
            ++kind.totals.cached;
        for (const auto& o : result.record.outputs) {
            FormatTotals& f = kind.outputs[o.format ? static_cast<std::size_t>(*o.format) : k_identity];
            ++f.files;
            f.bytes += o.bytes;
            for (const auto& e : o.encodings) {
                FormatTotals& enc = kind.outputs[k_identity + 1 + static_cast<std::size_t>(e.encoding)];
                ++enc.files;
                enc.bytes += e.bytes;
            }
        }
    }

    void name(Summary& summary) const
    {
        for (std::size_t k = 0; k < m_kinds.size(); ++k) {
            const Kind& kind = m_kinds[k];
            if (kind.totals.assets == 0)
                continue;
            KindTotals& totals = summary.kinds[std::string(to_string(static_cast<AssetKind>(k)))];
            totals = kind.totals;
            for (std::size_t o = 0; o < kind.outputs.size(); ++o) {
                if (kind.outputs[o].files == 0)
                    continue;
                const std::string_view output_name =
                    o < k_identity    ? to_string(static_cast<ImageFormat>(o))
                    : o == k_identity ? std::string_view("identity")
                                      : to_string(static_cast<Encoding>(o - k_identity - 1));
                totals.outputs[std::string(output_name)] = kind.outputs[o];
            }
        }
    }

private:
    static constexpr std::size_t k_identity = 5; // after the 5 ImageFormats; then the 3 Encodings
    static_assert(static_cast<std::size_t>(ImageFormat::gif) + 1 == k_identity &&
                      static_cast<std::size_t>(Encoding::gzip) == 2 &&
                      static_cast<std::size_t>(AssetKind::unsupported) == 3,
                  "Totals counts every kind, format and encoding in an array slot");
    struct Kind {
        KindTotals totals;
        std::array<FormatTotals, k_identity + 4> outputs{};
    };
    std::array<Kind, 4> m_kinds{}; // by AssetKind
};

fs::path manifest_path(const Config& config)
{
    const fs::path name(config.preset.output.manifest);
    if (name.empty() || name.is_absolute() ||
        std::any_of(name.begin(), name.end(), [](const fs::path& part) { return part == ".."; }))
        throw Error(ErrorKind::config, "output.manifest must be a relative path inside OUT, not \"" +
                                           config.preset.output.manifest + "\"");
    return config.output / name;
}


// The build id in a manifest document render_manifest() wrote.
std::string published_build_id(std::string_view document)
{
    constexpr std::string_view key = "\n  \"build_id\": \""; // top level: two spaces
    const auto at = document.rfind(key);
    if (at == std::string_view::npos)
        return {};
    const auto start = at + key.size();
    return std::string(document.substr(start, document.find('"', start) - start));
}


// The counts of a build, for `cachet cache stats`.
std::string last_build_json(const Summary& summary)
{
    std::uint64_t built = 0, cached = 0;
    std::string kinds;
    for (const auto& [kind, t] : summary.kinds) {
        const std::uint64_t b = t.assets - t.failed - t.cached;
        built += b;
        cached += t.cached;
        kinds += (kinds.empty() ? "" : ", ") + ("\"" + kind + "\": {\"built\": " + std::to_string(b) +
                                                ", \"cached\": " + std::to_string(t.cached) + "}");
    }
    return "{\"built\": " + std::to_string(built) + ", \"cached\": " + std::to_string(cached) + ", \"kinds\": {" +
           kinds + "}}\n";
}

} // namespace

std::vector<std::string> folders_to_skip(const Config& config)
{
    if (config.cache_dir.empty())
        return {};
    std::error_code ec;
    const fs::path cache = fs::weakly_canonical(fs::absolute(config.cache_dir), ec);
    const fs::path src = fs::weakly_canonical(fs::absolute(config.source), ec);
    const fs::path out = fs::weakly_canonical(fs::absolute(config.output), ec);
    if (is_within(out, cache))
        throw Error(ErrorKind::usage, "cache folder " + config.cache_dir.string() + " is inside output folder " +
                                          config.output.string() + "; it would be deployed (choose another --cache-dir)");
    if (is_within(src, cache) && cache != src)
        return {cache.lexically_relative(src).generic_string()};
    return {};
}

std::vector<int> output_widths(const std::vector<int>& widths, int source_width)
{
    std::vector<int> out;
    for (const int w : widths)
        if (w < source_width)
            out.push_back(w);
    out.push_back(source_width);
    return out;
}

std::uint64_t transfer_bytes(const AssetRecord& record)
{
    std::uint64_t best = record.source_bytes;
    for (const auto& o : record.outputs) {
        best = std::min(best, o.bytes);
        for (const auto& e : o.encodings)
            best = std::min(best, e.bytes);
    }
    return best;
}

void check_folders(const Config& config)
{
    std::error_code ec;
    if (!fs::is_directory(config.source, ec))
        throw Error(ErrorKind::usage, config.source.string() + ": source is not a folder");
    const fs::path src = fs::weakly_canonical(fs::absolute(config.source), ec);
    const fs::path out = fs::weakly_canonical(fs::absolute(config.output), ec);
    if (is_within(src, out))
        throw Error(ErrorKind::usage, "output folder " + config.output.string() + " is inside source folder " +
                                          config.source.string() + "; choose an OUT outside SRC");
    if (is_within(out, src))
        throw Error(ErrorKind::usage, "source folder " + config.source.string() + " is inside output folder " +
                                          config.output.string() + "; choose an OUT outside SRC");
}

ScanResult plan_build(const Config& config)
{
    check_folders(config);
    manifest_path(config);
    return scan_tree(config.source, config.preset, folders_to_skip(config));
}

namespace {
Summary run_build(const Config& config, Reporter& reporter, BuildMemory* memory, const std::vector<std::string>* changed);
}

Summary run(const Config& config, Reporter& reporter)
{
    return run_build(config, reporter, nullptr, nullptr);
}

Summary run(const Config& config, Reporter& reporter, BuildMemory& memory, const std::vector<std::string>* changed)
{
    return run_build(config, reporter, &memory, changed);
}

namespace {

Summary run_build(const Config& config, Reporter& reporter, BuildMemory* memory, const std::vector<std::string>* changed)
{
    const auto start = std::chrono::steady_clock::now();
    check_folders(config);
    const fs::path manifest = manifest_path(config);
    std::error_code ec;
    fs::create_directories(config.output, ec);
    if (ec)
        throw io_error(config.output.string(), "cannot create output folder", ec.value());
    std::optional<Cache> cache;
    if (!config.cache_dir.empty()) {
        cache.emplace(config.cache_dir);
        cache->lock(config.output);
    }
    // Stats taken now are trusted next time only for files last modified well before now: a
    // file changed twice within one tick of its file system's clock keeps its mtime.
    const std::int64_t scan_time_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count();
    // The last build's index is read while SRC is scanned: one is CPU, the other system calls.
    BuildIndex previous;
    ScanResult scan;
    const bool remembered = memory && memory->valid && cache;
    const bool incremental = remembered && changed; // only the changed sources need a look
    if (memory)
        memory->valid = false; // until this build completes
    if (incremental) {
        scan = rescan(std::move(memory->scan), config.source, config.preset, folders_to_skip(config), *changed);
        previous = std::move(memory->index);
        reporter.phase("changed sources looked at");
    } else {
        std::exception_ptr scan_error;
        std::jthread scanner([&] {
            try {
                scan = scan_tree(config.source, config.preset, folders_to_skip(config));
                reporter.phase("SRC scanned");
            } catch (...) {
                scan_error = std::current_exception();
            }
        });
        if (remembered)
            previous = std::move(memory->index);
        else if (cache) {
            previous = cache->load_index(config.output);
            reporter.phase("index of the last build read");
        }
        scanner.join();
        if (scan_error)
            std::rethrow_exception(scan_error);
    }
    std::set<std::string> published_before; // what the last build into OUT wrote there, if no index says
    ManifestHead last{config.preset.name, previous.build_id, previous.generations}; // the last build's id, the builds it keeps
    if (previous.assets.empty()) { // no cache, or none of this OUT: the manifest there says
        try {
            if (fs::exists(manifest, ec))
                for (const auto& r : read_manifest(manifest, &last))
                    for (auto& p : output_paths(r))
                        published_before.insert(std::move(p));
        } catch (const Error&) {
            last = {}; // not a cachet manifest: delete nothing
        }
    }
    const std::string source_root = fs::weakly_canonical(fs::absolute(config.source), ec).string();

    std::mutex report_mutex;
    reporter.build_started(scan.assets.size());
    for (const auto& w : scan.warnings)
        reporter.warning(w);

    // Big images first, so the slowest jobs do not start last; results do not depend on order.
    std::vector<std::size_t> order(scan.assets.size());
    for (std::size_t i = 0; i < order.size(); ++i)
        order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        const Asset& x = scan.assets[a];
        const Asset& y = scan.assets[b];
        if ((x.kind == AssetKind::image) != (y.kind == AssetKind::image))
            return x.kind == AssetKind::image;
        return x.bytes > y.bytes;
    });

    // Work is scheduled as tasks on `jobs` workers: decoding an asset (which builds a text or
    // passthrough asset outright), and encoding one width of an image in one format. Workers
    // take queued encodes before starting another asset, so few images are in memory at
    // once, and a large image's widths and formats spread over every core. Each task runs
    // single-threaded (libvips concurrency 1, encoders 1 thread): jobs threads in all.
    const unsigned workers = std::max(1u, config.jobs);
    std::vector<AssetResult> results(scan.assets.size());
    std::vector<AssetState> states(scan.assets.size());
    std::vector<char> reused(scan.assets.size(), 0); // whether the last build's outputs are reused as they are
    const ReusedOutputs reused_outputs(scan.assets, reused, results, states);
    OutputNames names(reused_outputs);
    WrittenFiles written;
    Targets targets(config.preset, scan.assets, results);
    const AssetBuilder builder(config, names, written, cache ? &*cache : nullptr, cache ? &previous : nullptr,
                               previous.source_root == source_root, targets);
    std::atomic<bool> stop{false};
    std::string io_failure;
    // Stops taking work after an I/O error, or when the caller cancels (SIGINT in the CLI).
    auto halted = [&] { return stop.load() || (config.cancel && config.cancel->load()); };

    // First the sources the last build into OUT already published, unchanged: a few stats
    // each, shared out over the workers in slices. A no-op build does nothing else.
    auto named = [&](const std::string& path) { // whether the events named this source
        for (const auto& c : *changed)
            if (c.ends_with('/') ? path.starts_with(c) : path == c)
                return true;
        return false;
    };
    // Calls f(i) for every i < n, shared out over the workers in slices.
    auto parallel_for = [&](std::size_t n, const auto& f) {
        auto slice = [&](std::size_t part, std::size_t parts) {
            for (std::size_t i = n * part / parts; i < n * (part + 1) / parts; ++i)
                f(i);
        };
        std::vector<std::jthread> pool;
        for (unsigned i = 1; i < workers && i < n; ++i)
            pool.emplace_back(slice, i, std::min<std::size_t>(workers, n));
        slice(0, std::max<std::size_t>(1, std::min<std::size_t>(workers, n)));
    };
    const bool rewriting = config.preset.references.rewrite;
    auto refers = [&](std::size_t i) {
        return rewriting && scan.assets[i].kind == AssetKind::text && may_have_references(scan.assets[i].path);
    };
    std::vector<IndexEntry*> unchanged_source(scan.assets.size(), nullptr); // the last build's entry, if reusable
    if (cache) {
        parallel_for(scan.assets.size(), [&](std::size_t i) {
            unchanged_source[i] = builder.reusable(
                scan.assets[i], incremental && !named(scan.assets[i].path) ? Trust::events : Trust::stats);
        });
        // A file whose references name a source that is not reused as it was, or that came or
        // went, is looked at again: the URLs it must hold may have changed.
        std::vector<IndexEntry*> reusable = unchanged_source;
        auto settled = [&](const std::string& path) {
            const std::size_t t = targets.find(path);
            if (t == Targets::k_none)
                return config.missing_references == MissingReferences::warn && previous.assets.count(path) == 0;
            return reusable[t] != nullptr;
        };
        for (bool again = rewriting; again;) {
            again = false;
            for (std::size_t i = 0; i < scan.assets.size(); ++i) {
                const IndexEntry* e = reusable[i];
                if (e && (!std::all_of(e->loads.begin(), e->loads.end(), settled) ||
                          !std::all_of(e->back.begin(), e->back.end(), settled))) {
                    reusable[i] = nullptr;
                    again = true;
                }
            }
        }
        parallel_for(scan.assets.size(), [&](std::size_t i) {
            if (reusable[i]) {
                builder.reuse(*reusable[i], results[i], states[i]);
                reused[i] = 1;
            }
        });
    }
    // The manifest's name is the first claimed. A reused output under that name (the setting
    // changed) is built again, and then fails on it.
    if (const std::size_t owner = reused_outputs.conflict(config.preset.output.manifest, "manifest");
        owner != ReusedOutputs::k_none) {
        reused[owner] = 0;
        results[owner] = AssetResult{};
        states[owner] = AssetState{};
    }
    names.claim(config.preset.output.manifest, "manifest", "the manifest");
    reporter.phase("unchanged sources checked");
    for (std::size_t i = 0; i < scan.assets.size(); ++i)
        if (reused[i]) {
            reporter.asset_finished(scan.assets[i], results[i]);
            targets.mark_done(i);
        }
    std::erase_if(order, [&](std::size_t i) { return reused[i] != 0; });
    // The image libraries are loaded, and their libaom checked, before any work starts, and
    // only when an image is to be looked at again (new, changed, or its stats untrusted); a
    // failure stops the build here, with the previous manifest in place.
    if (std::any_of(order.begin(), order.end(), [&](std::size_t i) { return scan.assets[i].kind == AssetKind::image; }))
        image_stack();

    // Dependency order: a file is built after the files it refers to whose names it must
    // write (their fingerprints are taken on their final bytes, references rewritten).
    std::vector<std::vector<std::size_t>> waits_for(scan.assets.size());
    if (rewriting && std::any_of(order.begin(), order.end(), refers)) {
        std::vector<std::size_t> unread; // what the files to build refer to: the index says, or read them
        for (const std::size_t i : order)
            if (refers(i)) {
                if (const IndexEntry* e = unchanged_source[i]) {
                    states[i].loads = e->loads;
                    states[i].back = e->back;
                } else {
                    unread.push_back(i);
                }
            }
        parallel_for(unread.size(), [&](std::size_t n) {
            const Asset& asset = scan.assets[unread[n]];
            try {
                const Bytes source = read_file(asset.absolute);
                const std::string_view text = as_text(source);
                Dependencies deps =
                    dependencies_of(asset.path, find_references(asset.path, text), config.preset.references.base);
                states[unread[n]].loads = std::move(deps.loads);
                states[unread[n]].back = std::move(deps.back);
            } catch (const Error&) {
                // unreadable: building it says so
            }
        });
        std::vector<std::vector<std::size_t>> loads(scan.assets.size()), back(scan.assets.size());
        for (std::size_t i = 0; i < scan.assets.size(); ++i) {
            for (const auto& path : states[i].loads)
                if (const std::size_t t = targets.find(path); t != Targets::k_none && targets.needs_build(t))
                    loads[i].push_back(t);
            for (const auto& path : states[i].back)
                if (const std::size_t t = targets.find(path); t != Targets::k_none && targets.needs_build(t))
                    back[i].push_back(t);
        }
        const BuildOrder built_after = order_builds(loads, back);
        for (const std::size_t i : order) {
            if (const std::size_t c = built_after.cycle_of[i]; c != BuildOrder::k_none) {
                std::string path;
                for (const std::size_t n : built_after.cycles[c])
                    path += (path.empty() ? "" : " -> ") + scan.assets[n].path;
                results[i].status = AssetResult::Status::failed;
                results[i].message = "reference cycle: " + path +
                                     " (each would need the others' fingerprinted names first; break the cycle, "
                                     "or keep one of them at a stable name with output.stable)";
                continue;
            }
            waits_for[i] = built_after.waits_for[i];
            for (const std::size_t t : built_after.gave_way[i])
                states[i].gave_way.push_back(scan.assets[t].path); // sorted: assets are
        }
        for (const std::size_t i : order)
            if (results[i].status == AssetResult::Status::failed) { // in a cycle
                reporter.asset_finished(scan.assets[i], results[i]);
                targets.mark_done(i);
            }
        std::erase_if(order, [&](std::size_t i) { return results[i].status == AssetResult::Status::failed; });
    }

    struct Task {
        std::shared_ptr<ImageJob> job;
        std::size_t width;
        std::size_t format;
    };
    std::mutex queue_mutex;
    std::condition_variable queue_changed;
    std::deque<Task> tasks;
    // Assets whose references are all built, in `order`; the others wait, counted, and join
    // when the last asset they wait for finishes.
    std::deque<std::size_t> ready;
    std::vector<std::size_t> waiting(scan.assets.size(), 0);
    std::vector<std::vector<std::size_t>> dependents(scan.assets.size());
    for (const std::size_t i : order) {
        for (const std::size_t t : waits_for[i])
            if (!reused[t] && results[t].status != AssetResult::Status::failed) {
                ++waiting[i];
                dependents[t].push_back(i);
            }
        if (waiting[i] == 0)
            ready.push_back(i);
    }
    std::size_t in_flight = 0; // assets started and not finished

    // Records why an asset failed; an I/O error stops the whole build.
    auto failure = [&](const std::exception& e) -> std::string {
        if (const auto* error = dynamic_cast<const Error*>(&e); error && error->kind() == ErrorKind::io) {
            std::lock_guard lock(report_mutex);
            if (io_failure.empty())
                io_failure = e.what();
            stop = true;
        }
        return dynamic_cast<const std::bad_alloc*>(&e) ? "out of memory" : e.what();
    };
    auto finished = [&](const Asset& asset, AssetResult& result, AssetState& state) {
        if (result.status == AssetResult::Status::built) {
            try {
                builder.remember(result, state);
            } catch (const std::exception& e) {
                result.status = AssetResult::Status::failed;
                result.message = failure(e);
            }
        }
        if (result.status == AssetResult::Status::failed)
            result.record.outputs.clear();
        {
            std::lock_guard lock(report_mutex);
            reporter.asset_finished(asset, result);
        }
        const auto index = static_cast<std::size_t>(&asset - scan.assets.data());
        targets.mark_done(index);
        std::lock_guard lock(queue_mutex);
        --in_flight;
        for (const std::size_t d : dependents[index])
            if (--waiting[d] == 0)
                ready.push_back(d);
        queue_changed.notify_all();
    };
    auto complete = [&](ImageJob& job) {
        if (!job.failed && !halted()) {
            try {
                builder.finish(job);
            } catch (const std::exception& e) {
                job.fail(failure(e));
            }
        }
        if (job.failed || halted()) {
            job.result->status = AssetResult::Status::failed;
            job.result->message = job.failed ? job.error : "build stopped";
        }
        job.decoded = DecodedImage{}; // the pixels are no longer needed
        job.widths.clear();
        finished(*job.asset, *job.result, *job.state);
    };
    // Decodes an asset; returns its resize tasks, largest width first. Each resize queues its
    // width's encodes at the front (AVIF, the slowest encoder, first), so that resized pixels
    // are encoded and freed before more widths are resized, and no worker waits on another.
    auto start_asset = [&](std::size_t index) -> std::vector<Task> {
        const Asset& asset = scan.assets[index];
        AssetResult& result = results[index];
        {
            std::lock_guard lock(report_mutex);
            reporter.asset_started(asset);
        }
        AssetState& state = states[index];
        std::shared_ptr<ImageJob> job;
        try {
            job = builder.start(asset, result, state);
        } catch (const std::exception& e) {
            result.status = AssetResult::Status::failed;
            result.message = failure(e);
        }
        if (!job) {
            finished(asset, result, state);
            return {};
        }
        if (job->pending == 0) {
            complete(*job);
            return {};
        }
        std::vector<Task> queued;
        for (std::size_t w = job->widths.size(); w-- > 0;)
            queued.push_back(Task{job, w, ImageJob::k_resize});
        return queued;
    };
    auto run_task = [&](const Task& task) {
        ImageJob& job = *task.job;
        ImageJob::Width& width = *job.widths[task.width];
        if (task.format == ImageJob::k_resize) {
            if (!job.failed && !halted()) {
                try {
                    builder.resize(job, task.width);
                } catch (const std::exception& e) {
                    job.fail(failure(e));
                }
            }
            std::size_t left = job.formats.size();
            if (!job.failed && !halted()) {
                std::lock_guard lock(queue_mutex);
                for (std::size_t f = job.formats.size(); f-- > 0;)
                    tasks.push_front(Task{task.job, task.width, f});
                queue_changed.notify_all();
                left = 0;
            }
            // On failure the width's encodes never run: count them done here.
            if (job.pending.fetch_sub(static_cast<int>(1 + left)) == static_cast<int>(1 + left))
                complete(job);
            return;
        }
        if (!job.failed && !halted()) {
            try {
                builder.encode(job, task.width, task.format);
            } catch (const std::exception& e) {
                job.fail(failure(e));
            }
        }
        if (--width.pending == 0) { // this width's pixels are no longer needed
            width.raster = Raster{};
            width.animation = Animation{};
        }
        if (--job.pending == 0)
            complete(job);
    };
    auto work = [&] {
        std::unique_lock lock(queue_mutex);
        while (true) {
            if (!tasks.empty()) {
                const Task task = std::move(tasks.front());
                tasks.pop_front();
                lock.unlock();
                run_task(task);
                lock.lock();
            } else if (!ready.empty() && !halted()) {
                const std::size_t index = ready.front();
                ready.pop_front();
                ++in_flight;
                lock.unlock();
                std::vector<Task> queued = start_asset(index);
                lock.lock();
                for (Task& t : queued)
                    tasks.push_back(std::move(t));
                queue_changed.notify_all();
            } else if (in_flight == 0) { // nothing queued, nothing running that could queue more
                queue_changed.notify_all();
                return;
            } else {
                queue_changed.wait(lock);
            }
        }
    };
    {
        std::vector<std::jthread> pool;
        for (unsigned i = 1; i < workers; ++i)
            pool.emplace_back(work);
        work();
    }
    reporter.phase("the others built");
    if (!io_failure.empty())
        throw Error(ErrorKind::io, io_failure + " (the previous manifest is unchanged)");
    if (config.cancel && *config.cancel)
        throw Error(ErrorKind::interrupted, "interrupted: the previous manifest is unchanged");
    if (std::any_of(order.begin(), order.end(), [&](std::size_t i) { return waiting[i] != 0; }))
        throw Error(ErrorKind::internal, "sources left waiting for others that never finished (the previous manifest "
                                         "is unchanged)");

    Summary summary;
    summary.cache = cache.has_value();
    // Nothing to publish when every asset was reused as the last build left it, no source came
    // or went, and its manifest is still in place.
    bool unchanged = cache && previous.source_root == source_root && previous.headers == headers_key(config.preset) &&
                     previous.assets.size() == scan.assets.size() &&
                     previous.manifest.mtime_ns != 0 && stat_file(manifest) == previous.manifest;
    auto source_stat = [&](const Asset& a) { // what the index may trust next time
        return a.mtime_ns < scan_time_ns - 1'000'000'000 ? FileStat{a.bytes, a.mtime_ns, a.inode} : FileStat{};
    };
    Totals totals;
    for (std::size_t i = 0; i < scan.assets.size(); ++i) {
        totals.add(scan.assets[i], results[i], summary);
        if (results[i].status == AssetResult::Status::failed || !states[i].reused ||
            *states[i].reused != source_stat(scan.assets[i]))
            unchanged = false;
    }
    totals.name(summary);
    summary.manifest = manifest.string();
    if (!config.preset.budgets.empty()) {
        std::vector<const AssetRecord*> records;
        for (const auto& r : results)
            if (r.status != AssetResult::Status::failed)
                records.push_back(&r.record);
        summary.budgets = check_budgets(config.preset, records);
    }
    // The next build's index, from this build's results (which it takes over).
    BuildIndex index;
    IndexFiles index_files = previous.files; // where it stands on disk
    enum class Fragments { copy, move };
    auto fill_index = [&](Fragments fragments) {
        index.source_root = source_root;
        index.headers = headers_key(config.preset);
        index.generations = last.generations; // this build's, once computed below
        // Once nothing reads the last build's index any more, its nodes are reused for the
        // sources that are still there (a watch rebuild, mostly: 10,000s of nodes).
        if (fragments == Fragments::move)
            index.assets = std::move(previous.assets);
        auto at = index.assets.begin();
        for (std::size_t i = 0; i < scan.assets.size(); ++i) {
            const Asset& a = scan.assets[i];
            while (at != index.assets.end() && at->first < a.path)
                at = index.assets.erase(at); // gone
            if (results[i].status == AssetResult::Status::failed) {
                if (at != index.assets.end() && at->first == a.path)
                    at = index.assets.erase(at);
                continue;
            }
            if (at == index.assets.end() || at->first != a.path)
                at = index.assets.emplace_hint(at, a.path, IndexEntry{});
            (at++)->second =
                IndexEntry{source_stat(a),
                           CacheEntry{std::move(states[i].key), std::move(results[i].record),
                                      std::move(results[i].warnings), std::move(states[i].blobs)},
                           std::move(states[i].output_stats),
                           fragments == Fragments::copy ? states[i].fragment : std::move(states[i].fragment),
                           std::move(states[i].settings), std::move(states[i].loads), std::move(states[i].back),
                           fragments == Fragments::copy ? states[i].fragment_digest
                                                        : std::move(states[i].fragment_digest)};
        }
        index.assets.erase(at, index.assets.end());
    };
    if (!unchanged) {
        // The manifest is published last, and only if it changed; then what it no longer names
        // goes.
        std::vector<ManifestEntry> fragments;
        for (std::size_t i = 0; i < scan.assets.size(); ++i)
            if (results[i].status != AssetResult::Status::failed)
                fragments.push_back({scan.assets[i].path, states[i].fragment, states[i].fragment_digest});
        // What this build's manifest names, as views into the records (which stay where they
        // are when the index below takes them: moving a vector keeps its elements in place).
        // Outputs of the last build that this one did not reuse as they were may be stale.
        for (const auto& [path, e] : previous.assets)
            if (!e.taken)
                for (auto& p : output_paths(e.entry.record))
                    published_before.insert(std::move(p));
        published_before.erase(config.preset.output.manifest);
        // Whether this build's manifest names path: among the sources whose path starts as an
        // output named path would (owner_prefix()), which are few. (Before the indexer below
        // takes the records.)
        auto published = [&](std::string_view path) {
            const std::string_view prefix = owner_prefix(path);
            for (std::size_t i = targets.find_first(prefix);
                 i < scan.assets.size() && std::string_view(scan.assets[i].path).starts_with(prefix); ++i) {
                if (results[i].status == AssetResult::Status::failed)
                    continue;
                for (const auto& o : results[i].record.outputs) {
                    if (o.path == path)
                        return true;
                    for (const auto& e : o.encodings)
                        if (e.path == path)
                            return true;
                }
            }
            return false;
        };
        // What OUT keeps of earlier builds: the outputs of the last one this one does not name
        // become the newest generation; a generation stays whole while it is among the last
        // `keep`, and its files after that while they are younger than keep_age.
        std::vector<std::string> expired;
        {
            std::vector<Generation> candidates;
            Generation newest{last.build_id.empty() ? "unknown" : last.build_id, {}};
            for (const auto& p : published_before)
                if (!published(p) && is_safe_relative(p))
                    newest.outputs.push_back(p);
            if (!newest.outputs.empty())
                candidates.push_back(std::move(newest));
            candidates.insert(candidates.end(), last.generations.begin(), last.generations.end());
            Retention retention = retain(
                config.output, candidates, published,
                config.preset.output.keep, std::chrono::seconds(config.preset.output.keep_age_s));
            last.generations = std::move(retention.kept);
            expired = std::move(retention.expired);
        }
        // The next build's index is put together beside the manifest's publication.
        // The index on disk is brought up to date by appending to its journal what changed
        // (entries not reused as they were, sources gone), or, when that is much, by a new
        // snapshot; either is encoded beside the manifest's rendering.
        std::vector<std::size_t> changed_entries;
        std::vector<std::string> gone;
        bool append = cache && previous.files.base_bytes > 0;
        if (append) {
            for (std::size_t i = 0; i < scan.assets.size(); ++i)
                if (results[i].status != AssetResult::Status::failed &&
                    !(states[i].same_entry && states[i].reused && *states[i].reused == source_stat(scan.assets[i])))
                    changed_entries.push_back(i);
            // Both are sorted by path: one walk finds the sources gone (or failed now).
            std::size_t t = 0;
            for (const auto& [path, e] : previous.assets) {
                while (t < scan.assets.size() && scan.assets[t].path < path)
                    ++t;
                if (t == scan.assets.size() || scan.assets[t].path != path ||
                    results[t].status == AssetResult::Status::failed)
                    gone.push_back(path);
            }
            append = changed_entries.size() + gone.size() <= scan.assets.size() / 8 + 16;
        }
        std::string encoded_index;
        std::jthread indexer;
        if (append) {
            indexer = std::jthread([&] {
                for (const std::size_t i : changed_entries) {
                    const IndexEntry entry{source_stat(scan.assets[i]),
                                           CacheEntry{states[i].key, results[i].record, results[i].warnings,
                                                      states[i].blobs},
                                           states[i].output_stats,
                                           states[i].fragment,
                                           states[i].settings,
                                           states[i].loads,
                                           states[i].back,
                                           states[i].fragment_digest};
                    encoded_index += Cache::encode_journal_entry(scan.assets[i].path, entry);
                }
                for (const auto& path : gone)
                    encoded_index += Cache::encode_journal_removal(path);
            });
        } else if (cache) {
            indexer = std::jthread([&] {
                fill_index(Fragments::copy); // the manifest is being rendered from them
                encoded_index = Cache::encode_index(index);
            });
        }
        if (config.sync == SyncWrites::yes) {
            written.flush(config.output); // every output reaches the disk before the manifest naming it
            reporter.phase("outputs flushed");
        }
        std::string rendered;
        std::string& document = memory ? memory->document : rendered;
        render_manifest(document, std::move(fragments), config.preset, last.generations);
        last.build_id = published_build_id(document);
        reporter.phase("manifest rendered");
        // A build that encoded nothing (sources touched, outputs restored from the cache) may
        // well give the same manifest: then it is not written again.
        bool same = false;
        const bool built_any = std::any_of(results.begin(), results.end(), [](const AssetResult& r) {
            return r.status != AssetResult::Status::cached;
        });
        try {
            same = !built_any && fs::file_size(manifest, ec) == document.size() &&
                   as_text(read_file(manifest)) == document;
        } catch (const Error&) {
        }
        if (!same)
            write_file_atomic(manifest, as_bytes(document),
                              config.sync == SyncWrites::yes ? Durability::flushed : Durability::cache);
        reporter.phase(same ? "manifest unchanged" : "manifest published");
        summary.removed = remove_outputs(config.output, expired); // only now that the manifest is out
        if (cache) {
            indexer.join();
            const FileStat published_manifest = stat_file(manifest).value_or(FileStat{});
            if (append && Cache::journal_has_room(previous.files, encoded_index.size() + 4096)) {
                BuildIndex head;
                head.source_root = source_root;
                head.headers = headers_key(config.preset);
                head.generations = last.generations;
                head.manifest = published_manifest;
                head.build_id = last.build_id;
                index_files = cache->append_index(config.output, previous.files, std::move(encoded_index), head);
            } else {
                if (append) { // the journal is full: a snapshot instead
                    fill_index(Fragments::copy);
                    encoded_index = Cache::encode_index(index);
                }
                index_files = cache->save_index(config.output, std::move(encoded_index), published_manifest,
                                                last.build_id);
            }
            reporter.phase("index saved");
        }
    }
    if (cache)
        cache->save_last_build(last_build_json(summary));
    summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    reporter.phase("build done");
    if (memory) {
        if (index.assets.empty()) // nothing was published, so the index was not put together
            fill_index(Fragments::move);
        index.manifest = stat_file(manifest).value_or(FileStat{});
        index.build_id = last.build_id;
        index.generations = last.generations;
        index.files = index_files;
        memory->scan = std::move(scan);
        memory->index = std::move(index);
        memory->valid = cache.has_value();
        return summary;
    }
    if (config.teardown == Teardown::leave) // the process ends next: freeing 10,000s of records took longer than the build
        new auto(std::make_tuple(std::move(previous), std::move(index), std::move(results), std::move(states),
                                 std::move(scan)));
    return summary;
}

} // namespace

} // namespace cachet
