// SPDX-License-Identifier: Apache-2.0
// examples/22_food_delivery.cpp: the guide's real-life table, "Food delivery system:
// producer-consumer".
//
//   import threading
//   import queue
//   import time
//
//   orders = queue.Queue(maxsize=5)        # the pick-up shelf
//
//   def kitchen():
//       for i, dish in enumerate(["pizza", "ramen", "salad", "tacos", "curry", "soup"]):
//           time.sleep(0.2)                 # cooking
//           orders.put((i, dish))
//           print(f"kitchen: order {i} ({dish}) ready")
//
//   def courier(name):
//       while True:
//           order = orders.get()
//           if order is None:
//               break
//           print(f"{name} delivers order {order[0]} ({order[1]})")
//           time.sleep(0.5)                 # riding
//           orders.task_done()
//
//   couriers = [threading.Thread(target=courier, args=(f"courier-{i}",)) for i in range(2)]
//   for c in couriers:
//       c.start()
//   kitchen()
//   orders.join()                           # every order delivered
//   for c in couriers:
//       orders.put(None)                    # one "closed" sign per courier
//   for c in couriers:
//       c.join()
#include <chrono>
#include <cstdio>
#include <deque>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <weft/queue.hpp>
#include <weft/threading.hpp>

using namespace std::chrono_literals;
using Order = std::pair<int, std::string>;

weft::Queue<std::optional<Order>> orders(5);  // the pick-up shelf

void kitchen() {
  int i = 0;
  for (const char* dish : {"pizza", "ramen", "salad", "tacos", "curry", "soup"}) {
    std::this_thread::sleep_for(200ms);  // cooking
    orders.put(Order{i, dish});
    std::printf("kitchen: order %d (%s) ready\n", i, dish);
    ++i;
  }
}

void courier(const std::string& name) {
  while (true) {
    std::optional<Order> order = orders.get();
    if (!order) break;
    std::printf("%s delivers order %d (%s)\n", name.c_str(), order->first, order->second.c_str());
    std::this_thread::sleep_for(500ms);  // riding
    orders.task_done();
  }
}

int main() {
  std::deque<weft::Thread> couriers;
  for (int i = 0; i < 2; ++i) couriers.emplace_back(courier, "courier-" + std::to_string(i));
  for (auto& c : couriers) c.start();
  kitchen();
  orders.join();  // every order delivered
  for (std::size_t i = 0; i < couriers.size(); ++i) orders.put(std::nullopt);
  for (auto& c : couriers) c.join();
}
