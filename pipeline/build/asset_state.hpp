#pragma once
#include "pipeline/fs/file_stat.hpp"

#include <map>
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

} // namespace cachet
