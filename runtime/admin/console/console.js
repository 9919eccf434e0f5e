// The shoal operator console: the DAG laid out by pass, coloured by node state and updated from
// server-sent events; a node page with its facts, last outputs, window heat map and compute-time
// histogram; pause, resume and restart. Everything comes from the engine's admin commands
// (runtime/admin/console.hpp). No libraries: the page works with nothing but the engine.
"use strict";
const token = new URLSearchParams(location.search).get("token");
const SVG = "http://www.w3.org/2000/svg";
const W = 150, H = 52, GAP_X = 44, GAP_Y = 12, PAD = 16;
let graph = null;          // /api/graph
let boxes = new Map();     // node name → {g, rect, rate, x, y}
let counters = new Map();  // node name → {outputs, at} for rates
let selected = null;
let reloading = false;

// One admin command over HTTP; the token goes in a header (which also makes every request one
// a page of another site cannot send unasked).
async function api(cmd, params = {}, method = "GET") {
  const q = new URLSearchParams(params);
  const res = await fetch(`/api/${cmd}?${q}`, { method, headers: { Authorization: `Bearer ${token ?? ""}` } });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${cmd}: HTTP ${res.status}: ${text.slice(0, 200)}`);
  }
  if (!body.ok) throw new Error(body.error || `${cmd}: HTTP ${res.status}`);
  return body;
}

function el(tag, attrs = {}, parent = null, ns = SVG) {
  const e = document.createElementNS(ns, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

// Layered layout: a column per pass (sources first), each column ordered by the mean row of a
// node's inputs, so edges mostly run straight.
function layout(nodes) {
  const byPass = new Map();
  for (const n of nodes) (byPass.get(n.pass) ?? byPass.set(n.pass, []).get(n.pass)).push(n);
  const passes = [...byPass.keys()].sort((a, b) => a - b);
  const row = new Map();
  for (const p of passes) {
    const col = byPass.get(p);
    const mean = (n) => {
      const rows = n.inputs.map((i) => row.get(i.upstream)).filter((r) => r !== undefined);
      return rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : 0;
    };
    col.sort((a, b) => mean(a) - mean(b) || a.names[0].localeCompare(b.names[0]));
    col.forEach((n, i) => row.set(n.names[0], i));
  }
  const pos = new Map();
  passes.forEach((p, c) =>
    byPass.get(p).forEach((n, r) => pos.set(n.names[0], { x: PAD + c * (W + GAP_X), y: PAD + r * (H + GAP_Y) })));
  const height = Math.max(...passes.map((p) => byPass.get(p).length)) * (H + GAP_Y) + 2 * PAD;
  return { pos, width: passes.length * (W + GAP_X) + 2 * PAD, height };
}

function drawGraph() {
  const svg = document.getElementById("dag");
  svg.replaceChildren();
  const { pos, width, height } = layout(graph.nodes);
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  for (const n of graph.nodes) {
    const to = pos.get(n.names[0]);
    for (const i of n.inputs) {
      const from = pos.get(i.upstream);
      if (!from) continue;
      const x1 = from.x + W, y1 = from.y + H / 2, x2 = to.x, y2 = to.y + H / 2, mx = (x1 + x2) / 2;
      el("path", { class: "edge", d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}` }, svg);
    }
  }
  boxes = new Map();
  for (const n of graph.nodes) {
    const name = n.names[0], p = pos.get(name);
    const g = el("g", { class: "node", "data-name": name, transform: `translate(${p.x},${p.y})` }, svg);
    const rect = el("rect", { width: W, height: H, class: "WARMING" }, g);
    el("title", {}, g).textContent = `${n.names.join(", ")}\n${n.kind} · NodeID ${n.id.slice(0, 12)}`;
    el("text", { x: 8, y: 15, class: "name" }, g).textContent = name.length > 20 ? name.slice(0, 19) + "…" : name;
    el("text", { x: 8, y: 28, class: "kind" }, g).textContent = n.kind;
    const rate = el("text", { x: 8, y: 40, class: "rate" }, g);
    rate.textContent = "in …/s · out …/s";
    const more = el("text", { x: 8, y: 50 }, g);
    g.addEventListener("click", () => select(name).catch(() => {}));
    boxes.set(name, { g, rect, rate, more, kind: n.kind });
  }
  if (selected) boxes.get(selected)?.g.classList.add("selected");
}

