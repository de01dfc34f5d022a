// One backup: live progress while it runs, its statistics and sources, cancel, and the
// dialog that restores it to a chosen path or database.

import { api } from "../api.js";
import { bytes, date, duration, h, number, replace, shortID } from "../dom.js";
import { poll } from "../poll.js";
import { badge, card, check, confirm, dialog, failure, field, kv, loading, progress, select, table,
  toast } from "../ui.js";
import { connectionFields, isActive, loadAgents, readConnection } from "./jobs.js";

export function render({ root, id, signal }) {
  const head = h("div.page-head", h("div", h("div.crumb", h("a", { href: "#/backups" },
    "Backups"), " / ", shortID(id)), h("h1", "Backup")));
  const body = h("div.stack", loading());
  replace(root, head, body);
  let agents = [];
  const p = poll(async () => {
    const [reply, list] = await Promise.all([api("/api/backup/" + encodeURIComponent(id),
      { signal }), agents.length ? agents : loadAgents(signal)]);
    agents = list;
    show(head, body, reply.backup, agents, () => p.now());
    return isActive(reply.backup) ? 2000 : 30000;
  }, {
    signal,
    onError: (e) => {
      if (!body.querySelector(".kv") || e.status === 404) {
        replace(body, h("section.card", failure(e, () => p.now(), "this backup")));
      }
    },
  });
}

function show(head, body, b, agents, refresh) {
  const agent = agents.find((a) => a.id === b.agent_id);
  const actions = h("div.actions");
  if (isActive(b)) {
    actions.append(h("button.btn.danger#cancel-backup", { type: "button",
      onclick: () => cancel(b, refresh) }, "Cancel backup"));
  }
  if (!isActive(b)) {
    actions.append(h("button.btn.danger#delete-backup", { type: "button",
      onclick: () => remove(b) }, "Delete…"));
  }
  if (b.status === "completed") {
    actions.append(h("button.btn.primary#restore-backup", { type: "button",
      onclick: () => restoreDialog(b, agents) }, "Restore…"));
  }
  replace(head,
    h("div", h("div.crumb", h("a", { href: "#/backups" }, "Backups"), " / ", shortID(b.id)),
      h("h1.wrap-any", "Backup ", h("span.mono", b.id)),
      h("p", badge(b.status), " ", agent ? `of ${agent.name}` : "")),
    actions);
  replace(body,
    b.error ? h("div.callout.bad", { role: "alert" }, h("b", "Failed: "), b.error) : null,
    isActive(b) ? card("Progress", b.status === "queued" ? "Waiting for the agent" : null,
      h("div.card-body#backup-progress", progress(b.progress),
        h("p.muted", `${bytes(b.bytes_done)} of ${bytes(b.size_bytes)} · ` +
          `${number(b.files)} files · ${number(b.chunks_new)} new chunks`))) : null,
    card("Summary", null, h("div.card-body", h("dl.kv.cols#backup-summary",
      kv("Agent", agent ? agent.name : b.agent_id),
      kv("Status", b.status),
      kv("Attempt", number(b.attempt)),
      kv("Created", date(b.created_at)),
      kv("Started", date(b.started_at)),
      kv("Completed", date(b.completed_at)),
      kv("Duration", duration(b.duration_seconds)),
      kv("Size", bytes(b.size_bytes)),
      kv("New data stored", bytes(b.stored_bytes)),
      kv("Files", number(b.files)),
      kv("Chunks", `${number(b.chunks_total)} (${number(b.chunks_new)} new)`),
      kv("Compression", (b.options && b.options.compression) || "zstd"),
      kv("Expires", b.expires_at ? date(b.expires_at) : "never"),
      b.policy_id ? kv("Policy", h("a", { href: "#/policies/" + encodeURIComponent(b.policy_id) },
        shortID(b.policy_id))) : null))),
    card("Sources", "What this backup holds, each with its own size", table([
      { label: "Type", cell: (s) => s.type === "database" ? s.engine || "database" : "files" },
      { label: "Name", cell: (s) => h("span.clip.wide", { title: s.name }, s.name) },
      { label: "Details", class: "hide-sm", cell: sourceDetails },
      { label: "Status", cell: (s) => badge(s.status) },
      { label: "Size", class: "num", cell: (s) => bytes(s.size_bytes) },
      { label: "New data", class: "num", cell: (s) => bytes(s.stored_bytes) },
    ], b.sources || [])),
    (b.warnings || []).length ? card("Warnings", `${b.warnings.length} files could not be read`,
      h("ul.card-body", b.warnings.map((w) => h("li.wrap-any", w)))) : null);
}


