#include "pipeline/build/scheduler.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace cachet;
using Outcome = Scheduler::Outcome;

namespace {

// What fake tasks did, in order, from any thread.
class Log {
public:
    void add(std::string event)
    {
        std::lock_guard lock(m_mutex);
        m_events.push_back(std::move(event));
    }
    std::vector<std::string> events() const
    {
        std::lock_guard lock(m_mutex);
        return m_events;
    }
    // The position of event in the log (events.size() if absent).
    std::size_t at(const std::string& event) const
    {
        const auto e = events();
        return static_cast<std::size_t>(std::find(e.begin(), e.end(), event) - e.begin());
    }

private:
    mutable std::mutex m_mutex;
    std::vector<std::string> m_events;
};

// The outcome of every task, as finish() reported it, and how often it was called.
struct Outcomes {
    std::mutex mutex;
    std::map<std::string, std::vector<Outcome>> of;

    std::function<void(Outcome, std::exception_ptr)> recorder(const std::string& name)
    {
        return [this, name](Outcome outcome, std::exception_ptr) {
            std::lock_guard lock(mutex);
            of[name].push_back(outcome);
        };
    }
};

Scheduler::Task logged(Log& log, Outcomes& outcomes, const std::string& name)
{
    return Scheduler::Task{[&log, name](Scheduler::Context&) { log.add(name); }, outcomes.recorder(name)};
}

} // namespace

TEST_CASE("Scheduler runs every task once, each after its prerequisites, on any number of workers", "[scheduler]")
{
    for (const unsigned workers : {1u, 2u, 4u}) {
        Log log;
        Outcomes outcomes;
        Scheduler scheduler(workers);
        // A diamond and a chain: 0 -> {1, 2} -> 3, and 4 -> 5 -> 6, with 7 alone.
        std::vector<Scheduler::TaskId> ids;
        for (int i = 0; i < 8; ++i)
            ids.push_back(scheduler.add(logged(log, outcomes, std::to_string(i))));
        const std::vector<std::pair<int, int>> edges{{1, 0}, {2, 0}, {3, 1}, {3, 2}, {5, 4}, {6, 5}};
        for (const auto& [task, prerequisite] : edges)
            scheduler.after(ids[task], ids[prerequisite]);
        scheduler.run();
        CHECK(log.events().size() == 8);
        for (const auto& [task, prerequisite] : edges)
            CHECK(log.at(std::to_string(prerequisite)) < log.at(std::to_string(task)));
        for (int i = 0; i < 8; ++i)
            CHECK(outcomes.of[std::to_string(i)] == std::vector<Outcome>{Outcome::done});
    }
}

TEST_CASE("Scheduler starts ready tasks in the order they were added, and a released dependent joins the back",
          "[scheduler]")
{
    Log log;
    Outcomes outcomes;
    Scheduler scheduler(1);
    const auto a = scheduler.add(logged(log, outcomes, "a"));
    const auto b = scheduler.add(logged(log, outcomes, "b"));
    scheduler.add(logged(log, outcomes, "c"));
    scheduler.after(a, b); // a waits for b: b, c, then a
    scheduler.run();
    CHECK(log.events() == std::vector<std::string>{"b", "c", "a"});
}

TEST_CASE("Scheduler: a task is over only once its children are, and children run before new tasks", "[scheduler]")
{
    Log log;
    Outcomes outcomes;
    Scheduler scheduler(1);
    const auto parent = scheduler.add(Scheduler::Task{
        [&](Scheduler::Context& context) {
            log.add("parent");
            context.spawn([&](Scheduler::Context&) { log.add("back 1"); }, Scheduler::Where::back);
            context.spawn(
                [&](Scheduler::Context& inner) {
                    log.add("back 2");
                    inner.spawn([&](Scheduler::Context&) { log.add("grandchild"); }, Scheduler::Where::front);
                },
                Scheduler::Where::back);
            context.spawn([&](Scheduler::Context&) { log.add("front"); }, Scheduler::Where::front);
        },
        outcomes.recorder("parent")});
    const auto dependent = scheduler.add(logged(log, outcomes, "dependent"));
    scheduler.add(logged(log, outcomes, "other"));
    scheduler.after(dependent, parent);
    scheduler.run();
    // One worker: the children (front first; a child's front child next) before "other" starts.
    CHECK(log.events() ==
          std::vector<std::string>{"parent", "front", "back 1", "back 2", "grandchild", "other", "dependent"});
    CHECK(outcomes.of["parent"] == std::vector<Outcome>{Outcome::done});
}

