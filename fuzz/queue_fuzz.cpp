// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: random operation sequences on a pair of queues, checked step by
// step against a single-threaded model (a std::deque / sorted multiset, a task counter
// and a shutdown flag). Every call form that cannot block in the model's state is
// exercised, including blocking ones that must return at once, batches, shutdown(true)
// and try_select. The first input byte picks the queue kind and the bound; one kind is
// a FIFO of 64-byte items, whose segments hold 8 items, so that short inputs cross
// segment boundaries and reuse the spare segment.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <optional>
#include <vector>

#include "weft/errors.hpp"
#include "weft/queue.hpp"

namespace {

enum class Kind { fifo, lifo, priority };

[[noreturn]] void mismatch(const char* what, int line) {
  std::fprintf(stderr, "queue fuzz: model mismatch at line %d: %s\n", line, what);
  std::abort();
}
#define CHECK(cond) ((cond) ? (void)0 : mismatch(#cond, __LINE__))

// The reference: what a correct queue of this kind holds and does.
struct Model {
  Kind kind;
  std::size_t maxsize;
  std::deque<int> items;  // kept in get order
  std::size_t unfinished = 0;
  bool shut = false;

  bool full() const { return maxsize != 0 && items.size() >= maxsize; }
  void put(int v) {
    switch (kind) {
      case Kind::fifo: items.push_back(v); break;
      case Kind::lifo: items.push_front(v); break;
      case Kind::priority: items.insert(std::upper_bound(items.begin(), items.end(), v), v); break;
    }
    ++unfinished;
  }
  int get() {
    const int v = items.front();
    items.pop_front();
    return v;
  }
};

// An int padded to 64 bytes (converts to and from int, so the model stays on ints).
struct Wide {
  int v;
  char pad[60] = {};
  Wide(int x = 0) : v(x) {}  // NOLINT: implicit on purpose
  operator int() const { return v; }
};
static_assert(sizeof(Wide) == 64);

class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size) : p_(data), end_(data + size) {}
  bool more() const { return p_ < end_; }
  std::uint8_t byte() { return p_ < end_ ? *p_++ : 0; }

 private:
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

template <class Q>
void check_sizes(Q& q, const Model& m) {
  CHECK(q.qsize() == m.items.size());
  CHECK(q.empty() == m.items.empty());
  CHECK(q.full() == m.full());
  CHECK(q.is_shutdown() == m.shut);
}

