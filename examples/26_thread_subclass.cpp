// SPDX-License-Identifier: Apache-2.0
// examples/26_thread_subclass.cpp: a Thread subclass that overrides run(), and
// current_thread() (threading's other way to write a thread).
//
//   import threading
//
//   class Greeter(threading.Thread):
//       def __init__(self, greeting):
//           super().__init__(name=f"greeter-{greeting}")
//           self.greeting = greeting
//
//       def run(self):
//           print(f"{self.greeting} from {threading.current_thread().name}")
//
//   threads = [Greeter(g) for g in ("hello", "bonjour", "hola")]
//   for t in threads:
//       t.start()
//   for t in threads:
//       t.join()
//   print("main thread is", threading.current_thread().name)
#include <cstdio>
#include <deque>
#include <string>
#include <weft/threading.hpp>

class Greeter : public weft::Thread {
 public:
  explicit Greeter(std::string greeting) : greeting_(std::move(greeting)) {
    set_name("greeter-" + greeting_);
  }

  void run() override {
    std::printf("%s from %s\n", greeting_.c_str(), weft::current_thread().name().c_str());
  }

 private:
  std::string greeting_;
};

int main() {
  std::deque<Greeter> threads;
  for (const char* g : {"hello", "bonjour", "hola"}) threads.emplace_back(g);
  for (auto& t : threads) t.start();
  for (auto& t : threads) t.join();
  std::printf("main thread is %s\n", weft::current_thread().name().c_str());
}
