// Overview: system status, agents online, recent backups, storage used and saved, and
// the charts of backup trend and storage growth.

import { api, describe } from "../api.js";
import { barChart, areaChart } from "../chart.js";
import { bytes, day, duration, gb, h, number, replace, shortID, timed } from "../dom.js";
import { poll } from "../poll.js";
import { badge, banner, card, empty, failure, loading, meter, progress, table } from "../ui.js";
import { agentNames, sourceSummary } from "./jobs.js";

export function render({ root, signal }) {
  const statusBox = h("div", loading());
  const tiles = h("div.grid.stats", tile("Agents online", "—"), tile("Active backups", "—"),
    tile("Storage used", "—"), tile("Saved by deduplication", "—"));
  const recent = h("div", loading());
  const agentsBox = h("div", loading());
  const trend = h("div.card-body", loading());
  const growth = h("div.card-body", loading());

  replace(root,
    h("div.page-head",
      h("div", h("h1", "Overview"), h("p", "The state of the controller and its fleet.")),
      h("div.actions", h("a.btn.primary", { href: "#/backups?new=1" }, "New backup"))),
    tiles,
    h("div.grid.side",
      card("Backup trend", "Completed and failed backups per day, last 30 days", trend),
      card("System", null, statusBox)),
    h("div.grid.side",
      card("Storage growth", "Bytes stored over time", growth),
      card("Agents", null, agentsBox, h("a.btn.small", { href: "#/agents" }, "All agents"))),
    card("Recent backups", null, recent, h("a.btn.small", { href: "#/backups" }, "All backups")));

  const p = poll(async () => {
    const [st, ag, list] = await Promise.all([
      api("/api/status", { signal }),
      api("/api/agents?limit=100", { signal }),
      api("/api/backups?limit=6", { signal }),
    ]);
    banner("");
    showStatus(statusBox, st);
    showTiles(tiles, st);
    showAgents(agentsBox, ag.agents);
    showRecent(recent, list.backups, agentNames(ag.agents));
    return list.backups.some((b) => b.status === "running" || b.status === "queued")
      ? 3000 : 10000;
  }, {
    signal,
    onError: (e) => {
      // Before the first answer the boxes say why they are empty; after it they keep
      // what they showed and the banner says the updates stopped.
      const retry = () => p.now();
      if (statusBox.querySelector(".spinner")) replace(statusBox, failure(e, retry, "the status"));
      if (agentsBox.querySelector(".spinner")) replace(agentsBox, failure(e, retry, "the agents"));
      if (recent.querySelector(".spinner")) replace(recent, failure(e, retry, "the backups"));
      banner("Live updates paused: " + describe(e));
    },
  });

  poll(async () => {
    const done = await api("/api/backups?status=completed&limit=100", { signal });
    showSaved(tiles, done.backups);
    return 60000;
  }, { signal, onError: () => {} });

  loadCharts(trend, growth, signal);
}

function tile(label, value, sub, extra) {
  return h("div.card.stat", h("div.label", label), h("div.value", value),
    sub ? h("div.sub", sub) : null, extra || null);
}

function showTiles(tiles, st) {
  const m = st.metrics || {};
  const used = m.storage_used_gb;
  const total = m.storage_total_gb;
  const [agentsTile, activeTile, storageTile] = tiles.children;
  agentsTile.replaceWith(tile("Agents online",
    h("span", number(m.agents_online), h("small", ` / ${number(m.agents_total)}`)),
    m.agents_total ? `${m.agents_total - m.agents_online} offline` : "No agents enrolled"));
  activeTile.replaceWith(tile("Active backups", number(m.active_backups),
    "queued or running now"));
  storageTile.replaceWith(tile("Storage used", gb(used),
    total ? `of ${gb(total)} on the data disk` : "", total ? meter(used / total) : null));
}

function showSaved(tiles, backups) {
  const size = backups.reduce((n, b) => n + (b.size_bytes || 0), 0);
  const stored = backups.reduce((n, b) => n + (b.stored_bytes || 0), 0);
  const saved = Math.max(0, size - stored);
  const share = size ? Math.round((saved / size) * 100) : 0;
  tiles.children[3].replaceWith(tile("Saved by deduplication", bytes(saved),
    backups.length ? `${share}% of ${bytes(size)} backed up, last ${backups.length} backups`
      : "No completed backups yet"));
}

