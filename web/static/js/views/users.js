// Admin → Users and plans: every account, its plan and status, new accounts, the
// plans' limits and the audit trail.

import { api, describe, query } from "../api.js";
import { h, replace, timed } from "../dom.js";
import { badge, card, confirm, dialog, empty, failure, field, loading, pager, secretBox, select,
  table, toast } from "../ui.js";

const PLANS = ["FREE", "PRO", "MASTER", "REAPER"];
const LIMITS = [["FREE", "60", "1,000", "10,000"], ["PRO", "300", "10,000", "100,000"],
  ["MASTER", "1,000", "50,000", "500,000"], ["REAPER", "unlimited", "unlimited", "unlimited"]];

export function render({ root, signal, user, query: q, setQuery }) {
  const head = h("div.page-head", h("div", h("div.crumb", "Admin"), h("h1", "Users and plans"),
    h("p", "Accounts, their plans and the security events of all of them.")));
  if (user.role !== "admin") {
    replace(root, head, card("Users", null, empty("Only the admin manages accounts",
      "Your account can change its own profile and password.",
      h("a.btn", { href: "#/profile" }, "Open your profile"))));
    return;
  }
  const list = h("div", loading());
  const audit = h("div", loading());
  head.append(h("div.actions", h("button.btn.primary#new-user", { type: "button",
    onclick: () => createUser(load) }, "New user")));
  replace(root, head,
    card("Users", null, list),
    h("div.grid.two",
      card("Plans", "Requests per account across all its keys and sessions", planTable()),
      card("Audit trail", "Latest security events", audit)));
  const offset = Number(q.offset) || 0;
  const load = async () => {
    try {
      const reply = await api("/api/admin/users" + query({ limit: 20, offset }), { signal });
      showUsers(list, reply, user, load, (o) => setQuery({ offset: o || "" }));
    } catch (e) {
      if (e.name !== "AbortError") replace(list, failure(e, load, "the users"));
    }
  };
  load();
  loadAudit(audit, signal);
}

function showUsers(box, reply, me, reload, go) {
  replace(box, table([
    { label: "User", cell: (u) => h("div", h("span.cell-main.clip", { title: u.email }, u.email),
      h("span.cell-sub.clip", u.name || "—")) },
    { label: "Plan", cell: (u) => planSelect(u, reload) },
    { label: "Role", class: "hide-sm", cell: (u) => u.role },
    { label: "Status", cell: (u) => badge(u.disabled ? "disabled" : "active") },
    { label: "Created", class: "nowrap hide-sm", cell: (u) => timed(u.created_at) },
    { label: "", class: "actions", cell: (u) => u.id === me.id ? h("span.muted", "you")
      : h("button.btn.small", { type: "button", class: u.disabled ? "" : "danger",
        onclick: () => setDisabled(u, !u.disabled, reload) }, u.disabled ? "Enable" : "Disable") },
  ], reply.users, (u) => ({ "data-user": u.email })), pager(reply, go));
}

function planSelect(u, reload) {
  const sel = select("plan", PLANS.map((p) => [p, p]), u.plan);
  sel.setAttribute("aria-label", `Plan of ${u.email}`);
  sel.addEventListener("change", async () => {
    try {
      await api(`/api/admin/users/${encodeURIComponent(u.id)}`, { method: "PUT",
        body: { plan: sel.value } });
      toast(`${u.email} is now on ${sel.value}.`);
    } catch (e) {
      toast(describe(e), "bad");
      reload();
    }
  });
  return sel;
}

function setDisabled(u, disabled, reload) {
  const go = async () => {
    await api(`/api/admin/users/${encodeURIComponent(u.id)}`, { method: "PUT",
      body: { disabled } });
    toast(`${u.email} is ${disabled ? "disabled" : "enabled"}.`);
    reload();
  };
  if (!disabled) return go().catch((e) => toast(describe(e), "bad"));
  return confirm(`Disable ${u.email}?`, "Its keys and sessions stop working at once.",
    "Disable account", go);
}

function createUser(reload) {
  dialog({
    title: "New user", submitLabel: "Create user",
    build: () => h("div",
      field("Email", h("input", { name: "email", type: "email", required: true })),
      field("Name", h("input", { name: "name" })),
      field("Password", h("input", { name: "password", type: "password", required: true,
        minlength: 12, autocomplete: "new-password" }), "At least 12 characters."),
      field("Plan", select("plan", PLANS.map((p) => [p, p]), "FREE"))),
    submit: async (form) => {
      const el = form.elements;
      const reply = await api("/api/admin/users", { method: "POST", body: {
        email: el.email.value.trim(), name: el.name.value.trim(), password: el.password.value,
        plan: el.plan.value } });
      reload();
      dialog({ title: "User created", text: `${reply.user.email} can sign in now.`,
        build: () => h("div", h("p", "Their first API key, shown once:"),
          secretBox(reply.key, "new-user-key")) });
    },
  });
}

function planTable() {
  return table([
    { label: "Plan", cell: (r) => h("b", r[0]) },
    { label: "Per minute", class: "num", cell: (r) => r[1] },
    { label: "Per hour", class: "num", cell: (r) => r[2] },
    { label: "Per day", class: "num", cell: (r) => r[3] },
  ], LIMITS);
}

async function loadAudit(box, signal) {
  try {
    const reply = await api("/api/admin/audit?limit=12", { signal });
    replace(box, reply.events.length ? table([
      { label: "Event", cell: (e) => h("span.chip", e.event) },
      { label: "Address", class: "hide-sm", cell: (e) => e.address || "—" },
      { label: "When", class: "nowrap", cell: (e) => timed(e.at) },
    ], reply.events) : empty("No events yet"));
  } catch (e) {
    if (e.name !== "AbortError") replace(box, failure(e, null, "the audit trail"));
  }
}
