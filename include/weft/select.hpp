// SPDX-License-Identifier: Apache-2.0
// weft/select.hpp: weft::select and weft::try_select, waiting on several queues and Events
// at once.                                                            (weft extension)
//
// <weft/queue.hpp> includes this header, so select comes with the queues. The protocol:
// a select links a SelectNode into every source it watches and parks on its own
// SelectWaiter (weft/detail/select_node.hpp); queues notify linked nodes on put and
// shutdown, Events through the registry of weft/detail/select_events.hpp.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include "weft/detail/config.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/detail/hooks.hpp"
#include "weft/detail/parking_lot.hpp"
#include "weft/detail/queue_ops.hpp"
#include "weft/detail/select_events.hpp"
#include "weft/detail/select_node.hpp"
#include "weft/errors.hpp"
#include "weft/event.hpp"

namespace weft {

/// The result of weft::select: which source was taken and what it gave.
/// `index` is the position of that source in the call's argument list and `value` holds
/// its alternative `index` (the item, for a queue).
template <class... Ts>
struct Selected {
  std::size_t index;
  std::variant<Ts...> value;

  /// The value taken from source I (std::bad_variant_access if index != I).
  template <std::size_t I>
  auto& get() {
    return std::get<I>(value);
  }
};


namespace detail {

// The queues' shared members (<weft/queue.hpp>); a select polls them through SelectAccess.
template <class T, class Core>
class BasicQueue;

template <class T, class C>
std::type_identity<T> select_probe(BasicQueue<T, C>&);

std::type_identity<Event*> select_probe(Event&);

template <class Src>
using select_item_t = typename decltype(select_probe(std::declval<Src&>()))::type;

template <class Src>
concept Selectable = requires(Src& s) { select_probe(s); };

struct SelectAccess {
  // Queue sources: take an item, or link `node` (if given) and report empty / shutdown.
  template <class T, class C>
  static QStatus poll(BasicQueue<T, C>& q, std::optional<T>& out, SelectNode* node,
                      bool /*fired*/, SourceLoc loc) {
    return q.select_poll(out, node, loc);
  }
  template <class T, class C>
  static bool unlink(BasicQueue<T, C>& q, SelectNode& node, SourceLoc loc) {
    q.select_unlink(node, loc);
    return false;
  }
  template <class T, class C>
  static WaitSite site(BasicQueue<T, C>& q, SourceLoc loc) {
    return WaitSite{static_cast<const void*>(&q), ObjKind::queue, loc, true};
  }

  // Event sources: ready while set, or if a set() fired while the select was linked
  // (then it is reported even if cleared since, as Event::wait would return true).
  static QStatus poll(Event& e, std::optional<Event*>& out, SelectNode* node, bool fired,
                      SourceLoc) {
    if (fired || e.is_set()) {
      out = &e;
      return QStatus::ok;
    }
    if (node == nullptr) return QStatus::empty;
    node->key = &e;
    event_select_link(*node);
    // (V1) after the link: a set() that reads this bit notifies the node.
    const std::uint32_t old = e.state_.fetch_or(Event::kSelect, std::memory_order_acq_rel);
    if ((old & Event::kSet) != 0) {
      (void)event_select_unlink(*node);
      out = &e;
      return QStatus::ok;
    }
    return QStatus::empty;
  }
  static bool unlink(Event&, SelectNode& node, SourceLoc) { return event_select_unlink(node); }
  static WaitSite site(Event& e, SourceLoc loc) { return WaitSite{&e, ObjKind::event, loc}; }
};

template <std::size_t N, class F>
void with_index(std::size_t i, F&& f) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((I == i ? (f(std::integral_constant<std::size_t, I>{}), 0) : 0), ...);
  }(std::make_index_sequence<N>{});
}

