// Storage: what the store holds and what deduplication and compression save, its growth
// and each agent's share; garbage collection and storage checks (with read_data), the
// checks' results with the damaged packs and the backups they affect, and recent
// collections with what they removed.

import { api, describe } from "../api.js";
import { bytes, count, duration, h, number, replace, shortID, timed } from "../dom.js";
import { poll } from "../poll.js";
import { badge, banner, card, confirm, dialog, empty, failure, loading, meter, stat, table,
  toast } from "../ui.js";
import { growthChart, savings } from "./charts.js";

const PROBLEMS = {
  missing: "pack file missing", size_mismatch: "size differs from the index",
  hash_mismatch: "contents do not hash to the pack's name", bad_trailer: "unreadable trailer",
  index_mismatch: "holds other blobs than the index says", bad_blob: "a blob fails to decrypt",
  bad_tree: "a snapshot's tree cannot be read", blobs_missing: "blobs that no pack holds",
};
const PHASES = { mark: "marking unused data", wait: "waiting for running backups",
  sweep: "removing" };

export function render({ root, signal, user, query: q }) {
  const tiles = h("div.grid.stats", stat("Stored", "—"), stat("Backed up", "—"),
    stat("Space saved", "—"), stat("Storage volume", "—"));
  const growth = h("div.card-body#storage-growth", loading());
  const agents = h("div", loading());
  const checks = h("div", loading());
  const damage = h("div");
  const runs = h("div", loading());
  const refresh = () => {
    fullAt = 0;
    p.now();
  };
  const every = user.role === "admin" ? " They cover every account, as you are the admin." : "";
  replace(root,
    h("div.page-head",
      h("div", h("h1", "Storage"), h("p", "What the store holds and saves, and the jobs that " +
        "keep it lean and whole.")),
      h("div.actions",
        h("button.btn#run-gc", { type: "button", onclick: () => runGC(refresh) },
          "Run garbage collection"),
        h("button.btn.primary#run-check", { type: "button", onclick: () => runCheck(refresh) },
          "Check storage…"))),
    tiles,
    h("div.grid.side",
      card("Storage growth", "Bytes in storage at the end of each UTC day, last 30 days", growth),
      card("Per agent", "Kept backups and what they hold", agents)),
    card("Storage checks", "A check proves every backup's data is present; with read_data it " +
      "also reads packs and checks that they decrypt and hash correctly." + every, checks),
    damage,
    card("Garbage collections", "Remove the data no backup references, once backups are " +
      "deleted or expire, and rewrite packs that are mostly garbage." + every, runs));

  let selected = q.check || "";
  const showDamage = (check) => {
    selected = check ? check.id : "";
    history.replaceState(null, "", "#/storage" + (selected ? "?check=" + selected : ""));
    replace(damage, check ? damageCard(check) : null);
    if (check) damage.scrollIntoView({ block: "nearest" });
  };
  // Every 15 s the page reads everything; while a collection or a check runs, its list
  // every 2 s, so that following one costs half of a FREE plan's requests a minute. The
  // figures are read again when one ends.
  let fullAt = 0;
  const busy = { checks: false, gc: false };
  const p = poll(async () => {
    const full = Date.now() - fullAt > 14000;
    const [c, g] = await Promise.all([
      full || busy.checks ? api("/api/storage/checks?limit=10", { signal }) : null,
      full || busy.gc ? api("/api/storage/gc?limit=10", { signal }) : null]);
    const ended = (c && busy.checks && !active(c.checks)) || (g && busy.gc && !active(g.gc_runs));
    if (full || ended) {
      const { storage } = await api("/api/analytics/storage?range=30d", { signal });
      showFigures(tiles, growth, agents, storage);
    }
    if (full) fullAt = Date.now();
    banner("");
    if (c) {
      busy.checks = active(c.checks);
      showChecks(checks, c.checks, showDamage);
      const shown = c.checks.find((x) => x.id === selected) ||
        (!selected && c.checks.find((x) => x.status === "completed" && x.damaged.length));
      replace(damage, shown && shown.damaged.length ? damageCard(shown) : null);
    }
    if (g) {
      busy.gc = active(g.gc_runs);
      showRuns(runs, g.gc_runs);
    }
    return busy.checks || busy.gc ? 2000 : 15000;
  }, {
    signal,
    onError: (e) => {
      if (checks.querySelector("table, .state:not(.small)")) {
        banner("Live updates paused: " + describe(e));
        return;
      }
      for (const [box, what] of [[checks, "the storage checks"], [runs, "the collections"],
        [growth, "storage analytics"], [agents, "storage analytics"]]) {
        replace(box, failure(e, refresh, what));
      }
    },
  });
}

