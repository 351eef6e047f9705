// SPDX-License-Identifier: Apache-2.0
// The HTML timeline: one page, its data as inline JSON, drawn on a <canvas> by an inline
// script. No external resource, so it opens offline and from any file path.
//
// Layout (here, not in the script): within a lane, spans (waits, tasks, puts, gets) are
// stacked by nesting depth, so the spans of one row never overlap; lock holds, which need
// not nest, get the first free row under them, the holds of weft's internal locks
// ("<queue>.mutex") in rows of their own below (the page can hide them). Spans are
// written per lane in time order, so the script finds the spans in view of a row by
// binary search, and draws the ones narrower than a pixel as one column per pixel.
// Every string reaches the page through JSON.parse and textContent only.
#include <algorithm>
#include <cstdio>
#include <map>
#include <numeric>
#include <ostream>

#include "weft_trace.hpp"

namespace weft_trace {
namespace {

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

// JSON text written straight to the page, safe inside <script type="application/json">
// ('<' is escaped, so no "</script>" or "<!--" can appear). The strings come from a
// parsed JSON file, so they are valid UTF-8.
class JsonOut {
 public:
  explicit JsonOut(std::ostream& out) : out_(out) {}
  void raw(std::string_view s) { out_.write(s.data(), static_cast<std::streamsize>(s.size())); }
  void str(std::string_view s) {
    out_.put('"');
    for (const char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        out_.put('\\');
        out_.put(c);
      } else if (c == '\n') {
        raw("\\n");
      } else if (u < 0x20 || c == '<') {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", u);
        raw(buf);
      } else {
        out_.put(c);
      }
    }
    out_.put('"');
  }
  void num(double v) {  // microseconds: nanosecond precision
    char buf[40];
    const int n = std::snprintf(buf, sizeof buf, "%.3f", v);
    std::string_view s(buf, static_cast<std::size_t>(n));
    while (s.size() > 1 && s.back() == '0') s.remove_suffix(1);
    if (s.back() == '.') s.remove_suffix(1);
    raw(s);
  }
  void num(std::uint64_t v) { raw(std::to_string(v)); }
  void num(int v) { raw(std::to_string(v)); }
  void sep(bool& first) {
    if (!first) out_.put(',');
    first = false;
  }

 private:
  std::ostream& out_;
};

constexpr int kInternal = 8, kIdle = 16, kTimedOut = 32;  // flags beside the category

int flags_of(const Span& s) {
  return static_cast<int>(s.cat) | (s.internal ? kInternal : 0) | (s.idle ? kIdle : 0) |
         (s.timed_out ? kTimedOut : 0);
}

struct LaneRows {
  int spans = 1, holds = 0, internal_holds = 0;
};

// Orders `v` (spans or holds) per lane by time, parents first, and fills Span::depth.
// Spans nest; holds (grouped: the program's locks, then weft's internal ones) take the
// first free row of their group.
std::vector<std::size_t> layout(std::vector<Span>& v, bool holds, const std::map<int, std::size_t>& lane_of,
                                std::vector<LaneRows>& rows) {
  std::vector<std::size_t> order(v.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const Span& x = v[a];
    const Span& y = v[b];
    if (x.tid != y.tid) return x.tid < y.tid;
    if (x.ts != y.ts) return x.ts < y.ts;
    return x.dur > y.dur;
  });
  std::vector<double> open;       // spans: ends of the enclosing spans
  std::vector<double> row_end[2];  // holds: end of each row, per group
  int tid = 0;
  bool first = true;
  for (const std::size_t i : order) {
    Span& s = v[i];
    if (first || s.tid != tid) {
      open.clear();
      row_end[0].clear();
      row_end[1].clear();
      tid = s.tid;
      first = false;
    }
    const auto lane = lane_of.find(s.tid);
    if (lane == lane_of.end()) continue;
    LaneRows& r = rows[lane->second];
    if (!holds) {
      while (!open.empty() && s.ts >= open.back() && !(s.dur == 0 && s.ts == open.back()))
        open.pop_back();
      s.depth = static_cast<int>(open.size());
      open.push_back(s.ts + s.dur);
      r.spans = std::max(r.spans, s.depth + 1);
    } else {
      auto& ends = row_end[s.internal ? 1 : 0];
      std::size_t k = 0;
      while (k < ends.size() && ends[k] > s.ts) ++k;
      if (k == ends.size()) ends.push_back(0);
      ends[k] = s.ts + s.dur;
      s.depth = static_cast<int>(k);
      int& n = s.internal ? r.internal_holds : r.holds;
      n = std::max(n, static_cast<int>(k) + 1);
    }
  }
  return order;
}