function sourceDetails(s) {
  if (s.type === "database") {
    const c = s.connection || {};
    return h("span.cell-sub", `${c.username ? c.username + "@" : ""}${c.host}` +
      `${c.port ? ":" + c.port : ""}/${c.database}` +
      (s.tool_version ? ` · ${s.tool_version}` : ""));
  }
  const ex = s.exclude || [];
  return h("span.cell-sub.clip.wide", { title: ex.join(", ") },
    ex.length ? "excluding " + ex.join(", ") : "every file");
}

function cancel(b, refresh) {
  confirm("Cancel this backup?", "What it has stored so far is kept and reused by the next " +
    "backup.", "Cancel backup", async () => {
    await api(`/api/backup/${encodeURIComponent(b.id)}/cancel`, { method: "POST" });
    toast("Backup canceled.");
    refresh();
  });
}

// remove forgets an ended backup, after saying when its space comes back.
function remove(b) {
  confirm("Delete this backup?", `Backup ${b.id} disappears from every list at once and ` +
    "can no longer be restored. Its space returns at the next garbage collection, which " +
    "removes the data no other backup shares (Storage → Run garbage collection).",
  "Delete backup", async () => {
    await api(`/api/backup/${encodeURIComponent(b.id)}`, { method: "DELETE" });
    toast("Backup deleted. Its space returns at the next garbage collection.");
    location.hash = "#/backups";
  });
}

// restoreDialog asks where to restore the backup: a directory on an agent for its
// files, a database for each of its dumps.
function restoreDialog(b, agents) {
  const hasFiles = (b.sources || []).some((s) => s.type !== "database");
  const dbs = (b.sources || []).filter((s) => s.type === "database");
  const agent = agents.find((a) => a.id === b.agent_id);
  const build = () => h("div",
    field("Restore on", select("agent", agents.map((a) => [a.name,
      `${a.name}${a.status === "online" ? "" : " (offline)"}`]), agent ? agent.name : ""),
    "The agent that writes the restored data; by default the one that made the backup."),
    hasFiles ? h("fieldset",
      h("legend", "Files"),
      field("Restore to", h("input#restore-path", { name: "path", required: true,
        value: "/srv/grim-restore/" + shortID(b.id) }),
      "An absolute directory on that host. Nothing is written outside it."),
      check("Overwrite files that already exist", "overwrite"),
      check("Keep modification times", "times", true),
      check("Keep owners and permissions", "perms", true)) : null,
    dbs.map((s, i) => h("fieldset",
      h("legend", `Database ${s.name}`),
      check("Restore this database", `db${i}.on`, true),
      connectionFields(`db${i}`, { host: (s.connection || {}).host,
        port: (s.connection || {}).port, username: (s.connection || {}).username,
        database: `${(s.connection || {}).database || s.name}_restored` }),
      check("Drop the target database first", `db${i}.drop`))),
    check("Verify every chunk before writing it", "validate", true));
  dialog({
    title: "Restore backup", text: `Backup ${b.id} of ${date(b.completed_at)}.`,
    submitLabel: "Start restore", wide: true, build,
    submit: async (form) => {
      const el = form.elements;
      const targets = [];
      if (hasFiles) {
        targets.push({ type: "filesystem", path: el.path.value.trim(), options: {
          overwrite_existing: el.overwrite.checked, preserve_timestamps: el.times.checked,
          preserve_permissions: el.perms.checked } });
      }
      dbs.forEach((s, i) => {
        if (!el[`db${i}.on`].checked) return;
        targets.push({ type: "database", source: s.name, connection: readConnection(form,
          `db${i}`), options: { drop_existing: el[`db${i}.drop`].checked } });
      });
      if (!targets.length) throw new Error("Choose at least one thing to restore.");
      const reply = await api("/api/restore/create", { method: "POST", body: {
        backup_id: b.id, agent: el.agent.value, targets,
        options: { validate_checksums: el.validate.checked } } });
      toast("Restore queued.");
      location.hash = "#/restores/" + reply.restore_id;
    },
  });
}