TEST_CASE("Scheduler: a failure drops the task's queued children and cancels its dependents unless told to run",
          "[scheduler]")
{
    for (const unsigned workers : {1u, 3u}) {
        Log log;
        Outcomes outcomes;
        Scheduler scheduler(workers);
        std::string message;
        const auto failing = scheduler.add(Scheduler::Task{
            [&](Scheduler::Context& context) {
                context.spawn([](Scheduler::Context&) { throw std::runtime_error("child broke"); },
                              Scheduler::Where::front);
                context.spawn([&](Scheduler::Context&) { log.add("second child"); }, Scheduler::Where::back);
            },
            [&](Outcome outcome, std::exception_ptr error) {
                outcomes.recorder("failing")(outcome, error);
                try {
                    std::rethrow_exception(error);
                } catch (const std::exception& e) {
                    message = e.what();
                }
            }});
        const auto cancelled = scheduler.add(logged(log, outcomes, "cancelled"));
        const auto transitively = scheduler.add(logged(log, outcomes, "transitively"));
        auto tolerant_task = logged(log, outcomes, "tolerant");
        tolerant_task.if_failed = Scheduler::IfFailed::run;
        const auto tolerant = scheduler.add(std::move(tolerant_task));
        scheduler.add(logged(log, outcomes, "unrelated"));
        scheduler.after(cancelled, failing);
        scheduler.after(transitively, cancelled);
        scheduler.after(tolerant, failing);
        scheduler.run();
        CHECK(message == "child broke");
        CHECK(outcomes.of["failing"] == std::vector<Outcome>{Outcome::failed});
        CHECK(outcomes.of["cancelled"] == std::vector<Outcome>{Outcome::cancelled});
        CHECK(outcomes.of["transitively"] == std::vector<Outcome>{Outcome::cancelled});
        CHECK(outcomes.of["tolerant"] == std::vector<Outcome>{Outcome::done});
        CHECK(outcomes.of["unrelated"] == std::vector<Outcome>{Outcome::done});
        CHECK(log.at("cancelled") == log.events().size());
        if (workers == 1) // the failing child ran first; the other was still queued
            CHECK(log.at("second child") == log.events().size());
    }
}

TEST_CASE("Scheduler: a task that throws fails, and its exception reaches finish", "[scheduler]")
{
    Scheduler scheduler(2);
    Outcome seen = Outcome::done;
    std::string what;
    scheduler.add(Scheduler::Task{[](Scheduler::Context&) { throw std::runtime_error("no"); },
                                  [&](Outcome outcome, std::exception_ptr error) {
                                      seen = outcome;
                                      try {
                                          std::rethrow_exception(error);
                                      } catch (const std::exception& e) {
                                          what = e.what();
                                      }
                                  }});
    scheduler.run();
    CHECK(seen == Outcome::failed);
    CHECK(what == "no");
}

TEST_CASE("Scheduler: after cancel(), nothing new starts and every task is still finished once", "[scheduler]")
{
    for (const bool by_flag : {false, true}) {
        Log log;
        Outcomes outcomes;
        std::atomic<bool> flag{false};
        Scheduler scheduler(2, Scheduler::k_unlimited, by_flag ? &flag : nullptr);
        scheduler.add(Scheduler::Task{[&](Scheduler::Context& context) {
                                          log.add("first");
                                          context.spawn([&](Scheduler::Context&) { log.add("child"); },
                                                        Scheduler::Where::back);
                                          if (by_flag)
                                              flag = true;
                                          else
                                              scheduler.cancel();
                                          CHECK(context.stopped());
                                      },
                                      outcomes.recorder("first")});
        std::vector<Scheduler::TaskId> rest;
        for (int i = 0; i < 20; ++i)
            rest.push_back(scheduler.add(logged(log, outcomes, "task " + std::to_string(i))));
        for (std::size_t i = 1; i < rest.size(); ++i) // a chain, so that none is running when cancelled
            scheduler.after(rest[i], rest[i - 1]);
        scheduler.after(rest[0], 0);
        scheduler.run();
        CHECK(scheduler.cancelled());
        CHECK(log.events() == std::vector<std::string>{"first"});
        CHECK(outcomes.of["first"] == std::vector<Outcome>{Outcome::cancelled}); // its child was dropped
        for (int i = 0; i < 20; ++i)
            CHECK(outcomes.of["task " + std::to_string(i)] == std::vector<Outcome>{Outcome::cancelled});
    }
}

