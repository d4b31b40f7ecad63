// minikubelet's live view: the pods' Table and, for one pod, its probe timeline, the causes of
// its restarts and Ready changes, and its events. Everything arrives as server-sent events from
// the agent (server/dashboard/routes.py); nothing is reloaded, nothing comes from elsewhere.
"use strict";

const TOKEN = new URLSearchParams(location.search).get("token") || "";
const Q = "token=" + encodeURIComponent(TOKEN);
const SVG = "http://www.w3.org/2000/svg";
const KINDS = ["startup", "liveness", "readiness"];
const COLORS = { success: "#2e9d4f", failure: "#d2352b", unknown: "#e0a100",
                 Started: "#1778c2", Killed: "#d2352b", Exited: "#8a6d00" };
const $ = (sel) => document.querySelector(sel);

// -- times and words, as kubectl writes them -----------------------------------------------

function seconds(stamp) { return Date.parse(stamp) / 1000; }

function human(s) {  // apimachinery's HumanDuration, as printers/duration.py
  s = Math.trunc(s);
  if (s < -1) return "<invalid>";
  if (s < 120) return Math.max(0, s) + "s";
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  if (m < 180) return m + "m";
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  if (h < 48) return h + "h";
  const d = Math.floor(h / 24);
  if (h < 192) return h % 24 ? `${d}d${h % 24}h` : d + "d";
  if (h < 2 * 8760) return d + "d";
  const y = Math.floor(d / 365);
  if (h < 8 * 8760) return d % 365 ? `${y}y${d % 365}d` : y + "y";
  return y + "y";
}

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function svg(tag, attrs, parent) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

function detailText(d) {  // printers/causes.py detail_text, the same words
  if (!d) return "";
  const parts = [];
  const q = (t) => JSON.stringify(String(t).slice(0, 60)) + (String(t).length > 60 ? "..." : "");
  if ("exitCode" in d) parts.push("exit " + d.exitCode);
  if (d.timedOut) parts.push("timed out");
  for (const s of ["stdout", "stderr", "output"]) if (d[s]) parts.push(`${s} ${q(d[s])}`);
  if ("statusCode" in d) parts.push(`HTTP ${d.statusCode}`, `headers ${d.headerBytes || 0} B`,
                                    `body ${q(d.body || "")}`);
  if (d.servingStatus) parts.push(d.servingStatus);
  if (d.connected) parts.push("connected");
  if (d.error && !("statusCode" in d)) parts.push(d.error);
  return parts.join(", ");
}

// -- the pods ------------------------------------------------------------------------------

let selected = "";
// The Table once (`table`), then only the rows that changed (`rows`); AGE and the "(5m ago)"
// of RESTARTS move on here each second from the instants the row says they count from.
const pods = { columns: [], rows: new Map(), trs: new Map() };

function podKey(row) { return `${row.object.metadata.namespace}/${row.object.metadata.name}`; }

function byName(a, b) {  // as `get` lists them: by namespace, then by name
  const [na, a1] = a.split("/"), [nb, b1] = b.split("/");
  return na < nb ? -1 : na > nb ? 1 : a1 < b1 ? -1 : a1 > b1 ? 1 : 0;
}

function cellText(row, column, i) {
  const since = (row.since || {})[column.name];
  const text = String(row.cells[i]);
  if (since === undefined) return text;
  const ago = human(Date.now() / 1000 - since);
  return column.name === "Restarts" ? `${text.split(" (")[0]} (${ago} ago)` : ago;
}

function podsTable(table) {
  pods.columns = table.columnDefinitions.map((c, i) => [c, i]).filter(([c]) => c.priority === 0);
  const head = el("tr");
  head.appendChild(el("th", {}, "NAMESPACE"));
  for (const [c] of pods.columns) head.appendChild(el("th", {}, c.name.toUpperCase()));
  $("#pods thead").replaceChildren(head);
  pods.rows = new Map(table.rows.map((row) => [podKey(row), row]));
  pods.trs = new Map();
  renderPods(true);
}

