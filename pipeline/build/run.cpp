#include "pipeline/build/run.hpp"

#include "pipeline/build/asset_builder.hpp"
#include "pipeline/build/execute.hpp"
#include "pipeline/build/memory.hpp"
#include "pipeline/build/outputs.hpp"
#include "pipeline/build/plan.hpp"
#include "pipeline/build/publish.hpp"
#include "pipeline/build/session.hpp"
#include "pipeline/build/targets.hpp"
#include "pipeline/image/image_stack.hpp"

#include <algorithm>
#include <chrono>

namespace cachet {
namespace {

Summary run_build(const Config& config, Reporter& reporter, const RunOptions& options, BuildMemory::Kept* memory,
                  const std::vector<std::string>* changed)
{
    const auto start = std::chrono::steady_clock::now();
    const FileSystem& fs = options.file_system ? *options.file_system : real_file_system();
    Session session(config, fs, reporter, memory, changed);
    const std::vector<Asset>& assets = session.scan.assets;
    Plan plan =
        memory ? Plan(assets, std::move(memory->results_memory), std::move(memory->states_memory)) : Plan(assets);
    if (config.shard) // a shard builds its images only: the texts name them, so they come last
        for (std::size_t i = 0; i < assets.size(); ++i)
            plan.skipped[i] = assets[i].kind != AssetKind::image ||
                              shard_of(assets[i].path, config.shard->count) != config.shard->index;
    reporter.build_started(static_cast<std::size_t>(std::count(plan.skipped.begin(), plan.skipped.end(), 0)));
    for (const auto& w : session.scan.warnings)
        reporter.warning(w);

    const ReusedOutputs reused_outputs(assets, plan.reused, plan.results, plan.states);
    OutputNames names(reused_outputs);
    WrittenFiles written(config.output);
    const OutputWriter writer(config, fs, names, written, session.cache ? &*session.cache : nullptr);
    Targets targets(config.preset, assets, plan.results);
    // esbuild is found (not run) here: its version is part of keys. A watch session keeps it.
    std::shared_ptr<const Minifier> minifier;
    if (config.preset.text.minify) {
        const std::string wanted = config.preset.text.esbuild + "\n" + config.cache_dir.string();
        if (memory && memory->minifier && memory->minifier_for == wanted && memory->minifier->unchanged())
            minifier = memory->minifier;
        else
            minifier = std::make_shared<const Minifier>(config.preset.text.esbuild, config.cache_dir);
        if (memory) {
            memory->minifier = minifier;
            memory->minifier_for = wanted;
        }
    }
    const AssetBuilder builder(
        config, fs, writer, session.cache ? &*session.cache : nullptr, session.cache ? &session.previous : nullptr,
        session.previous.source_root == session.source_root, targets, options.codec_versions, minifier.get());

    plan_unchanged(config, session, builder, changed, plan);
    // A script or stylesheet to look at again: esbuild starts while the rest is checked.
    if (minifier && std::any_of(plan.order.begin(), plan.order.end(), [&](std::size_t i) {
            return !plan.unchanged[i] && !plan.skipped[i] && assets[i].kind == AssetKind::text &&
                   minifiable(assets[i].path) != Minifiable::no;
        }))
        minifier->warm();
    plan_script_names(config, fs, session, targets, plan);
    plan_reuse(config, session, builder, targets, plan);
    // The manifest's name is the first claimed. A reused output under that name (the setting
    // changed) is built again, and then fails on it.
    if (const std::size_t owner = reused_outputs.conflict(config.preset.output.manifest, "manifest");
        owner != ReusedOutputs::k_none) {
        plan.reused[owner] = 0;
        plan.results[owner] = AssetResult{};
        plan.states.reset(owner);
    }
    writer.claim(config.preset.output.manifest, "manifest", "the manifest");
    reporter.phase("unchanged sources checked");
    for (std::size_t i = 0; i < assets.size(); ++i)
        if (plan.reused[i] && !plan.skipped[i]) {
            reporter.asset_finished(assets[i], plan.results[i]);
            targets.mark_done(i);
        }
    std::erase_if(plan.order, [&](std::size_t i) { return plan.reused[i] != 0 || plan.skipped[i] != 0; });
    plan.sort_order(assets);
    // The image libraries are loaded, and their libaom checked, before any work starts, and
    // only when an image is to be looked at again (new, changed, or its stats untrusted); a
    // failure stops the build here, with the previous manifest in place.
    if (std::any_of(plan.order.begin(), plan.order.end(),
                    [&](std::size_t i) { return assets[i].kind == AssetKind::image; }))
        image_stack();
    // The same for esbuild, when a script or stylesheet is to be built.
    if (minifier && std::any_of(plan.order.begin(), plan.order.end(), [&](std::size_t i) {
            return assets[i].kind == AssetKind::text && minifiable(assets[i].path) != Minifiable::no;
        }))
        minifier->check();

    for (const std::size_t i : plan_order(config, fs, session, targets, plan)) { // those in a cycle failed
        reporter.asset_finished(assets[i], plan.results[i]);
        targets.mark_done(i);
    }
    execute_plan(assets, plan, builder, writer, targets, reporter, config.jobs, config.preset.build.memory,
                 options.cancel);
    reporter.phase("the others built");
    Summary summary = publish_build(config, options, session, plan, targets, written, reporter, memory, start);
    if (memory)
        plan.release(memory->results_memory, memory->states_memory);
    return summary;
}

} // namespace

Summary run(const Config& config, Reporter& reporter, const RunOptions& options)
{
    return run_build(config, reporter, options, nullptr, nullptr);
}

Summary run(const Config& config, Reporter& reporter, const RunOptions& options, BuildMemory& memory,
            const std::vector<std::string>* changed)
{
    return run_build(config, reporter, options, &memory.kept(), changed);
}

BuildMemory::BuildMemory() : m_kept(std::make_unique<Kept>()) {}
BuildMemory::~BuildMemory() = default;

} // namespace cachet
