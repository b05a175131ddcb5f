#include "pipeline/build/scheduler.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <thread>

namespace cachet {

Scheduler::Scheduler(unsigned workers, std::uint64_t budget, const std::atomic<bool>* cancel_flag)
    : m_workers(std::max(1u, workers)), m_budget(budget), m_cancel_flag(cancel_flag)
{}

Scheduler::TaskId Scheduler::add(Task task)
{
    m_nodes.push_back(Node{});
    m_nodes.back().task = std::move(task);
    return m_nodes.size() - 1;
}

void Scheduler::after(TaskId task, TaskId prerequisite)
{
    m_nodes.at(prerequisite).dependents.push_back(task);
    ++m_nodes.at(task).prerequisites;
}

void Scheduler::cancel()
{
    m_cancelled = true;
    std::lock_guard lock(m_mutex);
    m_changed.notify_all();
}

bool Scheduler::cancelled() const
{
    return m_cancelled.load() || (m_cancel_flag && m_cancel_flag->load());
}

bool Scheduler::stopping() const
{
    return cancelled();
}

bool Scheduler::admits(std::uint64_t cost) const
{
    return m_held <= m_budget && cost <= m_budget - m_held;
}

bool Scheduler::fits_room(const Child& child) const
{
    const Node& node = m_nodes[child.task];
    return child.kept == 0 && !node.room_taken && child.cost <= node.room;
}

std::deque<Scheduler::Child>::iterator Scheduler::next_child()
{
    for (auto it = m_children.begin(); it != m_children.end(); ++it)
        if (m_nodes[it->task].error || stopping() || fits_room(*it) || admits(it->cost))
            return it;
    // None fits, and nothing runs that could make room: the first runs over the budget.
    return idle() ? m_children.begin() : m_children.end();
}

void Scheduler::hold(std::uint64_t cost)
{
    m_held += cost;
    m_peak = std::max(m_peak, m_held);
}

void Scheduler::Context::spawn(Work child, Where where, std::uint64_t cost, std::uint64_t kept, std::uint64_t room)
{
    std::lock_guard lock(m_scheduler.m_mutex);
    kept = std::min(kept, cost);
    Child c{m_task, std::move(child), cost, kept, std::min(room, kept)};
    if (where == Where::front)
        m_scheduler.m_children.push_front(std::move(c));
    else
        m_scheduler.m_children.push_back(std::move(c));
    ++m_scheduler.m_nodes[m_task].parts;
    m_scheduler.m_changed.notify_all();
}

bool Scheduler::Context::stopped() const
{
    std::lock_guard lock(m_scheduler.m_mutex);
    return m_scheduler.m_nodes[m_task].error || m_scheduler.stopping();
}

void Scheduler::fail(TaskId task, std::exception_ptr error)
{
    std::lock_guard lock(m_mutex);
    if (!m_nodes[task].error)
        m_nodes[task].error = std::move(error);
}

void Scheduler::part_over(std::unique_lock<std::mutex>& lock, TaskId task)
{
    Node& node = m_nodes[task];
    if (--node.parts > 0)
        return;
    finish(lock, task, node.error ? Outcome::failed : node.dropped ? Outcome::cancelled : Outcome::done);
}

void Scheduler::finish(std::unique_lock<std::mutex>& lock, TaskId task, Outcome outcome)
{
    Node& node = m_nodes[task];
    node.state = State::over;
    ++m_finishing;
    lock.unlock();
    if (node.task.finish)
        node.task.finish(outcome, node.error);
    lock.lock();
    --m_finishing;
    if (node.started)
        m_held -= node.task.cost;
    m_held -= node.kept;
    for (const TaskId d : node.dependents) {
        Node& dependent = m_nodes[d];
        if (outcome != Outcome::done && dependent.task.if_failed == IfFailed::cancel)
            dependent.doomed = true;
        if (--dependent.prerequisites == 0 && dependent.state == State::waiting) {
            dependent.state = State::ready;
            m_ready.push_back(d);
        }
    }
    m_changed.notify_all();
}

void Scheduler::work()
{
    std::unique_lock lock(m_mutex);
    while (true) {
        if (!m_children.empty()) {
            const auto it = next_child();
            if (it == m_children.end()) { // every child waits for room: so does every new task
                m_changed.wait(lock);
                continue;
            }
            Node& node = m_nodes[it->task];
            if (node.error || stopping()) { // its task failed, or everything stops: dropped
                const TaskId task = it->task;
                m_children.erase(it);
                if (!node.error)
                    node.dropped = true;
                part_over(lock, task);
                continue;
            }
            Child child = std::move(*it);
            m_children.erase(it);
            child.in_room = fits_room(child);
            if (child.in_room)
                node.room_taken = true;
            else
                hold(child.cost);
            ++m_running;
            lock.unlock();
            Context context(*this, child.task);
            try {
                child.run(context);
            } catch (...) {
                fail(child.task, std::current_exception());
            }
            child.run = nullptr; // what it captured goes before the task may finish
            lock.lock();
            --m_running;
            if (child.in_room) {
                node.room_taken = false;
            } else {
                node.kept += child.kept; // released when the task is over
                node.room += child.room;
                m_held -= child.cost - child.kept;
            }
            part_over(lock, child.task);
            m_changed.notify_all();
        } else if (!m_ready.empty()) {
            const TaskId task = m_ready.front();
            Node& node = m_nodes[task];
            if (node.doomed || stopping()) {
                m_ready.pop_front();
                finish(lock, task, Outcome::cancelled);
                continue;
            }
            if (!admits(node.task.cost) && !idle()) {
                m_changed.wait(lock);
                continue;
            }
            m_ready.pop_front();
            node.state = State::running;
            node.started = true;
            node.parts = 1;
            hold(node.task.cost);
            ++m_running;
            lock.unlock();
            Context context(*this, task);
            try {
                node.task.run(context);
            } catch (...) {
                fail(task, std::current_exception());
            }
            lock.lock();
            --m_running;
            part_over(lock, task);
            m_changed.notify_all();
        } else if (idle()) { // nothing queued, and nothing running that could queue more
            m_changed.notify_all();
            return;
        } else {
            m_changed.wait(lock);
        }
    }
}

void Scheduler::run()
{
    {
        std::lock_guard lock(m_mutex);
        for (TaskId id = 0; id < m_nodes.size(); ++id)
            if (m_nodes[id].prerequisites == 0 && m_nodes[id].state == State::waiting) {
                m_nodes[id].state = State::ready;
                m_ready.push_back(id);
            }
    }
    {
        std::vector<std::jthread> pool;
        for (unsigned i = 1; i < m_workers; ++i)
            pool.emplace_back([this] { work(); });
        work();
    }
    // Whatever still waits, waits on a cycle of tasks.
    std::unique_lock lock(m_mutex);
    std::size_t left = 0;
    for (TaskId id = 0; id < m_nodes.size(); ++id)
        if (m_nodes[id].state != State::over) {
            ++left;
            finish(lock, id, Outcome::cancelled);
        }
    m_ready.clear();
    if (left > 0)
        throw std::logic_error(std::to_string(left) + " task(s) wait on each other in a cycle");
}

} // namespace cachet
