#pragma once
#include "pipeline/build/asset_builder.hpp"
#include "pipeline/build/asset_state.hpp"
#include "pipeline/build/result.hpp"
#include "pipeline/build/session.hpp"
#include "pipeline/build/targets.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachet {

// The work of one build, asset by asset (each vector is indexed as Session::scan.assets).
struct Plan {
    std::vector<AssetResult> results;
    AssetStates states;
    std::vector<char> reused;           // the last build's outputs are reused as they are
    std::vector<char> skipped;          // not this shard's (Config::shard): left out
    std::vector<IndexEntry*> unchanged; // the last build's entry, where the source is unchanged
    // ... found so by the watch's events alone (Trust::events): the entry is this session's.
    std::vector<char> trusted_by_events;
    bool names_as_before = false; // scripts name what they named in the last build of this watch
    // The last build's entry at each source's path, changed or not (empty without a cache), and
    // how many of its entries that is: all of them when no source went.
    std::vector<IndexEntry*> previous;
    std::size_t previous_found = 0;
    std::vector<std::size_t> order;                  // what to build, big images first
    std::vector<std::vector<std::size_t>> waits_for; // what each must wait for (dependency order)

    // Everything to build, in SRC order until sort_order(). A watch session hands in the last
    // build's vectors (Plan::release(): every element as made by default): at 100,000 sources
    // the states are 36 MB that would otherwise be mapped afresh, and every page faulted in, on
    // every rebuild.
    explicit Plan(const std::vector<Asset>& assets, std::vector<AssetResult> results_memory = {},
                  AssetStates states_memory = {});
    // Sets every element of results and states back to as made by default (once the build is
    // over) and hands them over, for the next build: a watch rebuild of as many sources then
    // sets nothing up.
    void release(std::vector<AssetResult>& results_memory, AssetStates& states_memory);
    // Puts what is left to build in order: big images first, so that the slowest jobs do not
    // start last (results do not depend on the order). Once the reused ones left: a rebuild of a
    // large tree sorts a few.
    void sort_order(const std::vector<Asset>& assets);

    // What the source at i gives the manifest and the next index: its state, or the index entry
    // its result points at (AssetResult::entry).
    std::string_view fragment(std::size_t i) const
    {
        return results[i].entry ? results[i].entry->fragment.view() : std::string_view(states[i].fragment);
    }
    std::string_view fragment_digest(std::size_t i) const
    {
        return results[i].entry ? results[i].entry->fragment_digest.view()
                                : std::string_view(states[i].fragment_digest);
    }
    // The stat the last build recorded of a source whose outputs are reused as they are.
    std::optional<FileStat> reused_stat(std::size_t i) const
    {
        return results[i].entry ? std::optional<FileStat>(results[i].entry->source) : states[i].reused;
    }
    // Reused, and its index entry is the last build's as it was.
    bool same_entry(std::size_t i) const
    {
        return results[i].entry || (states[i].same_entry && states[i].reused.has_value());
    }
};

// First the sources the last build into OUT already published, unchanged: a few stats each,
// shared out over the workers (a no-op build does nothing else). Sets plan.unchanged.
// changed: as for run().
void plan_unchanged(const Config& config, const Session& session, const AssetBuilder& builder,
                    const std::vector<std::string>* changed, Plan& plan);

// The names the site's scripts spell (names_in_scripts()): from the index for unchanged
// sources, read from the others. Sets each script's state.script_names, and which sources they
// name in targets. Nothing unless references are rewritten and scripts not trusted.
void plan_script_names(const Config& config, const FileSystem& fs, const Session& session, Targets& targets,
                       Plan& plan);

// Then which unchanged sources are reused as they are. A file whose references name a source
// that is not reused as it was, or that came or went, or whose scripted names changed, is
// looked at again: the URLs it must hold may have changed. Reused assets leave plan.order.
void plan_reuse(const Config& config, const Session& session, const AssetBuilder& builder, const Targets& targets,
                Plan& plan);

// Whether the asset at index is a text file whose references are rewritten.
bool rewrites_references(const Config& config, const Asset& asset);

// Dependency order: a file is built after the files it refers to whose names it must write
// (their fingerprints are taken on their final bytes, references rewritten). Sets
// plan.waits_for; the files in a reference cycle fail, leave plan.order and are returned.
std::vector<std::size_t> plan_order(const Config& config, const FileSystem& fs, const Session& session,
                                    const Targets& targets, Plan& plan);

} // namespace cachet
