// SPDX-License-Identifier: Apache-2.0
// OrderGraph: a directed graph kept acyclic, with incremental cycle detection.
//
// Nodes are objects (locks); an edge a -> b means "a was held while b was acquired".
// insert() refuses an edge that would close a cycle and returns the existing path that
// the edge would close. It keeps a topological order (a rank per node) and only
// searches when an edge goes against it, and then only among the nodes whose rank lies
// between the two ends (the dynamic topological sort of Pearce and Kelly), so edges that
// follow the order the locks were first seen in cost O(1).
//
// Performance: O(1) expected for an edge along the order; otherwise linear in the nodes
// and edges ranked between its ends. remove() is linear in the node's degree.
// Space: O(nodes + edges). Not thread-safe: callers serialise (the graph lock).
#pragma once

#include <cstdint>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "weft/detail/config.hpp"
#include "weft/detail/hooks.hpp"

namespace weft::detail::dbg {

struct DebugThreadData;

// Where an edge was first seen: thread `thread` held `from` (acquired at from_loc) while
// acquiring `to` at to_loc.
struct EdgeInfo {
  const DebugThreadData* thread = nullptr;
  SourceLoc from_loc{};
  SourceLoc to_loc{};
  ObjKind from_kind = ObjKind::lock;
  ObjKind to_kind = ObjKind::lock;
};

class OrderGraph {
 public:
  using Id = std::uint32_t;

  Id id_of(const void* obj);                  // creates the node if needed
  bool contains(const void* obj) const { return ids_.count(obj) != 0; }
  void remove(const void* obj);               // forgets the node and its edges
  const void* object(Id id) const { return nodes_[id].obj; }
  std::size_t size() const { return ids_.size(); }

  // Adds from -> to. True if added or already there (or from == to). False if it would
  // close a cycle: *path is then the existing path to -> ... -> from.
  bool insert(Id from, Id to, const EdgeInfo& info, std::vector<Id>* path);
  const EdgeInfo* edge(Id from, Id to) const;

  // Edges that closed a reported cycle, so that each cycle is reported once.
  bool suppressed(Id from, Id to) const { return suppressed_.count(key(from, to)) != 0; }
  void suppress(Id from, Id to) { suppressed_.insert(key(from, to)); }

 private:
  struct Node {
    const void* obj = nullptr;
    std::int64_t rank = 0;
    std::unordered_map<Id, EdgeInfo> out;
    std::unordered_set<Id> in;
    bool visited = false;
  };
  static std::uint64_t key(Id a, Id b) { return (std::uint64_t{a} << 32) | b; }
  bool forward(Id to, Id from, std::vector<Id>* path);
  void backward(Id from, std::int64_t lower);
  void reorder();

  std::vector<Node> nodes_;
  std::vector<Id> free_;
  std::unordered_map<const void*, Id> ids_;
  std::unordered_set<std::uint64_t> suppressed_;
  std::int64_t next_rank_ = 0;
  std::vector<Id> deltaf_, deltab_, stack_;
  std::unordered_map<Id, Id> parent_;
};

}  // namespace weft::detail::dbg
