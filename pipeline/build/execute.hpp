#pragma once
#include "pipeline/build/asset_builder.hpp"
#include "pipeline/build/outputs.hpp"
#include "pipeline/build/plan.hpp"
#include "pipeline/build/reporter.hpp"
#include "pipeline/build/targets.hpp"

#include <atomic>
#include <vector>

namespace cachet {

// Builds the assets of plan.order on jobs threads, each after what it waits for, as tasks of
// a Scheduler: starting an asset (which builds a text or passthrough asset outright, or
// decodes an image), resizing one width of an image, and encoding one width in one format.
// Work in flight comes first, so few images are in memory at once and a large image's widths
// and formats spread over every core; each task runs single-threaded (libvips concurrency 1,
// encoders 1 thread): jobs threads in all. Within memory_budget, an image holds its pixels and
// room for its largest step from its decode to its end, and each step beside that its own
// estimate while it runs (see image_memory()). A failing asset fails alone. Throws Error(io)
// after an I/O error (which stops the build), Error(interrupted) if cancel turned true.
void execute_plan(const std::vector<Asset>& assets, Plan& plan, const AssetBuilder& builder, const OutputWriter& writer,
                  Targets& targets, Reporter& reporter, unsigned jobs, std::uint64_t memory_budget,
                  const std::atomic<bool>* cancel);

} // namespace cachet