const char* kHead = R"PAGE(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>@TITLE@</title>
<script>
"use strict";
// Errors of this page are shown on it (weft's tests fail on any).
window.weftErrors = [];
function weftError(text) {
  window.weftErrors.push(String(text));
  const e = document.getElementById("errors");
  if (e) { e.textContent += text + "\n"; e.style.display = "block"; }
}
window.addEventListener("error", (e) => weftError("error: " + e.message + " (line " + e.lineno + ")"));
window.addEventListener("unhandledrejection", (e) => weftError("unhandled rejection: " + e.reason));
</script>
<style>
 body{font:13px system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
 header{padding:8px 12px;background:#263238;color:#fff;display:flex;gap:14px;align-items:center;flex-wrap:wrap}
 header h1{font-size:15px;margin:0}
 header button{font:inherit;padding:2px 8px}
 header label{white-space:nowrap}
 .legend span{display:inline-block;width:12px;height:10px;margin:0 4px 0 10px;vertical-align:middle}
 #notice{padding:6px 12px;background:#fff3cd;color:#664d03;display:none}
 #errors{padding:6px 12px;background:#f8d7da;color:#58151c;display:none;margin:0}
 #wrap{position:relative;overflow:hidden;border-bottom:1px solid #ccc;cursor:grab;background:#fff}
 #wrap.drag{cursor:grabbing}
 #timeline{display:block}
 #labels div{position:absolute;left:6px;width:160px;overflow:hidden;white-space:nowrap;text-overflow:ellipsis;font-weight:600;font-size:11px;pointer-events:none}
 #labels div.counter{font-weight:400}
 #tip{position:absolute;display:none;pointer-events:none;background:#263238;color:#fff;padding:6px 8px;border-radius:4px;white-space:pre;font:12px ui-monospace,monospace;z-index:2;max-width:640px;overflow:hidden}
 #summary{padding:8px 12px}
 #summary table{border-collapse:collapse;margin:6px 0}
 #summary td,#summary th{padding:2px 10px;text-align:left;border-bottom:1px solid #e0e0e0}
 #summary td.n{text-align:right;font-variant-numeric:tabular-nums}
</style></head>
<body>
<header><h1 id="title"></h1>
 <span class="legend"><span style="background:#e4572e"></span>wait<span style="background:#f2b8a2"></span>idle wait<span style="background:#4c78a8"></span>lock held<span style="background:#54a24b"></span>task<span style="background:#9d755d"></span>put/get<span style="background:#555;height:2px"></span>hand-off</span>
 <span><button id="zin">+</button> <button id="zout">&minus;</button> <button id="zreset">all</button> <button id="zwhole" style="display:none">whole trace</button> <span id="range"></span></span>
 <label><input type="checkbox" id="show-flows"> hand-off arrows</label>
 <label><input type="checkbox" id="show-internal"> weft's internal locks</label>
 <span style="opacity:.8">wheel: zoom at the pointer &middot; drag: pan &middot; hover: details</span>
</header>
<div id="notice"></div>
<pre id="errors"></pre>
<div id="wrap"><canvas id="timeline"></canvas><div id="labels"></div><div id="tip"></div></div>
<div id="status"></div>
<div id="summary"></div>
<script type="application/json" id="data">)PAGE";

const char* kTail = R"PAGE(</script>
<script>
"use strict";
const T_SCRIPT = performance.now();
const D = JSON.parse(document.getElementById("data").textContent);
const T_PARSED = performance.now();
const S = D.strings;
const canvas = document.getElementById("timeline"), ctx = canvas.getContext("2d");
const wrap = document.getElementById("wrap"), tip = document.getElementById("tip"), labels = document.getElementById("labels");
const showFlows = document.getElementById("show-flows"), showInternal = document.getElementById("show-internal");
const LABEL = 170, ROW = 16, GAP = 8, AXIS = 24, COUNTER_H = 32, STRIDE = 8;
const WAIT = 0, TASK = 1, QUEUE = 2, HOLD = 3, OTHER = 4, INTERNAL = 8, IDLE = 16, TIMED_OUT = 32;
const CAT_NAMES = ["wait", "task", "queue", "hold", "other"];
// Colours by index: the categories, then an idle wait.
const COLORS = ["#e4572e", "#54a24b", "#9d755d", "#4c78a8", "#999999", "#f2b8a2"];
// Which colour a pixel column of many narrow spans takes: the highest rank.
const RANK = [5, 3, 2, 1, 0, 4];
const colorIndex = (flags) => ((flags & 7) === WAIT && (flags & IDLE)) ? 5 : (flags & 7);
document.getElementById("title").textContent = "weft timeline: " + D.title;
showFlows.checked = D.flows.length / 4 <= 2000;  // thousands of arrows hide the lanes
showInternal.checked = false;

function fmt(us) {
  const a = Math.abs(us);
  if (a >= 1e6) return (us / 1e6).toFixed(3) + " s";
  if (a >= 1e3) return (us / 1e3).toFixed(3) + " ms";
  return us.toFixed(3) + " \u00b5s";
}
// First index i in the non-decreasing array a with a[i] >= x.
function lowerBound(a, x) {
  let lo = 0, hi = a.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (a[mid] < x) lo = mid + 1; else hi = mid; }
  return lo;
}

