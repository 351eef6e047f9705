// SPDX-License-Identifier: Apache-2.0
// Thread dump and the deadlock watchdog.
//
// The wait-for graph is built from a snapshot of the thread records: the parking lot
// says who is parked on what (object, kind, site, since), the debug data attached to
// each record says which locks the thread holds.
// A thread parked on a Lock or RLock waits for the thread holding it; a thread parked
// joining a Thread waits for that thread (when the Thread is known to the tools). Each
// blocked thread waits for at most one other, so a cycle is found by following the
// chain from each thread.
//
// The watchdog is an internal std::thread that scans every interval. It reports a cycle
// once it has seen the very same waits (same threads, objects and park times) in two
// consecutive scans, so a wait that ends between the two reads of one snapshot is never
// reported; each cycle (its threads and objects) is reported once.
//
// It also reports a hang: every thread it knows is parked in weft and stalled (parked
// with no timeout, or polling: the same wait again after its timeout, see DebugThreadData),
// at least one of them is not a daemon, and the same stalls (threads and stall start
// times) were seen in two consecutive scans, the newest older than hang_after. Each
// stall is reported once; any progress makes a new one.
//
// SIGQUIT: the handler only writes a byte to a pipe (write() is async-signal-safe); a
// reader thread blocked on the pipe prints the dump.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "debug/hook_table.hpp"
#include "debug/state.hpp"
#include "weft/detail/parking_lot.hpp"
#include "weft/detail/wait.hpp"

