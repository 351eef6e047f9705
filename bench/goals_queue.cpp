// SPDX-License-Identifier: Apache-2.0
// weft_goals, section "queue": issue 12's ping-pong and bounded hand-off goals.
#include <string>
#include <vector>

#include "goals.hpp"
#include "queue_workloads.hpp"

namespace goals {

namespace {

constexpr std::size_t kBound = 1024;

std::vector<double> ns_per_round_trip(double seconds, int round_trips) {
  return {seconds * 1e9 / round_trips};
}

std::vector<double> million_per_second(double seconds, int items) {
  return {items / seconds / 1e6};
}

}  // namespace

void register_queue(Registry& reg, const Options& o) {
  const int round_trips = o.quick ? 500 : 50'000;
  const int items = o.quick ? 1 << 10 : 1 << 17;  // a multiple of every thread count below

  {
    const std::string g = "ping-pong through two queues";
    std::vector<Registry::Measurement> ms;
    ms.push_back({"floor", {{"ping-pong: floor, two spinning atomics", "ns", Better::lower}},
                  [=] { return ns_per_round_trip(bench::spin_pingpong_once(round_trips), round_trips); }});
    ms.push_back({"weft::Queue", {{"ping-pong: weft::Queue", "ns", Better::lower}},
                  [=] {
                    return ns_per_round_trip(bench::pingpong_once<bench::WeftQueue>(round_trips), round_trips);
                  }});
#if defined(WEFT_HAVE_MOODYCAMEL)
    ms.push_back({"moodycamel", {{"ping-pong: moodycamel::BlockingConcurrentQueue", "ns", Better::lower}},
                  [=] {
                    return ns_per_round_trip(bench::pingpong_once<bench::Moodycamel>(round_trips), round_trips);
                  }});
#else
    reg.missing(g, "ping-pong: moodycamel::BlockingConcurrentQueue", "libconcurrentqueue-dev");
#endif
    reg.group("queue", g,
              "One thread puts an int into one unbounded queue, its partner gets it and puts it "
              "into a second, the first gets it back; mean time per round trip over " +
                  std::to_string(round_trips) +
                  " round trips. The floor: the same through two atomics (one each way, on "
                  "separate cache lines), both threads spinning.",
              std::move(ms));
    reg.goal({"queue", "ping-pong: weft::Queue as a multiple of the floor",
              {"ping-pong: weft::Queue", "ping-pong: floor, two spinning atomics"},
              quotient("ping-pong: weft::Queue", "ping-pong: floor, two spinning atomics"),
              Better::lower, 3.0, 3.0});
    reg.goal({"queue", "ping-pong: weft::Queue time / moodycamel's",
              {"ping-pong: weft::Queue", "ping-pong: moodycamel::BlockingConcurrentQueue"},
              quotient("ping-pong: weft::Queue", "ping-pong: moodycamel::BlockingConcurrentQueue"),
              Better::lower, 1.0, 1.0});
  }

  for (int n : {1, 2, 4, 16}) {
    const std::string shape = std::to_string(n) + "P" + std::to_string(n) + "C";
    const std::string g = "bounded hand-off, capacity 1024, " + shape;
    const std::string weft = "bounded " + shape + ": weft::Queue(1024)";
    const std::string anchor = "bounded " + shape + ": atomic_queue::AtomicQueueB(1024)";
    std::vector<Registry::Measurement> ms;
    ms.push_back({"weft::Queue", {{weft, "M items/s", Better::higher}}, [=] {
                    return million_per_second(bench::handoff_once<bench::WeftQueue>(n, n, kBound, items), items);
                  }});
#if defined(WEFT_HAVE_ATOMIC_QUEUE)
    ms.push_back({"AtomicQueueB", {{anchor, "M items/s", Better::higher}}, [=] {
                    return million_per_second(bench::handoff_once<bench::AtomicQueueB>(n, n, kBound, items), items);
                  }});
#else
    reg.missing(g, anchor, "libatomic-queue-dev");
#endif
    reg.group("queue", g,
              std::to_string(n) + " producers and " + std::to_string(n) + " consumers move " +
                  std::to_string(items) +
                  " ints through one queue of capacity 1024, released together; items per "
                  "second of wall time until all have finished. AtomicQueueB spins and never "
                  "sleeps (push and pop wait on their slot).",
              std::move(ms));
    const bool judged = n != 1;  // the issue asks to report 1P1C
    reg.goal({"queue", "bounded " + shape + ": weft::Queue vs AtomicQueueB (throughput ratio)",
              {weft, anchor}, speedup(weft, anchor, Better::higher), Better::higher,
              judged ? 1.0 : 0, judged ? 1.0 : 0});
  }
}

}  // namespace goals
