// SPDX-License-Identifier: Apache-2.0
// tools/weft-demo/tour.cpp: the catalogue of lessons, the side-by-side report, progress,
// the summary, and the chart writers.
#include "tour.hpp"

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

namespace tour {

std::vector<Entry>& catalogue() {
  // The order of the tour: the guide's order, then what it names without showing.
  static std::vector<Entry> entries = {
      {"race", "Shared memory without a lock: lost updates", "Core patterns 1", "Thread"},
      {"lock", "Lock: the counter protected", "Core patterns 2", "Thread, Lock"},
      {"queue", "Queue: producer and consumer with a None sentinel", "Core patterns 3",
       "Thread, Queue"},
      {"event", "Event: signalling between threads", "Core patterns 4", "Thread, Event"},
      {"condition", "Condition: wait until data is ready", "Core patterns 5",
       "Thread, Condition"},
      {"semaphore", "Semaphore(2): at most two threads inside", "Core patterns 6",
       "Thread, Semaphore"},
      {"task-done", "Queue producer/consumer with task_done", "Communication 1",
       "Thread, Queue"},
      {"bounded-queue", "Queue(maxsize=3)", "Communication 1", "Queue"},
      {"event-signal", "Event: one thread waits, another signals", "Communication 2",
       "Thread, Event"},
      {"race-two", "The race with two threads", "Communication 3", "Thread"},
      {"acquire-release", "The race fixed with acquire()/release()", "Communication 3",
       "Thread, Lock"},
      {"with-lock", "`with lock:` is a scoped lock", "Communication 3", "Lock"},
      {"condition-notify", "Condition: wait and notify an item", "Communication 4",
       "Thread, Condition"},
      {"semaphore-resource", "Semaphore(2) guarding a resource", "Communication 5",
       "Thread, Semaphore"},
      {"daemon", "Daemon threads are abandoned at exit, others joined", "Daemon threads",
       "Thread"},
      {"rlock", "RLock: a lock its owner may take again", "named by the guide",
       "Thread, RLock"},
      {"barrier", "Barrier: threads meet before each phase", "named by the guide",
       "Thread, Barrier"},
      {"timer", "Timer: run later, or cancel", "named by the guide", "Timer"},
      {"pool", "ThreadPoolExecutor and as_completed", "named by the guide",
       "ThreadPoolExecutor"},
      {"process-pool", "A process pool for CPU-bound work", "named by the guide",
       "ProcessPoolExecutor"},
      {"food-delivery", "Food delivery: producer-consumer", "Real-life examples",
       "Thread, Queue"},
      {"traffic-signal", "Traffic signal: Event", "Real-life examples", "Thread, Event"},
      {"bank-transfer", "Bank transaction: Lock", "Real-life examples", "Thread, Lock"},
      {"printer", "Printer access: Semaphore", "Real-life examples", "Thread, Semaphore"},
      {"gil", "gil_demo.py: CPU vs I/O-bound, threads vs processes, GIL or not",
       "Understanding GIL", "Thread, Lock, ProcessPoolExecutor"},
      {"http", "A real I/O workload: 50 URLs, sequential vs ThreadPoolExecutor(8)",
       "Real applications", "ThreadPoolExecutor, cpp-httplib"},
  };
  return entries;
}

ChildFn daemon_child = nullptr;

Register::Register(const char* name, LessonFn fn) {
  for (auto& e : catalogue())
    if (e.name == name) {
      e.fn = fn;
      return;
    }
  std::fprintf(stderr, "weft-demo: lesson '%s' is missing from the catalogue\n", name);
  std::abort();
}

// ---- Lesson ----

std::chrono::nanoseconds Lesson::guide_time(double seconds) const {
  const double scaled = quick() ? seconds / 20 : seconds;
  return std::chrono::nanoseconds(static_cast<std::int64_t>(scaled * 1e9));
}

void Lesson::sleep(double seconds) const { std::this_thread::sleep_for(guide_time(seconds)); }

void Lesson::print(std::string line) {
  std::scoped_lock hold(mu_);
  out_.push_back(std::move(line));
}

std::vector<std::string> Lesson::lines() const {
  std::scoped_lock hold(mu_);
  return out_;
}

std::size_t Lesson::find(std::string_view line) const {
  std::scoped_lock hold(mu_);
  auto it = std::find(out_.begin(), out_.end(), line);
  return it == out_.end() ? std::string::npos : static_cast<std::size_t>(it - out_.begin());
}

bool Lesson::printed_in_order(std::initializer_list<std::string_view> wanted) const {
  std::scoped_lock hold(mu_);
  auto it = out_.begin();
  for (auto w : wanted) {
    it = std::find(it, out_.end(), w);
    if (it == out_.end()) return false;
    ++it;
  }
  return true;
}

bool Lesson::check(std::string promise, bool held, std::string measured) {
  std::scoped_lock hold(mu_);
  Check c;
  c.promise = std::move(promise);
  c.measured = std::move(measured);
  c.held = held;
  checks_.push_back(std::move(c));
  return held;
}

bool test_hook(std::string_view name) {
  const char* hooks = std::getenv("WEFT_DEMO_TEST");
  if (hooks == nullptr) return false;
  std::string_view rest = hooks;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    if (rest.substr(0, comma) == name) return true;
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  return false;
}

namespace {

// Seconds of CPU time the kernel counts as busy on all CPUs (/proc/stat's first line:
// user, nice, system, irq, softirq and steal, which includes guests), or -1 if unknown.
double machine_busy_seconds() {
  unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0,
                     softirq = 0, steal = 0;
  FILE* f = std::fopen("/proc/stat", "r");
  if (f == nullptr) return -1;
  const int n = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice,
                            &system, &idle, &iowait, &irq, &softirq, &steal);
  std::fclose(f);
  const long ticks = sysconf(_SC_CLK_TCK);
  if (n < 4 || ticks <= 0) return -1;
  return static_cast<double>(user + nice + system + irq + softirq + steal) /
         static_cast<double>(ticks);
}

// CPU seconds of this process's threads and of its children it has waited for.
double own_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  rusage children{};
  getrusage(RUSAGE_CHILDREN, &children);
  auto secs = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6;
  };
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9 +
         secs(children.ru_utime) + secs(children.ru_stime);
}