// Rows: the items of each row, in time order (they never overlap within a row), with a
// running maximum of their ends for the binary search.
// rowOf(item index) -> the item's row within its lane.
function makeRows(src, rowCount, rowOf) {
  const lists = D.lanes.map((l) => Array.from({length: rowCount(l)}, () => []));
  for (let i = 0; i < src.length; i += STRIDE) {
    const list = lists[src[i]] && lists[src[i]][rowOf(i)];
    if (list) list.push(i);
  }
  return lists.map((rows) => rows.map((items) => {
    const n = items.length, start = new Float64Array(n), endMax = new Float64Array(n), at = new Int32Array(n);
    let m = -Infinity;
    for (let k = 0; k < n; k++) {
      const i = items[k];
      start[k] = src[i + 1]; m = Math.max(m, src[i + 1] + src[i + 2]); endMax[k] = m; at[k] = i;
    }
    return {src, start, endMax, at};
  }));
}
const spanRows = makeRows(D.spans, (l) => l[1], (i) => D.spans[i + 3]);
// Hold rows: the program's locks first, then weft's internal ones.
const holdRows = makeRows(D.holds, (l) => l[2] + l[3],
                          (i) => D.holds[i + 3] + ((D.holds[i + 4] & INTERNAL) ? D.lanes[D.holds[i]][2] : 0));
const counterMax = D.counters.map((c) => { let m = 1; for (let k = 1; k < c[1].length; k += 2) if (c[1][k] > m) m = c[1][k]; return m; });

let v0 = D.from, v1 = Math.max(D.end, D.from + 1);
let laneY = [], laneH = [], countersY = 0, height = 0, laneRowsShown = [];
function layout() {
  let y = AXIS;
  laneY = []; laneH = []; laneRowsShown = [];
  D.lanes.forEach((l) => {
    const rows = Math.max(1, l[1] + l[2] + (showInternal.checked ? l[3] : 0));
    laneY.push(y); laneH.push(rows * ROW + GAP); laneRowsShown.push(rows); y += rows * ROW + GAP;
  });
  countersY = y;
  y += D.counters.length * (COUNTER_H + GAP);
  height = y + 4;
  labels.textContent = "";
  D.lanes.forEach((l, i) => {
    const d = document.createElement("div");
    d.className = "lane"; d.dataset.name = l[0]; d.textContent = l[0];
    if (l[4]) d.title = l[4] + " older events dropped; complete from +" + fmt(l[5]);
    d.style.top = (laneY[i] + 2) + "px"; labels.appendChild(d);
  });
  D.counters.forEach((c, i) => {
    const d = document.createElement("div");
    d.className = "counter"; d.textContent = c[0] + " (max " + counterMax[i] + ")";
    d.style.top = (countersY + i * (COUNTER_H + GAP) + 2) + "px"; labels.appendChild(d);
  });
}