// active is true while one of the collections or checks has not ended.
function active(runs) {
  return runs.some((r) => r.status === "queued" || r.status === "running");
}

function showFigures(tiles, growth, agents, r) {
  const saved = savings(r);
  const v = r.volume;
  replace(tiles,
    stat("Stored", bytes(r.stored_bytes), `in ${count(r.packs, "pack")}, compressed and ` +
      "encrypted"),
    stat("Backed up", bytes(r.logical_bytes), `${count(r.backups, "kept backup")}, as their ` +
      "sources were"),
    stat("Space saved", saved.value, saved.sub),
    v ? stat("Storage volume", bytes(v.used_bytes), `of ${bytes(v.total_bytes)} used` +
      fills(r.projection), meter(v.used_ratio))
      : stat("Storage volume", "—", "The storage backend reports no size"));
  replace(growth, growthChart(r) || empty("No data yet", "The chart fills as backups complete."));
  if (!r.agents.length) {
    replace(agents, empty("No backups kept", "Agents appear here once a backup of theirs " +
      "completes."));
    return;
  }
  replace(agents, table([
    { label: "Agent", cell: (a) => h("div", h("span.cell-main.clip", { title: a.agent_name },
      a.agent_name || shortID(a.agent_id)), h("div.cell-sub", count(a.backups, "backup"))) },
    { label: "Backed up", class: "num", cell: (a) => bytes(a.logical_bytes) },
    { label: "New data", class: "num", cell: (a) => bytes(a.stored_bytes) },
  ], r.agents, (a) => ({ "data-agent": a.agent_name })));
}

function fills(p) {
  if (!p || p.days_until_full === null || p.days_until_full === undefined) return "";
  return `; full in about ${number(Math.max(1, Math.round(p.days_until_full)))} days`;
}

function showChecks(box, checks, showDamage) {
  if (!checks.length) {
    replace(box, empty("No checks yet", "The controller checks on its schedule; Check " +
      "storage runs one now."));
    return;
  }
  replace(box, table([
    { label: "Check", cell: (c) => h("div", h("span.mono", { title: c.id }, shortID(c.id)),
      h("div.cell-sub", readText(c.read_data_percent))) },
    { label: "Status", cell: (c) => badge(c.status) },
    { label: "Result", cell: (c) => checkResult(c) },
    { label: "Covered", class: "hide-sm", cell: (c) => covered(c.stats) },
    { label: "Started", class: "nowrap", cell: (c) => timed(c.started_at || c.created_at) },
    { label: "Took", class: "num hide-sm", cell: (c) => took(c) },
    { label: "", class: "actions", cell: (c) => c.damaged.length
      ? h("button.btn.small", { type: "button", onclick: () => showDamage(c) }, "Damage")
      : null },
  ], checks, (c) => ({ "data-check": c.id, "data-status": c.status,
    "data-result": c.status === "completed" ? (c.damaged.length ? "damaged" : "clean") : "" })));
}

function readText(pct) {
  if (!pct) return "metadata only";
  return pct >= 100 ? "read all data" : `read ${number(pct)}% of the data`;
}

function checkResult(c) {
  if (c.status === "failed") {
    return h("div.cell-sub.clip.bad-text", { title: c.error || "" }, c.error || "failed");
  }
  if (c.status !== "completed") return h("span.muted", "—");
  if (!c.damaged.length) return badge("clean");
  const backups = new Set(c.damaged.flatMap((d) => d.backups));
  return h("div", badge("damaged", `${c.damaged.length} damaged`),
    h("div.cell-sub", `${count(backups.size, "backup")} affected`));
}

function covered(s = {}) {
  if (s.snapshots === undefined) return h("span.muted", "—");
  return h("div", h("div", `${count(s.snapshots, "snapshot")} · ${count(s.packs, "pack")}`),
    h("div.cell-sub", s.packs_read ? `${count(s.packs_read, "pack")} read, ` +
      bytes(s.bytes_read) : `${count(s.blobs, "blob")} indexed`));
}

// took is how long a job ran; the API's times are whole seconds.
function took(r) {
  if (!r.started_at || !r.completed_at) return "—";
  const secs = (new Date(r.completed_at) - new Date(r.started_at)) / 1000;
  return secs < 1 ? "under 1 s" : duration(secs);
}

