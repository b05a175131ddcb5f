#include "pipeline/build/execute.hpp"

#include "pipeline/build/scheduler.hpp"
#include "pipeline/model/error.hpp"

#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>

namespace cachet {
namespace {

// One build's assets on a Scheduler.
class Execution {
public:
    Execution(const std::vector<Asset>& assets, Plan& plan, const AssetBuilder& builder, const OutputWriter& writer,
              Targets& targets, Reporter& reporter, unsigned jobs, std::uint64_t memory_budget,
              const std::atomic<bool>* cancel)
        : m_assets(assets), m_plan(plan), m_builder(builder), m_writer(writer), m_targets(targets),
          m_reporter(reporter), m_scheduler(jobs, memory_budget, cancel), m_jobs(assets.size()),
          m_started(assets.size(), 0)
    {}

    void run()
    {
        std::vector<Scheduler::TaskId> task(m_assets.size());
        for (const std::size_t i : m_plan.order)
            task[i] = m_scheduler.add(Scheduler::Task{
                [this, i](Scheduler::Context& context) { start(i, context); },
                [this, i](Scheduler::Outcome outcome, const std::exception_ptr& error) { over(i, outcome, error); }, 0,
                Scheduler::IfFailed::run});
        for (const std::size_t i : m_plan.order)
            for (const std::size_t t : m_plan.waits_for[i])
                if (!m_plan.reused[t] && m_plan.results[t].status != AssetResult::Status::failed)
                    m_scheduler.after(task[i], task[t]);
        try {
            m_scheduler.run();
        } catch (const std::logic_error&) {
            throw Error(ErrorKind::internal, "sources left waiting for others that never finished (the previous "
                                             "manifest is unchanged)");
        }
        if (!m_io_failure.empty())
            throw Error(ErrorKind::io, m_io_failure + " (the previous manifest is unchanged)");
        if (m_scheduler.cancelled())
            throw Error(ErrorKind::interrupted, "interrupted: the previous manifest is unchanged");
    }

private:
    // Why an asset failed, from what it threw; an I/O error stops the whole build.
    std::string failure(const std::exception& e)
    {
        if (const auto* error = dynamic_cast<const Error*>(&e); error && error->kind() == ErrorKind::io) {
            {
                std::lock_guard lock(m_report_mutex);
                if (m_io_failure.empty())
                    m_io_failure = e.what();
            }
            m_scheduler.cancel();
        }
        return dynamic_cast<const std::bad_alloc*>(&e) ? "out of memory" : e.what();
    }

    std::string failure(const std::exception_ptr& error)
    {
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            return failure(e);
        } catch (...) {
            return "unknown failure";
        }
    }

    // Runs part of an image's work; a failure is noted at once (an I/O error stops every
    // other task), then passed on to the scheduler, which drops the image's other tasks.
    template <typename F>
    void image_task(F&& work)
    {
        try {
            work();
        } catch (const std::exception& e) {
            failure(e);
            throw;
        }
    }

    // Starts asset i: builds it, or for an image decodes it and queues its resizes, largest
    // width first. Each resize queues its width's encodes at the front (AVIF, the slowest
    // encoder, first), so resized pixels are encoded and freed before more widths are resized.
    void start(std::size_t i, Scheduler::Context& context)
    {
        m_started[i] = 1;
        {
            std::lock_guard lock(m_report_mutex);
            m_reporter.asset_started(m_assets[i]);
        }
        AssetResult& result = m_plan.results[i];
        try {
            m_jobs[i] = m_builder.start(m_assets[i], result, m_plan.states.edit(i));
        } catch (const std::exception& e) {
            result.status = AssetResult::Status::failed;
            result.message = failure(e);
        }
        if (!m_jobs[i])
            return;
        ImageJob& job = *m_jobs[i];
        // The image waits for room for its decode and its largest step (image_memory()); from
        // its decode on it holds its pixels and that room, which its steps take one at a time,
        // and each step beside it holds its own estimate while it runs.
        const ImageMemory& memory = job.memory;
        context.spawn(
            [this, &job](Scheduler::Context& decoding) {
                image_task([&] { m_builder.decode(job); });
                for (std::size_t w = job.widths.size(); w-- > 0;)
                    decoding.spawn(
                        [this, &job, w](Scheduler::Context& inner) {
                            image_task([&] { resize_width(job, w); });
                            for (std::size_t f = job.formats.size(); f-- > 0;)
                                inner.spawn([this, &job, w,
                                             f](Scheduler::Context&) { image_task([&] { encode_width(job, w, f); }); },
                                            Scheduler::Where::front,
                                            encode_memory(job.header, job.widths[w]->width, job.formats[f]));
                        },
                        Scheduler::Where::back, resize_memory(job.header, job.widths[w]->width));
            },
            Scheduler::Where::front, memory.alone, memory.kept + memory.room, memory.room);
    }

    // Asset i and all its tasks are over.
    void over(std::size_t i, Scheduler::Outcome outcome, const std::exception_ptr& error)
    {
        if (!m_started[i]) // never started: the build stopped first
            return;
        AssetResult& result = m_plan.results[i];
        bool stopped = false; // by the build stopping, not by a fault of its own: not reported
        if (const std::shared_ptr<ImageJob> job = std::move(m_jobs[i])) {
            if (outcome == Scheduler::Outcome::done && !m_scheduler.cancelled()) {
                try {
                    ship_image(*job, m_writer);
                } catch (const std::exception& e) {
                    result.status = AssetResult::Status::failed;
                    result.message = failure(e);
                }
            } else {
                result.status = AssetResult::Status::failed;
                stopped = outcome != Scheduler::Outcome::failed;
                result.message = stopped ? "build stopped" : failure(error);
            }
            job->release(); // the pixels are no longer needed
        }
        if (result.status == AssetResult::Status::built) {
            try {
                m_builder.remember(result, m_plan.states.edit(i));
            } catch (const std::exception& e) {
                result.status = AssetResult::Status::failed;
                result.message = failure(e);
            }
        }
        if (result.status == AssetResult::Status::failed)
            result.record.outputs.clear();
        if (!stopped) {
            std::lock_guard lock(m_report_mutex);
            m_reporter.asset_finished(m_assets[i], result);
        }
        m_targets.mark_done(i);
    }

    const std::vector<Asset>& m_assets;
    Plan& m_plan;
    const AssetBuilder& m_builder;
    const OutputWriter& m_writer;
    Targets& m_targets;
    Reporter& m_reporter;
    Scheduler m_scheduler;
    std::vector<std::shared_ptr<ImageJob>> m_jobs; // images in flight
    std::vector<char> m_started;                   // written by the asset's own task only
    std::mutex m_report_mutex;
    std::string m_io_failure;
};

} // namespace

void execute_plan(const std::vector<Asset>& assets, Plan& plan, const AssetBuilder& builder, const OutputWriter& writer,
                  Targets& targets, Reporter& reporter, unsigned jobs, std::uint64_t memory_budget,
                  const std::atomic<bool>* cancel)
{
    Execution(assets, plan, builder, writer, targets, reporter, jobs, memory_budget, cancel).run();
}

} // namespace cachet