namespace weft::detail::dbg {
namespace {

struct View {
  std::uint64_t ident = 0;
  std::string name;
  bool daemon = false;
  bool waiting = false;      // parked right now
  ParkedThread park{};
  Nanos stall_since = 0;   // see DebugThreadData (0: not known)
  std::uint32_t stall_polls = 0;
  std::vector<Held> held;
  std::vector<DebugThreadData::Task> tasks;
  std::size_t waits_for = SIZE_MAX;  // index into the snapshot
};

struct Snapshot {
  std::vector<View> threads;
  Nanos taken = 0;
};

Snapshot take_snapshot() {
  Snapshot s;
  // One record per thread: the running threads' records, and the parked ones (a thread
  // parks with its record), each kept alive by a reference while the snapshot is made.
  std::vector<RecordRef> running;
  for_each_thread_record([&](ThreadRecord& r) { running.emplace_back(&r); });
  std::vector<std::pair<ParkedThread, RecordRef>> parked;
  for_each_parked([&](const ParkedThread& t) { parked.emplace_back(t, RecordRef(t.record)); });
  s.taken = now_ns();
  std::unordered_map<const ThreadRecord*, std::size_t> index;
  std::unordered_map<const void*, std::size_t> by_object;  // Thread object -> index
  auto add = [&](const RecordRef& r) -> View& {
    auto [it, fresh] = index.try_emplace(r.get(), s.threads.size());
    if (!fresh) return s.threads[it->second];
    View v;
    v.ident = r->ident.load(std::memory_order_relaxed);
    v.name = r->name();
    if (v.name.empty()) v.name = "(thread " + std::to_string(v.ident) + ")";
    v.daemon = r->daemon.load(std::memory_order_relaxed);
    if (DebugThreadData* d = r->debug.load(std::memory_order_acquire)) {
      WordLockGuard guard(d->mu);
      if (d->alive) {
        v.held = d->held_now();
        v.tasks = d->tasks;
        if (d->waiting) {
          v.stall_since = d->stall_since;
          v.stall_polls = d->stall_polls;
        }
      }
    }
    s.threads.push_back(std::move(v));
    return s.threads.back();
  };
  for (const RecordRef& r : running) {
    // A thread is shown when the registry runs it (weft, main and dummy threads) or the
    // debug tools follow it.
    const bool registered = r->phase.load(std::memory_order_acquire) == kRunning;
    bool followed = false;
    if (DebugThreadData* d = r->debug.load(std::memory_order_acquire)) {
      WordLockGuard guard(d->mu);
      followed = d->alive;
    }
    if (!registered && !followed) continue;
    add(r);
    if (registered) {
      if (const void* object = r->object.load(std::memory_order_relaxed))
        by_object[object] = index[r.get()];
    }
  }
  for (const auto& [p, r] : parked) {
    View& v = add(r);
    v.waiting = true;
    v.park = p;
  }
  // Wait-for edges.
  std::unordered_map<const void*, std::size_t> owner;
  for (std::size_t i = 0; i < s.threads.size(); ++i)
    for (const Held& h : s.threads[i].held) owner[h.obj] = i;
  for (std::size_t i = 0; i < s.threads.size(); ++i) {
    View& v = s.threads[i];
    if (!v.waiting) continue;
    const WaitSite& site = v.park.site;
    if (is_order_kind(site.kind)) {
      auto it = owner.find(site.object);
      if (it != owner.end() && it->second != i) v.waits_for = it->second;
    } else if (site.kind == ObjKind::thread) {  // join(): waits for that thread to end
      auto it = by_object.find(site.object);
      if (it != by_object.end() && it->second != i) v.waits_for = it->second;
    }
  }
  return s;
}

std::string ms(Nanos ns) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.3f s", static_cast<double>(ns) / 1e9);
  return buf;
}

// Why v waits for the thread it waits for.
const char* blocker(const View& v) {
  return v.park.site.kind == ObjKind::thread ? "which is the thread" : "held by";
}

std::string waiting_on(const View& v) {
  const WaitSite& site = v.park.site;
  return describe(site.object, site.kind);
}

// Each cycle as the list of snapshot indices, starting at its lowest ident.
std::vector<std::vector<std::size_t>> find_cycles(const Snapshot& s) {
  std::vector<std::vector<std::size_t>> cycles;
  std::vector<int> color(s.threads.size(), 0);  // 0 new, 1 on current chain, 2 done
  for (std::size_t start = 0; start < s.threads.size(); ++start) {
    std::vector<std::size_t> chain;
    std::size_t i = start;
    while (i != SIZE_MAX && color[i] == 0) {
      color[i] = 1;
      chain.push_back(i);
      i = s.threads[i].waits_for;
    }
    if (i != SIZE_MAX && color[i] == 1) {
      auto pos = std::find(chain.begin(), chain.end(), i);
      std::vector<std::size_t> cycle(pos, chain.end());
      auto lowest = std::min_element(cycle.begin(), cycle.end(), [&](std::size_t a, std::size_t b) {
        return s.threads[a].ident < s.threads[b].ident;
      });
      std::rotate(cycle.begin(), lowest, cycle.end());
      cycles.push_back(std::move(cycle));
    }
    for (std::size_t c : chain) color[c] = 2;
  }
  return cycles;
}

std::string format_dump(const Snapshot& s, const std::vector<std::vector<std::size_t>>& cycles) {
  std::ostringstream out;
  out << "weft thread dump: " << s.threads.size() << " thread(s) at +" << ms(s.taken) << "\n";
  for (const View& v : s.threads) {
    out << "  \"" << v.name << "\" (ident " << v.ident << (v.daemon ? ", daemon" : "") << ")";
    if (!v.waiting) out << " running";
    out << "\n";
    if (v.waiting) {
      const Nanos since = to_ns(v.park.since);
      out << "    waits on " << waiting_on(v) << " for " << ms(s.taken - since) << ", at "
          << site_string(v.park.site.loc);
      if (v.park.deadline == kForever) {
        out << " (no timeout)";
      } else {
        out << " (times out in " << ms(to_ns(v.park.deadline) - s.taken) << ")";
      }
      if (v.waits_for != SIZE_MAX)
        out << ", " << blocker(v) << " \"" << s.threads[v.waits_for].name << "\"";
      out << "\n";
    }
    for (const Held& h : v.held) {
      out << "    holds " << describe(h.obj, h.kind);
      if (h.since != 0) out << " since " << ms(s.taken - h.since);
      out << ", acquired at " << site_string(h.loc);
      if (h.count > 1) out << " (" << h.count << " levels)";
      out << "\n";
    }
    for (const auto& t : v.tasks)
      out << "    runs task #" << t.id << " of " << describe(t.executor, ObjKind::executor)
          << " for " << ms(s.taken - t.start) << "\n";
  }
  for (const auto& cycle : cycles) {
    out << "deadlock: a wait-for cycle of " << cycle.size() << " thread(s):\n";
    for (std::size_t i : cycle) {
      const View& v = s.threads[i];
      out << "  \"" << v.name << "\" waits on " << waiting_on(v) << " at "
          << site_string(v.park.site.loc) << ", " << blocker(v) << " \""
          << s.threads[v.waits_for].name << "\"\n";
    }
  }
  return out.str();
}

// Each thread's stall as (ident, start), when every thread is stalled and one of them
// is not a daemon; empty otherwise.
using StallKey = std::vector<std::pair<std::uint64_t, Nanos>>;
StallKey stalled_threads(const Snapshot& s) {
  StallKey key;
  bool non_daemon = false;
  for (const View& v : s.threads) {
    if (!v.waiting) return {};  // running outside weft: it may wake the others
    const bool timed = v.park.deadline != kForever;
    if (timed && v.stall_polls == 0) return {};  // its timeout is still to come
    non_daemon = non_daemon || !v.daemon;
    const Nanos since = v.stall_since != 0 ? v.stall_since : to_ns(v.park.since);
    key.emplace_back(v.ident, since);
  }
  if (!non_daemon) return {};
  std::sort(key.begin(), key.end());
  return key;
}

// ---- the watchdog thread ----
struct Watchdog {
  WordLock lock;  // guards thread and running
  std::thread* thread = nullptr;
  std::atomic<std::uint32_t> stop{0};
  std::atomic<std::int64_t> interval_ms{100};
  std::atomic<std::int64_t> hang_ms{10000};
  // Only the watchdog thread touches these.
  std::set<std::vector<std::pair<std::uint64_t, Nanos>>> seen_last;
  std::set<std::vector<std::pair<std::uint64_t, const void*>>> reported;
  StallKey stall_last, stall_reported;
};
Watchdog& wd() {
  static auto* w = new Watchdog();
  return *w;
}

void scan(Watchdog& w) {
  const Snapshot s = take_snapshot();
  const auto cycles = find_cycles(s);
  std::set<std::vector<std::pair<std::uint64_t, Nanos>>> seen_now;
  std::vector<std::vector<std::size_t>> confirmed;
  for (const auto& cycle : cycles) {
    std::vector<std::pair<std::uint64_t, Nanos>> key;
    std::vector<std::pair<std::uint64_t, const void*>> id;
    for (std::size_t i : cycle) {
      key.emplace_back(s.threads[i].ident, to_ns(s.threads[i].park.since));
      id.emplace_back(s.threads[i].ident, s.threads[i].park.site.object);
    }
    seen_now.insert(key);
    if (w.seen_last.count(key) != 0 && w.reported.insert(id).second) confirmed.push_back(cycle);
  }
  w.seen_last = std::move(seen_now);
  if (!confirmed.empty()) emit_report("deadlock", format_dump(s, confirmed));
  // A hang that is a cycle was reported as such (once per cycle).
  StallKey stall = cycles.empty() ? stalled_threads(s) : StallKey{};
  const std::int64_t hang_ms = w.hang_ms.load(std::memory_order_relaxed);
  if (!stall.empty() && hang_ms > 0 && stall == w.stall_last && stall != w.stall_reported) {
    Nanos newest = 0;
    for (const auto& t : stall) newest = std::max(newest, t.second);
    if (s.taken - newest >= hang_ms * 1000000) {
      w.stall_reported = stall;
      char head[200];
      std::snprintf(head, sizeof head,
                    "weft: hang: every thread has been blocked in weft for %.3f s with no "
                    "progress (hang_timeout %.3f s, WEFT_HANG_SECONDS)\n",
                    static_cast<double>(s.taken - newest) / 1e9,
                    static_cast<double>(hang_ms) / 1e3);
      emit_report("hang", head + format_dump(s, {}));
    }
  }
  w.stall_last = std::move(stall);
}

void run(Watchdog& w) {
  while (w.stop.load(std::memory_order_acquire) == 0) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(w.interval_ms.load());
    while (w.stop.load(std::memory_order_acquire) == 0 && Clock::now() < deadline)
      wait_on_address(w.stop, 0, deadline);
    if (w.stop.load(std::memory_order_acquire) != 0) break;
    if ((flags() & kDebugDeadlock) != 0) scan(w);
  }
}

}  // namespace

