// One restore: live progress, where it writes, and what it skipped.

import { api } from "../api.js";
import { bytes, date, duration, h, number, replace, shortID } from "../dom.js";
import { poll } from "../poll.js";
import { badge, card, failure, loading, progress, table } from "../ui.js";
import { isActive, loadAgents } from "./jobs.js";

export function render({ root, id, signal }) {
  const head = h("div.page-head", h("div", h("div.crumb", h("a", { href: "#/restores" },
    "Restores"), " / ", shortID(id)), h("h1", "Restore")));
  const body = h("div.stack", loading());
  replace(root, head, body);
  const p = poll(async () => {
    const [reply, agents] = await Promise.all([
      api("/api/restore/" + encodeURIComponent(id), { signal }), loadAgents(signal)]);
    show(head, body, reply.restore, agents);
    return isActive(reply.restore) ? 2000 : 30000;
  }, {
    signal,
    onError: (e) => {
      if (!body.querySelector(".kv") || e.status === 404) {
        replace(body, h("section.card", failure(e, () => p.now(), "this restore")));
      }
    },
  });
}

function show(head, body, r, agents) {
  const agent = agents.find((a) => a.id === r.agent_id);
  replace(head, h("div",
    h("div.crumb", h("a", { href: "#/restores" }, "Restores"), " / ", shortID(r.id)),
    h("h1.wrap-any", "Restore ", h("span.mono", r.id)),
    h("p", badge(r.status), " of backup ",
      h("a.mono", { href: "#/backups/" + r.backup_id }, shortID(r.backup_id)))));
  const kv = (k, v) => [h("dt", k), h("dd", v)];
  replace(body,
    r.error ? h("div.callout.bad", { role: "alert" }, h("b", "Failed: "), r.error) : null,
    isActive(r) ? card("Progress", r.status === "queued" ? "Waiting for the agent" : null,
      h("div.card-body", progress(r.progress), h("p.muted",
        `${bytes(r.bytes_restored)} of ${bytes(r.bytes_total)} · ` +
        `${number(r.files_restored)} files`))) : null,
    card("Summary", null, h("div.card-body", h("dl.kv.cols#restore-summary",
      kv("Agent", agent ? agent.name : r.agent_id), kv("Status", r.status),
      kv("Created", date(r.created_at)), kv("Started", date(r.started_at)),
      kv("Completed", date(r.completed_at)), kv("Duration", duration(r.duration_seconds)),
      kv("Restored", bytes(r.bytes_restored)), kv("Files", number(r.files_restored)),
      kv("Skipped", number((r.skipped || []).length))))),
    card("Targets", null, table([
      { label: "Type", cell: (t) => t.type === "database"
        ? (t.connection && t.connection.engine) || "database" : "files" },
      { label: "Where", cell: (t) => h("span.clip.wide", t.type === "database"
        ? `${t.connection.host}${t.connection.port ? ":" + t.connection.port : ""}/` +
          t.connection.database : t.path) },
      { label: "Options", class: "hide-sm", cell: (t) => h("div.chips",
        Object.entries(t.options || {}).filter(([, v]) => v)
          .map(([k]) => h("span.chip", k.replace(/_/g, " ")))) },
    ], r.targets || [])),
    (r.skipped || []).length ? card("Skipped", "Files that existed and were left alone",
      h("ul.card-body", r.skipped.map((f) => h("li.wrap-any.mono", f)))) : null);
}