function damageCard(c) {
  return card(`Damage found by check ${shortID(c.id)}`, "Each damaged pack and the backups " +
    "whose data it holds; restore those elsewhere, or back the hosts up again",
  table([
    { label: "Pack", cell: (d) => d.pack_id ? h("span.mono.clip", { title: d.pack_id },
      d.pack_id.slice(0, 16) + "…") : h("span.muted", "no pack") },
    { label: "Problem", cell: (d) => h("div", h("span.badge.bad.plain", d.problem),
      h("div.cell-sub", d.problem === "blobs_missing" ? `${count(d.blobs, "blob")} that no ` +
        "pack holds" : PROBLEMS[d.problem] || "")) },
    { label: "Backups affected", cell: (d) => d.backups.length ? h("div.chips",
      d.backups.slice(0, 8).map((id) => h("a.chip.mono", { href: "#/backups/" + id, title: id },
        shortID(id))), d.backups.length > 8 ? h("span.muted", `and ${d.backups.length - 8} more`)
        : null) : h("span.muted", "none") },
  ], c.damaged, (d) => ({ "data-pack": d.pack_id, "data-problem": d.problem })));
}

function showRuns(box, runs) {
  if (!runs.length) {
    replace(box, empty("No collections yet", "The controller collects on its schedule; Run " +
      "garbage collection starts one now."));
    return;
  }
  replace(box, table([
    { label: "Collection", cell: (r) => h("div", h("span.mono", { title: r.id }, shortID(r.id)),
      r.status === "running" && r.phase ? h("div.cell-sub", PHASES[r.phase] || r.phase)
        : null) },
    { label: "Status", cell: (r) => r.status === "failed" ? h("div", badge("failed"),
      h("div.cell-sub.clip", { title: r.error || "" }, r.error || "")) : badge(r.status) },
    { label: "Reclaimed", class: "num", cell: reclaimed },
    { label: "Removed", class: "hide-sm", cell: (r) => r.status === "completed" ? h("div",
      h("div", `${count(r.stats.blobs_deleted, "blob")} · ${count(r.stats.packs_deleted,
        "pack")}`),
      h("div.cell-sub", `${count(r.stats.packs_rewritten, "pack")} rewritten`)) : "—" },
    { label: "Started", class: "nowrap", cell: (r) => timed(r.started_at || r.created_at) },
    { label: "Took", class: "num hide-sm", cell: took },
  ], runs, (r) => ({ "data-gc": r.id, "data-status": r.status })));
}

function reclaimed(r) {
  const s = r.stats || {};
  if (r.status !== "completed" || s.stored_bytes_before === undefined) return "—";
  return h("div", bytes(Math.max(0, s.stored_bytes_before - s.stored_bytes_after)),
    h("div.cell-sub", `${bytes(s.stored_bytes_before)} → ${bytes(s.stored_bytes_after)}`));
}

function runGC(refresh) {
  confirm("Run a garbage collection now?", "It removes the data no backup references and " +
    "rewrites packs that are mostly garbage. It is safe while backups run: it ends once the " +
    "backups running when it began have ended.", "Run garbage collection", async () => {
    await api("/api/storage/gc", { method: "POST" });
    toast("Garbage collection queued.");
    refresh();
  }, false);
}

function runCheck(refresh) {
  const pct = h("input", { name: "percent", type: "number", min: 1, max: 100, value: 10,
    "aria-label": "Percent of packs to read" });
  const option = (value, label, hint, checked = false) => h("label.option",
    h("input", { type: "radio", name: "read", value, checked }),
    h("span", h("b", label), h("span.hint", hint)));
  // Typing a share picks the option it belongs to.
  pct.addEventListener("focus", () => {
    pct.closest("fieldset").querySelector("input[value=some]").checked = true;
  });
  dialog({
    title: "Check storage", submitLabel: "Start check", cls: "check-storage",
    text: "Every check proves that every pack the index names is in storage with its size, " +
      "that every backup's trees open, and that every blob they reference is indexed.",
    build: () => h("div",
      h("fieldset.options", h("legend", "Read data"),
        option("none", "Metadata only", "Quick: reads no pack's contents."),
        option("some", "A share of the packs", h("span.inline-field", "Read ", pct,
          " % of them, picked at random, and check their contents.")),
        option("all", "All data", "Read, decrypt and hash every pack. Takes as long as " +
          "reading the whole store.", true))),
    submit: async (form) => {
      const read = form.elements.read.value;
      const readData = read === "all" ? true : read === "none" ? false
        : Number(form.elements.percent.value);
      await api("/api/storage/check", { method: "POST", body: { read_data: readData } });
      toast("Storage check queued.");
      refresh();
    },
  });
}
