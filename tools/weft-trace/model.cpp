// SPDX-License-Identifier: Apache-2.0
// Reading a trace: nlohmann-json's SAX parser feeds one event at a time into Reader,
// which keeps only what the summary and the page need.
#include "model.hpp"

// nlohmann-json trips gcc 12's -Wnull-dereference at -O3 (a false positive inside it).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wnull-dereference"
#endif
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace weft_trace {

std::uint32_t Strings::id(std::string_view s) {
  if (auto it = ids_.find(s); it != ids_.end()) return it->second;
  const auto id = static_cast<std::uint32_t>(all_.size());
  all_.emplace_back(s);
  ids_.emplace(all_.back(), id);
  return id;
}

namespace {

using nlohmann::json;

// A scalar of the file: its text (a string's value, or a number as written).
struct Scalar {
  std::string text;
  bool is_string = false;
  bool is_number = false;
  double number = 0;
};

// One trace event while it is read.
struct RawEvent {
  std::string ph, name, cat, id, bp;
  int tid = 0;
  bool has_ts = false;
  double ts = 0, dur = 0;
  std::vector<std::pair<std::string, Scalar>> args;
  void clear() {
    ph.clear();
    name.clear();
    cat.clear();
    id.clear();
    bp.clear();
    tid = 0;
    has_ts = false;
    ts = dur = 0;
    args.clear();
  }
  const Scalar* arg(std::string_view key) const {
    for (const auto& [k, v] : args)
      if (k == key) return &v;
    return nullptr;
  }
};

constexpr std::string_view kBufferFull = "trace buffer full: ";

// Where the parser is: each open array or object, and what it is.
enum class Ctx {
  root_object,  // {"traceEvents": [...], "otherData": {...}}
  events,       // the array of events
  event,        // one event object
  args,         // its "args"
  other,        // "otherData"
  threads,      // otherData.threads
  thread,       // one of them
  skip,         // anything else (skipped with its contents)
};

class Reader final : public nlohmann::json_sax<json> {
 public:
  explicit Reader(Trace& t) : t_(t) {}

  // Finishes the trace after the parse.
  void finish();

  bool null() override { return scalar(Scalar{"null", false, false, 0}); }
  bool boolean(bool v) override { return scalar(Scalar{v ? "true" : "false", false, false, 0}); }
  bool number_integer(number_integer_t v) override {
    return scalar(Scalar{std::to_string(v), false, true, static_cast<double>(v)});
  }
  bool number_unsigned(number_unsigned_t v) override {
    return scalar(Scalar{std::to_string(v), false, true, static_cast<double>(v)});
  }
  bool number_float(number_float_t v, const string_t& text) override {
    return scalar(Scalar{text, false, true, v});
  }
  bool string(string_t& v) override { return scalar(Scalar{std::move(v), true, false, 0}); }
  bool binary(binary_t&) override { return scalar(Scalar{"(binary)", false, false, 0}); }

  bool start_object(std::size_t) override {
    Ctx next = Ctx::skip;
    const Ctx at = stack_.empty() ? Ctx::root_object : stack_.back();
    if (stack_.empty()) {
      next = Ctx::root_object;
    } else if (at == Ctx::events) {
      next = Ctx::event;
      ev_.clear();
    } else if (at == Ctx::event && key_ == "args") {
      next = Ctx::args;
    } else if (at == Ctx::root_object && key_ == "otherData") {
      next = Ctx::other;
    } else if (at == Ctx::threads) {
      next = Ctx::thread;
      thread_ = {};
    }
    stack_.push_back(next);
    return true;
  }
  bool end_object() override {
    const Ctx at = stack_.back();
    stack_.pop_back();
    if (at == Ctx::event) add_event();
    if (at == Ctx::thread && thread_.tid_set) {
      auto& lane = lanes_[thread_.tid];
      lane.tid = thread_.tid;
      lane.dropped = thread_.dropped;
      lane.complete_from = thread_.complete_from;
      meta_threads_ = true;
    }
    return true;
  }
  bool start_array(std::size_t) override {
    Ctx next = Ctx::skip;
    if (stack_.empty() || (stack_.back() == Ctx::root_object && key_ == "traceEvents")) {
      next = Ctx::events;
      saw_events_ = true;
    } else if (stack_.back() == Ctx::other && key_ == "threads") {
      next = Ctx::threads;
    }
    stack_.push_back(next);
    return true;
  }
  bool end_array() override {
    stack_.pop_back();
    return true;
  }
  bool key(string_t& k) override {
    key_ = k;
    return true;
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& e) override {
    error_ = "at byte " + std::to_string(position) + ": " + e.what();
    return false;
  }

  const std::string& error() const { return error_; }
  bool saw_events() const { return saw_events_; }  // an array of events was found

 private:
  bool scalar(Scalar v) {
    if (stack_.empty()) return true;  // a bare scalar document: no events
    switch (stack_.back()) {
      case Ctx::event: event_field(std::move(v)); break;
      case Ctx::args: ev_.args.emplace_back(key_, std::move(v)); break;
      case Ctx::other:
        if (key_ == "dropped_events" && v.is_number) t_.dropped = static_cast<std::uint64_t>(v.number);
        if (key_ == "complete_from_ts" && v.is_number) complete_from_meta_ = v.number;
        break;
      case Ctx::thread:
        if (!v.is_number) break;
        if (key_ == "tid") {
          thread_.tid = static_cast<int>(v.number);
          thread_.tid_set = true;
        } else if (key_ == "dropped") {
          thread_.dropped = static_cast<std::uint64_t>(v.number);
        } else if (key_ == "complete_from_ts") {
          thread_.complete_from = v.number;
        }
        break;
      default: break;
    }
    return true;
  }

  void event_field(Scalar v) {
    if (key_ == "ph") {
      ev_.ph = std::move(v.text);
    } else if (key_ == "name") {
      ev_.name = std::move(v.text);
    } else if (key_ == "cat") {
      ev_.cat = std::move(v.text);
    } else if (key_ == "tid") {
      if (v.is_number) ev_.tid = static_cast<int>(v.number);
    } else if (key_ == "ts") {
      if (v.is_number) {
        ev_.ts = v.number;
        ev_.has_ts = true;
      }
    } else if (key_ == "dur") {
      if (v.is_number) ev_.dur = v.number;
    } else if (key_ == "id") {
      ev_.id = std::move(v.text);
    } else if (key_ == "bp") {
      ev_.bp = std::move(v.text);
    }
  }

  void note_time(double ts) {
    if (!any_time_ || ts < t_.start) t_.start = ts;
    if (!any_time_ || ts > t_.end) t_.end = ts;
    any_time_ = true;
  }

  // The span fields that come from args; the rest become its info lines.
  // (Interned: the same args recur, e.g. a queue's depth or an object's address; a
  // queue item's seq, which only pairs a put with its get, is left out.)
  void fill_span(Span& s) {
    s.name = t_.strings.id(ev_.name);
    s.object = s.name;
    info_.clear();
    for (auto& [k, v] : ev_.args) {
      if ((k == "object" || k == "queue" || k == "executor") && v.is_string) {
        s.object = t_.strings.id(v.text);
        if (k != "object") info_ += k + ": " + v.text + "\n";
      } else if (k == "kind" && v.is_string) {
        s.kind = t_.strings.id(v.text);
      } else if (k == "site" && v.is_string) {
        s.site = t_.strings.id(v.text);
      } else if (k == "timed_out" && v.text == "true") {
        s.timed_out = true;
      } else if (k == "idle" && v.text == "true") {
        s.idle = true;
      } else if (k != "timed_out" && k != "idle" && !(k == "seq" && s.cat == Cat::queue)) {
        info_ += k + ": " + v.text + "\n";
      }
    }
    if (!info_.empty()) info_.pop_back();
    s.info = t_.strings.id(info_);
    // weft names a queue's internal locks "<queue name>.mutex".
    const std::string& obj = t_.str(s.object);
    s.internal = obj.size() > 7 && obj.compare(obj.size() - 7, 7, ".mutex\"") == 0;
  }

  static Cat cat_of(const std::string& cat) {
    if (cat == "wait") return Cat::wait;
    if (cat == "task") return Cat::task;
    if (cat == "queue") return Cat::queue;
    if (cat == "hold") return Cat::hold;
    return Cat::other;
  }

  void add_event() {
    const std::string& ph = ev_.ph;
    if (ph == "M") {
      if (ev_.name != "thread_name" && ev_.name != "thread_sort_index") return;
      Lane& lane = lanes_[ev_.tid];
      lane.tid = ev_.tid;
      if (const Scalar* v = ev_.arg("name"); ev_.name == "thread_name" && v != nullptr)
        lane.name = v->text;
      if (const Scalar* v = ev_.arg("sort_index");
          ev_.name == "thread_sort_index" && v != nullptr && v->is_number)
        lane.sort_index = static_cast<int>(v->number);
      return;
    }
    if (!ev_.has_ts) return;
    const double ts = ev_.ts;
    note_time(ts);
    if (ph != "C" && lanes_.count(ev_.tid) == 0) lanes_[ev_.tid].tid = ev_.tid;
    if (ph == "X") {
      Span s;
      s.tid = ev_.tid;
      s.ts = ts;
      s.dur = ev_.dur;
      s.cat = cat_of(ev_.cat);
      fill_span(s);
      note_time(ts + s.dur);
      t_.spans.push_back(std::move(s));
    } else if (ph == "b") {
      Span s;
      s.tid = ev_.tid;
      s.ts = ts;
      s.cat = Cat::hold;
      fill_span(s);
      open_holds_[ev_.cat + "/" + ev_.id] = std::move(s);
    } else if (ph == "e") {
      if (auto it = open_holds_.find(ev_.cat + "/" + ev_.id); it != open_holds_.end()) {
        it->second.dur = ts - it->second.ts;
        t_.holds.push_back(std::move(it->second));
        open_holds_.erase(it);
      }
    } else if (ph == "s" || ph == "f") {
      // Paired as soon as both ends are in, so only unpaired ends stay in the map.
      auto [it, added] = flow_ends_.try_emplace(ev_.id);
      FlowEnd& other = it->second;
      if (!added && other.start != (ph == "s")) {
        if (other.start) {
          t_.flows.push_back(Flow{other.tid, ev_.tid, other.ts, ts});
        } else {
          t_.flows.push_back(Flow{ev_.tid, other.tid, ts, other.ts});
        }
        flow_ends_.erase(it);
      } else {
        other = FlowEnd{ph == "s", ev_.tid, ts};
      }
    } else if (ph == "C") {
      auto [it, added] = counter_of_.try_emplace(ev_.name, t_.counters.size());
      if (added) t_.counters.push_back(Counter{ev_.name, {}});
      for (const auto& [k, v] : ev_.args)
        if (v.is_number) t_.counters[it->second].points.emplace_back(ts, v.number);
    } else if (ph == "i" || ph == "I") {
      // Traces without per-thread metadata mark the first kept event of a thread
      // whose buffer wrapped with this instant.
      if (ev_.name.compare(0, kBufferFull.size(), kBufferFull) == 0) {
        Lane& lane = lanes_[ev_.tid];
        lane.tid = ev_.tid;
        if (!meta_threads_ && lane.dropped == 0) {
          lane.dropped = std::strtoull(ev_.name.c_str() + kBufferFull.size(), nullptr, 10);
          lane.complete_from = ts;
        }
      }
    }
  }

  struct ThreadMeta {
    int tid = 0;
    bool tid_set = false;
    std::uint64_t dropped = 0;
    double complete_from = 0;
  };
  struct FlowEnd {
    bool start = false;
    int tid = 0;
    double ts = 0;
  };

  Trace& t_;
  std::vector<Ctx> stack_;
  std::string key_;
  RawEvent ev_;
  std::string info_;
  ThreadMeta thread_;
  bool meta_threads_ = false;
  bool any_time_ = false;
  bool saw_events_ = false;
  double complete_from_meta_ = -1;
  std::string error_;
  std::map<int, Lane> lanes_;
  std::unordered_map<std::string, Span> open_holds_;
  std::unordered_map<std::string, FlowEnd> flow_ends_;
  std::unordered_map<std::string, std::size_t> counter_of_;
};

void Reader::finish() {
  t_.complete_from = t_.start;
  if (complete_from_meta_ >= 0) t_.complete_from = std::max(t_.complete_from, complete_from_meta_);
  for (auto& [tid, lane] : lanes_) {
    if (lane.name.empty()) lane.name = "thread " + std::to_string(tid);
    if (lane.dropped != 0) t_.complete_from = std::max(t_.complete_from, lane.complete_from);
    t_.lanes.push_back(lane);
  }
  t_.complete_from = std::min(t_.complete_from, t_.end);
  std::stable_sort(t_.lanes.begin(), t_.lanes.end(), [](const Lane& a, const Lane& b) {
    return a.sort_index != b.sort_index ? a.sort_index < b.sort_index : a.tid < b.tid;
  });
  for (Counter& c : t_.counters) std::stable_sort(c.points.begin(), c.points.end());
}

}  // namespace

Trace parse(std::istream& in, const std::string& source) {
  Trace t;
  Reader reader(t);
  if (!json::sax_parse(in, &reader))
    throw std::runtime_error(source + " is not valid JSON " + reader.error());
  if (!reader.saw_events())
    throw std::runtime_error(source +
                             " is not a trace: expected {\"traceEvents\": [...]} or an array");
  reader.finish();
  return t;
}

Trace load(const std::string& path) {
  std::ifstream in;
  std::vector<char> buffer(1 << 20);
  in.rdbuf()->pubsetbuf(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  in.open(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  return parse(in, path);
}

}  // namespace weft_trace