std::string dump_of(FunctionRef<bool(std::uint64_t)> include) {
  const Snapshot all = take_snapshot();
  Snapshot s;
  s.taken = all.taken;
  std::vector<std::size_t> index(all.threads.size(), SIZE_MAX);
  for (std::size_t i = 0; i < all.threads.size(); ++i) {
    if (!include(all.threads[i].ident)) continue;
    index[i] = s.threads.size();
    s.threads.push_back(all.threads[i]);
  }
  for (View& v : s.threads)
    if (v.waits_for != SIZE_MAX) v.waits_for = index[v.waits_for];
  return format_dump(s, find_cycles(s));
}

std::string dump_text(bool with_cycles) {
  const Snapshot s = take_snapshot();
  return format_dump(s, with_cycles ? find_cycles(s) : std::vector<std::vector<std::size_t>>{});
}

void watchdog_start(std::chrono::milliseconds interval, std::chrono::milliseconds hang_after) {
  Watchdog& w = wd();
  w.interval_ms.store(std::max<std::int64_t>(1, interval.count()));
  w.hang_ms.store(std::max<std::int64_t>(0, hang_after.count()));
  WordLockGuard guard(w.lock);
  if (w.thread != nullptr) return;
  w.stop.store(0);
  w.thread = new std::thread([&w] { run(w); });
}

