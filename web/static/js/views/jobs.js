// What the backup and restore views share: agent names, summaries of sources and
// targets, database connection fields, and the filtered, paginated, live job list.

import { api, describe, query } from "../api.js";
import { h, replace } from "../dom.js";
import { poll } from "../poll.js";
import { banner, empty, failure, field, loading, pager, select, table } from "../ui.js";

const PAGE_SIZE = 20;

const STATUSES = [["", "Any status"], ["queued", "Queued"], ["running", "Running"],
  ["completed", "Completed"], ["failed", "Failed"], ["canceled", "Canceled"]];

const SINCE = [["", "Any time"], ["1", "Last 24 hours"], ["7", "Last 7 days"],
  ["30", "Last 30 days"]];

// agentNames maps agent ids to names.
export function agentNames(agents) {
  return Object.fromEntries((agents || []).map((a) => [a.id, a.name]));
}

let agentCache = { at: 0, agents: null };

// loadAgents lists the agents, reusing a list younger than maxAge milliseconds so that
// the job lists, which only need names, spend few requests of the plan.
export async function loadAgents(signal, maxAge = 30000) {
  if (agentCache.agents && Date.now() - agentCache.at < maxAge) return agentCache.agents;
  const reply = await api("/api/agents?limit=100", { signal });
  agentCache = { at: Date.now(), agents: reply.agents };
  return reply.agents;
}

// sourceSummary says what a backup holds: its paths and databases.
export function sourceSummary(b) {
  return (b.sources || []).map((s) => s.type === "database"
    ? `${s.engine || "database"}: ${s.name || (s.connection && s.connection.database) || ""}`
    : (s.paths || [s.name]).join(", ")).join(" · ") || "—";
}

// targetSummary says where a restore writes.
export function targetSummary(r) {
  return (r.targets || []).map((t) => t.type === "database"
    ? `${(t.connection && t.connection.engine) || "database"}: ${
      (t.connection && t.connection.database) || t.source || ""}`
    : t.path).join(" · ") || "—";
}

export function isActive(job) {
  return job.status === "queued" || job.status === "running";
}

// connectionFields are the inputs of a database connection, named prefix.host and so
// on, filled from defaults; readConnection reads them back.
export function connectionFields(prefix, defaults = {},
  passwordHint = "Stored encrypted; never shown again.") {
  const input = (name, attrs = {}) => h("input", { name: `${prefix}.${name}`,
    value: defaults[name] ?? "", ...attrs });
  return h("div",
    h("div.row",
      field("Host", input("host", { required: true, placeholder: "localhost" })),
      field("Port", input("port", { type: "number", min: 1, max: 65535,
        placeholder: "5432" }))),
    h("div.row",
      field("Database", input("database", { required: true })),
      field("User", input("username", { autocomplete: "off" }))),
    h("div.row",
      field("Password", input("password", { type: "password", autocomplete: "new-password" }),
        passwordHint),
      field("TLS", select(`${prefix}.ssl_mode`, [["", "Default"], ["disable", "disable"],
        ["prefer", "prefer"], ["require", "require"], ["verify-ca", "verify-ca"],
        ["verify-full", "verify-full"]], defaults.ssl_mode || ""))));
}

export function readConnection(form, prefix) {
  const v = (n) => (form.elements[`${prefix}.${n}`] || {}).value || "";
  const c = { host: v("host").trim(), database: v("database").trim() };
  if (v("port")) c.port = Number(v("port"));
  if (v("username")) c.username = v("username").trim();
  if (v("password")) c.password = v("password");
  if (v("ssl_mode")) c.ssl_mode = v("ssl_mode");
  return c;
}

// jobList shows a filtered, paginated list of jobs from path (/api/backups or
// /api/restores) that follows running jobs live. columns(names) gives the table's
// columns once the agents' names are known; params are fixed query parameters (such as
// policy_id). The filters live in the address.
export function jobList({ box, signal, q, setQuery, path, key, columns, noun, emptyAction,
  params = {} }) {
  const status = select("status", STATUSES, q.status || "");
  const since = select("since", SINCE, q.since || "");
  const onFilter = () => setQuery({ ...q, status: status.value, since: since.value, offset: "" });
  status.addEventListener("change", onFilter);
  since.addEventListener("change", onFilter);
  const list = h("div", loading());
  replace(box, h("div.card-head", h("div.toolbar",
    field("Status", status), field("Created", since))), list);

  const offset = Number(q.offset) || 0;
  const createdAfter = q.since
    ? new Date(Date.now() - Number(q.since) * 86400e3).toISOString() : "";
  const p = poll(async () => {
    const [agents, reply] = await Promise.all([
      loadAgents(signal),
      api(path + query({ ...params, status: q.status, created_after: createdAfter,
        limit: PAGE_SIZE, offset }), { signal }),
    ]);
    const names = agentNames(agents);
    banner("");
    const rows = reply[key];
    if (!rows.length) {
      replace(list, q.status || q.since
        ? empty(`No ${noun} match`, "Change the filters to see more.")
        : empty(`No ${noun} yet`, null, emptyAction || null));
      return 15000;
    }
    replace(list, table(columns(names), rows, (r) => ({ "data-id": r.id,
      "data-status": r.status })),
    pager(reply, (o) => setQuery({ ...q, offset: o || "" })));
    return rows.some(isActive) ? 2000 : 15000;
  }, {
    signal,
    onError: (e) => {
      if (list.querySelector("table")) banner("Live updates paused: " + describe(e));
      else replace(list, failure(e, () => { replace(list, loading()); p.now(); }, noun));
    },
  });
}
