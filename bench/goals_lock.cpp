// SPDX-License-Identifier: Apache-2.0
// weft_goals, section "lock": issue 12's Lock goal at 16 threads (eventual fairness with
// the contended throughput kept).
#include <algorithm>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "fairness.hpp"
#include "goals.hpp"
#include "weft/lock.hpp"

#if defined(WEFT_HAVE_TBB)
#include <oneapi/tbb/mutex.h>
#endif

namespace goals {

namespace {

constexpr int kThreads = 16;

// One fairness round on a fresh lock: {throughput in M increments/s, first finisher}.
template <class L>
std::vector<double> contended(std::uint64_t share) {
  L lock;
  const bench::FairnessRound r = bench::fairness_round(lock, kThreads, share);
  return {static_cast<double>(share) * kThreads / r.seconds / 1e6, r.first_finish};
}

template <class L>
Registry::Measurement measurement(const std::string& name, std::uint64_t share) {
  return {name,
          {{"lock: " + name + " throughput", "M incr/s", Better::higher},
           {"lock: " + name + " first finisher", "of wall time", Better::higher}},
          [share] { return contended<L>(share); }};
}

}  // namespace

void register_lock(Registry& reg, const Options& o) {
  const std::uint64_t share = o.quick ? 2'000 : 500'000;
  const std::string g = "Lock, 16 threads on one counter";
  std::vector<Registry::Measurement> ms;
  ms.push_back(measurement<weft::Lock>("weft::Lock", share));
  ms.push_back(measurement<std::mutex>("std::mutex", share));
#if defined(WEFT_HAVE_TBB)
  ms.push_back(measurement<tbb::mutex>("tbb::mutex", share));
#else
  reg.missing(g, "lock: tbb::mutex throughput", "libtbb-dev");
#endif
  reg.group("lock", g,
            "16 threads meet at a latch, then each adds " + std::to_string(share) +
                " to one counter under the lock. Throughput: all increments over the wall "
                "time; first finisher: when the first thread finished its share, as a "
                "fraction of the wall time (1/16: one thread ran alone first; 1: all together).",
            std::move(ms));
  reg.goal({"lock", "weft::Lock: first finisher's share of the wall time",
            {"lock: weft::Lock first finisher"},
            [](const Round& r) { return r.at("lock: weft::Lock first finisher"); }, Better::higher,
            0.50, 0.50, true});
  reg.goal({"lock", "weft::Lock throughput / max(tbb::mutex, 1.5 x std::mutex)",
            {"lock: weft::Lock throughput", "lock: std::mutex throughput", "lock: tbb::mutex throughput"},
            [](const Round& r) {
              return r.at("lock: weft::Lock throughput") /
                     std::max(r.at("lock: tbb::mutex throughput"),
                              1.5 * r.at("lock: std::mutex throughput"));
            },
            Better::higher, 1.0, 1.0});
  reg.goal({"lock", "std::mutex: first finisher's share of the wall time",
            {"lock: std::mutex first finisher"},
            [](const Round& r) { return r.at("lock: std::mutex first finisher"); }, Better::higher,
            0, 0, true});
}

}  // namespace goals