function podsChanged(change) {
  for (const [key, row] of Object.entries(change.rows)) pods.rows.set(key, row);
  for (const key of change.deleted) pods.rows.delete(key);
  renderPods(false);
}

function podRow(key, row) {
  const tr = el("tr", { "data-pod": key });
  tr.appendChild(el("td", { "data-col": "NAMESPACE" }, row.object.metadata.namespace));
  for (const [c] of pods.columns) tr.appendChild(el("td", { "data-col": c.name.toUpperCase() }));
  tr.addEventListener("click", () => { location.hash = "pod=" + key; });
  return tr;
}

// Rows are kept and their cells rewritten in place (only those whose text differs); the rows
// are laid out again only when pods come or go. Called on each change and each second.
function renderPods(anew) {
  let moved = anew;
  for (const key of pods.trs.keys()) {
    if (!pods.rows.has(key)) { pods.trs.delete(key); moved = true; }
  }
  for (const [key, row] of pods.rows) {
    let tr = pods.trs.get(key);
    if (!tr) { pods.trs.set(key, tr = podRow(key, row)); moved = true; }
    pods.columns.forEach(([c, i], n) => {
      const td = tr.children[n + 1];
      const text = cellText(row, c, i);
      if (td.textContent !== text) td.textContent = text;
    });
  }
  if (!moved) return;
  const trs = [...pods.trs.keys()].sort(byName).map((key) => {
    const tr = pods.trs.get(key);
    tr.classList.toggle("selected", key === selected);
    return tr;
  });
  if (!trs.length) trs.push(el("tr", {}, "No resources found"));
  $("#pods tbody").replaceChildren(...trs);
}

function connectPods() {
  const source = new EventSource("/api/pods?" + Q);
  source.addEventListener("table", (e) => {
    $("#status").textContent = "live";
    podsTable(JSON.parse(e.data));
  });
  source.addEventListener("rows", (e) => podsChanged(JSON.parse(e.data)));
  source.onerror = () => { $("#status").textContent = "reconnecting…"; };
}

// -- one pod -------------------------------------------------------------------------------

const view = { source: null, pod: null, entries: [], events: [], seqs: new Set(), dirty: false };

function openPod(key) {
  if (view.source) view.source.close();
  Object.assign(view, { pod: null, entries: [], events: [], seqs: new Set() });
  selected = key;
  document.querySelectorAll("#pods tbody tr").forEach((tr) =>
    tr.classList.toggle("selected", tr.dataset.pod === key));
  $("#pod-view").hidden = !key;
  if (!key) return;
  const [ns, name] = key.split("/");
  $("#pod-title").textContent = `pod ${name} (namespace ${ns})`;
  $("#details").hidden = true;
  const source = new EventSource(`/api/pods/${encodeURIComponent(ns)}/${encodeURIComponent(name)}?${Q}`);
  view.source = source;
  source.addEventListener("pod", (e) => { view.pod = JSON.parse(e.data); changed(); });
  source.addEventListener("entry", (e) => {
    const entry = JSON.parse(e.data);
    if (view.seqs.has(entry.seq)) return;
    view.seqs.add(entry.seq);
    view.entries.push(entry);
    changed();
  });
  source.addEventListener("events", (e) => { view.events = JSON.parse(e.data); renderEvents(); });
  source.addEventListener("event", (e) => {  // one event added, changed or deleted: by uid
    const { type, object } = JSON.parse(e.data);
    const id = (x) => x.metadata.uid || x.metadata.name;
    view.events = view.events.filter((x) => id(x) !== id(object));
    if (type !== "DELETED") view.events.push(object);
    renderEvents();
  });
  source.addEventListener("gone", () => {
    $("#pod-line").textContent = "the pod was deleted";
    source.close();
  });
}

function changed() {
  if (view.dirty) return;
  view.dirty = true;
  requestAnimationFrame(() => { view.dirty = false; renderPod(); });
}

