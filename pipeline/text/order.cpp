#include "pipeline/text/order.hpp"

#include <algorithm>
#include <deque>

namespace cachet {
namespace {

using Graph = std::vector<std::vector<std::size_t>>;

// The strongly connected components of graph (Tarjan's, without recursion): per node, the
// lowest node of its component.
std::vector<std::size_t> components(const Graph& graph)
{
    const std::size_t n = graph.size();
    constexpr std::size_t k_unseen = static_cast<std::size_t>(-1);
    std::vector<std::size_t> index(n, k_unseen), low(n, 0), component(n, k_unseen);
    std::vector<char> on_stack(n, 0);
    std::vector<std::size_t> stack;
    std::size_t counter = 0;
    struct Frame {
        std::size_t node;
        std::size_t next; // the next edge to follow
    };
    std::vector<Frame> frames;
    for (std::size_t root = 0; root < n; ++root) {
        if (index[root] != k_unseen)
            continue;
        frames.push_back({root, 0});
        index[root] = low[root] = counter++;
        stack.push_back(root);
        on_stack[root] = 1;
        while (!frames.empty()) {
            Frame& f = frames.back();
            const std::size_t v = f.node;
            if (f.next < graph[v].size()) {
                const std::size_t w = graph[v][f.next++];
                if (index[w] == k_unseen) {
                    index[w] = low[w] = counter++;
                    stack.push_back(w);
                    on_stack[w] = 1;
                    frames.push_back({w, 0});
                } else if (on_stack[w]) {
                    low[v] = std::min(low[v], index[w]);
                }
                continue;
            }
            if (low[v] == index[v]) {
                std::vector<std::size_t> members;
                std::size_t w;
                do {
                    w = stack.back();
                    stack.pop_back();
                    on_stack[w] = 0;
                    members.push_back(w);
                } while (w != v);
                const std::size_t lowest = *std::min_element(members.begin(), members.end());
                for (const std::size_t m : members)
                    component[m] = lowest;
            }
            frames.pop_back();
            if (!frames.empty())
                low[frames.back().node] = std::min(low[frames.back().node], low[v]);
        }
    }
    return component;
}

// The shortest path from start back to itself inside its component: start, ..., start.
std::vector<std::size_t> cycle_path(const Graph& graph, const std::vector<std::size_t>& component, std::size_t start)
{
    constexpr std::size_t k_unseen = static_cast<std::size_t>(-1);
    std::vector<std::size_t> parent(graph.size(), k_unseen);
    std::deque<std::size_t> queue{start};
    while (!queue.empty()) {
        const std::size_t v = queue.front();
        queue.pop_front();
        for (const std::size_t w : graph[v]) {
            if (component[w] != component[start])
                continue;
            if (w == start) {
                std::vector<std::size_t> path{start};
                for (std::size_t u = v; u != start; u = parent[u])
                    path.push_back(u);
                path.push_back(start);
                std::reverse(path.begin() + 1, path.end() - 1);
                return path;
            }
            if (parent[w] == k_unseen) {
                parent[w] = v;
                queue.push_back(w);
            }
        }
    }
    return {start, start};
}

// Whether to is reachable from from along graph's edges.
bool reaches(const Graph& graph, std::size_t from, std::size_t to)
{
    std::vector<char> seen(graph.size(), 0);
    std::vector<std::size_t> todo{from};
    seen[from] = 1;
    while (!todo.empty()) {
        const std::size_t v = todo.back();
        todo.pop_back();
        if (v == to)
            return true;
        for (const std::size_t w : graph[v])
            if (!seen[w]) {
                seen[w] = 1;
                todo.push_back(w);
            }
    }
    return false;
}

} // namespace

BuildOrder order_builds(const Graph& loads, const Graph& back)
{
    const std::size_t n = loads.size();
    BuildOrder order;
    order.waits_for.resize(n);
    order.gave_way.resize(n);
    order.cycle_of.assign(n, BuildOrder::k_none);

    const std::vector<std::size_t> component = components(loads);
    std::vector<std::size_t> members(n, 0); // per component, by its lowest node
    for (std::size_t v = 0; v < n; ++v)
        ++members[component[v]];
    std::vector<std::size_t> cycle_of_component(n, BuildOrder::k_none);
    for (std::size_t v = 0; v < n; ++v) {
        const bool cyclic =
            members[component[v]] > 1 || std::find(loads[v].begin(), loads[v].end(), v) != loads[v].end();
        if (!cyclic)
            continue;
        std::size_t& c = cycle_of_component[component[v]];
        if (c == BuildOrder::k_none) {
            c = order.cycles.size();
            order.cycles.push_back(cycle_path(loads, component, component[v]));
        }
        order.cycle_of[v] = c;
    }

    // Back-references are followed unless the target needs this node first.
    Graph with_back = loads;
    for (std::size_t v = 0; v < n; ++v)
        for (const std::size_t w : back[v]) {
            if (order.cycle_of[v] != BuildOrder::k_none || order.cycle_of[w] != BuildOrder::k_none || w == v ||
                reaches(loads, w, v))
                order.gave_way[v].push_back(w);
            else
                with_back[v].push_back(w);
        }
    // Back-references that close a cycle only together give way too.
    const std::vector<std::size_t> joined = components(with_back);
    for (std::size_t v = 0; v < n; ++v) {
        if (order.cycle_of[v] != BuildOrder::k_none)
            continue;
        for (const std::size_t w : with_back[v]) {
            const bool is_back = std::find(loads[v].begin(), loads[v].end(), w) == loads[v].end();
            if (is_back && joined[w] == joined[v])
                order.gave_way[v].push_back(w);
            else
                order.waits_for[v].push_back(w);
        }
        std::sort(order.waits_for[v].begin(), order.waits_for[v].end());
        order.waits_for[v].erase(std::unique(order.waits_for[v].begin(), order.waits_for[v].end()),
                                 order.waits_for[v].end());
    }
    for (auto& g : order.gave_way) {
        std::sort(g.begin(), g.end());
        g.erase(std::unique(g.begin(), g.end()), g.end());
    }
    return order;
}

} // namespace cachet