let cover = new Float32Array(0), colorAt = new Int8Array(0), touched = new Int32Array(0);
const drawn = {wait: 0, task: 0, queue: 0, hold: 0, other: 0, columns: 0, flows: 0};
function drawRow(row, y, h, width, scale) {
  const {src, start, endMax, at} = row, n = start.length;
  let count = 0;
  for (let k = lowerBound(endMax, v0); k < n; k++) {
    const s = start[k];
    if (s > v1) break;
    const i = at[k], flags = src[i + 4];
    if ((flags & INTERNAL) && !showInternal.checked) continue;
    let x0 = LABEL + (s - v0) * scale, x1 = x0 + src[i + 2] * scale;
    if (x1 < LABEL) continue;
    if (x0 < LABEL) x0 = LABEL;
    if (x1 > width) x1 = width;
    const c = colorIndex(flags);
    if (x1 - x0 >= 1.5) {
      ctx.fillStyle = COLORS[c];
      ctx.fillRect(x0, y, x1 - x0, h);
      drawn[CAT_NAMES[flags & 7]]++;
    } else {  // narrower than a pixel or two: summed into its pixel column
      const px = x0 | 0;
      if (cover[px] === 0) { touched[count++] = px; colorAt[px] = c; }
      else if (RANK[c] > RANK[colorAt[px]]) colorAt[px] = c;
      cover[px] += Math.max(x1 - x0, 0.1);
      drawn[CAT_NAMES[flags & 7]]++;
    }
  }
  for (let j = 0; j < count; j++) {
    const px = touched[j];
    ctx.globalAlpha = Math.min(1, 0.4 + cover[px]);
    ctx.fillStyle = COLORS[colorAt[px]];
    ctx.fillRect(px, y, 1, h);
    cover[px] = 0;
  }
  ctx.globalAlpha = 1;
  drawn.columns += count;
}

function render() {
  const width = Math.max(600, wrap.clientWidth || 1200), dpr = window.devicePixelRatio || 1;
  if (cover.length < width + 2) { cover = new Float32Array(width + 2); colorAt = new Int8Array(width + 2); touched = new Int32Array(width + 2); }
  canvas.width = Math.round(width * dpr); canvas.height = Math.round(height * dpr);
  canvas.style.width = width + "px"; canvas.style.height = height + "px";
  wrap.style.height = height + "px";
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, width, height);
  for (const k in drawn) drawn[k] = 0;
  const plot = width - LABEL - 10, scale = plot / (v1 - v0);
  const sx = (t) => LABEL + (t - v0) * scale;
  D.lanes.forEach((l, i) => { ctx.fillStyle = i % 2 ? "#fff" : "#f4f6f8"; ctx.fillRect(0, laneY[i], width, laneH[i]); });
  // Axis: a tick every 1, 2 or 5 times a power of ten.
  const span = v1 - v0, step = Math.pow(10, Math.floor(Math.log10(span / 8)));
  const nice = [1, 2, 5, 10].map((k) => k * step).find((s) => span / s <= 10) || step * 10;
  ctx.font = "11px system-ui,sans-serif"; ctx.strokeStyle = "#e3e3e3"; ctx.lineWidth = 1;
  for (let t = Math.ceil(v0 / nice) * nice, n = 0; t <= v1 && n < 50; t += nice, n++) {
    const x = Math.round(sx(t)) + 0.5;
    ctx.beginPath(); ctx.moveTo(x, AXIS - 6); ctx.lineTo(x, height); ctx.stroke();
    ctx.fillStyle = "#222"; ctx.fillText(fmt(t), x + 2, AXIS - 10);
  }
  ctx.save();
  ctx.beginPath(); ctx.rect(LABEL, 0, width - LABEL, height); ctx.clip();
  D.lanes.forEach((l, lane) => {
    const y = laneY[lane] + 2;
    spanRows[lane].forEach((row, r) => drawRow(row, y + r * ROW, ROW - 3, width, scale));
    const rows = holdRows[lane], own = l[2];
    rows.forEach((row, r) => {
      if (r >= own && !showInternal.checked) return;
      drawRow(row, y + (l[1] + r) * ROW, ROW - 5, width, scale);
    });
  });
  if (showFlows.checked) drawFlows(width, sx);
  drawCounters(width, sx, scale);
  ctx.restore();
  document.getElementById("range").textContent = fmt(v0) + " \u2013 " + fmt(v1);
  const st = document.getElementById("status");
  for (const k in drawn) st.dataset[k] = drawn[k];
}

