// Backups: the filterable, paginated, live list, and the dialog that starts a backup of
// an agent's paths or of a database.

import { api } from "../api.js";
import { bytes, duration, h, replace, shortID, timed } from "../dom.js";
import { badge, dialog, empty, field, progress, toast } from "../ui.js";
import { jobList, loadAgents, sourceSummary } from "./jobs.js";
import { agentField, compressionField, readSource, sourceFields } from "./sourceform.js";

let opening = false; // a New backup dialog is on its way

export function render({ root, signal, query: q, setQuery }) {
  const newBtn = h("button.btn.primary#new-backup", { type: "button",
    onclick: () => newBackup(signal) }, "New backup");
  const box = h("section.card");
  replace(root,
    h("div.page-head",
      h("div", h("h1", "Backups"),
        h("p", "Every backup of every agent, newest first. Running ones update live.")),
      h("div.actions", newBtn)),
    box);
  jobList({
    box, signal, q, setQuery, path: "/api/backups", key: "backups", noun: "backups",
    emptyAction: h("button.btn.primary", { type: "button", onclick: () => newBackup(signal) },
      "Start the first backup"),
    columns: backupColumns,
  });
  if (q.new) {
    history.replaceState(null, "", "#/backups");
    newBackup(signal);
  }
}

// backupColumns are the columns of a list of backups, with the agents' names.
export function backupColumns(names) {
  return [
    { label: "Backup", cell: (b) => h("a.mono", { href: "#/backups/" + b.id, title: b.id },
      shortID(b.id)) },
    { label: "Agent", cell: (b) => h("span.clip", { title: names[b.agent_id] || b.agent_id },
      names[b.agent_id] || shortID(b.agent_id)) },
    { label: "Sources", class: "hide-sm", cell: (b) => h("span.clip.wide",
      { title: sourceSummary(b) }, sourceSummary(b)) },
    { label: "Status", cell: (b) => b.status === "running"
      ? h("div", progress(b.progress), h("span.cell-sub", `${bytes(b.bytes_done)} of ` +
        bytes(b.size_bytes)))
      : badge(b.status) },
    { label: "Size", class: "num", cell: (b) => bytes(b.size_bytes) },
    { label: "New data", class: "num hide-sm", cell: (b) => bytes(b.stored_bytes) },
    { label: "Duration", class: "num hide-sm", cell: (b) => duration(b.duration_seconds) },
    { label: "Created", class: "nowrap", cell: (b) => timed(b.created_at) },
  ];
}

// newBackup opens the dialog that starts a backup and, once queued, shows it. A second
// call while one dialog opens or is open (a double click, a key repeat) does nothing.
export async function newBackup(signal, agentName = "") {
  if (opening || document.querySelector("dialog.new-backup")) return;
  let agents = [];
  opening = true;
  try {
    agents = await loadAgents(signal, 0);
  } catch (e) {
    toast("Could not list the agents: " + e.message, "bad");
    return;
  } finally {
    opening = false;
  }
  if (!agents.length) {
    dialog({ title: "No agents yet", build: () => empty("Add a host first",
      "A backup runs on an agent. Enrol one, then come back.",
      h("a.btn.primary", { href: "#/agents?add=1" }, "Add a host")) });
    return;
  }
  const online = agents.filter((a) => a.status === "online");
  const first = agentName || (online[0] || agents[0]).name;

  dialog({
    title: "New backup", cls: "new-backup", text: "The agent reads, deduplicates, compresses " +
      "and encrypts on its host before anything leaves it.", submitLabel: "Start backup",
    wide: true,
    build: () => h("div",
      agentField(agents, first), sourceFields(),
      h("div.row",
        compressionField(),
        field("Keep for (days)", h("input", { name: "retention", type: "number", min: 0,
          max: 36500, placeholder: "forever" })))),
    submit: async (form) => {
      const reply = await api("/api/backup/create", { method: "POST", body: backupBody(form) });
      toast("Backup queued.");
      location.hash = "#/backups/" + reply.backup_id;
    },
  });
}

function backupBody(form) {
  const el = form.elements;
  const options = { compression: el.compression.value };
  if (el.retention.value) options.retention_days = Number(el.retention.value);
  return { agent: el.agent.value, sources: [readSource(form)], options };
}
