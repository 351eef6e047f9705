// SPDX-License-Identifier: Apache-2.0
// Lessons on queue.Queue: the producer/consumer with a None sentinel, the version with
// task_done, Queue(maxsize=3), and the food-delivery case of the guide's real-life table.
// Each lesson translates the guide's example (the full translations are in examples/).
#include <algorithm>
#include <atomic>
#include <deque>
#include <optional>
#include <weft/errors.hpp>
#include <weft/queue.hpp>
#include <weft/threading.hpp>

#include "tour.hpp"

namespace tour {
namespace {

// Core pattern 3. Python's None sentinel is an empty std::optional.
void queue(Lesson& L) {
  weft::Queue<std::optional<int>> q;
  std::vector<int> consumed;  // only the consumer touches it until c.join()
  auto producer = [&] {
    for (int i = 0; i < 5; ++i) {
      q.put(i);
      L.print(fmt("Produced: %d", i));
    }
  };
  auto consumer = [&] {
    while (true) {
      std::optional<int> item = q.get();
      if (!item) break;
      L.print(fmt("Consumed: %d", *item));
      consumed.push_back(*item);
      q.task_done();
    }
  };
  weft::Thread p(producer), c(consumer);
  p.start();
  c.start();
  p.join();
  q.put(std::nullopt);  // Signal consumer to stop
  c.join();
  L.print("Done!");
  L.python({"Produced: 0", "Produced: 1", "Consumed: 0", "...", "Consumed: 4", "Done!"});
  L.explain("Queue<std::optional<int>>: std::nullopt plays Python's None. How the Produced and "
            "Consumed lines interleave depends on the scheduler, in Python as in C++; the "
            "queue promises first in, first out and no item lost or duplicated.");
  L.check("the consumer got 0, 1, 2, 3, 4 in order (FIFO), each once",
          consumed == std::vector<int>{0, 1, 2, 3, 4});
  L.check("Done! comes last", L.lines().back() == "Done!");
  L.check("the queue is empty at the end", q.empty() && q.qsize() == 0);
}

// Communication 1: producer/consumer with time.sleep(1) and task_done.
void task_done(Lesson& L) {
  L.expect_seconds(5);
  weft::Queue<int> q;
  auto producer = [&] {
    for (int i = 0; i < 5; ++i) {
      L.print(fmt("Produced: %d", i));
      q.put(i);
      L.sleep(1);
    }
  };
  auto consumer = [&] {
    for (int i = 0; i < 5; ++i) {
      const int item = q.get();
      L.print(fmt("Consumed: %d", item));
      q.task_done();
    }
  };
  const Quietness load = L.measure([&] {
    weft::Thread t1(producer), t2(consumer);
    t1.start();
    t2.start();
    t1.join();
    t2.join();
  });
  L.python({"Produced: 0", "Consumed: 0", "Produced: 1", "Consumed: 1", "Produced: 2",
            "Consumed: 2", "Produced: 3", "Consumed: 3", "Produced: 4", "Consumed: 4"});
  bool each_after = true;
  for (int i = 0; i < 5; ++i)
    each_after = each_after && L.find(fmt("Produced: %d", i)) < L.find(fmt("Consumed: %d", i));
  const bool joined = q.join(std::chrono::seconds(5));
  bool too_many = false;
  try {
    q.task_done();
  } catch (const weft::ValueError&) {
    too_many = true;
  }
  L.explain("task_done() tells the queue that an item taken with get() is finished; join() "
            "returns once every item put has been marked done. One task_done() too many is a "
            "bug: weft raises ValueError, as Python does.");
  L.check("each item is consumed after it was produced, in FIFO order", each_after);
  L.claim("the lines alternate as the guide shows (the producer sleeps between puts)",
          L.printed_in_order({"Produced: 0", "Consumed: 0", "Produced: 1", "Consumed: 1",
                              "Produced: 2", "Consumed: 2", "Produced: 3", "Consumed: 3",
                              "Produced: 4", "Consumed: 4"}),
          {}, load);
  L.check("join() returns: every item was marked done", joined);
  L.check("task_done() called too many times raises ValueError", too_many);
}

// Communication 1: Queue(maxsize=3).
void bounded_queue(Lesson& L) {
  weft::Queue<int> q(3);
  q.put(1);
  q.put(2);
  L.print(fmt("%zu", q.qsize()));
  L.python({"2"});
  q.put(3);
  const bool full = q.full();
  bool put_nowait_full = false;
  try {
    q.put_nowait(4);
  } catch (const weft::Full&) {
    put_nowait_full = true;
  }
  const auto timeout = std::chrono::milliseconds(50);
  const auto start = std::chrono::steady_clock::now();
  bool timed_full = false;
  try {
    q.put(4, timeout);
  } catch (const weft::Full&) {
    timed_full = std::chrono::steady_clock::now() - start >= timeout;
  }
  const int first = q.get();
  q.put(4);  // room again
  L.print("(then: put(3); full(); put_nowait(4) -> Full; put(4, 50ms) -> Full; get(); put(4))");
  L.explain("Queue(maxsize=3): put() blocks while 3 items are queued, put_nowait() raises Full, "
            "put(item, timeout) raises Full after waiting the timeout. The C++ twin "
            "try_put(item) returns false instead and leaves the item with the caller.");
  L.check("qsize() is 2 after two puts", L.lines().front() == "2");
  L.check("full() after the third put", full);
  L.check("put_nowait() on a full queue raises Full", put_nowait_full);
  L.check("put(item, 50ms) on a full queue raises Full after at least 50 ms", timed_full);
  L.check("get() frees a slot: the 4th put then succeeds, order kept",
          first == 1 && q.qsize() == 3 && q.get() == 2);
}

// Real life: food delivery = producer-consumer.
void food_delivery(Lesson& L) {
  struct Order {
    int id;
    std::string dish;
  };
  const char* const dishes[] = {"pizza", "ramen", "salad", "tacos"};
  const int orders_count = 12;
  weft::Queue<std::optional<Order>> ready(5);  // the pick-up shelf holds 5 orders
  std::vector<std::atomic<int>> delivered(orders_count);
  auto kitchen = [&] {
    for (int i = 0; i < orders_count; ++i) {
      L.sleep(0.05);  // cooking
      ready.put(Order{i, dishes[i % 4]});
    }
  };
  auto courier = [&](int id) {
    while (true) {
      std::optional<Order> order = ready.get();
      if (!order) break;
      L.print(fmt("courier %d delivers order %d (%s)", id, order->id, order->dish.c_str()));
      delivered[static_cast<std::size_t>(order->id)].fetch_add(1);
      L.sleep(0.1);  // riding
      ready.task_done();
    }
  };
  weft::Thread k(kitchen);
  std::deque<weft::Thread> couriers;
  k.start();
  for (int i = 0; i < 3; ++i) couriers.emplace_back(courier, i).start();
  k.join();
  ready.join();  // every order delivered
  for (int i = 0; i < 3; ++i) ready.put(std::nullopt);  // one "closed" sign per courier
  for (auto& c : couriers) c.join();
  L.python({"courier 0 delivers order 0 (pizza)", "courier 1 delivers order 1 (ramen)", "..."});
  L.explain("The kitchen produces orders onto a bounded shelf (Queue(maxsize=5)); three "
            "couriers consume them. join() waits until every order was marked done, then one "
            "None per courier sends them home.");
  const bool once = std::all_of(delivered.begin(), delivered.end(),
                                [](const std::atomic<int>& n) { return n.load() == 1; });
  L.check("every order was delivered exactly once", once);
}

}  // namespace

TOUR_LESSON("queue", queue);
TOUR_LESSON("task-done", task_done);
TOUR_LESSON("bounded-queue", bounded_queue);
TOUR_LESSON("food-delivery", food_delivery);

}  // namespace tour
