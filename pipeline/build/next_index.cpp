#include "pipeline/build/next_index.hpp"

#include "pipeline/build/totals.hpp"
#include "pipeline/publish/headers.hpp"

#include <algorithm>

namespace cachet {
namespace {

// e's members from the result and state of a source this build built: taken from them if
// they are rvalues, else copied; its fragment copied if copy_fragment (the manifest is being
// rendered from it). tally: what the totals took of the record (before it moves).
template <typename Result, typename State>
void fill_built(IndexEntry& e, Result&& r, State&& s, std::string tally, bool copy_fragment)
{
    e.outputs = encode_outputs(r.record, s.output_stats);
    e.set_entry(CacheEntry{std::forward<State>(s).key, std::forward<Result>(r).record, std::forward<Result>(r).warnings,
                           std::forward<State>(s).blobs});
    e.fragment = copy_fragment ? s.fragment : std::forward<State>(s).fragment;
    e.fragment_digest = copy_fragment ? s.fragment_digest : std::forward<State>(s).fragment_digest;
    e.settings = std::forward<State>(s).settings;
    e.tally = std::move(tally);
    e.loads = std::forward<State>(s).loads;
    e.back = std::forward<State>(s).back;
    e.script_names = std::forward<State>(s).script_names;
    e.kept = std::forward<State>(s).kept;
}

} // namespace

// The next build's index, from this build's results (which it takes over).
void NextIndex::fill(Fragments fragments)
{
    index.source_root = m_session.source_root;
    index.headers = published_key(m_config.preset);
    index.generations = m_session.last.generations; // this build's, once computed
    // Once nothing reads the last build's index any more, its nodes are reused for the
    // sources that are still there (a watch rebuild, mostly: 10,000s of nodes).
    if (fragments == Fragments::move) {
        // No source came, went or failed (a watch rebuild, mostly): each entry is rewritten
        // where it is, without a walk over the map.
        const bool same_sources = every_entry_paired() && m_plan.previous_found == m_assets.size() &&
                                  std::none_of(m_plan.results.begin(), m_plan.results.end(), [](const AssetResult& r) {
                                      return r.status == AssetResult::Status::failed;
                                  });
        index.assets = std::move(m_session.previous.assets); // (its nodes stay where they are)
        if (same_sources) {
            for (std::size_t i = 0; i < m_assets.size(); ++i)
                fill_entry(*m_plan.previous[i], i, fragments);
            rewritten_in_place = true;
            return;
        }
    }
    auto at = index.assets.begin();
    for (std::size_t i = 0; i < m_assets.size(); ++i) {
        const Asset& a = m_assets[i];
        while (at != index.assets.end() && at->first < a.path)
            at = index.assets.erase(at); // gone
        if (failed(i)) {
            if (at != index.assets.end() && at->first == a.path)
                at = index.assets.erase(at);
            continue;
        }
        if (at == index.assets.end() || at->first != a.path)
            at = index.assets.emplace_hint(at, a.path, IndexEntry{});
        fill_entry((at++)->second, i, fragments);
    }
    index.assets.erase(at, index.assets.end());
}

// Makes e the index entry of the source at i, from this build's result and state (which it
// takes), member by member. A result that points at e (AssetResult::entry) left it as it
// was: a watch rebuild touches only the entries of what it built.
void NextIndex::fill_entry(IndexEntry& e, std::size_t i, Fragments fragments)
{
    AssetResult& result = m_plan.results[i];
    e.source = m_session.trusted_stat(m_assets[i]);
    e.taken = false;
    e.in_place = -1;
    if (result.entry) {
        if (result.entry != &e) // a new index (Fragments::copy): the last build's entry moves into it
            move_entry(*m_plan.unchanged[i], e, fragments);
        if (e.tally.empty())
            e.tally = tally_text(i);
        return;
    }
    std::string tally = tally_text(i); // (of the record, before it moves)
    fill_built(e, std::move(result), std::move(m_plan.states.edit(i)), std::move(tally), fragments == Fragments::copy);
    e.keep.reset(); // (no view of the last snapshot is left)
}

std::string NextIndex::tally_text(std::size_t i) const
{
    if (m_tallies && i < m_tallies->size() && (*m_tallies)[i].ok)
        return encode_tally((*m_tallies)[i]);
    return encode_tally(Totals::tally_of(m_assets[i], m_plan.results[i])); // (a few: those built)
}

// Moves what the last build's entry from holds into e, but its fragment, which is copied
// unless fragments says move (the manifest is being rendered from it).
void NextIndex::move_entry(IndexEntry& from, IndexEntry& e, Fragments fragments)
{
    e.entry = std::move(from.entry);
    e.warned = from.warned;
    e.keep = from.keep; // (the texts below may be views of the snapshot it keeps)
    e.outputs = std::move(from.outputs);
    e.fragment = fragments == Fragments::copy ? from.fragment : std::move(from.fragment);
    e.fragment_digest = fragments == Fragments::copy ? from.fragment_digest : std::move(from.fragment_digest);
    e.settings = std::move(from.settings);
    e.tally = std::move(from.tally);
    e.loads = std::move(from.loads);
    e.back = std::move(from.back);
    e.script_names = std::move(from.script_names);
    e.kept = std::move(from.kept);
}

std::jthread NextIndex::encode(std::string& encoded, bool& journal)
{
    std::vector<std::size_t> changed;
    std::vector<std::string> gone;
    const BuildIndex& previous = m_session.previous;
    journal = false;
    if (previous.files.has_snapshot()) {
        for (std::size_t i = 0; i < m_assets.size(); ++i)
            if (!failed(i) && !(m_plan.same_entry(i) && *m_plan.reused_stat(i) == m_session.trusted_stat(m_assets[i])))
                changed.push_back(i);
        // The sources gone (or failed now). When every entry was paired with a source, only
        // the failed ones; else both are sorted by path: one walk finds them.
        if (every_entry_paired()) {
            for (std::size_t i = 0; i < m_assets.size(); ++i)
                if (m_plan.previous[i] && failed(i))
                    gone.push_back(m_assets[i].path);
        } else {
            std::size_t t = 0;
            for (const auto& [path, e] : previous.assets) {
                while (t < m_assets.size() && m_assets[t].path < path)
                    ++t;
                if (t == m_assets.size() || m_assets[t].path != path || failed(t))
                    gone.push_back(path);
            }
        }
        journal = Cache::journal_suits(previous.files, changed.size() + gone.size(), m_assets.size());
    }
    if (journal)
        return std::jthread([this, &encoded, changed = std::move(changed), gone = std::move(gone)] {
            for (const std::size_t i : changed) {
                if (const IndexEntry* e = m_plan.results[i].entry) { // the same entry, its source's stat taken again
                    encoded += Cache::encode_journal_entry(m_assets[i].path, *e, m_session.trusted_stat(m_assets[i]));
                    continue;
                }
                IndexEntry entry;
                fill_built(entry, m_plan.results[i], m_plan.states[i], tally_text(i), true);
                encoded += Cache::encode_journal_entry(m_assets[i].path, entry, m_session.trusted_stat(m_assets[i]));
            }
            for (const auto& path : gone)
                encoded += Cache::encode_journal_removal(path);
        });
    return std::jthread([this, &encoded] {
        fill(Fragments::copy); // the manifest is being rendered from them
        encoded = Cache::encode_index(index);
    });
}

} // namespace cachet