function podStart() {
  const p = view.pod || {};
  const stamp = (p.status || {}).startTime || (p.metadata || {}).creationTimestamp;
  if (stamp) return seconds(stamp);
  const times = view.entries.map((e) => seconds(e.time)).filter((t) => !isNaN(t));
  return times.length ? Math.min(...times) : Date.now() / 1000;
}

function thresholds(probe) {
  const parts = [];
  if (probe.initialDelaySeconds) parts.push(`delay=${probe.initialDelaySeconds}s`);
  if ((probe.timeoutSeconds || 1) !== 1) parts.push(`timeout=${probe.timeoutSeconds}s`);
  parts.push(`period=${probe.periodSeconds || 10}s`);
  if ((probe.successThreshold || 1) !== 1) parts.push(`#success=${probe.successThreshold}`);
  parts.push(`#failure=${probe.failureThreshold || 3}`);
  return parts.join(" ");
}

function renderPod() {
  if (!view.pod) return;
  const status = view.pod.status || {};
  const cs = status.containerStatuses || [];
  const ready = cs.filter((c) => c.ready).length;
  const restarts = cs.reduce((n, c) => n + (c.restartCount || 0), 0);
  $("#pod-line").textContent = `${status.phase || "Pending"}, ready ${ready}/${cs.length},`
    + ` restarts ${restarts}, IP ${status.podIP || "<none>"}`;
  renderChart();
  renderCauses();
}

function rows() {
  const spec = view.pod.spec || {};
  const containers = [...(spec.initContainers || []), ...(spec.containers || [])];
  const many = containers.length > 1;
  const probes = [];
  const lifecycle = [];
  for (const c of containers) {
    for (const kind of KINDS) {
      const probe = c[kind + "Probe"];
      if (probe) probes.push({ key: `${c.name}/${kind}`, label: many ? `${c.name} ${kind}` : kind,
                               limits: thresholds(probe) });
    }
    lifecycle.push({ key: c.name, label: many ? `${c.name} container` : "container" });
  }
  return { probes, lifecycle };
}

function tick(span) {
  for (const step of [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600]) {
    if (span / step <= 12) return step;
  }
  return 7200;
}

function renderChart() {
  const chart = $("#chart");
  const start = podStart();
  const now = Date.now() / 1000;
  const span = Math.max(10, now - start + 1);
  const { probes, lifecycle } = rows();
  const labelW = 330;
  const width = Math.max(700, $("#chart-box").clientWidth - 2);
  const plot = width - labelW - 20;
  const rowH = 26;
  const all = [...probes, ...lifecycle, { key: "Ready", label: "Ready" }];
  const height = 30 + all.length * rowH + 10;
  const x = (t) => labelW + ((t - start) / span) * plot;
  chart.setAttribute("width", width);
  chart.setAttribute("height", height);
  chart.replaceChildren();
  const step = tick(span);
  for (let s = 0; s <= span; s += step) {
    svg("line", { x1: x(start + s), x2: x(start + s), y1: 22, y2: height - 5, class: "grid" }, chart);
    svg("text", { x: x(start + s) + 2, y: 14, class: "axis" }, chart).textContent = s + "s";
  }
  const y = {};
  all.forEach((row, i) => {
    y[row.key] = 30 + i * rowH + rowH / 2;
    const label = svg("text", { x: 6, y: y[row.key] + 4 }, chart);
    label.textContent = row.label + (row.limits ? "  " + row.limits : "");
  });
  drawReady(chart, x, y.Ready, start, now);
  const entries = [...view.entries].sort((a, b) => seconds(a.time) - seconds(b.time));
  for (const e of entries) {
    const t = seconds(e.time);
    if (isNaN(t)) continue;
    if (e.kind === "Probe" && y[`${e.container}/${e.probe}`] !== undefined) {
      drawProbe(chart, x(t), y[`${e.container}/${e.probe}`], e);
    } else if (e.kind === "Container" && y[e.container] !== undefined) {
      drawEvent(chart, x(t), y[e.container], e);
    }
  }
}

