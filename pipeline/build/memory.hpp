#pragma once
#include "pipeline/build/asset_state.hpp"
#include "pipeline/build/result.hpp"
#include "pipeline/build/run.hpp"
#include "pipeline/build/scan.hpp"
#include "pipeline/build/totals.hpp"
#include "pipeline/cache/cache.hpp"
#include "pipeline/text/minify.hpp"

#include <memory>
#include <string>

namespace cachet {

struct BuildMemory::Kept {
    bool valid = false; // false: nothing kept yet, or the last build did not complete
    ScanResult scan;
    BuildIndex index;
    ManifestText manifest; // the memory the manifest is rendered into, kept for the next build
    // esbuild's services, kept running between the builds of a watch session (minifier_for:
    // the text.esbuild and cache folder it was made for).
    std::shared_ptr<const Minifier> minifier;
    std::string minifier_for;
    // The last build's pairing of sources with index entries (Plan::previous), when that build
    // rewrote every entry where it was (no source came, went or failed): the next build's, if
    // its sources are the same (ScanResult::same_paths).
    std::vector<IndexEntry*> pairing;
    // Which sources scripts named in the last build (Targets::named_all()).
    std::vector<char> named;
    // The last build's Plan::results and Plan::states, every element as made by default
    // (Plan::release()).
    std::vector<AssetResult> results_memory;
    AssetStates states_memory;
    // What the last build counted of each source (count_all()).
    Tallies tallies;
};

} // namespace cachet
