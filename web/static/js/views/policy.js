// One policy: its settings, next and last run, edit and delete, and the backups it
// started (GET /api/backups?policy_id=).

import { api } from "../api.js";
import { ago, date, h, replace } from "../dom.js";
import { failure, kv, loading } from "../ui.js";
import { backupColumns } from "./backups.js";
import { agentNames, jobList, loadAgents, sourceSummary } from "./jobs.js";
import { keepChips, policyDialog, removePolicy, scheduleText, zoned } from "./policies.js";

export function render({ root, id, signal, user, query: q, setQuery }) {
  const head = h("div.page-head", h("div", h("div.crumb", h("a", { href: "#/policies" },
    "Policies")), h("h1", "Policy")));
  const summary = h("section.card", h("div.card-head", h("h2", "Settings")), loading());
  const backups = h("section.card", { hidden: true });
  replace(root, head, summary, backups);
  const load = async () => {
    try {
      const [{ policy }, agents] = await Promise.all([
        api("/api/policies/" + encodeURIComponent(id), { signal }), loadAgents(signal)]);
      show(head, summary, policy, agentNames(agents), user, load);
      if (backups.hidden) showBackups(backups, id, signal, q, setQuery);
    } catch (e) {
      if (e.name !== "AbortError") replace(summary, failure(e, load, "this policy"));
    }
  };
  load();
}

// showBackups lists the backups the policy started, once the policy is known to exist.
function showBackups(box, id, signal, q, setQuery) {
  box.hidden = false;
  jobList({
    box, signal, q, setQuery, path: "/api/backups", key: "backups",
    noun: "backups from this policy", params: { policy_id: id }, columns: backupColumns,
  });
  box.prepend(h("div.card-head", h("div", h("h2", "Backups"),
    h("p", "What this policy started, newest first"))));
}

function show(head, box, p, names, user, reload) {
  replace(head,
    h("div", h("div.crumb", h("a", { href: "#/policies" }, "Policies")),
      h("h1.wrap-any", p.name),
      h("p", `Next run ${nextRun(p)}`)),
    h("div.actions",
      h("button.btn.danger#delete-policy", { type: "button", onclick: () => removePolicy(p,
        () => { location.hash = "#/policies"; }) }, "Delete…"),
      h("button.btn.primary#edit-policy", { type: "button",
        onclick: () => policyDialog(p, user, reload) }, "Edit policy")));
  replace(box, h("div.card-head", h("h2", "Settings")), h("div.card-body", h("dl.kv.cols",
    kv("Agent", names[p.agent_id] || p.agent_id),
    kv("Sources", sourceSummary(p)),
    kv("Compression", p.options.compression || "zstd"),
    kv("Schedule", `${scheduleText(p.schedule)} (${p.schedule})`),
    kv("Time zone", p.timezone),
    kv("Keep", keepChips(p.retention)),
    kv("Next run", nextRun(p)),
    kv("Last run", date(p.last_run_at)),
    kv("Updated", date(p.updated_at)))));
}

// nextRun is when the policy runs next, on its wall clock and from now.
function nextRun(p) {
  return `${zoned(p.next_run_at, p.timezone)} ${p.timezone.replace(/_/g, " ")}, ` +
    ago(p.next_run_at);
}