// A live update: every node's state and counters (the admin `nodes` answer).
function onNodes(nodes) {
  const now = performance.now();
  for (const n of nodes) {
    const b = boxes.get(n.name);
    if (!b) continue;
    b.rect.setAttribute("class", n.state);
    b.g.dataset.state = n.state;
    const before = counters.get(n.name);
    const dt = before ? (now - before.at) / 1000 : 0;
    counters.set(n.name, { events_in: n.events_in, outputs: n.outputs, at: now });
    // A rate needs two updates: until then the box says so, not "0/s" (which reads as a stall).
    if (dt > 0) {
      const ev = (n.events_in - before.events_in) / dt;
      const out = (n.outputs - before.outputs) / dt;
      b.rate.textContent = `in ${ev.toFixed(0)}/s · out ${out.toFixed(0)}/s`;
    }
    b.more.textContent = `late ${n.late_dropped} · rejected ${n.rejected}`;
  }
  if (selected) {
    const n = nodes.find((x) => x.name === selected);
    if (n) setState(n.state);
  }
  if (graph && nodes.length !== graph.nodes.length && !reloading) {
    // A strategy came or went: lay the graph out again (once at a time).
    reloading = true;
    loadGraph().catch(() => {}).finally(() => (reloading = false));
  }
}

// The selected node's state, on its page and its box (at once after an action, before the
// next live update).
function setState(state) {
  const s = document.getElementById("node-state");
  s.textContent = state;
  s.className = `chip ${state}`;
  const b = boxes.get(selected);
  if (b) {
    b.rect.setAttribute("class", state);
    b.g.dataset.state = state;
  }
}

async function loadGraph() {
  const [g, v, st] = await Promise.all([api("graph"), api("version"), api("strategies")]);
  graph = g;
  document.getElementById("engine").textContent =
    `${v.engine} · shoal ${v.version} · ${g.distinct} distinct of ${g.declared} declared nodes (reuse ${g.reused}) · graph ${v.graph_hash.slice(0, 12)}`;
  drawGraph();
  const div = document.getElementById("strategies");
  div.replaceChildren();
  const list = st.strategies ?? [];
  if (list.length) {
    el("h3", {}, div, "http://www.w3.org/1999/xhtml").textContent = "Strategies";
    const t = el("table", {}, div, "http://www.w3.org/1999/xhtml");
    for (const s of list) {
      const tr = el("tr", {}, t, "http://www.w3.org/1999/xhtml");
      el("td", {}, tr, "http://www.w3.org/1999/xhtml").textContent = s.strategy;
      el("td", {}, tr, "http://www.w3.org/1999/xhtml").textContent = (s.nodes ?? []).join(", ");
    }
  }
}

function facts(rows) {
  const t = document.getElementById("node-facts");
  t.replaceChildren();
  for (const [k, v] of rows) {
    const tr = t.insertRow();
    tr.insertCell().textContent = k;
    tr.insertCell().textContent = typeof v === "string" ? v : JSON.stringify(v);
  }
}

// The numbers of an output value by series: a vector output gives one series per asset.
function series(value) {
  if (typeof value === "number") return { value };
  if (value && Array.isArray(value.assets)) {
    const out = {};
    for (const [k, v] of Object.entries(value))
      if (k !== "assets" && Array.isArray(v) && v.length === value.assets.length)
        value.assets.forEach((a, i) => { if (typeof v[i] === "number") out[Object.keys(value).length > 2 ? `${k}.${a}` : a] = v[i]; });
    return out;
  }
  const out = {};
  if (value && typeof value === "object")
    for (const [k, v] of Object.entries(value)) if (typeof v === "number") out[k] = v;
  return out;
}

const PALETTE = ["#0969da", "#cf222e", "#1a7f37", "#8250df", "#bf8700", "#1b7c83", "#d2386c", "#57606a"];

