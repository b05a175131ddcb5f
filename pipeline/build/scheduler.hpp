#pragma once
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <limits>
#include <mutex>
#include <thread>
#include <vector>

namespace cachet {

// A graph of tasks run on a fixed number of threads. It knows nothing of assets: a task is a
// function, its prerequisites, a cost and a function told how it ended.
//
// A task may spawn children while it runs (and children their own); the task is over once it
// and every child have run, and only then do its dependents start. Children of tasks in
// flight are taken before any new task starts, so that few tasks are in flight at once; a
// child joins that queue at the front or the back. Tasks start in the order they were added,
// a dependent when its last prerequisite is over.
//
// Admission: the cost of a task is held from its start until it is over, a child's while it
// runs, except the part of it the child keeps: that stays held until its task is over (what it
// leaves in memory for its siblings). Part of what a child keeps may be room for its siblings:
// once it has run, one child of the task at a time whose cost fits that room runs in it,
// holding nothing more (so a task that reserved room for its largest step can always go on,
// one step at a time). Nothing starts that would take the costs held past the budget,
// unless nothing runs (so that a task bigger than the budget runs alone rather than never).
// The first queued child that fits runs; while some child waits for room, no new task starts.
class Scheduler {
public:
    using TaskId = std::size_t;
    static constexpr std::uint64_t k_unlimited = std::numeric_limits<std::uint64_t>::max();

    // How a task ended: every part ran and none threw; one threw (the others not yet started
    // were dropped); or it was cancelled (cancel(), or a prerequisite failed) before it or
    // some of its children could start.
    enum class Outcome { done, failed, cancelled };
    // Where a spawned child joins the queue of work in flight.
    enum class Where { front, back };
    // What the failure or cancellation of a prerequisite does to a dependent.
    enum class IfFailed { cancel, run };

    class Context;
    using Work = std::function<void(Context&)>;

    struct Task {
        Work run; // may throw: the task has failed
        // Called once, on some worker, when the task is over; error is the first exception a
        // part of it threw (outcome failed), else null. Must not throw.
        std::function<void(Outcome, std::exception_ptr error)> finish = {};
        std::uint64_t cost = 0;
        IfFailed if_failed = IfFailed::cancel;
    };

    // What a running task (or child) may do.
    class Context {
    public:
        // Queues a child of the same task; it holds cost while it runs, and keeps `kept` of it
        // (at most cost) held until the task is over, of which `room` (at most kept) is room
        // for the task's other children once it has run (see Admission).
        void spawn(Work child, Where where, std::uint64_t cost = 0, std::uint64_t kept = 0, std::uint64_t room = 0);
        // Whether the task has failed or the scheduler was cancelled: its queued children will
        // not run, so a long child may stop early.
        bool stopped() const;

    private:
        friend class Scheduler;
        Context(Scheduler& scheduler, TaskId task) : m_scheduler(scheduler), m_task(task) {}
        Scheduler& m_scheduler;
        TaskId m_task;
    };

    // workers: threads that run tasks (the caller of run() is one of them); at least 1.
    // budget: see Admission above. cancel_flag, if given, is polled: once true, it acts as
    // cancel().
    explicit Scheduler(unsigned workers, std::uint64_t budget = k_unlimited,
                       const std::atomic<bool>* cancel_flag = nullptr);
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    // Adds a task (before run()); returns its id, 0, 1, 2... in the order added.
    TaskId add(Task task);
    // task starts only once prerequisite is over (before run()).
    void after(TaskId task, TaskId prerequisite);

    // Runs every task and returns once each is over, each task's finish called once. Throws
    // std::logic_error, after finishing them as cancelled, if some tasks wait on each other in
    // a cycle.
    void run();

    // From any thread: no task or child starts any more; those not started end cancelled.
    void cancel();
    bool cancelled() const;

    // The most cost held at once during run() (for tests and benchmarks).
    std::uint64_t peak_cost() const { return m_peak; }

private:
    enum class State { waiting, ready, running, over };
    struct Node {
        Task task;
        std::vector<TaskId> dependents;
        std::size_t prerequisites = 0; // not yet over
        State state = State::waiting;
        bool doomed = false; // a prerequisite failed: cancel instead of running
        bool started = false;
        bool dropped = false;   // a part was cancelled before it ran
        std::size_t parts = 0;  // its run and its children, not yet over
        std::uint64_t kept = 0; // what its children that ran keep held until it is over
        std::uint64_t room = 0; // of that, room one child at a time runs in
        bool room_taken = false;
        std::exception_ptr error;
    };
    struct Child {
        TaskId task;
        Work run;
        std::uint64_t cost;
        std::uint64_t kept; // <= cost
        std::uint64_t room; // <= kept
        bool in_room = false;
    };

    void work();
    bool stopping() const;                                           // under m_mutex
    bool idle() const { return m_running == 0 && m_finishing == 0; } // under m_mutex
    bool admits(std::uint64_t cost) const;
    bool fits_room(const Child& child) const; // under m_mutex
    // The first queued child that is to be dropped (its task failed, or everything stops) or
    // fits the budget; else, if nothing runs, the first; else m_children.end().
    std::deque<Child>::iterator next_child();
    void hold(std::uint64_t cost);
    // One part of task is over: when it was the last, finishes the task and releases its
    // dependents (unlocking while finish runs).
    void part_over(std::unique_lock<std::mutex>& lock, TaskId task);
    void finish(std::unique_lock<std::mutex>& lock, TaskId task, Outcome outcome);
    void fail(TaskId task, std::exception_ptr error);

    const unsigned m_workers;
    const std::uint64_t m_budget;
    const std::atomic<bool>* m_cancel_flag;
    std::atomic<bool> m_cancelled{false};

    mutable std::mutex m_mutex;
    std::condition_variable m_changed;
    std::vector<Node> m_nodes;
    std::deque<Child> m_children; // of tasks in flight
    std::deque<TaskId> m_ready;   // tasks whose prerequisites are over, in order
    std::size_t m_running = 0;    // tasks and children a worker is running now
    std::size_t m_finishing = 0;  // tasks whose finish is being called
    std::uint64_t m_held = 0;
    std::uint64_t m_peak = 0;
};

// Calls f(i) for every i < n, shared out in slices over workers threads (the caller's among them).
template <typename F>
void parallel_for(unsigned workers, std::size_t n, const F& f)
{
    workers = workers == 0 ? 1 : workers;
    auto slice = [&](std::size_t part, std::size_t parts) {
        for (std::size_t i = n * part / parts; i < n * (part + 1) / parts; ++i)
            f(i);
    };
    std::vector<std::jthread> pool;
    for (unsigned i = 1; i < workers && i < n; ++i)
        pool.emplace_back(slice, i, std::min<std::size_t>(workers, n));
    slice(0, std::max<std::size_t>(1, std::min<std::size_t>(workers, n)));
}

} // namespace cachet