TEST_CASE("Scheduler admits tasks within the budget, and one bigger than the budget alone", "[scheduler]")
{
    std::mutex mutex;
    std::uint64_t held = 0, most = 0;
    bool big_ran_alone = false;
    Scheduler scheduler(4, 100);
    auto costly = [&](std::uint64_t cost, bool big) {
        return Scheduler::Task{[&, cost, big](Scheduler::Context&) {
                                   {
                                       std::lock_guard lock(mutex);
                                       if (big)
                                           big_ran_alone = held == 0;
                                       held += cost;
                                       most = std::max(most, held);
                                   }
                                   std::this_thread::sleep_for(std::chrono::milliseconds(5));
                                   std::lock_guard lock(mutex);
                                   held -= cost;
                               },
                               {},
                               cost};
    };
    for (int i = 0; i < 12; ++i)
        scheduler.add(costly(40, false));
    scheduler.add(costly(250, true));
    for (int i = 0; i < 6; ++i)
        scheduler.add(costly(30, false));
    scheduler.run();
    CHECK(big_ran_alone);
    CHECK(most <= 250);
    CHECK(scheduler.peak_cost() == 250);
    // Without the big task, never more than the budget at once: at most two 40s.
    Scheduler small(4, 100);
    held = most = 0;
    for (int i = 0; i < 12; ++i)
        small.add(costly(40, false));
    small.run();
    CHECK(most <= 80);
    CHECK(small.peak_cost() <= 100);
}

TEST_CASE("Scheduler: a child's cost is held while it runs, its task's until the task is over", "[scheduler]")
{
    Scheduler scheduler(2, 100);
    scheduler.add(Scheduler::Task{[](Scheduler::Context& context) {
                                      for (int i = 0; i < 4; ++i)
                                          context.spawn([](Scheduler::Context&) {}, Scheduler::Where::back, 30);
                                  },
                                  {},
                                  50});
    scheduler.run();
    CHECK(scheduler.peak_cost() >= 80);  // the task and at least one child
    CHECK(scheduler.peak_cost() <= 100); // never two children beside the task
}

TEST_CASE("Scheduler: what a child keeps of its cost stays held until its task is over, and the first child "
          "that fits runs",
          "[scheduler]")
{
    // As an image's decode: it reserves 60 of 100 until its encodes (cost 0) are all over. Two
    // such images never hold their reservations at once; the second's reservation waits while
    // the first's encodes, queued behind it, run.
    std::mutex mutex;
    int reserved = 0, most = 0;
    Scheduler scheduler(2, 100);
    for (int image = 0; image < 3; ++image)
        scheduler.add(Scheduler::Task{[&](Scheduler::Context& context) {
                                          context.spawn(
                                              [&](Scheduler::Context& decoding) {
                                                  {
                                                      std::lock_guard lock(mutex);
                                                      most = std::max(most, ++reserved);
                                                  }
                                                  for (int encode = 0; encode < 4; ++encode)
                                                      decoding.spawn(
                                                          [](Scheduler::Context&) {
                                                              std::this_thread::sleep_for(std::chrono::milliseconds(2));
                                                          },
                                                          Scheduler::Where::back);
                                              },
                                              Scheduler::Where::front, 60, 60);
                                      },
                                      [&](Scheduler::Outcome outcome, const std::exception_ptr&) {
                                          CHECK(outcome == Scheduler::Outcome::done);
                                          std::lock_guard lock(mutex);
                                          --reserved;
                                      }});
    scheduler.run();
    CHECK(most == 1);
    CHECK(scheduler.peak_cost() == 60);
}