// One arrow per (from lane, to lane, pixel column of its start): thousands of hand-offs
// in a pixel draw as one.
function drawFlows(width, sx) {
  const F = D.flows, seen = new Set();
  ctx.strokeStyle = "rgba(60,60,60,0.55)"; ctx.fillStyle = "rgba(60,60,60,0.8)"; ctx.lineWidth = 1;
  ctx.beginPath();
  for (let i = 0; i < F.length; i += 4) {
    const x0 = sx(F[i + 1]), x1 = sx(F[i + 3]);
    if (Math.max(x0, x1) < LABEL || Math.min(x0, x1) > width) continue;
    const key = (F[i] * 4096 + F[i + 2]) * 65536 + Math.round(x0);
    if (seen.has(key)) continue;
    seen.add(key);
    const y0 = laneY[F[i]] + ROW / 2, y1 = laneY[F[i + 2]] + ROW / 2;
    ctx.moveTo(x0, y0); ctx.lineTo(x1, y1);
    const a = Math.atan2(y1 - y0, x1 - x0);
    ctx.moveTo(x1, y1); ctx.lineTo(x1 - 6 * Math.cos(a - 0.4), y1 - 6 * Math.sin(a - 0.4));
    ctx.moveTo(x1, y1); ctx.lineTo(x1 - 6 * Math.cos(a + 0.4), y1 - 6 * Math.sin(a + 0.4));
    drawn.flows++;
  }
  ctx.stroke();
}

// Each counter as one bar per pixel column: the highest value in it.
function drawCounters(width, sx, scale) {
  D.counters.forEach((c, ci) => {
    const P = c[1], top = countersY + ci * (COUNTER_H + GAP), max = counterMax[ci];
    ctx.fillStyle = "#f4f6f8"; ctx.fillRect(LABEL, top, width - LABEL, COUNTER_H);
    ctx.fillStyle = "#8e44ad";
    const n = P.length / 2;
    let lo = 0, hi = n;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (P[2 * mid] < v0) lo = mid + 1; else hi = mid; }
    let value = lo > 0 ? P[2 * (lo - 1) + 1] : 0, px = LABEL, colMax = value;
    const bar = (x0, x1, v) => { const h = (v / max) * (COUNTER_H - 4); if (x1 > x0 && h > 0) ctx.fillRect(x0, top + COUNTER_H - 2 - h, x1 - x0, h); };
    for (let k = lo; k < n && P[2 * k] <= v1; k++) {
      const x = Math.floor(sx(P[2 * k]));
      if (x > px) { bar(px, px + 1, colMax); bar(px + 1, x, value); px = x; colMax = value; }
      value = P[2 * k + 1];
      if (value > colMax) colMax = value;
    }
    bar(px, px + 1, colMax); bar(px + 1, width, value);
  });
}

