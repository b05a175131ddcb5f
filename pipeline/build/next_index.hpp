#pragma once
#include "pipeline/build/plan.hpp"
#include "pipeline/build/session.hpp"
#include "pipeline/build/totals.hpp"
#include "pipeline/cache/cache.hpp"
#include "pipeline/config/config.hpp"

#include <cstddef>
#include <string>
#include <thread>

namespace cachet {

// The index the next build into OUT starts from, made of this build's plan: what was built
// (its result and state taken over) and, where they are, the last build's entries of the
// sources reused as they were (AssetResult::entry).
class NextIndex {
public:
    enum class Fragments {
        copy, // the manifest is being rendered from the fragments meanwhile
        move  // nothing reads the last build's index any more: its nodes are reused
    };

    NextIndex(const Config& config, Session& session, Plan& plan)
        : m_config(config), m_session(session), m_assets(session.scan.assets), m_plan(plan)
    {}

    // Puts index together. Once only: it takes the results, the states and the last build's
    // entries over.
    void fill(Fragments fragments);

    // The index on disk is brought up to date by appending to its journal what changed
    // (entries not reused as they were, sources gone), or, when that is much, by a new
    // snapshot (fill(Fragments::copy)): the cache decides (Cache::journal_suits). Either is
    // encoded into encoded by the returned thread, beside the manifest's rendering; journal
    // says which.
    std::jthread encode(std::string& encoded, bool& journal);

    // Whether every entry of the last build's index was paired with a source (plan_unchanged()):
    // then what went is found from the sources, without a walk over the index.
    bool every_entry_paired() const
    {
        return m_plan.previous.size() == m_assets.size() && m_plan.previous_found == m_session.previous.assets.size();
    }

    // Each entry keeps its source's tally (count_all()), so that the next build counts a source
    // it reuses without reading its record: from tallies (a watch's, by source) where they are
    // made, else taken again of the few results the index takes anew. Before fill().
    void use_tallies(const std::vector<Tally>& tallies) { m_tallies = &tallies; }

    BuildIndex index;                // the next build's (fill())
    bool rewritten_in_place = false; // its entries are where the pairing (Plan::previous) found them

private:
    bool failed(std::size_t i) const { return m_plan.results[i].status == AssetResult::Status::failed; }
    void fill_entry(IndexEntry& e, std::size_t i, Fragments fragments);
    static void move_entry(IndexEntry& from, IndexEntry& e, Fragments fragments);
    std::string tally_text(std::size_t i) const; // encode_tally() of the source at i's (empty: none)

    const Config& m_config;
    Session& m_session;
    const std::vector<Asset>& m_assets;
    Plan& m_plan;
    const std::vector<Tally>* m_tallies = nullptr;
};

} // namespace cachet