TEST_CASE("Scheduler: a child that keeps part of its cost releases the rest when it has run", "[scheduler]")
{
    // As an image's decode: 50 while it decodes, of which the decoded pixels (20) stay until
    // the image is over. Its two encodes of 40 then fit side by side under 100; had it kept
    // all 50, they would run one after the other. Each encode waits a while for the other, so
    // whether they ran side by side does not depend on timing.
    for (const std::uint64_t kept : {std::uint64_t{20}, std::uint64_t{50}}) {
        std::mutex mutex;
        std::condition_variable changed;
        int running = 0, most = 0;
        Scheduler scheduler(2, 100);
        scheduler.add(Scheduler::Task{[&](Scheduler::Context& context) {
            context.spawn(
                [&](Scheduler::Context& decoding) {
                    for (int encode = 0; encode < 2; ++encode)
                        decoding.spawn(
                            [&](Scheduler::Context&) {
                                std::unique_lock lock(mutex);
                                most = std::max(most, ++running);
                                changed.notify_all();
                                changed.wait_for(lock, std::chrono::milliseconds(kept == 20 ? 10000 : 200),
                                                 [&] { return most == 2; });
                                --running;
                            },
                            Scheduler::Where::back, 40);
                },
                Scheduler::Where::front, 50, kept);
        }});
        scheduler.run();
        INFO("kept " << kept);
        CHECK(most == (kept == 20 ? 2 : 1));
        CHECK(scheduler.peak_cost() == (kept == 20 ? 100 : 90));
    }
}

TEST_CASE("Scheduler: when nothing runs a queued child that fits goes before one over the budget", "[scheduler]")
{
    // Image A keeps 60 of 100, 50 of it room for its encodes (50, which do not fit beside it
    // until that room is open, when it has decoded); image B's decode (60) is queued
    // at the front while A decodes. When A's decode ends nothing else runs: A's encodes fit and
    // must go first (B's decode beside A's 60 would pass the budget). Seen: B ran first.
    // (B is queued while A decodes, so the order is certain; the pause lets B's start end, so
    // that nothing runs when A's decode ends, the case that went wrong.)
    Log log;
    std::mutex mutex;
    std::condition_variable changed;
    bool a_decoding = false, b_queued = false;
    Scheduler scheduler(2, 100);
    scheduler.add(Scheduler::Task{[&](Scheduler::Context& context) {
        context.spawn(
            [&](Scheduler::Context& decoding) {
                {
                    std::lock_guard lock(mutex);
                    a_decoding = true;
                    changed.notify_all();
                }
                {
                    std::unique_lock lock(mutex);
                    changed.wait_for(lock, std::chrono::seconds(10), [&] { return b_queued; });
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
                for (int encode = 0; encode < 2; ++encode)
                    decoding.spawn([&](Scheduler::Context&) { log.add("A encodes"); }, Scheduler::Where::back, 50);
            },
            Scheduler::Where::front, 60, 60, 50);
    }});
    scheduler.add(Scheduler::Task{[&](Scheduler::Context& context) {
        {
            std::unique_lock lock(mutex);
            changed.wait_for(lock, std::chrono::seconds(10), [&] { return a_decoding; });
        }
        context.spawn([&](Scheduler::Context&) { log.add("B decodes"); }, Scheduler::Where::front, 60, 60);
        std::lock_guard lock(mutex);
        b_queued = true;
        changed.notify_all();
    }});
    scheduler.run();
    CHECK(log.events() == std::vector<std::string>{"A encodes", "A encodes", "B decodes"});
    CHECK(scheduler.peak_cost() <= 100);
}

TEST_CASE("Scheduler reports tasks that wait on each other in a cycle, finishing them cancelled", "[scheduler]")
{
    Log log;
    Outcomes outcomes;
    Scheduler scheduler(2);
    const auto a = scheduler.add(logged(log, outcomes, "a"));
    const auto b = scheduler.add(logged(log, outcomes, "b"));
    const auto c = scheduler.add(logged(log, outcomes, "c"));
    scheduler.after(a, b);
    scheduler.after(b, a);
    CHECK_THROWS_WITH(scheduler.run(), Catch::Contains("cycle"));
    CHECK(log.events() == std::vector<std::string>{"c"});
    CHECK(outcomes.of["a"] == std::vector<Outcome>{Outcome::cancelled});
    CHECK(outcomes.of["b"] == std::vector<Outcome>{Outcome::cancelled});
    (void)c;
}
