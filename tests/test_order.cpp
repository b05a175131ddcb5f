#include "pipeline/text/order.hpp"

#include <catch2/catch.hpp>

using namespace cachet;

using Nodes = std::vector<std::size_t>;
using Graph = std::vector<Nodes>;

TEST_CASE("order_builds: a node waits for what it loads", "[order]")
{
    // 0 html -> 1 css -> 2 image; 0 -> 2 too
    const BuildOrder order = order_builds(Graph{{1, 2}, {2}, {}}, Graph(3));
    CHECK(order.cycles.empty());
    CHECK(order.waits_for == Graph{{1, 2}, {2}, {}});
    CHECK(order.cycle_of == Nodes(3, BuildOrder::k_none));
}

TEST_CASE("order_builds: a cycle is reported as a path from its lowest node, and its nodes wait for nothing", "[order]")
{
    // 1 -> 3 -> 2 -> 1 is a cycle; 0 loads 1; 4 loads itself
    const BuildOrder order = order_builds(Graph{{1}, {3}, {1}, {2}, {4}}, Graph(5));
    REQUIRE(order.cycles.size() == 2);
    CHECK(order.cycles[0] == Nodes{1, 3, 2, 1});
    CHECK(order.cycles[1] == Nodes{4, 4});
    CHECK(order.cycle_of == Nodes{BuildOrder::k_none, 0, 0, 0, 1});
    CHECK(order.waits_for == Graph{{1}, {}, {}, {}, {}});
}

TEST_CASE("order_builds: a back-reference is followed unless it closes a cycle", "[order]")
{
    // 0 app.js loads 1 app.js.map, whose "file" names 0: the map gives way.
    // 2 lone.js.map names 3 lone.js, which does not name it: followed.
    const BuildOrder order = order_builds(Graph{{1}, {}, {}, {}}, Graph{{}, {0}, {3}, {}});
    CHECK(order.cycles.empty());
    CHECK(order.waits_for == Graph{{1}, {}, {3}, {}});
    CHECK(order.gave_way == Graph{{}, {0}, {}, {}});
}

TEST_CASE("order_builds: back-references that only together close a cycle both give way", "[order]")
{
    // 0 -> 1 (load), 1 ~> 2 (back), 2 -> 3 (load), 3 ~> 0 (back)
    const BuildOrder order = order_builds(Graph{{1}, {}, {3}, {}}, Graph{{}, {2}, {}, {0}});
    CHECK(order.cycles.empty());
    CHECK(order.waits_for == Graph{{1}, {}, {3}, {}});
    CHECK(order.gave_way == Graph{{}, {2}, {}, {0}});
}

TEST_CASE("order_builds: a long chain needs no recursion", "[order]")
{
    const std::size_t n = 200000;
    Graph loads(n);
    for (std::size_t i = 0; i + 1 < n; ++i)
        loads[i].push_back(i + 1);
    loads[n - 1].push_back(0); // one big cycle
    const BuildOrder order = order_builds(loads, Graph(n));
    REQUIRE(order.cycles.size() == 1);
    CHECK(order.cycles[0].size() == n + 1);
    CHECK(order.cycles[0].front() == 0);
    CHECK(order.cycles[0][1] == 1);
}
