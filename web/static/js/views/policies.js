// Policies: backups that start on a schedule and keep what their rules say. The list
// with each policy's schedule, time zone, next run and keep rules; the dialog that
// creates or edits one (the sources of New backup, plus schedule, time zone and keep
// rules); delete.

import { api, describe, query } from "../api.js";
import { h, replace, timed } from "../dom.js";
import { poll } from "../poll.js";
import { banner, card, confirm, dialog, empty, failure, field, loading, pager, select, table,
  toast, zoneOptions } from "../ui.js";
import { agentNames, loadAgents, sourceSummary } from "./jobs.js";
import { agentField, compressionField, readSource, sourceFields } from "./sourceform.js";

const PAGE_SIZE = 20;

// KEEP are the retention rules, as the API names them, with their labels.
const KEEP = [["keep_last", "Last", "the newest n"], ["keep_hourly", "Hourly", "hours"],
  ["keep_daily", "Daily", "days"], ["keep_weekly", "Weekly", "weeks"],
  ["keep_monthly", "Monthly", "months"], ["keep_yearly", "Yearly", "years"],
  ["days", "Within days", "all from the last n days"]];

const PRESETS = [["@hourly", "Hourly"], ["@daily", "Daily at midnight"],
  ["30 2 * * *", "Daily at 02:30"], ["0 3 * * 0", "Sundays at 03:00"], ["@monthly", "Monthly"]];

export function render({ root, signal, user, query: q, setQuery }) {
  const list = h("div", loading());
  const create = h("button.btn.primary#new-policy", { type: "button",
    onclick: () => policyDialog(null, user, () => p.now()) }, "New policy");
  replace(root,
    h("div.page-head",
      h("div", h("h1", "Policies"), h("p", "Backups that start on a schedule and keep what " +
        "their rules say. Expired backups are forgotten; their space returns at the next " +
        "garbage collection.")),
      h("div.actions", create)),
    card("Backup policies", "Each starts up to ten minutes after its slot, by an offset of " +
      "its own, so that policies with the same schedule do not start at once", list));
  const offset = Number(q.offset) || 0;
  const p = poll(async () => {
    const [reply, agents] = await Promise.all([
      api("/api/policies" + query({ limit: PAGE_SIZE, offset }), { signal }),
      loadAgents(signal)]);
    banner("");
    showPolicies(list, reply, agentNames(agents), {
      edit: (pol) => policyDialog(pol, user, () => p.now()),
      remove: (pol) => removePolicy(pol, () => p.now()),
      create: () => create.click(),
      go: (o) => setQuery({ offset: o || "" }),
    });
    return 30000;
  }, {
    signal,
    onError: (e) => {
      if (list.querySelector("table")) banner("Live updates paused: " + describe(e));
      else replace(list, failure(e, () => p.now(), "the policies"));
    },
  });
  if (q.new) {
    history.replaceState(null, "", "#/policies");
    policyDialog(null, user, () => p.now());
  }
}

function showPolicies(box, reply, names, { edit, remove, create, go }) {
  if (!reply.policies.length) {
    replace(box, empty("No policies yet", "A policy backs up an agent's paths or a database " +
      "on a schedule, and keeps as many backups as its rules say.",
    h("button.btn.primary", { type: "button", onclick: create }, "Create the first policy")));
    return;
  }
  replace(box, table([
    { label: "Policy", cell: (p) => h("div",
      h("a.cell-main.clip", { href: "#/policies/" + encodeURIComponent(p.id), title: p.name },
        p.name),
      h("div.cell-sub.clip", { title: sourceSummary(p) }, sourceSummary(p))) },
    { label: "Agent", class: "hide-sm", cell: (p) => h("span.clip",
      { title: names[p.agent_id] || p.agent_id }, names[p.agent_id] || p.agent_id) },
    { label: "Schedule", cell: (p) => h("div", h("span.nowrap", scheduleText(p.schedule)),
      h("div.cell-sub.clip", { title: p.timezone }, p.timezone.replace(/_/g, " "))) },
    { label: "Next run", class: "nowrap", cell: (p) => h("div.next-run",
      timed(p.next_run_at), h("div.cell-sub", zoned(p.next_run_at, p.timezone))) },
    { label: "Keep", class: "hide-sm", cell: (p) => keepChips(p.retention) },
    { label: "Last run", class: "nowrap hide-sm", cell: (p) => timed(p.last_run_at) },
    { label: "", class: "actions", cell: (p) => [
      h("button.btn.small", { type: "button", "data-action": "edit", onclick: () => edit(p) },
        "Edit"),
      h("button.btn.small.danger", { type: "button", "data-action": "delete",
        onclick: () => remove(p) }, "Delete")] },
  ], reply.policies, (p) => ({ "data-policy": p.name, "data-id": p.id })),
  pager(reply, go));
}