function mark(group, entry, title) {
  group.classList.add("mark");
  group.dataset.seq = entry.seq;
  svg("title", {}, group).textContent = title;
  group.addEventListener("click", () => showDetails(entry));
  return group;
}

function attemptTitle(e, start) {
  const at = (seconds(e.time) - (start || podStart())).toFixed(1);
  const extra = detailText(e.detail);
  return `${at}s ${e.container}#${e.instance} ${e.probe}: ${e.result}`
    + (e.count ? ` (${e.count})` : "") + (e.changed ? ", changed the result" : "")
    + (e.message ? `\n${e.message}` : "") + (extra ? `\n${extra}` : "");
}

function drawProbe(chart, cx, cy, e) {
  const g = mark(svg("g", { class: `mark probe ${e.result}`, "data-probe": e.probe }, chart), e,
                 attemptTitle(e));
  const color = COLORS[e.result] || COLORS.unknown;
  if (e.result === "success") {
    svg("circle", { cx, cy, r: 5, fill: color }, g);
  } else if (e.result === "failure") {
    svg("path", { d: `M${cx - 5},${cy - 5}L${cx + 5},${cy + 5}M${cx - 5},${cy + 5}L${cx + 5},${cy - 5}`,
                  stroke: color, "stroke-width": 2.5 }, g);
    svg("rect", { x: cx - 6, y: cy - 6, width: 12, height: 12, fill: "transparent" }, g);
  } else {
    svg("rect", { x: cx - 5, y: cy - 5, width: 10, height: 10, fill: color }, g);
  }
  if (e.changed) svg("circle", { cx, cy, r: 9, fill: "none", stroke: color, "stroke-width": 1 }, g);
}

function drawEvent(chart, cx, cy, e) {
  const words = { Started: "started", Killed: "killed", Exited: "exited" };
  let title = `${(seconds(e.time) - podStart()).toFixed(1)}s ${e.container}#${e.instance} ${words[e.event] || e.event}`;
  if (e.message) title += `: ${e.message}`;
  if (e.event === "Exited") title += `: ${e.reason || "Exited"} (exit code ${e.exitCode || 0})`;
  if (e.cause) title += `\nbecause ${e.cause.summary}`;
  const g = mark(svg("g", { class: `mark container ${e.event}` }, chart), e, title);
  svg("rect", { x: cx - 8, y: cy - 9, width: 16, height: 18, rx: 3, fill: COLORS[e.event] || "#666" }, g);
  const letter = svg("text", { x: cx - 4, y: cy + 4, fill: "#fff" }, g);
  letter.setAttribute("style", "fill:#fff;font-weight:bold");
  letter.textContent = (e.event || "?")[0];
}

function drawReady(chart, x, cy, start, now) {
  const changes = view.entries.filter((e) => e.kind === "Condition" && e.condition === "Ready")
    .map((e) => [seconds(e.time), e.status === "True", e]).sort((a, b) => a[0] - b[0]);
  changes.forEach(([t, value, e], i) => {
    const end = i + 1 < changes.length ? changes[i + 1][0] : now;
    const from = Math.max(t, start);
    const g = svg("g", { class: `ready ${value}` }, chart);
    svg("rect", { x: x(from), y: value ? cy - 7 : cy + 3, width: Math.max(1, x(end) - x(from)),
                  height: value ? 14 : 4, fill: value ? COLORS.success : "#b9bfcc" }, g);
    mark(g, e, `${(t - start).toFixed(1)}s Ready=${value ? "True" : "False"}`
      + (e.cause ? `\nbecause ${e.cause.summary}` : ""));
  });
}