// The test hook "gate" (see tour.hpp): once per run, before the first measurement.
void pass_test_gate() {
  static std::once_flag once;
  std::call_once(once, [] {
    std::fprintf(stderr, "weft-demo test gate: a measurement starts; waiting for a line on stdin\n");
    std::fflush(stderr);
    char line[64];
    if (std::fgets(line, sizeof line, stdin) == nullptr) std::clearerr(stdin);  // EOF: go on
  });
}

// Timing claims are watched and judged in a full run, and with --quick under judge-quick.
bool claims_judged(const Settings& settings) {
  return !settings.quick || test_hook("judge-quick");
}

}  // namespace

CpuMeter::CpuMeter()
    : busy_(machine_busy_seconds()), own_(own_cpu_seconds()),
      start_(std::chrono::steady_clock::now()) {}

double CpuMeter::seconds() const { return seconds_since(start_); }

double CpuMeter::others_percent() const {
  const double busy = machine_busy_seconds(), own = own_cpu_seconds(), wall = seconds();
  if (busy_ < 0 || busy < 0 || wall <= 0) return -1;
  return std::max(0.0, (busy - busy_) - (own - own_)) / wall * 100;
}

Quietness Lesson::measure(const std::function<void()>& measurement) {
  constexpr double kMinWindow = 0.25;  // seconds
  constexpr int kMostRuns = 4;         // the first and up to three more
  const bool watched = claims_judged(settings_);
  if (test_hook("gate")) pass_test_gate();
  std::size_t printed = 0;
  {
    std::scoped_lock hold(mu_);
    printed = out_.size();
  }
  Quietness q;
  for (;;) {
    {
      std::scoped_lock hold(mu_);  // take back what a busy run printed
      out_.erase(out_.begin() + static_cast<std::ptrdiff_t>(printed), out_.end());
    }
    const CpuMeter meter;
    measurement();
    ++q.runs;
    if (!watched) return q;
    const double rest = kMinWindow - meter.seconds();
    if (rest > 0) std::this_thread::sleep_for(std::chrono::duration<double>(rest));
    q.others_percent = meter.others_percent();
    if (!q.busy() || q.runs == kMostRuns) return q;
  }
}

bool Lesson::claim(std::string promise, bool held, std::string measured, const Quietness& during) {
  Check c;
  c.promise = std::move(promise);
  c.measured = std::move(measured);
  c.held = held;
  c.timing = true;
  c.during = during;
  c.judged = claims_judged(settings_) && !during.busy();
  static std::atomic<bool> failed_one{false};
  if (test_hook("fail-claim") && !failed_one.exchange(true)) {
    c.held = false;
    c.judged = true;
    c.during.others_percent = 0;
    c.measured += "; test hook fail-claim: its threshold made impossible";
  }
  const bool counted_held = c.held;
  std::scoped_lock hold(mu_);
  checks_.push_back(std::move(c));
  return counted_held;
}

