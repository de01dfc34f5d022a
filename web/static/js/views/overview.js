// Overview: system status, agents online, recent backups, storage used and saved, and
// the charts of backup trend and storage growth.

import { api, describe } from "../api.js";
import { bytes, duration, gb, h, number, replace, shortID, timed } from "../dom.js";
import { poll } from "../poll.js";
import { badge, banner, card, empty, failure, loading, meter, progress, stat, table }
  from "../ui.js";
import { growthChart, savings, trendChart } from "./charts.js";
import { agentNames, sourceSummary } from "./jobs.js";

export function render({ root, signal }) {
  const statusBox = h("div", loading());
  const tiles = h("div.grid.stats", stat("Agents online", "—"), stat("Active backups", "—"),
    stat("Storage used", "—"), stat("Space saved", "—"));
  const recent = h("div", loading());
  const agentsBox = h("div", loading());
  const trend = h("div.card-body#backup-trend", loading());
  const growth = h("div.card-body#storage-growth", loading());

  replace(root,
    h("div.page-head",
      h("div", h("h1", "Overview"), h("p", "The state of the controller and its fleet.")),
      h("div.actions", h("a.btn.primary", { href: "#/backups?new=1" }, "New backup"))),
    tiles,
    h("div.grid.side",
      card("Backup trend", "Backups per UTC day by how they ended, last 30 days", trend),
      card("System", null, statusBox)),
    h("div.grid.side",
      card("Storage growth", "Bytes in storage at the end of each UTC day, last 30 days",
        growth),
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
    // Three requests each time: every 4 s keeps a FREE plan's 60 a minute for the rest.
    return list.backups.some((b) => b.status === "running" || b.status === "queued")
      ? 4000 : 10000;
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

  loadCharts(trend, growth, tiles, signal);
}

function showTiles(tiles, st) {
  const m = st.metrics || {};
  const used = m.storage_used_gb;
  const total = m.storage_total_gb;
  const [agentsTile, activeTile, storageTile] = tiles.children;
  agentsTile.replaceWith(stat("Agents online",
    h("span", number(m.agents_online), h("small", ` / ${number(m.agents_total)}`)),
    m.agents_total ? `${m.agents_total - m.agents_online} offline` : "No agents enrolled"));
  activeTile.replaceWith(stat("Active backups", number(m.active_backups),
    "queued or running now"));
  storageTile.replaceWith(stat("Storage used", gb(used),
    total ? `of ${gb(total)} on the data disk` : "", total ? meter(used / total) : null));
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

// loadCharts fills the two charts and the saved tile from the analytics routes, once a
// minute. A chart that has shown data keeps it through a failed update.
function loadCharts(trend, growth, tiles, signal) {
  const nothing = () => empty("No data yet", "The chart fills as backups complete.");
  const keep = (box, what) => (e) => {
    if (!box.querySelector(".chart-box")) replace(box, failure(e, null, what));
  };
  poll(async () => {
    const { analytics } = await api("/api/analytics/backups?range=30d", { signal });
    replace(trend, trendChart(analytics) || nothing());
    return 60000;
  }, { signal, onError: keep(trend, "backup analytics") });
  poll(async () => {
    const { storage } = await api("/api/analytics/storage?range=30d", { signal });
    replace(growth, growthChart(storage) || nothing());
    const { value, sub } = savings(storage);
    tiles.children[3].replaceWith(stat("Space saved", value, sub));
    return 60000;
  }, {
    signal,
    onError: (e) => {
      keep(growth, "storage analytics")(e);
      if (e.notAvailable) tiles.children[3].replaceWith(stat("Space saved", "—",
        "Not available on this controller"));
    },
  });
}