// One operation on queue q (model m). Returns false to stop.
template <class Q, class Other>
void step(Reader& in, Q& q, Model& m, Other& other, Model& om) {
  using namespace std::chrono_literals;
  const std::uint8_t op = in.byte() % 20;
  const int v = static_cast<int>(in.byte()) - 128;
  switch (op) {
    case 0:  // put_nowait
      try {
        q.put_nowait(v);
        CHECK(!m.shut && !m.full());
        m.put(v);
      } catch (const weft::Full&) {
        CHECK(!m.shut && m.full());
      } catch (const weft::ShutDown&) {
        CHECK(m.shut);
      }
      break;
    case 1:  // put(block=false) / put(0s) / put(-1s)
      try {
        if (v % 3 == 0) {
          q.put(v, false);
        } else if (v % 3 == 1) {
          q.put(v, 0s);
        } else {
          q.put(v, -1ms);
        }
        CHECK(!m.shut && !m.full());
        m.put(v);
      } catch (const weft::Full&) {
        CHECK(!m.shut && m.full());
      } catch (const weft::ShutDown&) {
        CHECK(m.shut);
      }
      break;
    case 2: {  // try_put
      typename Q::value_type item(v);
      const bool ok = q.try_put(item);
      CHECK(ok == (!m.shut && !m.full()));
      CHECK(item == v);  // ints are copied by a move: unchanged either way
      if (ok) m.put(v);
      break;
    }
    case 3:  // blocking put, only where it cannot block
      if (m.shut || !m.full()) {
        try {
          q.put(v);
          CHECK(!m.shut);
          m.put(v);
        } catch (const weft::ShutDown&) {
          CHECK(m.shut);
        }
      }
      break;
    case 4:  // get_nowait / get(false) / get(0s)
      try {
        const int got = v % 3 == 0 ? q.get_nowait() : v % 3 == 1 ? q.get(false) : q.get(0s);
        CHECK(!m.items.empty());
        CHECK(got == m.get());
      } catch (const weft::Empty&) {
        CHECK(m.items.empty() && !m.shut);
      } catch (const weft::ShutDown&) {
        CHECK(m.items.empty() && m.shut);
      }
      break;
    case 5: {  // try_get
      auto got = q.try_get();
      CHECK(got.has_value() == !m.items.empty());
      if (got) CHECK(*got == m.get());
      break;
    }
    case 6:  // blocking get, only where it cannot block
      if (!m.items.empty() || m.shut) {
        try {
          const int got = q.get();
          CHECK(got == m.get());
        } catch (const weft::ShutDown&) {
          CHECK(m.items.empty() && m.shut);
        }
      }
      break;
    case 7: {  // put_many with a zero timeout
      std::vector<typename Q::value_type> batch;
      const int n = (v & 7) + 1;
      for (int i = 0; i < n; ++i) batch.push_back(v + i);
      try {
        const std::size_t moved = q.put_many(batch, 0s);
        std::size_t room = m.maxsize == 0 ? batch.size() : m.maxsize - m.items.size();
        CHECK(!m.shut);
        CHECK(moved == std::min(room, batch.size()));
        for (std::size_t i = 0; i < moved; ++i) m.put(batch[i]);
      } catch (const weft::ShutDown&) {
        CHECK(m.shut);
      }
      break;
    }
    case 8: {  // get_many with a zero timeout
      const std::size_t n = static_cast<std::size_t>(v & 7);
      try {
        auto got = q.get_many(n, 0s);
        CHECK(!(m.shut && m.items.empty() && n != 0));
        CHECK(got.size() == std::min(n, m.items.size()));
        for (int x : got) CHECK(x == m.get());
      } catch (const weft::ShutDown&) {
        CHECK(m.shut && m.items.empty());
      }
      break;
    }
    case 9:  // task_done
      try {
        q.task_done();
        CHECK(m.unfinished > 0);
        --m.unfinished;
      } catch (const weft::ValueError&) {
        CHECK(m.unfinished == 0);
      }
      break;
    case 10:  // join(0s), and join() where it cannot block
      CHECK(q.join(0s) == (m.unfinished == 0));
      if (m.unfinished == 0) q.join();
      break;
    case 11:  // shutdown, rarely
      if (v % 8 == 0) {
        const bool immediate = (v & 16) != 0;
        auto drained = q.shutdown(immediate);
        m.shut = true;
        if (immediate) {
          CHECK(drained.size() == m.items.size());
          for (int x : drained) CHECK(x == m.get());
          m.unfinished -= std::min(m.unfinished, drained.size());
        } else {
          CHECK(drained.empty());
        }
      }
      break;
    case 12: {  // try_select over both queues
      auto r = weft::try_select(q, other);
      if (!r) {
        CHECK(m.items.empty() && om.items.empty());
      } else if (r->index == 0) {
        CHECK(!m.items.empty());
        CHECK(r->template get<0>() == m.get());
      } else {
        CHECK(!om.items.empty());
        CHECK(r->template get<1>() == om.get());
      }
      break;
    }
    case 13:  // select(0s): Empty / ShutDown exactly as the model says
      try {
        auto r = weft::select(0s, q, other);
        if (r.index == 0) {
          CHECK(r.template get<0>() == m.get());
        } else {
          CHECK(r.template get<1>() == om.get());
        }
      } catch (const weft::Empty&) {
        CHECK(m.items.empty() && om.items.empty() && !(m.shut && om.shut));
      } catch (const weft::ShutDown&) {
        CHECK(m.items.empty() && om.items.empty() && m.shut && om.shut);
      }
      break;
    case 14:  // range-for over a shut-down queue drains it
      if (m.shut) {
        for (auto&& x : q) CHECK(x == m.get());
        CHECK(m.items.empty());
      }
      break;
    default:
      break;
  }
  check_sizes(q, m);
}

template <template <class> class QT, class V = int>
void run(Reader& in, Kind kind) {
  const std::size_t maxsize = in.byte() % 6;  // 0: unbounded
  QT<V> a(maxsize), b(maxsize);
  Model ma{kind, maxsize, {}, 0, false}, mb{kind, maxsize, {}, 0, false};
  while (in.more()) {
    if (in.byte() & 1) {
      step(in, a, ma, b, mb);
    } else {
      step(in, b, mb, a, ma);
    }
  }
}

template <class T>
using Prio = weft::PriorityQueue<T>;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Reader in(data, size);
  switch (in.byte() % 4) {
    case 0: run<weft::Queue>(in, Kind::fifo); break;
    case 1: run<weft::LifoQueue>(in, Kind::lifo); break;
    case 2: run<Prio>(in, Kind::priority); break;
    default: run<weft::Queue, Wide>(in, Kind::fifo); break;
  }
  return 0;
}