function showStatus(box, st) {
  const m = st.metrics || {};
  replace(box, h("div.card-body",
    h("div.toolbar", badge(st.status, st.status === "operational" ? "Operational" : "Degraded"),
      h("span.muted", `Version ${st.version} · up ${duration(m.uptime_seconds)}`)),
    h("div.spacer"),
    h("ul.components", Object.entries(st.components || {}).map(([name, state]) =>
      h("li", h("span", name.replace(/_/g, " ")), badge(state))))));
}

function showAgents(box, agents) {
  if (!agents.length) {
    replace(box, empty("No agents yet", "Add a host to start protecting it.",
      h("a.btn.primary", { href: "#/agents?add=1" }, "Add a host")));
    return;
  }
  replace(box, h("div.card-body", h("ul.components", agents.slice(0, 6).map((a) =>
    h("li", { "data-agent": a.name },
      h("span.clip", { title: a.name }, a.name),
      h("span", badge(a.status), " ", h("span.cell-sub", timed(a.last_seen))))))));
}

function showRecent(box, backups, names) {
  if (!backups.length) {
    replace(box, empty("No backups yet", "Start the first backup of an agent's files or " +
      "databases.", h("a.btn.primary", { href: "#/backups?new=1" }, "New backup")));
    return;
  }
  replace(box, table([
    { label: "Backup", cell: (b) => h("a.mono", { href: "#/backups/" + b.id }, shortID(b.id)) },
    { label: "Agent", cell: (b) => h("span.clip", names[b.agent_id] || shortID(b.agent_id)) },
    { label: "Sources", class: "hide-sm", cell: (b) => h("span.clip", sourceSummary(b)) },
    { label: "Status", cell: (b) => b.status === "running" ? progress(b.progress)
      : badge(b.status) },
    { label: "Size", class: "num", cell: (b) => bytes(b.size_bytes) },
    { label: "Created", class: "nowrap hide-sm", cell: (b) => timed(b.created_at) },
  ], backups));
}

// Charts ---------------------------------------------------------------------------------

async function loadCharts(trend, growth, signal) {
  const show = async (box, path, what, draw) => {
    try {
      const body = await api(path, { signal });
      const el = draw(body);
      replace(box, el || empty("No data yet", "The chart fills as backups complete."));
    } catch (e) {
      if (e.name !== "AbortError") replace(box, failure(e, null, what));
    }
  };
  show(trend, "/api/analytics/backups?range=30d", "backup analytics", (body) => {
    const pts = series(body, ["completed", "succeeded", "success"], ["failed", "failures"]);
    if (!pts.length) return null;
    return h("div", barChart(pts.map((p) => ({ label: p.label, ok: p.a, bad: p.b })),
      { title: "Backups per day", format: (v) => number(Math.round(v)) }),
    h("div.legend", h("span", h("i.ok"), "completed"), h("span", h("i.bad"), "failed")));
  });
  show(growth, "/api/analytics/storage", "storage analytics", (body) => {
    const pts = series(body, ["stored_bytes", "used_bytes", "storage_bytes", "bytes",
      "size_bytes", "total_bytes"], []);
    if (!pts.length) return null;
    return areaChart(pts.map((p) => ({ label: p.label, value: p.a })),
      { title: "Storage over time", format: bytes });
  });
}

// series reads a time series from an analytics reply, whichever list it is under
// (series, points, days, data, trend, history) and whichever of the keys names its
// values: [{label, a, b}] with a from aKeys and b from bKeys.
// TODO: fix to the reply shape of the analytics routes once the controller serves them;
// until then this accepts the likely shapes rather than one.
function series(body, aKeys, bKeys) {
  const list = ["series", "points", "days", "data", "trend", "history", "buckets"]
    .map((k) => body[k]).find(Array.isArray) || [];
  const pick = (o, keys) => {
    for (const k of keys) if (typeof o[k] === "number") return o[k];
    return 0;
  };
  return list.map((p) => {
    const t = p.date || p.day || p.timestamp || p.period || p.bucket || p.at || p.time;
    const d = t ? new Date(t) : null;
    return { label: d && !Number.isNaN(d.getTime()) ? day(d) : String(t || ""),
      a: pick(p, aKeys), b: pick(p, bKeys) };
  });
}
