#pragma once
#include <cstddef>
#include <vector>

namespace cachet {

// The order in which the sources of a build that refer to each other are built. Nodes are
// 0..n-1; an edge i -> j means i's output names j's final name, so j is built first.
struct BuildOrder {
    static constexpr std::size_t k_none = static_cast<std::size_t>(-1);

    std::vector<std::vector<std::size_t>> waits_for; // per node: the nodes built before it
    std::vector<std::vector<std::size_t>> gave_way;  // per node: back-references left as written
    std::vector<std::vector<std::size_t>> cycles;    // each reference cycle: a, b, ..., a
    std::vector<std::size_t> cycle_of;               // per node: its index in cycles, or k_none
};

// Orders the nodes by their edges: loads[i] are the nodes i needs first; back[i] too, unless
// that would close a cycle, in which case the back-reference gives way (a source map's "file"
// and its script's sourceMappingURL). Cycles of loads are returned, one path each, starting
// at the lowest node of the cycle; their nodes wait for nothing. Deterministic.
BuildOrder order_builds(const std::vector<std::vector<std::size_t>>& loads,
                        const std::vector<std::vector<std::size_t>>& back);

} // namespace cachet
