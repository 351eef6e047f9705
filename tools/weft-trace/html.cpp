// The HTML timeline: one page, its data as inline JSON, drawn as inline SVG by an inline
// script. No external resource, so it opens offline and from any file path.
//
// Layout (here, not in the script): within a lane, spans (waits, tasks, puts, gets) are
// stacked by nesting depth; lock holds, which need not nest, get the first free row under
// them. Every string reaches the page through JSON.parse and textContent only.
#include <algorithm>
#include <cstdio>
#include <map>

#include "weft_trace.hpp"

namespace weft_trace {
namespace {

using nlohmann::json;

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// JSON text that is safe inside <script type="application/json">.
std::string script_safe(const json& j) {
  std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '<') {
      out += "\\u003c";  // no "</script>" or "<!--" can appear
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string details(const Span& s, const std::string& lane) {
  std::string d = s.name + "\nthread: " + lane;
  if (s.args.is_object()) {
    for (const auto& [k, v] : s.args.items()) d += "\n" + k + ": " + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  return d;
}

const char* kPage = R"PAGE(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>@TITLE@</title>
<style>
 body{font:13px system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
 header{padding:8px 12px;background:#263238;color:#fff;display:flex;gap:16px;align-items:center;flex-wrap:wrap}
 header h1{font-size:15px;margin:0}
 header button{font:inherit;padding:2px 8px}
 .legend span{display:inline-block;width:12px;height:10px;margin:0 4px 0 10px;vertical-align:middle}
 #wrap{position:relative;overflow:hidden;border-bottom:1px solid #ccc;cursor:grab;background:#fff}
 #wrap.drag{cursor:grabbing}
 svg text{font:11px system-ui,sans-serif;fill:#222}
 .lane-bg{fill:#f4f6f8}.lane-bg.odd{fill:#fff}
 .lane-label{font-weight:600}
 rect.wait{fill:#e4572e}rect.task{fill:#54a24b}rect.queue{fill:#9d755d}rect.other{fill:#999}
 rect.hold{fill:#4c78a8;fill-opacity:.75}
 rect.span:hover,rect.hold:hover{stroke:#000;stroke-width:1}
 line.flow{stroke:#555;stroke-width:1;marker-end:url(#arrow)}
 polyline.counter{fill:none;stroke:#8e44ad;stroke-width:1.5}
 #tip{position:absolute;display:none;pointer-events:none;background:#263238;color:#fff;padding:6px 8px;border-radius:4px;white-space:pre;font:12px ui-monospace,monospace;z-index:2;max-width:640px;overflow:hidden}
 #summary{padding:8px 12px}
 #summary table{border-collapse:collapse;margin:6px 0}
 #summary td,#summary th{padding:2px 10px;text-align:left;border-bottom:1px solid #e0e0e0}
 #summary td.n{text-align:right;font-variant-numeric:tabular-nums}
</style></head>
<body>
<header><h1 id="title"></h1>
 <span class="legend"><span style="background:#e4572e"></span>wait<span style="background:#4c78a8"></span>lock held<span style="background:#54a24b"></span>task<span style="background:#9d755d"></span>put/get<span style="background:#555;height:2px"></span>hand-off</span>
 <span><button id="zin">+</button> <button id="zout">&minus;</button> <button id="zreset">all</button> <span id="range"></span></span>
 <span style="opacity:.8">wheel: zoom at the pointer &middot; drag: pan &middot; hover: details</span>
</header>
<div id="wrap"><svg id="timeline" xmlns="http://www.w3.org/2000/svg"></svg><div id="tip"></div></div>
<div id="summary"></div>
<script type="application/json" id="data">@DATA@</script>
<script>
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const NS = "http://www.w3.org/2000/svg";
const svg = document.getElementById("timeline"), wrap = document.getElementById("wrap"), tip = document.getElementById("tip");
const LABEL = 170, ROW = 16, GAP = 8, AXIS = 24;
let v0 = D.start, v1 = Math.max(D.end, D.start + 1);
document.getElementById("title").textContent = "weft timeline: " + D.title;
function el(name, attrs, parent, text) {
  const e = document.createElementNS(NS, name);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  parent.appendChild(e);
  return e;
}
function fmt(us) {
  const a = Math.abs(us);
  if (a >= 1e6) return (us / 1e6).toFixed(3) + " s";
  if (a >= 1e3) return (us / 1e3).toFixed(3) + " ms";
  return us.toFixed(3) + " \u00b5s";
}
// Lane geometry.
let y = AXIS;
const laneY = [], laneH = [];
D.lanes.forEach((l, i) => {
  const rows = Math.max(1, l.rows);
  laneY.push(y); laneH.push(rows * ROW + GAP); y += rows * ROW + GAP;
});
const counterY = y;
y += D.counters.length * (ROW * 2 + GAP);
const height = y + 4;
function render() {
  const width = Math.max(600, wrap.clientWidth || 1200);
  const plot = width - LABEL - 10;
  const sx = (t) => LABEL + (t - v0) / (v1 - v0) * plot;
  svg.setAttribute("width", width); svg.setAttribute("height", height);
  svg.textContent = "";
  const defs = el("defs", {}, svg);
  const m = el("marker", {id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto-start-reverse"}, defs);
  el("path", {d: "M0,0 L10,5 L0,10 z", fill: "#555"}, m);
  // Axis.
  const span = v1 - v0, step = Math.pow(10, Math.floor(Math.log10(span / 8)));
  const nice = [1, 2, 5, 10].map(k => k * step).find(s => span / s <= 10) || step * 10;
  for (let t = D.start + Math.ceil((v0 - D.start) / nice) * nice; t <= v1; t += nice) {
    const x = sx(t);
    el("line", {x1: x, x2: x, y1: AXIS - 6, y2: height, stroke: "#e3e3e3"}, svg);
    el("text", {x: x + 2, y: AXIS - 10}, svg, fmt(t - D.start));
  }
  D.lanes.forEach((l, i) => {
    const g = el("g", {class: "lane", "data-name": l.name}, svg);
    el("rect", {class: "lane-bg" + (i % 2 ? " odd" : ""), x: 0, y: laneY[i], width: width, height: laneH[i]}, g);
    el("text", {class: "lane-label", x: 6, y: laneY[i] + 12}, g, l.name);
  });
  const clipL = LABEL, clipR = width;
  function bar(cls, i, lane, row, ts, dur, h) {
    let x0 = sx(ts), x1 = sx(ts + dur);
    if (x1 < clipL || x0 > clipR) return;
    x0 = Math.max(x0, clipL - 1); x1 = Math.min(x1, clipR + 1);
    el("rect", {class: cls, "data-i": i, x: x0, y: laneY[lane] + row * ROW + 2, width: Math.max(1, x1 - x0), height: h}, svg);
  }
  D.spans.forEach((s, i) => bar("span " + s[4], "s" + i, s[0], s[3], s[1], s[2], ROW - 3));
  D.holds.forEach((h, i) => bar("hold", "h" + i, h[0], h[3], h[1], h[2], ROW - 5));
  D.flows.forEach((f) => {
    const x0 = sx(f[1]), x1 = sx(f[3]);
    if (Math.max(x0, x1) < clipL || Math.min(x0, x1) > clipR) return;
    el("line", {class: "flow", x1: x0, y1: laneY[f[0]] + ROW / 2, x2: x1, y2: laneY[f[2]] + ROW / 2}, svg);
  });
  D.counters.forEach((c, i) => {
    const top = counterY + i * (ROW * 2 + GAP);
    const g = el("g", {class: "counter-lane"}, svg);
    el("rect", {class: "lane-bg", x: 0, y: top, width: width, height: ROW * 2}, g);
    el("text", {x: 6, y: top + 12}, g, c.name);
    const max = Math.max(1, ...c.points.map(p => p[1]));
    let pts = "", last = 0;
    c.points.forEach(p => {
      const x = Math.min(Math.max(sx(p[0]), clipL), clipR), yv = top + ROW * 2 - 2 - (p[1] / max) * (ROW * 2 - 4);
      pts += (pts ? x + "," + last + " " : "") + x + "," + yv + " ";
      last = yv;
    });
    if (pts) el("polyline", {class: "counter", points: pts + clipR + "," + last}, g);
    el("text", {x: LABEL - 40, y: top + 12}, g, "max " + max);
  });
  document.getElementById("range").textContent = fmt(v0 - D.start) + " \u2013 " + fmt(v1 - D.start);
}
function zoom(factor, at) {
  const width = wrap.clientWidth || 1200, plot = width - LABEL - 10;
  const t = v0 + Math.max(0, Math.min(1, (at - LABEL) / plot)) * (v1 - v0);
  const nv = Math.max(0.01, (v1 - v0) * factor);
  v0 = t - (t - v0) * factor; v1 = v0 + nv;
  render();
}
wrap.addEventListener("wheel", (e) => { e.preventDefault(); zoom(e.deltaY < 0 ? 0.8 : 1.25, e.offsetX); }, {passive: false});
let drag = null;
wrap.addEventListener("mousedown", (e) => { drag = {x: e.clientX, v0, v1}; wrap.classList.add("drag"); });
window.addEventListener("mouseup", () => { drag = null; wrap.classList.remove("drag"); });
window.addEventListener("mousemove", (e) => {
  if (!drag) return;
  const plot = (wrap.clientWidth || 1200) - LABEL - 10;
  const dt = (e.clientX - drag.x) / plot * (drag.v1 - drag.v0);
  v0 = drag.v0 - dt; v1 = drag.v1 - dt; render();
});
document.getElementById("zin").onclick = () => zoom(0.5, LABEL + ((wrap.clientWidth || 1200) - LABEL) / 2);
document.getElementById("zout").onclick = () => zoom(2, LABEL + ((wrap.clientWidth || 1200) - LABEL) / 2);
document.getElementById("zreset").onclick = () => { v0 = D.start; v1 = Math.max(D.end, D.start + 1); render(); };
svg.addEventListener("mousemove", (e) => {
  const i = e.target.getAttribute && e.target.getAttribute("data-i");
  if (!i) { tip.style.display = "none"; return; }
  const rec = i[0] === "s" ? D.spans[+i.slice(1)] : D.holds[+i.slice(1)];
  const start = rec[1] - D.start, dur = rec[2];
  tip.textContent = rec[5] + "\nstart: +" + fmt(start) + "\nduration: " + fmt(dur);
  tip.style.display = "block";
  const r = wrap.getBoundingClientRect();
  tip.style.left = Math.min(e.clientX - r.left + 12, r.width - 300) + "px";
  tip.style.top = (e.clientY - r.top + 12) + "px";
});
svg.addEventListener("mouseleave", () => { tip.style.display = "none"; });
window.addEventListener("resize", render);
// Summary.
(function () {
  const s = document.getElementById("summary"), S = D.summary;
  const h = document.createElement("h2"); h.textContent = "Summary"; s.appendChild(h);
  const p = document.createElement("p");
  p.textContent = D.lanes.length + " threads, " + fmt(D.end - D.start) + " traced; " + S.waits + " waits, " + D.holds.length + " lock holds, " + S.tasks + " tasks, " + D.flows.length + " queue hand-offs" + (D.dropped ? "; " + D.dropped + " older events dropped (buffers full)" : "") + ".";
  s.appendChild(p);
  const t = document.createElement("table");
  const head = t.insertRow(); ["object", "waits", "total wait", "max wait"].forEach(x => { const th = document.createElement("th"); th.textContent = x; head.appendChild(th); });
  S.top.forEach(w => { const r = t.insertRow(); [w.object, w.count, fmt(w.total), fmt(w.max)].forEach((x, k) => { const c = r.insertCell(); c.textContent = x; if (k) c.className = "n"; }); });
  const cap = document.createElement("p"); cap.textContent = "Top waits by object:"; s.appendChild(cap); s.appendChild(t);
  const l = document.createElement("p");
  l.textContent = "Longest single wait: " + (S.longest ? fmt(S.longest.dur) + " on " + S.longest.object + " by \u201c" + S.longest.thread + "\u201d" + (S.longest.site ? " at " + S.longest.site : "") : "none") + ". Most contended lock: " + (S.contended ? S.contended.object + " (" + S.contended.count + " waits, " + fmt(S.contended.total) + ")" : "none") + ".";
  s.appendChild(l);
})();
render();
</script>
</body></html>
)PAGE";

}  // namespace

std::string render_html(const Trace& t, const std::string& title) {
  std::map<int, std::size_t> lane_of;
  for (std::size_t i = 0; i < t.lanes.size(); ++i) lane_of[t.lanes[i].tid] = i;
  // Nesting depth of spans per lane (spans are in time order per thread in weft traces;
  // sort anyway: parents first).
  std::vector<Span> spans = t.spans;
  std::stable_sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    if (a.tid != b.tid) return a.tid < b.tid;
    if (a.ts != b.ts) return a.ts < b.ts;
    return a.dur > b.dur;
  });
  std::vector<int> rows(t.lanes.size(), 1);
  std::map<int, std::vector<double>> open;  // per lane: ends of enclosing spans
  for (Span& s : spans) {
    auto& stack = open[s.tid];
    while (!stack.empty() && s.ts >= stack.back() && !(s.dur == 0 && s.ts == stack.back()))
      stack.pop_back();
    s.depth = static_cast<int>(stack.size());
    stack.push_back(s.ts + s.dur);
    auto& r = rows[lane_of[s.tid]];
    r = std::max(r, s.depth + 1);
  }
  // Holds: first free row below the lane's spans.
  std::vector<Span> holds = t.holds;
  std::stable_sort(holds.begin(), holds.end(),
                   [](const Span& a, const Span& b) { return a.ts < b.ts; });
  std::map<int, std::vector<double>> row_end;  // per lane: end time of each hold row
  std::vector<int> hold_rows(t.lanes.size(), 0);
  for (Span& h : holds) {
    auto& ends = row_end[h.tid];
    std::size_t r = 0;
    while (r < ends.size() && ends[r] > h.ts) ++r;
    if (r == ends.size()) ends.push_back(0);
    ends[r] = h.ts + h.dur;
    h.depth = static_cast<int>(r);
    auto& hr = hold_rows[lane_of[h.tid]];
    hr = std::max(hr, static_cast<int>(r) + 1);
  }
  json data;
  data["title"] = title;
  data["start"] = t.start;
  data["end"] = t.end;
  data["dropped"] = t.dropped;
  data["lanes"] = json::array();
  for (std::size_t i = 0; i < t.lanes.size(); ++i)
    data["lanes"].push_back({{"name", t.lanes[i].name}, {"rows", rows[i] + hold_rows[i]}});
  data["spans"] = json::array();
  for (const Span& s : spans) {
    const std::size_t lane = lane_of[s.tid];
    const std::string cat = s.cat == "wait" || s.cat == "task" || s.cat == "queue" ? s.cat : "other";
    data["spans"].push_back({lane, s.ts, s.dur, s.depth, cat, details(s, t.lanes[lane].name)});
  }
  data["holds"] = json::array();
  for (const Span& h : holds) {
    const std::size_t lane = lane_of[h.tid];
    data["holds"].push_back(
        {lane, h.ts, h.dur, rows[lane] + h.depth, "hold", details(h, t.lanes[lane].name)});
  }
  data["flows"] = json::array();
  for (const Flow& f : t.flows)
    data["flows"].push_back({lane_of[f.from_tid], f.from_ts, lane_of[f.to_tid], f.to_ts});
  data["counters"] = json::array();
  for (const Counter& c : t.counters) {
    json pts = json::array();
    for (const auto& p : c.points) pts.push_back({p.first, p.second});
    data["counters"].push_back({{"name", c.name}, {"points", pts}});
  }
  const Summary s = summarize(t);
  json sum;
  sum["waits"] = s.waits;
  sum["tasks"] = s.tasks;
  sum["top"] = json::array();
  for (std::size_t i = 0; i < s.top.size() && i < 10; ++i)
    sum["top"].push_back({{"object", s.top[i].object},
                          {"count", s.top[i].count},
                          {"total", s.top[i].total},
                          {"max", s.top[i].max}});
  if (s.longest)
    sum["longest"] = {{"object", s.longest->object},
                      {"thread", s.longest->thread},
                      {"site", s.longest->site},
                      {"dur", s.longest->dur}};
  if (s.most_contended)
    sum["contended"] = {{"object", s.most_contended->object},
                        {"count", s.most_contended->count},
                        {"total", s.most_contended->total}};
  data["summary"] = sum;

  std::string page = kPage;
  auto put = [&](const std::string& key, const std::string& value) {
    const auto at = page.find(key);
    if (at != std::string::npos) page.replace(at, key.size(), value);
  };
  put("@DATA@", script_safe(data));  // first: the data may contain "@TITLE@"
  put("@TITLE@", html_escape("weft timeline: " + title));
  return page;
}

}  // namespace weft_trace
