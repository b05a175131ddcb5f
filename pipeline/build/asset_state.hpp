#pragma once
#include "pipeline/fs/file_stat.hpp"

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cachet {

// What the build cache and the next build need to know about one asset of this build,
// beside its AssetResult.
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
    std::vector<std::string> script_names;    // names_in_scripts() of the source
    std::vector<std::string> kept;            // text: what loads and back name that scripts name too,
                                              // left as written (sorted)
    bool same_entry = false;                  // reused, and its index entry is the last build's as it was
};

// The AssetState of each source of a build, made when first edited: a rebuild of 100,000
// sources that reuses most as their index entries hold them sets up 8 bytes for each of those,
// not a state of about 400. Reading one never edited gives a state as made by default. Distinct
// sources may be edited on distinct threads.
class AssetStates {
public:
    std::size_t size() const { return m_states.size(); }
    void resize(std::size_t n) { m_states.resize(n); }
    const AssetState& operator[](std::size_t i) const
    {
        static const AssetState k_default;
        return m_states[i] ? *m_states[i] : k_default;
    }
    AssetState& edit(std::size_t i)
    {
        if (!m_states[i])
            m_states[i] = std::make_unique<AssetState>();
        return *m_states[i];
    }
    void reset(std::size_t i) { m_states[i].reset(); }

private:
    std::vector<std::unique_ptr<AssetState>> m_states;
};

} // namespace cachet
