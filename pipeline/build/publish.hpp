#pragma once
#include "pipeline/build/outputs.hpp"
#include "pipeline/build/plan.hpp"
#include "pipeline/build/reporter.hpp"
#include "pipeline/build/run.hpp"
#include "pipeline/build/session.hpp"
#include "pipeline/build/summary.hpp"
#include "pipeline/build/targets.hpp"

#include <chrono>

namespace cachet {

// The end of a build whose assets are all over: counts them, checks the budgets, and, unless
// nothing changed since the last build, flushes the outputs (options.sync), publishes the
// manifest atomically, deletes what OUT no longer keeps (retention) and brings the cache's
// index up to date. Hands the build over to memory (a watch session) or, if
// options.teardown says so, leaves its memory to the exiting process. Throws Error(io) if OUT
// or the cache cannot be written.
Summary publish_build(const Config& config, const RunOptions& options, Session& session, Plan& plan,
                      const Targets& targets, WrittenFiles& written, Reporter& reporter, BuildMemory::Kept* memory,
                      std::chrono::steady_clock::time_point start);

} // namespace cachet