// The engine behind every select form. Returns nullopt on timeout or when every source
// is shut down and drained (then `closed` is set).
template <class... Srcs>
std::optional<Selected<select_item_t<Srcs>...>> select_impl(Deadline deadline, bool& closed,
                                                            SourceLoc loc, Srcs&... srcs) {
  constexpr std::size_t N = sizeof...(Srcs);
  using Result = Selected<select_item_t<Srcs>...>;
  auto refs = std::tie(srcs...);
  SelectWaiter waiter;
  std::array<SelectNode, N> nodes{};
  std::array<bool, N> linked{};
  std::array<bool, N> fired{};  // Event sources set while this call was parked
  for (SelectNode& n : nodes) n.waiter = &waiter;
  std::optional<Result> result;
  std::size_t start = select_rotation() % N;
  const WaitSite site = SelectAccess::site(std::get<0>(refs), loc);

  auto unlink_all = [&] {
    for (std::size_t i = 0; i < N; ++i) {
      if (!linked[i]) continue;
      with_index<N>(i, [&](auto I) {
        fired[I] = SelectAccess::unlink(std::get<I>(refs), nodes[I], loc) || fired[I];
      });
      linked[i] = false;
    }
  };

  for (;;) {
    waiter.notified.store(0, std::memory_order_relaxed);
    const bool registering = deadline != kImmediate;
    std::size_t open = 0;
    for (std::size_t k = 0; k < N && !result; ++k) {
      const std::size_t i = (start + k) % N;
      with_index<N>(i, [&](auto I) {
        using Item = select_item_t<std::tuple_element_t<I, std::tuple<Srcs...>>>;
        std::optional<Item> item;
        const QStatus s = SelectAccess::poll(std::get<I>(refs), item,
                                             registering ? &nodes[I] : nullptr, fired[I], loc);
        fired[I] = false;
        if (s == QStatus::ok) {
          result.emplace(Result{I, std::variant<select_item_t<Srcs>...>(
                                       std::in_place_index<I>, std::move(*item))});
        } else if (s == QStatus::empty) {
          ++open;
          linked[I] = registering;
        }
      });
    }
    if (result || open == 0 || !registering) {
      unlink_all();
      closed = !result && open == 0;
      return result;
    }
    // (SN2) sleep only while no watched queue changed since it was polled.
    const ParkResult r = park(
        &waiter.notified,
        [&] { return waiter.notified.load(std::memory_order_relaxed) == 0; }, deadline,
        site);
    unlink_all();
    // Interrupted (#13): nothing was taken; every source is as before the call.
    if (r.status == ParkStatus::kInterrupted) throw_interruption();
    if (r.status == ParkStatus::kTimedOut || (deadline != kForever && Clock::now() >= deadline))
      deadline = kImmediate;  // one last poll, then report the timeout
    start = (start + 1) % N;
  }
}

}  // namespace detail

/// select: waits on several queues and Events at once and takes exactly one ready
/// source.                                                                (weft extension)
///
///   weft::Queue<int> jobs;  weft::Queue<std::string> control;  weft::Event stop;
///   auto got = weft::select(jobs, control, stop);          // blocks
///   if (got.index == 0) run(got.get<0>()); else if (got.index == 1) handle(got.get<1>());
///
/// Sources: any Queue, LifoQueue, PriorityQueue or SimpleQueue (the value is the item
/// taken, with a get under that queue's lock: an item is never taken and then dropped)
/// and any weft::Event (the value is the Event*; ready while set, and also when a set()
/// happened while this select was parked even if clear() followed, as Event::wait; the
/// event is not cleared). Exactly one source is taken; the others are untouched. A
/// source may appear only once.
/// Fairness: sources are polled in a rotating order (one step per call on each thread),
///   so a source that stays ready is taken within N consecutive calls of a thread.
///   Against plain get() callers on the same queue, select barges like any getter.
/// Blocking: select(srcs...) blocks until a source is ready; select(timeout, srcs...)
///   waits at most `timeout` (zero or negative: one poll) and throws Empty;
///   try_select(...) returns nullopt instead of throwing Empty. Puts on watched queues
///   and set() on watched events wake the select; it never spins.
/// Shut down: a queue that is shut down and drained is never ready again; once every
///   source is such a queue, select throws ShutDown (try_select returns nullopt). A
///   select with an Event source never throws ShutDown.
/// Memory: as get() for queues; for an Event, as Event::wait (set() happens-before).
/// Cost: one lock acquisition per queue per poll (an empty Queue / SimpleQueue: its get
///   lock to poll, then its put lock to register; one atomic RMW and a registry lock per
///   Event); while parked, every put on a watched queue and every set() of a watched
///   event unparks this select. Events with no select watching pay nothing.
template <class... Srcs>
  requires(sizeof...(Srcs) > 0 && (detail::Selectable<Srcs> && ...))
Selected<detail::select_item_t<Srcs>...> select(Srcs&... srcs) {
  bool closed = false;
  auto r = detail::select_impl(detail::kForever, closed, detail::SourceLoc{}, srcs...);
  if (!r) throw ShutDown();
  return std::move(*r);
}

template <class Rep, class Period, class... Srcs>
  requires(sizeof...(Srcs) > 0 && (detail::Selectable<Srcs> && ...))
Selected<detail::select_item_t<Srcs>...> select(std::chrono::duration<Rep, Period> timeout,
                                                Srcs&... srcs) {
  bool closed = false;
  auto r = detail::select_impl(detail::deadline_after(timeout), closed, detail::SourceLoc{},
                               srcs...);
  if (r) return std::move(*r);
  if (closed) throw ShutDown();
  throw Empty();
}

template <class... Srcs>
  requires(sizeof...(Srcs) > 0 && (detail::Selectable<Srcs> && ...))
[[nodiscard]] std::optional<Selected<detail::select_item_t<Srcs>...>> try_select(Srcs&... srcs) {
  bool closed = false;
  return detail::select_impl(detail::kImmediate, closed, detail::SourceLoc{}, srcs...);
}

template <class Rep, class Period, class... Srcs>
  requires(sizeof...(Srcs) > 0 && (detail::Selectable<Srcs> && ...))
[[nodiscard]] std::optional<Selected<detail::select_item_t<Srcs>...>> try_select(
    std::chrono::duration<Rep, Period> timeout, Srcs&... srcs) {
  bool closed = false;
  return detail::select_impl(detail::deadline_after(timeout), closed, detail::SourceLoc{},
                             srcs...);
}

}  // namespace weft
