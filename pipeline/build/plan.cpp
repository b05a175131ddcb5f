#include "pipeline/build/plan.hpp"

#include "pipeline/build/scheduler.hpp"
#include "pipeline/fs/atomic_file.hpp"
#include "pipeline/model/error.hpp"
#include "pipeline/text/compress.hpp"
#include "pipeline/text/order.hpp"
#include "pipeline/text/references.hpp"
#include "pipeline/text/script_names.hpp"

#include <algorithm>

namespace cachet {

Plan::Plan(const std::vector<Asset>& assets, std::vector<AssetResult> results_memory, AssetStates states_memory)
    : results(std::move(results_memory)), states(std::move(states_memory)), reused(assets.size(), 0),
      skipped(assets.size(), 0), unchanged(assets.size(), nullptr), order(assets.size()), waits_for(assets.size())
{
    // (Their elements are all as made by default: release() left them so.)
    results.resize(assets.size());
    states.resize(assets.size());
    for (std::size_t i = 0; i < order.size(); ++i)
        order[i] = i;
}

void Plan::release(std::vector<AssetResult>& results_memory, AssetStates& states_memory)
{
    // Each element back to as made by default, here, after the build: the next build of the
    // same sources then has nothing to set up. (A result that points at its index entry holds
    // nothing else, and its state was not touched.)
    for (std::size_t i = 0; i < results.size(); ++i) {
        if (results[i].entry) {
            results[i].entry = nullptr;
            results[i].entry_warned = false;
            results[i].status = AssetResult::Status::built;
        } else {
            results[i] = AssetResult{};
        }
        states.reset(i);
    }
    results_memory = std::move(results);
    states_memory = std::move(states);
}

void Plan::sort_order(const std::vector<Asset>& assets)
{
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        const Asset& x = assets[a];
        const Asset& y = assets[b];
        if ((x.kind == AssetKind::image) != (y.kind == AssetKind::image))
            return x.kind == AssetKind::image;
        return x.bytes > y.bytes;
    });
}

namespace {

// Whether a build reads what scripts name (references rewritten, scripts not trusted).
bool reads_script_names(const Config& config)
{
    return config.preset.references.rewrite && !config.preset.references.trust_scripts;
}

} // namespace

bool rewrites_references(const Config& config, const Asset& asset)
{
    return config.preset.references.rewrite && asset.kind == AssetKind::text && may_have_references(asset.path);
}

void plan_unchanged(const Config& config, const Session& session, const AssetBuilder& builder,
                    const std::vector<std::string>* changed, Plan& plan)
{
    if (!session.cache)
        return;
    const std::vector<Asset>& assets = session.scan.assets;
    auto named = [&](const std::string& path) { // whether the events named this source
        for (const auto& c : *changed)
            if (c.ends_with('/') ? path.starts_with(c) : path == c)
                return true;
        return false;
    };
    // A watch rebuild whose sources are the last build's takes that build's pairing.
    plan.previous = session.pairing.empty() ? builder.previous_entries(assets) : session.pairing;
    plan.previous_found = static_cast<std::size_t>(
        std::count_if(plan.previous.begin(), plan.previous.end(), [](const IndexEntry* e) { return e != nullptr; }));
    plan.trusted_by_events.assign(assets.size(), 0);
    parallel_for(config.jobs, assets.size(), [&](std::size_t i) {
        if (IndexEntry* e = plan.previous[i]) {
            const Trust trust = session.incremental && !named(assets[i].path) ? Trust::events : Trust::stats;
            plan.unchanged[i] = builder.reusable(assets[i], e, trust);
            plan.trusted_by_events[i] = trust == Trust::events ? 1 : 0;
        }
    });
}

void plan_script_names(const Config& config, const FileSystem& fs, const Session& session, Targets& targets, Plan& plan)
{
    const std::vector<Asset>& assets = session.scan.assets;
    if (!reads_script_names(config)) {
        plan.names_as_before = true; // none, as last time
        return;
    }
    // (An unchanged source's names are read where the index has them; plan_reuse() gives those
    // it does not reuse their own copy.)
    std::vector<std::size_t> unread;
    for (std::size_t i = 0; i < assets.size(); ++i)
        if (!plan.unchanged[i] && may_hold_scripts(assets[i].path))
            unread.push_back(i);
    // No script read again, and the same sources as the last build of a watch: the same names.
    if (unread.empty() && !session.named_before.empty()) {
        targets.set_named(session.named_before);
        plan.names_as_before = true;
        return;
    }
    std::vector<const std::vector<std::string>*> known;
    for (std::size_t i = 0; i < assets.size(); ++i)
        if (const IndexEntry* e = plan.unchanged[i]; e && !e->script_names.empty() && may_hold_scripts(assets[i].path))
            known.push_back(&e->script_names);
    parallel_for(config.jobs, unread.size(), [&](std::size_t n) {
        const Asset& asset = assets[unread[n]];
        try {
            const Bytes source = fs.read(asset.absolute);
            plan.states.edit(unread[n]).script_names = names_in_scripts(asset.path, as_text(source));
        } catch (const Error&) {
            // unreadable: building it says so
        }
    });
    std::vector<std::string> names;
    for (const auto* k : known)
        names.insert(names.end(), k->begin(), k->end());
    for (const std::size_t i : unread)
        names.insert(names.end(), plan.states[i].script_names.begin(), plan.states[i].script_names.end());
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    std::vector<char> named(assets.size(), 0);
    parallel_for(config.jobs, assets.size(),
                 [&](std::size_t i) { named[i] = named_in_scripts(names, assets[i].path) ? 1 : 0; });
    targets.set_named(std::move(named));
}

