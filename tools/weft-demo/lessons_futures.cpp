// SPDX-License-Identifier: Apache-2.0
// Lessons on concurrent.futures: ThreadPoolExecutor with as_completed and map, and the
// real-application lesson: 50 URLs fetched from a local HTTP server, sequentially and
// with a pool of 8 (cpp-httplib on both sides).
#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <weft/errors.hpp>
#include <weft/futures.hpp>
#include <weft/threading.hpp>

#include "tour.hpp"

namespace tour {
namespace {

// ThreadPoolExecutor + as_completed: named by the guide ("Real applications"), not shown.
void pool(Lesson& L) {
  L.expect_seconds(1.6);
  std::atomic<int> finished{0};
  std::map<double, int> finish_rank;  // written under finish_mu
  weft::Lock finish_mu;
  auto task = [&](double seconds) {
    L.sleep(seconds);
    std::scoped_lock hold(finish_mu);
    finish_rank[seconds] = finished.fetch_add(1);
    return seconds;
  };
  const std::vector<double> delays = {0.8, 0.2, 0.6, 0.4};
  std::vector<double> completed;
  std::vector<double> mapped;
  bool submit_after_shutdown = false;
  const Quietness load = L.measure([&] {
    finished = 0;
    finish_rank.clear();
    completed.clear();
    mapped.clear();
    submit_after_shutdown = false;
    {
      weft::ThreadPoolExecutor executor(4);  // with ThreadPoolExecutor(max_workers=4) as executor:
      std::vector<weft::Future<double>> futures;
      for (double d : delays) futures.push_back(executor.submit(task, d));
      for (auto& f : weft::as_completed(futures)) {
        completed.push_back(f.result());
        L.print(fmt("done: %.1f", completed.back()));
      }
      for (double r : executor.map(task, std::vector<double>{0.3, 0.1, 0.2})) {
        mapped.push_back(r);
        L.print(fmt("map: %.1f", r));
      }
      executor.shutdown();
      try {
        executor.submit(task, 0.1);
      } catch (const weft::RuntimeError&) {
        submit_after_shutdown = true;
      }
    }
  });
  L.python({"done: 0.2", "done: 0.4", "done: 0.6", "done: 0.8", "map: 0.3", "map: 0.1",
            "map: 0.2"});
  std::vector<double> sorted = completed;
  std::sort(sorted.begin(), sorted.end());
  L.explain("submit() returns a weft::Future at once; as_completed() yields each future as it "
            "finishes (the shortest sleep first), map() yields results in input order. The "
            "executor's destructor is shutdown(wait=true), like leaving Python's `with` block.");
  L.check("as_completed yields every future once, with its result",
          sorted == std::vector<double>{0.2, 0.4, 0.6, 0.8});
  L.claim("as_completed yields them in completion order (shortest sleep first)",
          completed == std::vector<double>{0.2, 0.4, 0.6, 0.8}, {}, load);
  L.check("map yields results in input order", mapped == std::vector<double>{0.3, 0.1, 0.2});
  L.check("submit after shutdown raises RuntimeError", submit_after_shutdown);
}

// The real-application lesson: I/O-bound work on a thread pool.
void http(Lesson& L) {
  using namespace std::chrono;
  const auto delay = L.quick() ? milliseconds(10) : milliseconds(100);  // server work per page
  const int pages = 50;
  httplib::Server server;
  server.new_task_queue = [] { return new httplib::ThreadPool(16); };
  server.Get(R"(/page/(\d+))", [delay](const httplib::Request& req, httplib::Response& res) {
    std::this_thread::sleep_for(delay);  // a slow backend: database, disk, another service
    res.set_content("page " + req.matches[1].str(), "text/plain");
  });
  // cpp-httplib listens with a backlog of 5: a burst of 8 connects would overflow it and
  // the kernel would retry the dropped ones after 1 s. Listening again on the bound socket
  // raises the backlog (Linux allows listen() on a listening socket).
  int listen_fd = -1;
  server.set_socket_options([&listen_fd](socket_t sock) {
    httplib::default_socket_options(sock);
    listen_fd = sock;
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  if (port > 0) ::listen(listen_fd, 128);
  if (port <= 0) {
    L.check("an HTTP server starts on 127.0.0.1", false, "could not bind a port");
    return;
  }
  weft::Thread serving(weft::ThreadOptions{"http-server", false},
                       [&] { server.listen_after_bind(); });
  serving.start();

  auto fetch = [port](int i) {  // def fetch(url): return requests.get(url).text
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(seconds(5));
    client.set_read_timeout(seconds(10));
    const auto res = client.Get("/page/" + std::to_string(i));
    if (!res || res->status != 200)
      throw std::runtime_error("GET /page/" + std::to_string(i) + " failed");
    return res->body;
  };
  int good = 0;
  double sequential = 0, pooled = 0;
  const Quietness load = L.measure([&] {
    good = 0;
    auto start = steady_clock::now();
    for (int i = 0; i < pages; ++i) {
      good += fetch(i) == "page " + std::to_string(i) ? 1 : 0;
      L.progress(0.5 * (i + 1) / pages, fmt("sequential %d/%d", i + 1, pages));
    }
    sequential = seconds_since(start);

    start = steady_clock::now();
    int done = 0;
    {
      weft::ThreadPoolExecutor executor(8, "fetch");
      std::vector<weft::Future<std::string>> futures;
      for (int i = 0; i < pages; ++i) futures.push_back(executor.submit(fetch, i));
      for (auto& f : weft::as_completed(futures)) {
        const std::string body = f.result();
        good += body.rfind("page ", 0) == 0 ? 1 : 0;
        ++done;
        L.progress(0.5 + 0.5 * done / pages, fmt("pool of 8 %d/%d", done, pages));
      }
      for (int i = 0; i < pages; ++i)
        good += futures[static_cast<std::size_t>(i)].result() == "page " + std::to_string(i) ? 0 : -1;
    }
    pooled = seconds_since(start);
  });
  server.stop();
  serving.join();

  const double speedup = sequential / pooled;
  L.print(fmt("server: http://127.0.0.1:%d/page/N, %lld ms per request", port,
              static_cast<long long>(delay.count())));
  L.print(fmt("sequential (50 URLs): %.2f seconds", sequential));
  L.print(fmt("ThreadPoolExecutor(8): %.2f seconds", pooled));
  L.print(fmt("Speedup: %.2fx", speedup));
  L.python({"(the guide's I/O-bound claim:)", "Threading IS effective",
            "Threads release GIL during I/O waits"});
  L.block(bar_chart({{"sequential", 1.0}, {"ThreadPoolExecutor(8)", speedup}}, "x"));
  L.explain(fmt("A real network round trip: weft-demo started an HTTP server (cpp-httplib) on "
                "127.0.0.1 whose handler waits %lld ms per request, then fetched 50 pages one "
                "after the other, then with 8 worker threads. While a thread waits for its "
                "reply it uses no CPU, so 8 of them overlap their waits: the ideal speed-up is "
                "8x (the server serves 16 at a time); what is left is connection set-up and "
                "scheduling on %u cores.",
                static_cast<long long>(delay.count()), std::thread::hardware_concurrency()));
  L.check("all 50 pages came back, each with its own content, both ways", good == 2 * pages,
          fmt("%d of %d", good, 2 * pages));
  L.claim("the pool of 8 is much faster than sequential (speed-up > 3x)", speedup > 3,
          fmt("%.2fx", speedup), load);
}

}  // namespace

TOUR_LESSON("pool", pool);
TOUR_LESSON("http", http);

}  // namespace tour