// The item under the pointer: lane and row from y, then a binary search in the row.
function itemAt(x, y) {
  const width = Math.max(600, wrap.clientWidth || 1200), scale = (width - LABEL - 10) / (v1 - v0);
  const lane = laneY.findIndex((ly, i) => y >= ly && y < ly + laneH[i]);
  if (lane < 0 || x < LABEL) return null;
  const r = Math.floor((y - laneY[lane] - 2) / ROW), l = D.lanes[lane];
  const row = r < l[1] ? spanRows[lane][r] : holdRows[lane][r - l[1]];
  if (!row || (r - l[1] >= l[2] && !showInternal.checked)) return null;
  const t = v0 + (x - LABEL) / scale, tol = 3 / scale;
  let best = null;
  for (let k = lowerBound(row.endMax, t - tol); k < row.start.length && row.start[k] <= t + tol; k++) {
    const i = row.at[k], flags = row.src[i + 4];
    if ((flags & INTERNAL) && !showInternal.checked) continue;
    if (row.src[i + 1] + row.src[i + 2] + tol >= t) { best = i; if (row.src[i + 1] <= t) break; }
  }
  return best === null ? null : {src: row.src, i: best, lane};
}
wrap.addEventListener("mousemove", (e) => {
  if (drag) return;
  const r = wrap.getBoundingClientRect(), hit = itemAt(e.clientX - r.left, e.clientY - r.top);
  if (!hit) { tip.style.display = "none"; return; }
  const {src, i} = hit, flags = src[i + 4];
  let text = S[src[i + 5]] + "\nthread: " + D.lanes[hit.lane][0] + "\nstart: +" + fmt(src[i + 1]) + "\nduration: " + fmt(src[i + 2]);
  if (S[src[i + 6]]) text += "\nsite: " + S[src[i + 6]];
  if (flags & IDLE) text += "\nidle: waits for work";
  if (flags & TIMED_OUT) text += "\ntimed out";
  if (S[src[i + 7]]) text += "\n" + S[src[i + 7]];
  tip.textContent = text;
  tip.style.display = "block";
  tip.style.left = Math.min(e.clientX - r.left + 12, r.width - 300) + "px";
  tip.style.top = (e.clientY - r.top + 12) + "px";
});
wrap.addEventListener("mouseleave", () => { tip.style.display = "none"; });

function zoom(factor, at) {
  const plot = (wrap.clientWidth || 1200) - LABEL - 10;
  const t = v0 + Math.max(0, Math.min(1, (at - LABEL) / plot)) * (v1 - v0);
  const nv = Math.max(0.01, (v1 - v0) * factor);
  v0 = t - (t - v0) * factor; v1 = v0 + nv;
  render();
}
wrap.addEventListener("wheel", (e) => { e.preventDefault(); zoom(e.deltaY < 0 ? 0.8 : 1.25, e.offsetX); }, {passive: false});
let drag = null;
wrap.addEventListener("mousedown", (e) => { drag = {x: e.clientX, v0, v1}; wrap.classList.add("drag"); tip.style.display = "none"; });
window.addEventListener("mouseup", () => { drag = null; wrap.classList.remove("drag"); });
window.addEventListener("mousemove", (e) => {
  if (!drag) return;
  const plot = (wrap.clientWidth || 1200) - LABEL - 10;
  const dt = (e.clientX - drag.x) / plot * (drag.v1 - drag.v0);
  v0 = drag.v0 - dt; v1 = drag.v1 - dt; render();
});
const middle = () => LABEL + ((wrap.clientWidth || 1200) - LABEL) / 2;
document.getElementById("zin").onclick = () => zoom(0.5, middle());
document.getElementById("zout").onclick = () => zoom(2, middle());
document.getElementById("zreset").onclick = () => { v0 = D.from; v1 = Math.max(D.end, D.from + 1); render(); };
document.getElementById("zwhole").onclick = () => { v0 = 0; v1 = Math.max(D.end, 1); render(); };
showFlows.onchange = render;
showInternal.onchange = () => { layout(); render(); };
window.addEventListener("resize", render);

