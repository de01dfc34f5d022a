// Restores: the filterable, paginated, live list. A restore starts from its backup.

import { bytes, duration, h, number, replace, shortID, timed } from "../dom.js";
import { badge, progress } from "../ui.js";
import { jobList, targetSummary } from "./jobs.js";

export function render({ root, signal, query: q, setQuery }) {
  const box = h("section.card");
  replace(root,
    h("div.page-head",
      h("div", h("h1", "Restores"),
        h("p", "Restores write a backup back to a directory or a database on an agent.")),
      h("div.actions", h("a.btn", { href: "#/backups?status=completed" }, "Restore a backup…"))),
    box);
  jobList({
    box, signal, q, setQuery, path: "/api/restores", key: "restores", noun: "restores",
    emptyAction: h("a.btn.primary", { href: "#/backups?status=completed" },
      "Pick a backup to restore"),
    columns: (names) => [
      { label: "Restore", cell: (r) => h("a.mono", { href: "#/restores/" + r.id, title: r.id },
        shortID(r.id)) },
      { label: "Backup", class: "hide-sm", cell: (r) => h("a.mono",
        { href: "#/backups/" + r.backup_id, title: r.backup_id }, shortID(r.backup_id)) },
      { label: "Agent", cell: (r) => h("span.clip", names[r.agent_id] || shortID(r.agent_id)) },
      { label: "Target", cell: (r) => h("span.clip.wide", { title: targetSummary(r) },
        targetSummary(r)) },
      { label: "Status", cell: (r) => r.status === "running" ? progress(r.progress)
        : badge(r.status) },
      { label: "Restored", class: "num hide-sm", cell: (r) =>
        `${bytes(r.bytes_restored)} · ${number(r.files_restored)} files` },
      { label: "Duration", class: "num hide-sm", cell: (r) => duration(r.duration_seconds) },
      { label: "Created", class: "nowrap", cell: (r) => timed(r.created_at) },
    ],
  });
}