function drawChart(outputs) {
  const svg = document.getElementById("chart");
  svg.replaceChildren();
  const w = svg.clientWidth || 420, h = svg.clientHeight || 170;
  const lines = new Map();
  outputs.forEach((o, i) => {
    for (const [k, v] of Object.entries(series(o.value))) {
      if (!lines.has(k)) lines.set(k, []);
      lines.get(k).push([i, v]);
    }
  });
  const keys = [...lines.keys()].slice(0, 8);
  const all = keys.flatMap((k) => lines.get(k).map((p) => p[1])).filter(Number.isFinite);
  if (!all.length) {
    el("text", { x: 10, y: 20, class: "axis" }, svg).textContent = "no numeric outputs stored yet";
    return;
  }
  const lo = Math.min(...all), hi = Math.max(...all), span = hi - lo || 1, n = Math.max(outputs.length - 1, 1);
  keys.forEach((k, j) => {
    const d = lines.get(k).filter((p) => Number.isFinite(p[1]))
      .map(([i, v], m) => `${m ? "L" : "M"}${(30 + (i / n) * (w - 40)).toFixed(1)},${(10 + (1 - (v - lo) / span) * (h - 30)).toFixed(1)}`).join("");
    el("path", { d, fill: "none", stroke: PALETTE[j % PALETTE.length], "stroke-width": 1.2, class: "series", "data-series": k }, svg);
    el("text", { x: 34 + j * 52, y: h - 4, class: "axis", fill: PALETTE[j % PALETTE.length] }, svg).textContent = k.slice(0, 8);
  });
  el("text", { x: 2, y: 14, class: "axis" }, svg).textContent = hi.toPrecision(3);
  el("text", { x: 2, y: h - 20, class: "axis" }, svg).textContent = lo.toPrecision(3);
}

// The window as a heat map: per input a block of rows (assets, or one row for a number) by
// slots (oldest left), each cell coloured by its value within the block's range.
function drawHeatmap(win) {
  const div = document.getElementById("heatmap");
  div.replaceChildren();
  for (const input of win.inputs) {
    const cols = input.slots.length;
    const rowsByKey = new Map();
    input.slots.forEach((s, c) => {
      for (const [k, v] of Object.entries(series(s.v))) {
        if (!rowsByKey.has(k)) rowsByKey.set(k, new Array(cols).fill(NaN));
        rowsByKey.get(k)[c] = v;
      }
    });
    const rows = [...rowsByKey.values()];
    const label = document.createElement("div");
    label.textContent = `${input.input} ← ${input.upstream}: ${rows.length} × ${cols}`;
    div.appendChild(label);
    if (!rows.length || !cols) continue;
    const canvas = document.createElement("canvas");
    canvas.width = cols;
    canvas.height = rows.length;
    canvas.className = "heat";
    canvas.dataset.input = input.input;
    canvas.style.height = `${Math.min(12 * rows.length, 240)}px`;
    const ctx = canvas.getContext("2d");
    const vals = rows.flat().filter(Number.isFinite);
    const lo = Math.min(...vals), hi = Math.max(...vals), span = hi - lo || 1;
    rows.forEach((r, y) => r.forEach((v, x) => {
      if (!Number.isFinite(v)) { ctx.fillStyle = "#eee"; } else {
        const t = (v - lo) / span; // blue (low) → white → red (high)
        const red = t < 0.5 ? Math.round(510 * t) : 255, blue = t > 0.5 ? Math.round(510 * (1 - t)) : 255;
        ctx.fillStyle = `rgb(${red},${Math.min(red, blue)},${blue})`;
      }
      ctx.fillRect(x, y, 1, 1);
    }));
    div.appendChild(canvas);
  }
}

// The node's compute-time histogram from the Prometheus text (cumulative buckets → per bucket).
function drawHistogram(metrics, name) {
  const svg = document.getElementById("histogram");
  svg.replaceChildren();
  const w = svg.clientWidth || 420, h = svg.clientHeight || 170;
  const re = /^shoal_node_compute_seconds_bucket\{(.*)\} (\S+)$/;
  const buckets = [];
  for (const line of metrics.split("\n")) {
    const m = line.match(re);
    if (!m || !m[1].includes(`node="${name}"`)) continue;
    const le = (m[1].match(/le="([^"]+)"/) || [])[1];
    buckets.push([le, Number(m[2])]);
  }
  if (!buckets.length) {
    el("text", { x: 10, y: 20, class: "axis" }, svg).textContent = "no compute-time samples";
    return;
  }
  const counts = buckets.map(([le, c], i) => [le, c - (i ? buckets[i - 1][1] : 0)]);
  const max = Math.max(...counts.map((c) => c[1]), 1), bw = (w - 20) / counts.length;
  counts.forEach(([le, c], i) => {
    const bh = (c / max) * (h - 40);
    el("rect", { x: 10 + i * bw, y: h - 24 - bh, width: Math.max(bw - 2, 1), height: bh, fill: "#0969da", class: "bar" }, svg);
    if (i % 2 === 0) el("text", { x: 10 + i * bw, y: h - 10, class: "axis" }, svg).textContent = le === "+Inf" ? "∞" : `${Number(le) * 1e6}µs`;
  });
}