namespace {

// Leaves in reusable only the files whose references are settled: each names a source that
// is reused as it was (or, with missing references allowed, one that is not in SRC and was
// not last time either), and what scripts made it keep as written is still exactly that. A
// file that is not reused unsettles the files that refer to it, and so on: one walk over the
// references, then over who refers to what was dropped.
void keep_settled(const Config& config, const Session& session, const Targets& targets,
                  std::vector<IndexEntry*>& reusable)
{
    const std::size_t n = reusable.size();
    std::vector<std::size_t> dropped;
    std::vector<std::pair<std::size_t, std::size_t>> refers; // (source named, file naming it)
    for (std::size_t i = 0; i < n; ++i) {
        const IndexEntry* e = reusable[i];
        if (!e) {
            dropped.push_back(i);
            continue;
        }
        bool settled = true;
        bool named = false; // whether scripts name one of them (most files: none, and none kept)
        for (const auto* paths : {&e->loads, &e->back})
            for (const auto& path : *paths) {
                if (const std::size_t t = targets.find(path); t != Targets::k_none) {
                    refers.emplace_back(t, i);
                    named = named || targets.named(t);
                } else if (config.missing_references != MissingReferences::warn ||
                           session.previous.assets.count(path) != 0) {
                    settled = false;
                }
            }
        if (settled && (named || !e->kept.empty()))
            settled = targets.kept(e->loads, e->back) == e->kept;
        if (!settled) {
            reusable[i] = nullptr;
            dropped.push_back(i);
        }
    }
    // Who refers to each source, as one array in the sources' order (counted, then placed).
    std::vector<std::size_t> first(n + 1, 0), by(refers.size());
    for (const auto& r : refers)
        ++first[r.first + 1];
    for (std::size_t t = 0; t < n; ++t)
        first[t + 1] += first[t];
    std::vector<std::size_t> next(first.begin(), first.end() - 1);
    for (const auto& r : refers)
        by[next[r.first]++] = r.second;
    while (!dropped.empty()) {
        const std::size_t t = dropped.back();
        dropped.pop_back();
        for (std::size_t k = first[t]; k < first[t + 1]; ++k)
            if (reusable[by[k]]) {
                reusable[by[k]] = nullptr;
                dropped.push_back(by[k]);
            }
    }
}

} // namespace

void plan_reuse(const Config& config, const Session& session, const AssetBuilder& builder, const Targets& targets,
                Plan& plan)
{
    if (!session.cache)
        return;
    const std::vector<Asset>& assets = session.scan.assets;
    std::vector<IndexEntry*> reusable = plan.unchanged;
    // (A sidecar that a source now has the name of gives way to it: see AssetBuilder. Most
    // sites have no source named as a sidecar is: then no sidecar is looked up.)
    const bool sources_named_as_sidecars = std::any_of(assets.begin(), assets.end(), [](const Asset& a) {
        return std::any_of(k_encodings.begin(), k_encodings.end(), [&](Encoding e) {
            const std::string_view extension = sidecar_extension(e);
            return a.path.size() > extension.size() && a.path.ends_with(extension) &&
                   a.path[a.path.size() - extension.size() - 1] == '.';
        });
    });
    auto sidecar_taken = [&](const IndexEntry& e) {
        if (!sources_named_as_sidecars)
            return false;
        for (const auto& o : e.entry.get().record.outputs)
            for (const auto& v : o.encodings)
                if (targets.find(v.path) != Targets::k_none)
                    return true;
        return false;
    };
    parallel_for(config.jobs, assets.size(), [&](std::size_t i) {
        // (An entry the last build of this watch made, or reused, with the same names in scripts
        // as now has the originals they want.)
        const bool originals_as_before = plan.trusted_by_events[i] && plan.names_as_before;
        if (reusable[i] && ((!originals_as_before && !builder.same_originals(assets[i], i, *reusable[i])) ||
                            sidecar_taken(*reusable[i])))
            reusable[i] = nullptr;
    });
    if (config.preset.references.rewrite)
        keep_settled(config, session, targets, reusable);
    const bool scripts_read = reads_script_names(config);
    parallel_for(config.jobs, assets.size(), [&](std::size_t i) {
        if (reusable[i]) {
            builder.reuse(*reusable[i], plan.results[i], plan.states, i);
            plan.reused[i] = 1;
        } else if (scripts_read && plan.unchanged[i]) { // (plan_script_names() left them in the index)
            plan.states.edit(i).script_names = plan.unchanged[i]->script_names;
        }
    });
}

