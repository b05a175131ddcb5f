#pragma once
#include "pipeline/build/asset_state.hpp"
#include "pipeline/build/result.hpp"
#include "pipeline/build/scan.hpp"
#include "pipeline/cache/cache.hpp"
#include "pipeline/config/config.hpp"
#include "pipeline/fs/file_system.hpp"
#include "pipeline/model/bytes.hpp"
#include "pipeline/model/error.hpp"

#include <cstddef>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cachet {

// Whether the outputs of the source at path keep its name (HTML, output.stable, service
// workers, dotfiles and the files of dot-folders).
bool keeps_name(const Preset& preset, const std::string& path);

// The outputs of the sources the last build into OUT published and this one reuses as they
// are. Their names were unique in that build, so none of them is claimed: only a name a source
// being built claims can collide with one, and it is looked up among the reused sources whose
// path starts as that name does (owner_prefix()), which are few.
class ReusedOutputs {
public:
    static constexpr std::size_t k_none = static_cast<std::size_t>(-1);

    ReusedOutputs(const std::vector<Asset>& assets, const std::vector<char>& reused,
                  const std::vector<AssetResult>& results, const AssetStates& states)
        : m_assets(assets), m_reused(reused), m_results(results), m_states(states)
    {}

    // The index of the reused source with an output named path whose content is not digest,
    // or k_none.
    std::size_t conflict(std::string_view path, std::string_view digest) const;

    const std::string& source(std::size_t index) const { return m_assets[index].path; }

private:
    const std::vector<Asset>& m_assets;
    const std::vector<char>& m_reused;
    const std::vector<AssetResult>& m_results;
    const AssetStates& m_states;
};

// Every output name claimed in this build, so that two different outputs never share a name.
class OutputNames {
public:
    explicit OutputNames(const ReusedOutputs& reused) : m_reused(reused) {}

    // Claims path for content digest from source; throws Error(asset) naming both sources if
    // path is already claimed, or named by a reused output, for other content.
    void claim(const std::string& path, const std::string& digest, const std::string& source);

private:
    struct Claim {
        std::string digest;
        std::string source;
    };

    const ReusedOutputs& m_reused;
    std::mutex m_mutex;
    std::unordered_map<std::string, Claim> m_claims;
};

// The output files this build wrote without flushing them, to be flushed before the manifest
// that names them is published: one fdatasync() each when they are few, one syncfs() for the
// whole file system when they are many (a full build of a large tree).
//
// And the outputs at names a published manifest may already describe (HTML, stable names,
// originals, their sidecars): written beside their place under a staging name, and renamed
// into place only when the build publishes, just before its manifest, so that a build that
// fails (--strict), stops or breaks leaves them, and the manifest describing them, as they were.
class WrittenFiles {
public:
    explicit WrittenFiles(std::filesystem::path out) : m_out(std::move(out)) {}
    WrittenFiles(const WrittenFiles&) = delete;
    WrittenFiles& operator=(const WrittenFiles&) = delete;
    // Removes the staged files not put in place.
    ~WrittenFiles() { discard_staged(); }

    void add(const std::string& path);
    // Throws Error(asset) if a folder on the way to path (relative to OUT) is a symbolic link:
    // cachet never writes through one (it may point anywhere).
    void check_folders(std::string_view path);
    // Throws Error(io) naming the file or folder that cannot be flushed.
    void flush() const;

    // Where an output at path (relative to OUT) is written: its staging name.
    static std::string staging_name(std::string_view path);
    // Notes that path was written under staging_name(path).
    void stage(const std::string& path);
    // Where the output at path is now: its staging name until commit_staged().
    std::string written_at(const std::string& path) const;
    // Every staged file's rename into place: (staging name, name), relative to OUT.
    std::vector<std::pair<std::string, std::string>> staged_renames() const;
    // Notes that the renames of staged_renames() were made.
    void staged_committed();
    // Removes every staged file not put in place.
    void discard_staged();

private:
    static constexpr std::size_t k_few = 64;
    std::filesystem::path m_out;
    mutable std::mutex m_mutex;
    std::vector<std::string> m_paths;
    std::size_t m_count = 0;
    std::set<std::string> m_staged;
    std::set<std::string, std::less<>> m_real_folders; // checked by check_folders()
};

// Writes the outputs of a build into OUT, for text and image work alike: names each output
// (fingerprinted unless its source keeps its name), claims the name, writes the file
// atomically (flushed before publication, through WrittenFiles) and keeps its bytes in the
// cache, if any. Thread-safe. Throws Error(asset) on a name collision, Error(io) if OUT or
// the cache cannot be written.
class OutputWriter {
public:
    OutputWriter(const Config& config, const FileSystem& fs, OutputNames& names, WrittenFiles& written,
                 const Cache* cache)
        : m_config(config), m_fs(fs), m_names(names), m_written(written), m_cache(cache)
    {}

    bool keeps_name(const std::string& source) const { return cachet::keeps_name(m_config.preset, source); }

    // Writes data as the output of source named name (fingerprinted unless stable) and
    // describes it; notes its blob in state.
    OutputFile write(const std::string& source, const std::string& name, ByteView data, AssetState& state) const;
    // Writes data as an encoded variant of out (a sidecar beside it) and adds it to out.
    void write_variant(const std::string& source, OutputFile& out, Encoding encoding, ByteView data,
                       AssetState& state) const;
    // Writes data at source's own name as a copy of like (an output of source with these
    // bytes, or one describing the image they hold): an original (OutputFile::original).
    OutputFile write_original(const std::string& source, const OutputFile& like, ByteView data,
                              AssetState& state) const;
    // Copies a passthrough source in pieces, hashing what it writes, so that files of any size
    // cost a fixed amount of memory and the name always matches the bytes written; sets its
    // size and digest in record. With original, the file is at the source's own name too (a
    // hard link to the fingerprinted one where the file system allows).
    void copy(const Asset& asset, AssetRecord& record, bool original) const;
    // Writes data at path (already named and claimed), unflushed; staged (WrittenFiles) unless
    // the name is fingerprinted.
    void write_file(const std::string& path, ByteView data, bool fingerprinted) const;
    // Where the output at path is until the build publishes (WrittenFiles::written_at()).
    std::string written_at(const std::string& path) const { return m_written.written_at(path); }
    // Claims every output name of record, whose blobs are named in blobs (a passthrough's
    // bytes are its source's).
    void claim_all(const AssetRecord& record, const std::map<std::string, std::string>& blobs) const;
    // Claims a name that is no output of an asset (the manifest's).
    void claim(const std::string& path, const std::string& digest, const std::string& owner) const
    {
        m_names.claim(path, digest, owner);
    }

private:
    OutputFile name_output(const std::string& source, const std::string& name, const std::string& digest,
                           std::string integrity, std::uint64_t bytes) const;
    void keep_blob(const std::string& path, const std::string& sha256, ByteView data, AssetState& state) const;

    const Config& m_config;
    const FileSystem& m_fs;
    OutputNames& m_names;
    WrittenFiles& m_written;
    const Cache* m_cache;
};

} // namespace cachet