function showDetails(entry) {
  const box = $("#details");
  const lines = [];
  const at = (seconds(entry.time) - podStart()).toFixed(1) + "s";
  if (entry.kind === "Probe") {
    lines.push(`${entry.probe} probe of ${entry.container}#${entry.instance} at ${at}`,
      `result:  ${entry.result}${entry.changed ? " (crossed the threshold: the result changed)" : ""}`,
      `count:   ${entry.count || "-"}`, `latency: ${entry.durationMs}ms`,
      `message: ${entry.message || ""}`);
    for (const [k, v] of Object.entries(entry.detail || {})) lines.push(`${k}: ${v}`);
  } else {
    lines.push(`${entry.kind} ${entry.event || entry.condition} ${entry.status || ""} at ${at}`.trim());
    for (const k of ["container", "instance", "reason", "message", "exitCode"]) {
      if (entry[k] !== undefined && entry[k] !== "") lines.push(`${k}: ${entry[k]}`);
    }
    if (entry.logs) lines.push("last lines logged:", ...entry.logs.map((l) => "  " + l));
    if (entry.cause) lines.push(...causeText(entry.cause));
  }
  box.textContent = lines.join("\n");
  box.hidden = false;
}

function causeText(cause) {
  const out = [`because ${cause.summary}`];
  for (const a of cause.attempts || []) out.push("  " + attemptTitle(a).replace(/\n/g, "\n    "));
  if (cause.logs) out.push("  last lines logged:", ...cause.logs.map((l) => "    " + l));
  return out;
}

function renderCauses() {
  const start = podStart();
  const items = [];
  const sorted = [...view.entries].sort((a, b) => seconds(a.time) - seconds(b.time));
  for (const e of sorted) {
    const at = (seconds(e.time) - start).toFixed(1) + "s";
    let head = null;
    if (e.kind === "Container" && e.event === "Killed") {
      head = `${at} killed ${e.container} #${e.instance}: ${e.message || ""}`;
    } else if (e.kind === "Container" && e.event === "Started" && e.instance > 0) {
      head = `${at} restarted ${e.container} (restart ${e.instance})`;
    } else if (e.kind === "Container" && e.event === "Exited") {
      head = `${at} exited ${e.container} #${e.instance}: ${e.reason || "Exited"} (exit code ${e.exitCode || 0})`;
    } else if (e.kind === "Condition" && e.condition === "Ready" && e.cause) {
      head = `${at} Ready=${e.status}`;
    }
    if (head === null) continue;
    const li = el("li", { class: `cause ${e.kind} ${e.event || e.condition}`, "data-seq": e.seq });
    li.appendChild(el("div", { class: "head" }, head));
    if (e.cause) {
      li.appendChild(el("div", { class: "because" }, "because " + e.cause.summary));
      const list = el("ul", { class: "attempts" });
      for (const a of e.cause.attempts || []) list.appendChild(el("li", {}, attemptTitle(a, start)));
      if (list.children.length) li.appendChild(list);
    }
    const logs = e.logs || (e.event !== "Started" && e.cause && e.cause.logs);
    if (logs) li.appendChild(el("div", { class: "logs" }, "last lines logged:\n" + logs.join("\n")));
    items.push(li);
  }
  if (!items.length) items.push(el("li", { class: "dim" }, "nothing yet"));
  $("#causes").replaceChildren(...items);
}

function renderEvents() {
  const now = Date.now() / 1000;
  const rows = [...view.events]
    .sort((a, b) => seconds(a.lastTimestamp || a.firstTimestamp) - seconds(b.lastTimestamp || b.firstTimestamp))
    .map((e) => {
      const last = seconds(e.lastTimestamp || e.firstTimestamp);
      let age = human(now - last);
      if ((e.count || 1) > 1) age += ` (x${e.count} over ${human(last - seconds(e.firstTimestamp))})`;
      const tr = el("tr", { class: "event " + e.reason });
      for (const text of [e.type, e.reason, age, (e.source || {}).component || "", e.message]) {
        tr.appendChild(el("td", {}, text || ""));
      }
      return tr;
    });
  $("#events tbody").replaceChildren(...rows);
}

function route() {
  const match = /^#pod=(.+)$/.exec(location.hash);
  const key = match ? decodeURIComponent(match[1]) : "";
  if (key !== selected) openPod(key);
}

window.addEventListener("hashchange", route);
setInterval(() => { renderPods(false); if (view.pod) { renderChart(); renderEvents(); } }, 1000);
connectPods();
route();