// scheduleText says a schedule in words where it has a common form, else as written.
export function scheduleText(expr) {
  const named = { "@hourly": "Every hour", "@daily": "Every day at 00:00",
    "@midnight": "Every day at 00:00", "@weekly": "Sundays at 00:00",
    "@monthly": "The 1st at 00:00", "@yearly": "1 January at 00:00",
    "@annually": "1 January at 00:00" };
  if (named[expr]) return named[expr];
  const f = expr.trim().split(/\s+/);
  const num = (v) => /^\d+$/.test(v);
  if (f.length !== 5 || !num(f[0]) || f[2] !== "*" || f[3] !== "*") return expr;
  const at = (hh) => `${hh.padStart(2, "0")}:${f[0].padStart(2, "0")}`;
  const days = ["Sundays", "Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays",
    "Saturdays", "Sundays"];
  if (f[1] === "*" && f[4] === "*") return `Every hour at :${f[0].padStart(2, "0")}`;
  if (!num(f[1])) return expr;
  if (f[4] === "*") return `Every day at ${at(f[1])}`;
  if (num(f[4]) && Number(f[4]) < 8) return `${days[Number(f[4])]} at ${at(f[1])}`;
  if (f[4] === "1-5") return `Weekdays at ${at(f[1])}`;
  return expr;
}

// zoned is a time on the wall clock of a time zone: "5 Dec, 02:34".
export function zoned(iso, zone) {
  try {
    return new Intl.DateTimeFormat("en-GB", { month: "short", day: "numeric", hour: "2-digit",
      minute: "2-digit", timeZone: zone }).format(new Date(iso));
  } catch {
    return "";
  }
}

// keepChips shows the keep rules that are set; none keeps every backup.
export function keepChips(r = {}) {
  const set = KEEP.filter(([k]) => r[k] > 0);
  if (!set.length) return h("span.muted", "every backup");
  return h("div.chips", set.map(([k, label]) => h("span.chip", { "data-rule": k },
    k === "days" ? `${r[k]} days` : `${label.toLowerCase()} ${r[k]}`)));
}

export function removePolicy(p, done) {
  confirm(`Delete the policy “${p.name}”?`, "No more backups start from it. The backups it " +
    "made stay until you delete them.", "Delete policy", async () => {
    await api(`/api/policies/${encodeURIComponent(p.id)}`, { method: "DELETE" });
    toast(`Policy “${p.name}” deleted.`);
    done();
  });
}

