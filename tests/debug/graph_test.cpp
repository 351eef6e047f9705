// SPDX-License-Identifier: Apache-2.0
// OrderGraph (the lock-order checker's incremental cycle detection) against a brute-force
// model: an edge is refused exactly when it would close a cycle, and the path it returns
// is a real path of existing edges.
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <vector>

#include "debug/graph.hpp"

namespace weft::detail::dbg {
namespace {

// Brute force: is `to` reachable from `from` in `edges`?
bool reachable(const std::set<std::pair<int, int>>& edges, int from, int to, int n) {
  std::vector<bool> seen(static_cast<std::size_t>(n), false);
  std::vector<int> stack{from};
  while (!stack.empty()) {
    const int v = stack.back();
    stack.pop_back();
    if (v == to) return true;
    if (seen[static_cast<std::size_t>(v)]) continue;
    seen[static_cast<std::size_t>(v)] = true;
    for (const auto& e : edges)
      if (e.first == v) stack.push_back(e.second);
  }
  return false;
}

TEST(OrderGraph, MatchesBruteForceOnRandomEdges) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 20; ++round) {
    constexpr int kNodes = 24;
    OrderGraph g;
    std::vector<int> objs(kNodes);
    std::set<std::pair<int, int>> model;
    for (int step = 0; step < 150; ++step) {
      const int a = static_cast<int>(rng() % kNodes), b = static_cast<int>(rng() % kNodes);
      if (a == b) continue;
      const auto ia = g.id_of(&objs[static_cast<std::size_t>(a)]);
      const auto ib = g.id_of(&objs[static_cast<std::size_t>(b)]);
      std::vector<OrderGraph::Id> path;
      const bool cycle = reachable(model, b, a, kNodes);
      const bool ok = g.insert(ia, ib, EdgeInfo{}, &path);
      ASSERT_EQ(ok, !cycle) << "round " << round << " step " << step;
      if (ok) {
        model.insert({a, b});
        ASSERT_NE(g.edge(ia, ib), nullptr);
      } else {
        // path runs b -> ... -> a over existing edges.
        ASSERT_GE(path.size(), 2u);
        EXPECT_EQ(path.front(), ib);
        EXPECT_EQ(path.back(), ia);
        for (std::size_t i = 0; i + 1 < path.size(); ++i)
          EXPECT_NE(g.edge(path[i], path[i + 1]), nullptr);
      }
      // Now and then, forget a node and its edges.
      if (step % 37 == 36) {
        const int gone = static_cast<int>(rng() % kNodes);
        g.remove(&objs[static_cast<std::size_t>(gone)]);
        for (auto it = model.begin(); it != model.end();) {
          if (it->first == gone || it->second == gone) {
            it = model.erase(it);
          } else {
            ++it;
          }
        }
      }
    }
  }
}

TEST(OrderGraph, SuppressedEdgesAreForgottenWithTheirNodes) {
  OrderGraph g;
  int a = 0, b = 0;
  const auto ia = g.id_of(&a), ib = g.id_of(&b);
  g.suppress(ia, ib);
  EXPECT_TRUE(g.suppressed(ia, ib));
  g.remove(&b);
  const auto ib2 = g.id_of(&b);  // may reuse the id
  EXPECT_FALSE(g.suppressed(ia, ib2));
  EXPECT_EQ(g.size(), 2u);
}

}  // namespace
}  // namespace weft::detail::dbg