void Lesson::progress(double fraction, std::string label) {
  std::scoped_lock hold(mu_);
  fraction_ = std::clamp(fraction, 0.0, 1.0);
  label_ = std::move(label);
}

void Lesson::expect_seconds(double full_run_seconds) {
  std::scoped_lock hold(mu_);
  expected_ = quick() ? full_run_seconds / 20 : full_run_seconds;
}

double Lesson::progress_fraction(double elapsed, std::string* label) const {
  std::scoped_lock hold(mu_);
  *label = label_;
  if (fraction_ >= 0) return fraction_;
  if (expected_ > 0) return std::min(0.99, elapsed / expected_);
  return -1;
}

// ---- formatting ----

std::string fmt(const char* format, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, format);
  std::vsnprintf(buf, sizeof buf, format, ap);
  va_end(ap);
  return buf;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

namespace {

constexpr int kColumn = 44;  // width of each of the two columns
constexpr int kWidth = 92;   // width of notes

// Display width of a UTF-8 string (counts code points).
int width_of(std::string_view s) {
  int w = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++w;
  return w;
}

// Splits `s` into pieces of at most `width` code points (at spaces when possible).
std::vector<std::string> wrap(const std::string& s, int width) {
  std::vector<std::string> out;
  std::istringstream words(s);
  std::string word, line;
  while (words >> word) {
    while (width_of(word) > width) {  // a word longer than the line: cut it
      if (!line.empty()) out.push_back(std::move(line)), line.clear();
      out.push_back(word.substr(0, static_cast<std::size_t>(width)));
      word.erase(0, static_cast<std::size_t>(width));
    }
    if (!line.empty() && width_of(line) + 1 + width_of(word) > width)
      out.push_back(std::move(line)), line.clear();
    if (!line.empty()) line += ' ';
    line += word;
  }
  if (!line.empty() || out.empty()) out.push_back(line);
  return out;
}

std::string pad(std::string s, int width) {
  const int w = width_of(s);
  if (w < width) s.append(static_cast<std::size_t>(width - w), ' ');
  return s;
}

void print_columns(std::ostream& o, const std::vector<std::string>& left,
                   const std::vector<std::string>& right, const std::string& right_title) {
  std::vector<std::string> l, r;
  for (auto& s : left)
    for (auto& piece : wrap(s, kColumn)) l.push_back(piece);
  for (auto& s : right)
    for (auto& piece : wrap(s, kColumn)) r.push_back(piece);
  o << "  " << pad("weft (C++), this run", kColumn) << " | " << right_title << "\n";
  o << "  " << std::string(kColumn, '-') << " + " << std::string(kColumn, '-') << "\n";
  const std::size_t n = std::max(l.size(), r.size());
  for (std::size_t i = 0; i < n; ++i) {
    std::string a = i < l.size() ? l[i] : "", b = i < r.size() ? r[i] : "";
    o << "  " << pad(a, kColumn) << " | " << b << "\n";
  }
}

// Shows progress on stderr while a lesson runs (from 0.5 s on): a bar redrawn in place on
// a terminal, a line every second otherwise.
class Ticker {
 public:
  explicit Ticker(const Lesson& lesson) : lesson_(lesson), tty_(isatty(2) != 0) {
    thread_ = std::thread([this] { loop(); });
  }
  ~Ticker() {
    {
      std::scoped_lock hold(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
    if (drawn_ && tty_) std::fprintf(stderr, "\r\033[K");
  }

 private:
  void loop() {
    const auto start = std::chrono::steady_clock::now();
    double last_line = 0;
    std::unique_lock hold(mu_);
    while (!cv_.wait_for(hold, std::chrono::milliseconds(100), [this] { return stop_; })) {
      const double t = seconds_since(start);
      if (t < 0.5) continue;
      std::string label;
      const double f = lesson_.progress_fraction(t, &label);
      std::string line;
      if (f >= 0) {
        const int filled = static_cast<int>(f * 30);
        line = "  [" + std::string(static_cast<std::size_t>(filled), '#') +
               std::string(static_cast<std::size_t>(30 - filled), '.') + "] " +
               fmt("%3.0f%%  %.1f s  ", f * 100, t) + label;
      } else {
        line = fmt("  [running %.1f s] ", t) + label;
      }
      if (tty_) {
        std::fprintf(stderr, "\r\033[K%s", line.c_str());
        drawn_ = true;
      } else if (t - last_line >= 1.0) {
        std::fprintf(stderr, "%s\n", line.c_str());
        last_line = t;
      }
      std::fflush(stderr);
    }
  }

  const Lesson& lesson_;
  const bool tty_;
  bool drawn_ = false, stop_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

struct Totals {
  int lessons = 0, not_built = 0, promises = 0, held = 0, claims = 0, claims_judged = 0;
  int claims_held = 0, claims_busy = 0;
};

void run_one(std::ostream& o, const Entry& e, std::size_t index, std::size_t total,
             const Settings& settings, Totals& totals) {
  std::string head = fmt("== %zu/%zu  %s: %s ", index, total, e.name.c_str(), e.title.c_str());
  if (width_of(head) < kWidth) head.append(static_cast<std::size_t>(kWidth - width_of(head)), '=');
  o << "\n" << head << "\n";
  o << "   guide: " << e.source << "   weft: " << e.needs << "\n";
  if (e.fn == nullptr) {
    o << "  (not built in this weft-demo: it needs " << e.needs << ")\n";
    ++totals.not_built;
    return;
  }
  Lesson lesson(settings);
  const auto start = std::chrono::steady_clock::now();
  std::string error;
  {
    Ticker ticker(lesson);
    try {
      e.fn(lesson);
    } catch (const std::exception& ex) {
      error = ex.what();
    }
  }
  const double took = seconds_since(start);
  ++totals.lessons;
  // The guide shows code for its own sections; for what it only names, the right column is
  // what the same program prints in Python.
  const bool shown = e.source.rfind("Core", 0) == 0 || e.source.rfind("Communication", 0) == 0 ||
                     e.source == "Daemon threads" || e.source == "Understanding GIL";
  print_columns(o, lesson.lines(), lesson.python_lines(),
                shown ? "Python, as the guide says" : "Python, the same program");
  for (auto& n : lesson.notes()) {
    o << "\n";
    for (auto& piece : wrap(n, kWidth - 2)) o << "  " << piece << "\n";
  }
  for (auto& b : lesson.blocks()) o << "\n" << b;
  if (!lesson.blocks().empty()) o << "\n";
  o << "\n";
  for (auto& s : lesson.skipped()) o << "  [skipped] " << s << "\n";
  if (!error.empty()) lesson.check("the lesson runs to the end", false, "threw: " + error);
  if (std::getenv("WEFT_DEMO_INJECT_FAILURE") != nullptr)  // tests check the exit status
    lesson.check("an injected failure (WEFT_DEMO_INJECT_FAILURE is set)", false);
  for (auto& c : lesson.checks()) {
    std::string tag, measured = c.measured, why;
    if (!c.timing) {
      ++totals.promises;
      if (c.held) ++totals.held;
      tag = c.held ? "[held]  " : "[FAILED]";
    } else {
      ++totals.claims;
      if (c.judged) {
        ++totals.claims_judged;
        if (c.held) ++totals.claims_held;
        tag = c.held ? "[held]  " : "[FAILED]";
        if (c.during.others_percent >= 0)
          measured += fmt("%sother processes used %.0f%% of a core", measured.empty() ? "" : "; ",
                          c.during.others_percent);
      } else if (c.during.busy()) {
        ++totals.claims_busy;
        tag = "[not judged]";
        why = fmt("not judged: the machine was busy (other processes used %.0f%% of a core)",
                  c.during.others_percent) +
              fmt(", in each of %d measurements", c.during.runs);
      } else {
        tag = "[not judged, --quick]";
      }
    }
    o << "  " << tag << " " << (c.timing ? "timing: " : "") << c.promise;
    if (!measured.empty()) o << "  (" << measured << ")";
    o << "\n";
    if (!why.empty()) o << "      " << why << "\n";
  }
  o << fmt("  lesson time: %.2f s\n", took);
  o.flush();
}

}  // namespace

void list(std::ostream& out) {
  for (auto& e : catalogue())
    out << pad(e.name, 20) << e.title << (e.fn ? "" : "  [not built: needs " + e.needs + "]")
        << "\n";
}

int run(const std::vector<std::string>& names, Settings settings) {
  std::vector<const Entry*> chosen;
  if (names.empty()) {
    for (auto& e : catalogue()) chosen.push_back(&e);
  } else {
    for (auto& n : names) {
      auto it = std::find_if(catalogue().begin(), catalogue().end(),
                             [&](const Entry& e) { return e.name == n; });
      if (it == catalogue().end()) {
        std::cerr << "weft-demo: no lesson named '" << n << "' (see weft-demo --list)\n";
        return 2;
      }
      chosen.push_back(&*it);
    }
  }
  std::ostream& o = std::cout;
  o << "weft tour: the Python threading guide, lesson by lesson, in C++"
    << (settings.quick ? " (--quick: shrunk work, guide times / 20)" : "") << "\n";
  o << "cores: " << std::thread::hardware_concurrency();
  if (claims_judged(settings))
    o << fmt("; a timing claim is judged only if other processes used less than %.0f%% of a "
             "core while it was measured (up to 4 tries)",
             Quietness::kBusyPercent);
  o << "\n";
  Totals totals;
  for (std::size_t i = 0; i < chosen.size(); ++i)
    run_one(o, *chosen[i], i + 1, chosen.size(), settings, totals);
  const bool ok = totals.held == totals.promises && totals.claims_held == totals.claims_judged;
  o << "\n== Summary\n";
  o << fmt("Lessons run: %d of %zu", totals.lessons, chosen.size());
  if (totals.not_built) o << fmt(" (%d not built: their part of weft is missing)", totals.not_built);
  o << "\n";
  o << fmt("Promises held: %d of %d\n", totals.held, totals.promises);
  o << fmt("Timing claims held: %d of %d judged", totals.claims_held, totals.claims_judged);
  if (totals.claims_busy > 0)
    o << fmt("; %d not judged: the machine was busy while they were measured", totals.claims_busy);
  if (totals.claims > totals.claims_judged + totals.claims_busy)
    o << fmt("; %d not judged with --quick", totals.claims - totals.claims_judged - totals.claims_busy);
  o << "\n";
  o << (ok ? "Result: every promise held\n" : "Result: SOME PROMISES FAILED\n");
  o.flush();
  return ok ? 0 : 1;
}

// ---- charts ----

std::string bar_chart(const std::vector<Bar>& bars, std::string_view unit, int width) {
  double top = 0;
  std::size_t label_w = 0;
  for (auto& b : bars) {
    top = std::max(top, b.value);
    label_w = std::max(label_w, b.label.size());
  }
  if (top <= 0) top = 1;
  std::string out;
  for (auto& b : bars) {
    const double cells = b.value / top * width;
    const int full = static_cast<int>(cells);
    const int eighths = static_cast<int>((cells - full) * 8);
    static const char* const kParts[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
    std::string bar;
    for (int i = 0; i < full; ++i) bar += "█";
    bar += kParts[std::clamp(eighths, 0, 7)];
    out += "  " + b.label + std::string(label_w - b.label.size(), ' ') + " " + bar +
           fmt(" %.2f", b.value) + std::string(unit) + "\n";
  }
  return out;
}

namespace {
std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}
}  // namespace

bool write_svg_chart(const std::string& path, const std::string& title,
                     const std::vector<Bar>& bars, std::string_view unit) {
  double top = 1;
  for (auto& b : bars) top = std::max(top, b.value);
  const int label_w = 330, bar_w = 420, row = 30, head = 50;
  const int height = head + row * static_cast<int>(bars.size()) + 30;
  std::ofstream f(path);
  if (!f) return false;
  f << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << label_w + bar_w + 90
    << "\" height=\"" << height << "\" font-family=\"sans-serif\" font-size=\"13\">\n";
  f << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  f << "<text x=\"10\" y=\"24\" font-size=\"15\" font-weight=\"bold\">" << xml_escape(title)
    << "</text>\n";
  // The 1x line: no speed-up.
  const double one = 1.0 / top * bar_w;
  f << fmt("<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#888\" "
           "stroke-dasharray=\"4 3\"/>\n",
           label_w + one, head - 8, label_w + one, height - 22);
  f << fmt("<text x=\"%.1f\" y=\"%d\" fill=\"#666\" font-size=\"11\">1x</text>\n",
           label_w + one - 8, height - 8);
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const int y = head + row * static_cast<int>(i);
    const double w = bars[i].value / top * bar_w;
    const char* color = bars[i].value >= 1.3 ? "#3a7bd5" : "#d55e3a";
    f << "<text x=\"10\" y=\"" << y + 15 << "\">" << xml_escape(bars[i].label) << "</text>\n";
    f << fmt("<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"20\" fill=\"%s\"/>\n", label_w, y,
             w, color);
    f << fmt("<text x=\"%.1f\" y=\"%d\">%.2f%s</text>\n", label_w + w + 6, y + 15,
             bars[i].value, xml_escape(unit).c_str());
  }
  f << "</svg>\n";
  return static_cast<bool>(f);
}

}  // namespace tour
