// Profile: name, company, time zone and notifications, the password, and this session.

import { api, describe } from "../api.js";
import { date, h, replace } from "../dom.js";
import { card, check, failure, field, loading, select, toast, zoneOptions } from "../ui.js";

const NOTIFY = [["backup_completed", "A backup completed"], ["backup_failed", "A backup failed"],
  ["restore_completed", "A restore completed"], ["restore_failed", "A restore failed"],
  ["system_alert", "System alerts"], ["email", "Send notifications by email"]];

export function render({ root, signal, session, setUser }) {
  const profileBox = h("div", loading());
  replace(root,
    h("div.page-head", h("div", h("h1", "Profile"),
      h("p", "Your account, your password and this session."))),
    h("div.grid.two",
      card("Account", null, profileBox),
      h("div.stack", card("Password", "Changing it signs out every other session of the account; " +
        "API keys keep working.", passwordForm()),
      card("This session", null, h("div.card-body", h("dl.kv",
        h("dt", "Session"), h("dd.mono", session.id),
        h("dt", "Ends"), h("dd", date(session.expires_at))))))));
  const load = async () => {
    try {
      const reply = await api("/api/user/profile", { signal });
      replace(profileBox, profileForm(reply.user, setUser));
    } catch (e) {
      if (e.name !== "AbortError") replace(profileBox, failure(e, load, "your profile"));
    }
  };
  load();
}

function profileForm(u, setUser) {
  const form = h("form#profile-form.card-body",
    h("dl.kv", h("dt", "Email"), h("dd", u.email), h("dt", "Plan"), h("dd", u.plan),
      h("dt", "Role"), h("dd", u.role)),
    h("div.spacer"),
    field("Name", h("input", { name: "name", value: u.name, maxlength: 200,
      autocomplete: "name" })),
    field("Company", h("input", { name: "company", value: u.company, maxlength: 200,
      autocomplete: "organization" })),
    field("Time zone", select("timezone", zoneOptions(u.timezone), u.timezone)),
    h("fieldset", h("legend", "Notify me when"),
      NOTIFY.map(([k, label]) => check(label, k, u.notifications && u.notifications[k]))),
    h("button.btn.primary", { type: "submit" }, "Save profile"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const el = form.elements;
    const notifications = Object.fromEntries(NOTIFY.map(([k]) => [k, el[k].checked]));
    try {
      const reply = await api("/api/user/profile", { method: "PUT", body: {
        name: el.name.value.trim(), company: el.company.value.trim(),
        timezone: el.timezone.value, notifications } });
      setUser(reply.user);
      toast("Profile saved.");
    } catch (e) {
      toast(describe(e), "bad");
    }
  });
  return form;
}

function passwordForm() {
  const err = h("p.form-error", { role: "alert", hidden: true });
  const form = h("form#password-form.card-body", err,
    field("Current password", h("input", { name: "current", type: "password", required: true,
      autocomplete: "current-password" })),
    field("New password", h("input", { name: "next", type: "password", required: true,
      minlength: 12, autocomplete: "new-password" }), "At least 12 characters."),
    field("Repeat the new password", h("input", { name: "again", type: "password",
      required: true, autocomplete: "new-password" })),
    h("button.btn.primary", { type: "submit" }, "Change password"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const el = form.elements;
    err.hidden = true;
    if (el.next.value !== el.again.value) {
      err.textContent = "The new passwords differ.";
      err.hidden = false;
      return;
    }
    try {
      await api("/api/user/password", { method: "POST", body: {
        current_password: el.current.value, new_password: el.next.value } });
      form.reset();
      toast("Password changed. Other sessions are signed out.");
    } catch (e) {
      err.textContent = e.details && e.details.field === "current_password"
        ? "The current password is wrong." : describe(e);
      err.hidden = false;
    }
  });
  return form;
}