async function refreshNode() {
  if (!selected) return;
  const name = selected;
  const [info, outs, win, met] = await Promise.all([
    api("inspect", { node: name }),
    api("outputs", { node: name, n: 200 }).catch(() => ({ outputs: [] })),
    api("window", { node: name }).catch(() => ({ inputs: [] })),
    api("metrics"),
  ]);
  if (selected !== name) return;
  setState(info.state);
  facts([
    ["id", info.id], ["kind", `${info.kind} v${info.kind_version ?? "?"}`], ["names", (info.names ?? []).join(", ")],
    ["params", info.params ?? {}], ["inputs", info.inputs ?? []], ["reason", info.reason ?? ""],
    ["counters", info.counters ?? {}], ["notes", info.notes ?? {}], ["mailbox", info.mailbox ?? ""],
    ["window bytes", info.window_bytes ?? ""],
  ]);
  drawChart(outs.outputs);
  drawHeatmap(win);
  drawHistogram(met.text, name);
}

async function select(name) {
  for (const b of boxes.values()) b.g.classList.remove("selected");
  boxes.get(name)?.g.classList.add("selected");
  selected = name;
  document.getElementById("node-page").hidden = false;
  document.getElementById("hint").hidden = true;
  document.getElementById("node-name").textContent = name;
  history.replaceState(null, "", `#node=${encodeURIComponent(name)}`);
  await refreshNode().catch((e) => (document.getElementById("action-result").textContent = e.message));
}

async function act(cmd, extra = {}) {
  const out = document.getElementById("action-result");
  try {
    await api(cmd, { node: selected, ...extra }, "POST");
    out.textContent = `${cmd}: done`;
  } catch (e) {
    out.textContent = `${cmd}: ${e.message}`;
  }
  await refreshNode();
}

document.getElementById("pause").onclick = () => act("pause");
document.getElementById("resume").onclick = () => act("resume");
document.getElementById("restart").onclick = () => act("restart");

function listen() {
  const q = token ? `?token=${encodeURIComponent(token)}` : "";
  const events = new EventSource(`/api/events${q}`);
  const live = document.getElementById("live");
  events.onmessage = (e) => {
    const d = JSON.parse(e.data);
    if (!d.nodes) return;  // {"status": …} while the engine starts: the page is not up yet
    onNodes(d.nodes);
    live.textContent = "●";
    live.classList.add("on");
    document.body.dataset.live = "1";
  };
  events.onerror = () => { live.textContent = "○"; live.classList.remove("on"); };
}

// What the engine is doing while it starts (it answers only status and metrics until it is live).
function startingText(s) {
  const at = s.journal ? ` through journal record ${s.journal.through} of ${s.journal.last}` : '';
  return `${s.engine}: starting (${s.phase}${at}); this page loads once it is live`;
}

function boot() {
  loadGraph()
      .then(() => {
        onLoaded();
      })
      .catch(async (e) => {
        const header = document.getElementById('engine');
        const s = await api('status').catch(() => null);
        if (s && s.state === 'starting') {
          header.textContent = startingText(s);
          setTimeout(boot, 1000);
          return;
        }
        header.textContent = `cannot load: ${e.message}`;
      });
}

function onLoaded() {
  listen();
  const m = location.hash.match(/^#node=(.+)$/);
  let name = null;
  try {
    name = m && decodeURIComponent(m[1]);
  } catch {
    // a malformed address: no node page
  }
  if (name && boxes.has(name)) select(name).catch(() => {});
  setInterval(() => selected && refreshNode().catch(() => {}), 2000);
}

boot();