if (D.dropped) {
  const n = document.getElementById("notice");
  const wrapped = D.lanes.filter((l) => l[4]).map((l) => "\u201c" + l[0] + "\u201d " + l[4]).join(", ");
  n.textContent = D.dropped + " older events were dropped (per-thread trace buffers full: " + wrapped + "). " +
    "The view starts at +" + fmt(D.from) + ", from where every thread's record is complete; \u201cwhole trace\u201d shows the earlier events that were kept.";
  n.style.display = "block";
  document.getElementById("zwhole").style.display = "";
}
// Summary.
(function () {
  const s = document.getElementById("summary"), M = D.summary;
  const h = document.createElement("h2"); h.textContent = "Summary"; s.appendChild(h);
  const p = document.createElement("p");
  p.textContent = D.lanes.length + " threads, " + fmt(D.end) + " traced; " + M.waits + " waits, " + D.holds.length / STRIDE + " lock holds, " + M.tasks + " tasks, " + D.flows.length / 4 + " queue hand-offs" + (D.dropped ? "; " + D.dropped + " older events dropped (buffers full)" : "") + ".";
  s.appendChild(p);
  const t = document.createElement("table");
  const head = t.insertRow(); ["object", "waits", "total wait", "max wait"].forEach((x) => { const th = document.createElement("th"); th.textContent = x; head.appendChild(th); });
  M.top.forEach((w) => { const r = t.insertRow(); [w.object, w.count, fmt(w.total), fmt(w.max)].forEach((x, k) => { const c = r.insertCell(); c.textContent = x; if (k) c.className = "n"; }); });
  const cap = document.createElement("p"); cap.textContent = "Top waits by object:"; s.appendChild(cap); s.appendChild(t);
  const l = document.createElement("p");
  l.textContent = "Longest single wait: " + (M.longest ? fmt(M.longest.dur) + " on " + M.longest.object + " by \u201c" + M.longest.thread + "\u201d" + (M.longest.site ? " at " + M.longest.site : "") : "none") + ". Most contended lock: " + (M.contended ? M.contended.object + " (" + M.contended.count + " waits, " + fmt(M.contended.total) + ")" : "none") + ".";
  s.appendChild(l);
})();
const T_PREPARED = performance.now();
layout();
render();
// For tests and measurements: ms since the page started loading, and per phase.
const status = document.getElementById("status");
status.dataset.drawn = "1";
status.dataset.ms = Math.round(performance.now());
status.dataset.parseMs = Math.round(T_PARSED - T_SCRIPT);
status.dataset.prepareMs = Math.round(T_PREPARED - T_PARSED);
status.dataset.renderMs = Math.round(performance.now() - T_PREPARED);
</script>
</body></html>
)PAGE";

}  // namespace

