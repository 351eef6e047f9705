// SPDX-License-Identifier: Apache-2.0
// OrderGraph: see graph.hpp. Invariant: for every edge a -> b, rank(a) < rank(b).
#include "debug/graph.hpp"

#include <algorithm>
#include <utility>

namespace weft::detail::dbg {

OrderGraph::Id OrderGraph::id_of(const void* obj) {
  auto [it, inserted] = ids_.try_emplace(obj, 0);
  if (!inserted) return it->second;
  Id id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else {
    id = static_cast<Id>(nodes_.size());
    nodes_.emplace_back();
  }
  Node& n = nodes_[id];
  n.obj = obj;
  n.rank = next_rank_++;  // new nodes go last: edges into them need no search
  it->second = id;
  return id;
}

void OrderGraph::remove(const void* obj) {
  auto it = ids_.find(obj);
  if (it == ids_.end()) return;
  const Id id = it->second;
  ids_.erase(it);
  Node& n = nodes_[id];
  for (const auto& e : n.out) nodes_[e.first].in.erase(id);
  for (Id u : n.in) nodes_[u].out.erase(id);
  if (!suppressed_.empty()) {
    for (auto s = suppressed_.begin(); s != suppressed_.end();) {
      if ((*s >> 32) == id || (*s & 0xffffffffu) == id) {
        s = suppressed_.erase(s);
      } else {
        ++s;
      }
    }
  }
  n = Node{};
  free_.push_back(id);
}

const EdgeInfo* OrderGraph::edge(Id from, Id to) const {
  const auto& out = nodes_[from].out;
  auto it = out.find(to);
  return it == out.end() ? nullptr : &it->second;
}

bool OrderGraph::insert(Id from, Id to, const EdgeInfo& info, std::vector<Id>* path) {
  if (from == to) return true;
  Node& f = nodes_[from];
  if (f.out.count(to) != 0) return true;
  const std::int64_t lower = nodes_[to].rank, upper = f.rank;
  if (upper < lower) {  // already in order
    f.out.emplace(to, info);
    nodes_[to].in.insert(from);
    return true;
  }
  if (!forward(to, from, path)) return false;
  backward(from, lower);
  reorder();
  nodes_[from].out.emplace(to, info);
  nodes_[to].in.insert(from);
  return true;
}

namespace {

using Id = OrderGraph::Id;

// The node an entry of Node::in (an id) or Node::out (id and edge) names.
Id target(Id id) { return id; }
template <class Edge>
Id target(const std::pair<const Id, Edge>& out_edge) {
  return out_edge.first;
}

// Depth-first from `start` over `nodes`, following neighbours(n) (Node::in or ::out). Each
// node reached, `start` first, is marked visited and appended to `reached` (cleared
// first); `stack` is scratch space. A neighbour w of n is entered if it is not visited
// and admit(n, w) is true. Returns false as soon as stop(n, w) is true for a neighbour
// (asked before it is considered), true once every admitted node was searched.
template <class Nodes, class Neighbours, class Stop, class Admit>
bool depth_first(Nodes& nodes, std::vector<Id>& stack, std::vector<Id>& reached, Id start,
                 Neighbours neighbours, Stop stop, Admit admit) {
  reached.clear();
  stack.assign(1, start);
  nodes[start].visited = true;
  reached.push_back(start);
  while (!stack.empty()) {
    const Id n = stack.back();
    stack.pop_back();
    for (const auto& entry : neighbours(n)) {
      const Id w = target(entry);
      if (stop(n, w)) return false;
      auto& node = nodes[w];
      if (!node.visited && admit(n, w)) {
        node.visited = true;
        reached.push_back(w);
        stack.push_back(w);
      }
    }
  }
  return true;
}

}  // namespace

// Depth-first from `to` over nodes ranked below `from`; false if `from` is reached.
bool OrderGraph::forward(Id to, Id from, std::vector<Id>* path) {
  const std::int64_t upper = nodes_[from].rank;
  parent_.clear();
  Id last = to;  // the node whose edge reached `from`
  const bool acyclic = depth_first(
      nodes_, stack_, deltaf_, to, [this](Id n) -> const auto& { return nodes_[n].out; },
      [&](Id n, Id w) {
        if (w != from) return false;
        last = n;
        return true;
      },
      [&](Id n, Id w) {
        if (nodes_[w].rank >= upper) return false;
        parent_[w] = n;
        return true;
      });
  if (acyclic) return true;
  // Cycle: to -> ... -> last -> from.
  if (path != nullptr) {
    path->clear();
    path->push_back(from);
    for (Id c = last;; c = parent_[c]) {
      path->push_back(c);
      if (c == to) break;
    }
    std::reverse(path->begin(), path->end());
  }
  for (Id v : deltaf_) nodes_[v].visited = false;
  return false;
}

// Depth-first backwards from `from` over nodes ranked above `lower`.
void OrderGraph::backward(Id from, std::int64_t lower) {
  depth_first(
      nodes_, stack_, deltab_, from, [this](Id n) -> const auto& { return nodes_[n].in; },
      [](Id, Id) { return false; }, [&](Id, Id u) { return nodes_[u].rank > lower; });
}

// Gives the backward set the lowest of the ranks involved, then the forward set.
void OrderGraph::reorder() {
  auto by_rank = [this](Id a, Id b) { return nodes_[a].rank < nodes_[b].rank; };
  std::sort(deltab_.begin(), deltab_.end(), by_rank);
  std::sort(deltaf_.begin(), deltaf_.end(), by_rank);
  std::vector<std::int64_t> ranks;
  ranks.reserve(deltab_.size() + deltaf_.size());
  for (Id v : deltab_) ranks.push_back(nodes_[v].rank);
  for (Id v : deltaf_) ranks.push_back(nodes_[v].rank);
  std::sort(ranks.begin(), ranks.end());
  std::size_t i = 0;
  for (Id v : deltab_) {
    nodes_[v].rank = ranks[i++];
    nodes_[v].visited = false;
  }
  for (Id v : deltaf_) {
    nodes_[v].rank = ranks[i++];
    nodes_[v].visited = false;
  }
}

}  // namespace weft::detail::dbg