std::vector<std::size_t> plan_order(const Config& config, const FileSystem& fs, const Session& session,
                                    const Targets& targets, Plan& plan)
{
    const std::vector<Asset>& assets = session.scan.assets;
    auto refers = [&](std::size_t i) { return rewrites_references(config, assets[i]); };
    if (!std::any_of(plan.order.begin(), plan.order.end(), refers))
        return {};
    std::vector<std::size_t> unread; // what the files to build refer to: the index says, or read them
    for (const std::size_t i : plan.order)
        if (refers(i)) {
            if (const IndexEntry* e = plan.unchanged[i]) {
                plan.states.edit(i).loads = e->loads;
                plan.states.edit(i).back = e->back;
            } else {
                unread.push_back(i);
            }
        }
    parallel_for(config.jobs, unread.size(), [&](std::size_t n) {
        const Asset& asset = assets[unread[n]];
        try {
            const Bytes source = fs.read(asset.absolute);
            const std::string_view text = as_text(source);
            Dependencies deps =
                dependencies_of(asset.path, find_references(asset.path, text), config.preset.references.base);
            plan.states.edit(unread[n]).loads = std::move(deps.loads);
            plan.states.edit(unread[n]).back = std::move(deps.back);
        } catch (const Error&) {
            // unreadable: building it says so
        }
    });
    // Only what is built waits: a reused source is built after nothing, so it is in no cycle.
    // The graph holds what is built and what that names (a watch rebuild: a few nodes, not
    // every source), numbered in the sources' order, so that its order is the same as over all.
    std::vector<std::pair<std::size_t, std::size_t>> load_edges, back_edges; // (file, source it names)
    std::vector<std::size_t> nodes = plan.order;
    for (const std::size_t i : plan.order) {
        for (const auto& path : plan.states[i].loads)
            if (const std::size_t t = targets.find(path); t != Targets::k_none && targets.needs_build(t))
                load_edges.emplace_back(i, t);
        for (const auto& path : plan.states[i].back)
            if (const std::size_t t = targets.find(path); t != Targets::k_none && targets.needs_build(t))
                back_edges.emplace_back(i, t);
    }
    for (const auto* edges : {&load_edges, &back_edges})
        for (const auto& e : *edges)
            nodes.push_back(e.second);
    std::sort(nodes.begin(), nodes.end());
    nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
    auto node = [&](std::size_t i) {
        return static_cast<std::size_t>(std::lower_bound(nodes.begin(), nodes.end(), i) - nodes.begin());
    };
    std::vector<std::vector<std::size_t>> loads(nodes.size()), back(nodes.size());
    for (const auto& [i, t] : load_edges)
        loads[node(i)].push_back(node(t));
    for (const auto& [i, t] : back_edges)
        back[node(i)].push_back(node(t));
    const BuildOrder built_after = order_builds(loads, back);
    auto sources = [&](const std::vector<std::size_t>& of) {
        std::vector<std::size_t> out;
        out.reserve(of.size());
        for (const std::size_t n : of)
            out.push_back(nodes[n]);
        return out;
    };
    std::vector<std::size_t> in_cycles;
    for (const std::size_t i : plan.order) {
        const std::size_t n = node(i);
        if (const std::size_t c = built_after.cycle_of[n]; c != BuildOrder::k_none) {
            std::string path;
            for (const std::size_t m : built_after.cycles[c])
                path += (path.empty() ? "" : " -> ") + assets[nodes[m]].path;
            plan.results[i].status = AssetResult::Status::failed;
            plan.results[i].message = "reference cycle: " + path +
                                      " (each would need the others' fingerprinted names first; break the cycle, "
                                      "or keep one of them at a stable name with output.stable)";
            in_cycles.push_back(i);
            continue;
        }
        plan.waits_for[i] = sources(built_after.waits_for[n]);
        for (const std::size_t t : built_after.gave_way[n])
            plan.states.edit(i).gave_way.push_back(assets[nodes[t]].path); // sorted: nodes and assets are
    }
    std::erase_if(plan.order, [&](std::size_t i) { return plan.results[i].status == AssetResult::Status::failed; });
    return in_cycles;
}

} // namespace cachet