void write_html(std::ostream& out, Trace& t, const std::string& title) {
  std::map<int, std::size_t> lane_of;
  for (std::size_t i = 0; i < t.lanes.size(); ++i) lane_of[t.lanes[i].tid] = i;
  std::vector<LaneRows> rows(t.lanes.size());
  const auto span_order = layout(t.spans, false, lane_of, rows);
  const auto hold_order = layout(t.holds, true, lane_of, rows);
  const double t0 = t.start;

  std::string head = kHead;
  const std::string key = "@TITLE@";
  head.replace(head.find(key), key.size(), html_escape("weft timeline: " + title));
  JsonOut j(out);
  j.raw(head);
  j.raw("{\"title\":");
  j.str(title);
  j.raw(",\"end\":");
  j.num(t.end - t0);
  j.raw(",\"from\":");
  j.num(t.complete_from - t0);
  j.raw(",\"dropped\":");
  j.num(t.dropped);
  j.raw(",\n\"strings\":[");
  for (std::size_t i = 0; i < t.strings.size(); ++i) {
    if (i != 0) j.raw(",");
    j.str(t.strings[static_cast<std::uint32_t>(i)]);
  }
  // lanes: [name, span rows, hold rows, internal hold rows, dropped, complete from]
  j.raw("],\n\"lanes\":[");
  for (std::size_t i = 0; i < t.lanes.size(); ++i) {
    const Lane& l = t.lanes[i];
    j.raw(i != 0 ? ",[" : "[");
    j.str(l.name);
    j.raw(",");
    j.num(rows[i].spans);
    j.raw(",");
    j.num(rows[i].holds);
    j.raw(",");
    j.num(rows[i].internal_holds);
    j.raw(",");
    j.num(l.dropped);
    j.raw(",");
    j.num(l.dropped != 0 ? l.complete_from - t0 : 0.0);
    j.raw("]");
  }
  // spans and holds: flat, 8 numbers per item: lane, start, duration, row, flags, and
  // the string ids of name, site, info
  auto items = [&](const std::vector<Span>& v, const std::vector<std::size_t>& order) {
    bool first = true;
    for (const std::size_t i : order) {
      const Span& s = v[i];
      const auto lane = lane_of.find(s.tid);
      if (lane == lane_of.end()) continue;
      j.sep(first);
      j.num(static_cast<int>(lane->second));
      j.raw(",");
      j.num(s.ts - t0);
      j.raw(",");
      j.num(s.dur);
      j.raw(",");
      j.num(s.depth);
      j.raw(",");
      j.num(flags_of(s));
      j.raw(",");
      j.num(static_cast<int>(s.name));
      j.raw(",");
      j.num(static_cast<int>(s.site));
      j.raw(",");
      j.num(static_cast<int>(s.info));
    }
  };
  j.raw("],\n\"spans\":[");
  items(t.spans, span_order);
  j.raw("],\n\"holds\":[");
  items(t.holds, hold_order);
  // flows: flat, 4 per arrow: from lane, from time, to lane, to time
  j.raw("],\n\"flows\":[");
  bool first = true;
  for (const Flow& f : t.flows) {
    const auto a = lane_of.find(f.from_tid), b = lane_of.find(f.to_tid);
    if (a == lane_of.end() || b == lane_of.end()) continue;
    j.sep(first);
    j.num(static_cast<int>(a->second));
    j.raw(",");
    j.num(f.from_ts - t0);
    j.raw(",");
    j.num(static_cast<int>(b->second));
    j.raw(",");
    j.num(f.to_ts - t0);
  }
  // counters: [name, [time, value, time, value, ...]]
  j.raw("],\n\"counters\":[");
  first = true;
  for (const Counter& c : t.counters) {
    j.sep(first);
    j.raw("[");
    j.str(c.name);
    j.raw(",[");
    bool p_first = true;
    for (const auto& [ts, v] : c.points) {
      j.sep(p_first);
      j.num(ts - t0);
      j.raw(",");
      j.num(v);
    }
    j.raw("]]");
  }
  const Summary s = summarize(t);
  j.raw("],\n\"summary\":{\"waits\":");
  j.num(static_cast<std::uint64_t>(s.waits));
  j.raw(",\"tasks\":");
  j.num(static_cast<std::uint64_t>(s.tasks));
  j.raw(",\"top\":[");
  first = true;
  for (std::size_t i = 0; i < s.top.size() && i < 10; ++i) {
    j.sep(first);
    j.raw("{\"object\":");
    j.str(s.top[i].object);
    j.raw(",\"count\":");
    j.num(static_cast<std::uint64_t>(s.top[i].count));
    j.raw(",\"total\":");
    j.num(s.top[i].total);
    j.raw(",\"max\":");
    j.num(s.top[i].max);
    j.raw("}");
  }
  j.raw("]");
  if (s.longest) {
    j.raw(",\"longest\":{\"object\":");
    j.str(s.longest->object);
    j.raw(",\"thread\":");
    j.str(s.longest->thread);
    j.raw(",\"site\":");
    j.str(s.longest->site);
    j.raw(",\"dur\":");
    j.num(s.longest->dur);
    j.raw("}");
  }
  if (s.most_contended) {
    j.raw(",\"contended\":{\"object\":");
    j.str(s.most_contended->object);
    j.raw(",\"count\":");
    j.num(static_cast<std::uint64_t>(s.most_contended->count));
    j.raw(",\"total\":");
    j.num(s.most_contended->total);
    j.raw("}");
  }
  j.raw("}}");
  j.raw(kTail);
}

}  // namespace weft_trace
