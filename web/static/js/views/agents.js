// Agents: status, transport, version and capabilities of every enrolled host, a join
// token with a ready-to-paste install command, ping and revoke.

import { api, describe } from "../api.js";
import { date, h, replace, timed } from "../dom.js";
import { poll } from "../poll.js";
import { badge, banner, card, confirm, dialog, empty, failure, field, loading, secretBox,
  select, table, toast } from "../ui.js";
import { newBackup } from "./backups.js";

export function render({ root, signal, query: q }) {
  const list = h("div", loading());
  replace(root,
    h("div.page-head",
      h("div", h("h1", "Agents"), h("p", "The hosts this controller protects.")),
      h("div.actions", h("button.btn.primary#add-host", { type: "button", onclick: addHost },
        "Add a host"))),
    card("Enrolled agents", "Status is live; an agent silent for three heartbeats is offline.",
      list));
  const p = poll(async () => {
    const reply = await api("/api/agents?limit=100", { signal });
    banner("");
    showAgents(list, reply.agents, () => p.now(), signal);
    return 10000;
  }, {
    signal,
    onError: (e) => {
      if (list.querySelector("table")) banner("Live updates paused: " + describe(e));
      else replace(list, failure(e, () => p.now(), "the agents"));
    },
  });
  if (q.add) {
    history.replaceState(null, "", "#/agents");
    addHost();
  }
}

function showAgents(box, agents, refresh, signal) {
  if (!agents.length) {
    replace(box, empty("No agents yet", "Create a join token and run the install command " +
      "it gives on the host to protect.",
    h("button.btn.primary", { type: "button", onclick: addHost }, "Add a host")));
    return;
  }
  replace(box, table([
    { label: "Agent", cell: (a) => h("div", h("span.cell-main.clip", { title: a.name }, a.name),
      h("span.cell-sub.clip", { title: a.hostname }, a.hostname || "")) },
    { label: "Status", cell: (a) => h("div", badge(a.status), h("div.cell-sub",
      a.transport ? `over ${a.transport.toUpperCase()}` : "never connected")) },
    { label: "Version", class: "nowrap", cell: (a) => h("div", a.version || "—",
      a.outdated ? [" ", badge("expired", "outdated")] : null,
      h("div.cell-sub", [a.os, a.arch].filter(Boolean).join("/"))) },
    { label: "Capabilities", class: "hide-sm", cell: capabilities },
    { label: "Last seen", class: "nowrap", cell: (a) => h("div", timed(a.last_seen),
      a.rtt_ms != null ? h("div.cell-sub", `RTT ${a.rtt_ms.toFixed(1)} ms`) : null) },
    { label: "", class: "actions", cell: (a) => [
      h("button.btn.small", { type: "button", disabled: a.status !== "online",
        onclick: () => newBackup(signal, a.name) }, "Back up"),
      h("button.btn.small", { type: "button", disabled: a.status !== "online",
        onclick: () => ping(a, refresh) }, "Ping"),
      h("button.btn.small.danger", { type: "button", onclick: () => revoke(a, refresh) },
        "Revoke")] },
  ], agents, (a) => ({ "data-agent": a.name, "data-status": a.status })));
}

// capabilities shows what the agent can back up: files always, and each database
// engine whose dump tool it found, with the tools and versions in the tooltip.
function capabilities(a) {
  const tools = (a.capabilities && a.capabilities.tools) || [];
  const has = (...names) => tools.filter((t) => names.includes(t.name));
  const chip = (label, found) => found.length ? h("span.chip", {
    title: found.map((t) => `${t.name}: ${t.version}`).join("\n") }, label) : null;
  return h("div.chips", h("span.chip", "files"),
    chip("PostgreSQL", has("pg_dump", "pg_restore", "psql")),
    chip("MySQL/MariaDB", has("mariadb-dump", "mysqldump", "mariadb", "mysql")));
}

async function ping(a, refresh) {
  try {
    const r = await api(`/api/agents/${encodeURIComponent(a.id)}/ping`, { method: "POST" });
    toast(`${a.name} answered in ${r.rtt_ms.toFixed(1)} ms.`);
    refresh();
  } catch (e) {
    toast(`${a.name} did not answer: ${describe(e)}`, "bad");
  }
}

function revoke(a, refresh) {
  confirm(`Revoke ${a.name}?`, "Its certificate stops being accepted at once and its " +
    "connection ends. Its backups stay. To protect the host again, enrol it anew.",
  "Revoke agent", async () => {
    await api(`/api/agents/${encodeURIComponent(a.id)}`, { method: "DELETE" });
    toast(`${a.name} is revoked.`);
    refresh();
  });
}

// addHost makes a one-time join token and shows the line that installs the agent from
// this controller and enrols it. The line holds the token: it is shown, never stored.
function addHost() {
  const out = h("div");
  const ttl = select("ttl", [["3600", "1 hour"], ["600", "10 minutes"], ["86400", "1 day"],
    ["604800", "7 days"]], "3600");
  const make = h("button.btn.primary#make-token", { type: "button" }, "Create join token");
  const dlg = dialog({
    title: "Add a host", wide: true,
    text: "A join token enrols one host, once. The install command fetches the agent " +
      "package from this controller, enrols it with the token and starts its service.",
    build: () => h("div", h("div.toolbar", field("Token valid for", ttl), make), out),
  });
  make.addEventListener("click", async () => {
    make.disabled = true;
    try {
      const t = await api("/api/agents/tokens", { method: "POST",
        body: { ttl_seconds: Number(ttl.value) } });
      replace(out,
        h("div.spacer"),
        h("p", h("b", "Run this as root on the new host:")),
        secretBox(t.install_command, "install-command"),
        h("p.muted", `It works once, until ${date(t.expires_at)}. The token alone, for ` +
          "grim-agent enroll --controller HOST:PORT --token on a host that has the package:"),
        secretBox(t.token, "join-token"));
      make.textContent = "Create another";
    } catch (e) {
      replace(out, h("p.form-error", { role: "alert" }, describe(e)));
    } finally {
      make.disabled = false;
    }
  });
  return dlg;
}
