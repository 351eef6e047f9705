// SPDX-License-Identifier: Apache-2.0
// The process-pool lesson: CPU-bound work on ProcessPoolExecutor (Python:
// multiprocessing.Pool / concurrent.futures.ProcessPoolExecutor), named by the guide.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <weft/errors.hpp>
#include <weft/process.hpp>

#include "tour.hpp"

namespace tour {
namespace {

// Plain functions: a process pool runs them in another process, so no captures.
std::int64_t square(std::int64_t x) { return x * x; }
std::int64_t worker_pid(std::int64_t) { return static_cast<std::int64_t>(getpid()); }
std::int64_t fails(std::int64_t x) {
  if (x == 3) throw std::invalid_argument("3 is not welcome here");
  return x;
}

void process_pool(Lesson& L) {
  const std::vector<std::int64_t> inputs = {1, 2, 3, 4, 5, 6, 7, 8};
  std::vector<std::int64_t> squares;
  std::set<std::int64_t> pids;
  bool remote_error = false;
  std::string remote_what;
  {
    weft::ProcessPoolExecutor pool(4);  // with ProcessPoolExecutor(max_workers=4) as pool:
    for (auto r : pool.map(square, inputs)) squares.push_back(r);  // pool.map(square, inputs)
    std::vector<weft::Future<std::int64_t>> futures;
    for (int i = 0; i < 8; ++i) futures.push_back(pool.submit(worker_pid, std::int64_t{i}));
    for (auto& f : futures) pids.insert(f.result());
    auto bad = pool.submit(fails, std::int64_t{3});
    try {
      bad.result();
    } catch (const weft::RemoteError& e) {
      remote_error = true;
      remote_what = e.what();
    }
  }
  std::string line = "squares:";
  for (auto s : squares) {
    line += ' ';
    line += std::to_string(s);
  }
  L.print(line);
  L.print(fmt("worker processes seen: %zu (parent pid %d)", pids.size(), getpid()));
  L.print("exception in a worker: " + remote_what);
  L.python({"squares: 1 4 9 16 25 36 49 64", "worker processes seen: <up to 4>",
            "exception in a worker: ValueError: 3 is not welcome here"});
  L.explain("A ProcessPoolExecutor runs plain functions in worker processes: there is no "
            "shared memory, so arguments and results are copied (wire types: numbers, "
            "strings, vectors, tuples, trivially copyable structs). An exception in a worker "
            "comes back as weft::RemoteError naming the original type and message. The gil "
            "lesson times it against threads.");
  L.check("map returns the squares in input order",
          squares == std::vector<std::int64_t>{1, 4, 9, 16, 25, 36, 49, 64});
  L.check("the work ran in other processes", !pids.empty() && !pids.count(getpid()),
          fmt("%zu worker pid(s)", pids.size()));
  L.check("an exception in a worker comes back as RemoteError", remote_error);
}

}  // namespace

TOUR_LESSON("process-pool", process_pool);

}  // namespace tour