void watchdog_stop() {
  Watchdog& w = wd();
  std::thread* t = nullptr;
  {
    WordLockGuard guard(w.lock);
    t = w.thread;
    w.thread = nullptr;
  }
  if (t == nullptr) return;
  w.stop.store(1, std::memory_order_release);
  wake_by_address(w.stop, true);
  if (t->get_id() == std::this_thread::get_id()) {
    t->detach();
  } else {
    t->join();
  }
  delete t;
}

// ---- SIGQUIT ----
namespace {

// The pipe's write end while the handler is installed, else -1. Lock-free, so the
// handler may read it.
std::atomic<int> g_sigquit_fd{-1};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void on_sigquit(int) {
  const int saved = errno;  // async-signal-safe: one atomic load and one write()
  const int fd = g_sigquit_fd.load(std::memory_order_relaxed);
  if (fd >= 0) {
    const char byte = 1;
    [[maybe_unused]] const auto n = ::write(fd, &byte, 1);  // full pipe: one dump is pending
  }
  errno = saved;
}

struct SigQuit {
  WordLock lock;  // guards everything below
  int read_fd = -1, write_fd = -1;
  bool installed = false;
  struct sigaction previous {};
};
SigQuit& sq() {
  static auto* s = new SigQuit();  // leaked: its reader thread runs until the process ends
  return *s;
}

// Blocks on the pipe; one dump per wake-up (bytes that arrived meanwhile are merged).
void sigquit_reader(int fd) {
  char buf[64];
  for (;;) {
    const auto n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      emit_report("dump", dump_text(true));
    } else if (n == 0 || errno != EINTR) {
      return;
    }
  }
}

}  // namespace

void sigquit_dump_start() {
  SigQuit& q = sq();
  WordLockGuard guard(q.lock);
  if (q.installed) return;
  if (q.read_fd < 0) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      std::fprintf(stderr, "weft: dump-on-sigquit: no pipe (errno %d): SIGQUIT left alone\n", errno);
      return;
    }
    ::fcntl(fds[1], F_SETFL, ::fcntl(fds[1], F_GETFL) | O_NONBLOCK);
    q.read_fd = fds[0];
    q.write_fd = fds[1];
    std::thread(sigquit_reader, fds[0]).detach();
  }
  g_sigquit_fd.store(q.write_fd, std::memory_order_relaxed);
  struct sigaction act {};
  act.sa_handler = on_sigquit;
  sigemptyset(&act.sa_mask);
  act.sa_flags = SA_RESTART;
  if (::sigaction(SIGQUIT, &act, &q.previous) == 0) q.installed = true;
}

void sigquit_dump_stop() {
  SigQuit& q = sq();
  WordLockGuard guard(q.lock);
  if (!q.installed) return;
  ::sigaction(SIGQUIT, &q.previous, nullptr);
  g_sigquit_fd.store(-1, std::memory_order_relaxed);
  q.installed = false;
}

bool sigquit_dump_on() noexcept {
  SigQuit& q = sq();
  WordLockGuard guard(q.lock);
  return q.installed;
}

}  // namespace weft::detail::dbg

namespace weft::detail::hook_impl {
std::string thread_dump(FunctionRef<bool(std::uint64_t ident)> include) {
  return dbg::dump_of(include);
}
}  // namespace weft::detail::hook_impl
