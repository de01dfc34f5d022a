// The inputs of one backup source, as New backup and the policy dialog ask for it:
// files (paths and exclude patterns) or a database (engine, name, connection).

import { h } from "../dom.js";
import { field, lines, select } from "../ui.js";
import { connectionFields, readConnection } from "./jobs.js";

// sourceFields returns the inputs, filled from src (a source of a reply, such as a
// policy's being edited) when given. A stored database password is never shown: left
// empty in an edit, the controller keeps it.
export function sourceFields(src = null) {
  const isDB = Boolean(src && src.type === "database");
  const c = (src && src.connection) || {};
  const kind = h("div.seg", { role: "radiogroup", "aria-label": "What to back up" },
    h("label", h("input", { type: "radio", name: "kind", value: "filesystem", checked: !isDB }),
      "Files"),
    h("label", h("input", { type: "radio", name: "kind", value: "database", checked: isDB }),
      "Database"));
  const fsPart = h("fieldset",
    field("Paths", h("textarea#backup-paths", { name: "paths", rows: 3,
      placeholder: "/etc\n/var/www", value: isDB || !src ? "" : (src.paths || []).join("\n") }),
    "Absolute paths on the agent's host, one per line."),
    field("Exclude", h("textarea", { name: "exclude", rows: 2, placeholder: "*.tmp\ncache",
      value: src && !isDB ? (src.exclude || []).join("\n") : "" }),
    "Shell patterns matched against names and full paths, one per line (optional)."));
  const dbPart = h("fieldset",
    h("div.row",
      field("Engine", select("engine", [["postgres", "PostgreSQL"], ["mysql",
        "MySQL / MariaDB"]], src && src.engine ? src.engine : "postgres")),
      field("Name", h("input", { name: "dbname", placeholder: "shown in the backup",
        value: isDB ? src.name || "" : "" }))),
    connectionFields("conn", isDB ? c : {}, isDB && src
      ? "Stored encrypted. Leave empty to keep the stored password." : undefined));
  // Only the part shown is required, so the hidden one never blocks the form.
  const sync = () => {
    const db = kind.querySelector("input:checked").value === "database";
    fsPart.hidden = db;
    dbPart.hidden = !db;
    fsPart.querySelector("[name=paths]").required = !db;
    for (const el of dbPart.querySelectorAll("[name='conn.host'],[name='conn.database']")) {
      el.required = db;
    }
  };
  kind.addEventListener("change", sync);
  sync();
  return h("div", kind, fsPart, dbPart);
}

// readSource reads the source the inputs of form describe, as a request's sources[] item.
export function readSource(form) {
  const el = form.elements;
  if (el.kind.value === "database") {
    const source = { type: "database", engine: el.engine.value,
      connection: readConnection(form, "conn") };
    if (el.dbname.value.trim()) source.name = el.dbname.value.trim();
    return source;
  }
  const source = { type: "filesystem", paths: lines(el.paths.value) };
  if (lines(el.exclude.value).length) source.exclude = lines(el.exclude.value);
  return source;
}

// agentField picks one of agents by name, marking those that are offline.
export function agentField(agents, value) {
  return field("Agent", select("agent", agents.map((a) => [a.name,
    `${a.name}${a.status === "online" ? "" : " (offline: waits in the queue)"}`]), value));
}

// compressionField picks how the agent compresses the chunks.
export function compressionField(value = "zstd") {
  return field("Compression", select("compression", [["zstd", "zstd (default)"],
    ["gzip", "gzip"], ["none", "none"]], value));
}