// policyDialog creates a policy (p null) or edits p; done runs after it is saved. The
// dialog edits a policy's first source; more sources, which the API allows, are kept.
export async function policyDialog(p, user, done) {
  if (document.querySelector("dialog.policy")) return;
  let agents;
  try {
    agents = await loadAgents(null, 0);
  } catch (e) {
    toast("Could not list the agents: " + describe(e), "bad");
    return;
  }
  if (!agents.length) {
    dialog({ title: "No agents yet", build: () => empty("Add a host first",
      "A policy backs up an agent. Enrol one, then come back.",
      h("a.btn.primary", { href: "#/agents?add=1" }, "Add a host")) });
    return;
  }
  const agent = p ? agents.find((a) => a.id === p.agent_id)
    : agents.find((a) => a.status === "online") || agents[0];
  const [first, ...rest] = p ? p.sources : [null];
  dialog({
    title: p ? `Edit policy “${p.name}”` : "New policy", cls: "policy", wide: true,
    submitLabel: p ? "Save policy" : "Create policy",
    text: "Backs up on its schedule; the keep rules decide which backups stay.",
    build: () => h("div",
      h("div.row",
        field("Name", h("input#policy-name", { name: "name", required: true, maxlength: 200,
          value: p ? p.name : "", placeholder: "web files nightly" })),
        agentField(agents, agent ? agent.name : "")),
      sourceFields(first),
      rest.length ? h("p.callout.info", `This policy has ${rest.length} more ` +
        `${rest.length === 1 ? "source" : "sources"} (${sourceSummary({ sources: rest })}), ` +
        "kept as they are; grim policy update edits them.") : null,
      h("div.row", compressionField(p ? p.options.compression : "zstd")),
      scheduleFields(p, user),
      keepFields(p ? p.retention : {})),
    submit: async (form) => {
      const body = policyBody(form, p, first, rest);
      const path = p ? `/api/policies/${encodeURIComponent(p.id)}` : "/api/policies";
      const reply = await api(path, { method: p ? "PUT" : "POST", body });
      const saved = reply.policy;
      toast(`Policy “${saved.name}” ${p ? "saved" : "created"}; next run ` +
        `${zoned(saved.next_run_at, saved.timezone)} (${saved.timezone}).`);
      done(saved);
    },
  });
}

function scheduleFields(p, user) {
  const input = h("input#policy-schedule", { name: "schedule", required: true, maxlength: 200,
    value: p ? p.schedule : "@daily", spellcheck: "false", autocomplete: "off" });
  const zone = p ? p.timezone : user.timezone || "UTC";
  return h("fieldset.section", h("legend", "Schedule"),
    h("div.row",
      field("When", input, "Five cron fields (minute hour day month weekday) or @hourly, " +
        "@daily, @weekly, @monthly, @yearly."),
      field("Time zone", select("timezone", zoneOptions(zone), zone),
        "The schedule is read on this wall clock, through daylight-saving changes.")),
    h("div.presets", { role: "group", "aria-label": "Common schedules" },
      PRESETS.map(([expr, label]) => h("button.btn.small", { type: "button",
        onclick: () => { input.value = expr; } }, label))));
}

function keepFields(r = {}) {
  return h("fieldset.section", h("legend", "Keep"),
    h("p.hint", "A backup stays while any rule keeps it; with no rule, every backup stays. " +
      "Hourly to yearly keep the newest backup of each of the last n periods."),
    h("div.keep-grid", KEEP.map(([k, label, hint]) => field(label, h("input", { name: k,
      type: "number", min: 0, max: k === "days" ? 36500 : 100000, inputmode: "numeric",
      value: r[k] || "", placeholder: "—" }), hint))));
}

// policyBody is the request the form describes. An edit keeps the sources the dialog does
// not show, the options it has no field for, and a database connection's certificates.
function policyBody(form, p, first, rest) {
  const el = form.elements;
  const source = readSource(form);
  if (source.type === "database" && first && first.connection) {
    for (const k of ["ssl_root_cert", "ssl_cert", "ssl_key"]) {
      if (first.connection[k]) source.connection[k] = first.connection[k];
    }
  }
  const retention = {};
  for (const [k] of KEEP) if (Number(el[k].value) > 0) retention[k] = Number(el[k].value);
  const options = { compression: el.compression.value };
  if (p) options.notify_on_completion = p.options.notify_on_completion;
  return { name: el.name.value.trim(), agent: el.agent.value, sources: [source, ...rest],
    options, schedule: el.schedule.value.trim(), timezone: el.timezone.value, retention };
}
