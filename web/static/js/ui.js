// Shared pieces of the views: states (loading, empty, error, not available), badges,
// progress bars, tables, pagers, dialogs, toasts and the secret-shown-once box.

import { describe } from "./api.js";
import { h, replace } from "./dom.js";

// States ---------------------------------------------------------------------------------

export function loading(text = "Loading…") {
  return h("div.state.small", { role: "status" }, h("span.spinner"), text);
}

// empty is the state of a view with nothing to show, with an optional action.
export function empty(title, text, action) {
  return h("div.state", h("h3", title), text ? h("p", text) : null, action || null);
}

// failure is the state of a view whose data could not be loaded. A route this
// controller does not serve says so plainly: that part of the dashboard is not
// available here, which no retry will change.
export function failure(e, retry, what = "this") {
  if (e && e.notAvailable) {
    return h("div.state.unavailable", { "data-state": "unavailable" },
      h("h3", "Not available on this controller"),
      h("p", `The controller does not serve ${what} (its API answered 404). ` +
        "It comes with a newer controller release."));
  }
  return h("div.state.error", { role: "alert", "data-state": "error" },
    h("h3", "Could not load " + what),
    h("p", describe(e)),
    retry ? h("button.btn", { type: "button", onclick: retry }, "Try again") : null);
}

// Badges and progress ------------------------------------------------------------------

const TONES = {
  online: "ok", completed: "ok", active: "ok", healthy: "ok", operational: "ok", valid: "ok",
  running: "info", queued: "", offline: "", canceled: "warn", expired: "warn",
  degraded: "warn", failed: "bad", revoked: "bad", unhealthy: "bad", disabled: "bad",
  succeeded: "ok", clean: "ok", pending: "warn", failing: "warn", damaged: "bad",
};

export function badge(status, label = status) {
  const tone = TONES[status] ?? "";
  return h("span.badge", { class: tone, "data-status": status }, label);
}

export function progress(value, tone = "") {
  const v = Math.max(0, Math.min(100, Number(value) || 0));
  const bar = h("span");
  bar.style.width = v + "%";
  return h("div.progress", { role: "progressbar", "aria-valuenow": Math.round(v),
    "aria-valuemin": 0, "aria-valuemax": 100 },
  h("div.meter", { class: tone }, bar), h("span.pct", Math.round(v) + "%"));
}

export function meter(fraction) {
  const v = Math.max(0, Math.min(1, Number(fraction) || 0));
  const bar = h("span");
  bar.style.width = (v * 100).toFixed(1) + "%";
  return h("div.meter", { class: v > .9 ? "bad" : v > .75 ? "warn" : "" }, bar);
}

// Tables and pagers --------------------------------------------------------------------

// table builds a table from column specs {label, cell(row) → node|string, class} and
// rows; rowAttrs(row) may give each row attributes. On a phone-sized screen each row is
// a block of its cells, each labelled with its column (data-label), the first as the
// row's title.
export function table(columns, rows, rowAttrs) {
  return h("div.table-wrap", h("table.stack",
    h("thead", h("tr", columns.map((c) => h("th", { class: c.class, scope: "col" }, c.label)))),
    h("tbody", rows.map((r) => h("tr", rowAttrs ? rowAttrs(r) : null,
      columns.map((c) => h("td", { class: c.class, "data-label": c.label }, c.cell(r))))))));
}

// pager shows "1–50 of 132" and the previous and next buttons of a list reply.
export function pager(reply, go) {
  const { total = 0, limit = 50, offset = 0 } = reply;
  const first = total === 0 ? 0 : offset + 1;
  const last = Math.min(offset + limit, total);
  return h("div.pager",
    h("span", `${first}–${last} of ${total}`),
    h("div.btns",
      h("button.btn.small", { type: "button", disabled: offset === 0,
        onclick: () => go(Math.max(0, offset - limit)) }, "Previous"),
      h("button.btn.small", { type: "button", disabled: last >= total,
        onclick: () => go(offset + limit) }, "Next")));
}

// stat is a figure's tile: its label, value, a line under it and an optional extra (a
// meter); data-tile names it by its label.
export function stat(label, value, sub, extra) {
  return h("div.card.stat", { "data-tile": label }, h("div.label", label),
    h("div.value", value), sub ? h("div.sub", sub) : null, extra || null);
}

// kv is one term and its value of a dl.kv list.
export function kv(k, v) {
  return [h("dt", k), h("dd", v)];
}

export function card(title, sub, body, actions) {
  return h("section.card",
    h("div.card-head", h("div", h("h2", title), sub ? h("p", sub) : null), actions || null),
    body);
}

// Dialogs ------------------------------------------------------------------------------

let dialogSeq = 0;

// dialog opens a modal dialog. build(close) returns its body; submit(form) runs when the
// form is submitted and closes the dialog unless it throws (its error is then shown in
// the dialog) or returns false; cls names the dialog for styles and callers. The dialog
// is removed from the page when it closes.
export function dialog({ title, text, build, submit, submitLabel = "Save", danger = false,
  wide = false, cancelLabel = "Cancel", cls = "" }) {
  const err = h("p.form-error", { role: "alert", hidden: true });
  const submitBtn = submit
    ? h("button.btn", { type: "submit", class: danger ? "danger solid" : "primary" }, submitLabel)
    : null;
  const form = h("form", { method: "dialog", novalidate: false });
  const titleID = `dlg${++dialogSeq}`;
  const dlg = h("dialog", { class: [wide ? "wide" : "", cls].join(" "),
    "aria-labelledby": titleID }, form);
  const close = () => dlg.close();
  replace(form,
    h("div.dlg-head", h("h2", { id: titleID }, title), text ? h("p", text) : null),
    h("div.dlg-body", err, build(close)),
    h("div.dlg-foot",
      h("button.btn", { type: "button", onclick: close }, submit ? cancelLabel : "Close"),
      submitBtn));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!submit) return close();
    err.hidden = true;
    submitBtn.disabled = true;
    try {
      if ((await submit(form)) !== false) close();
    } catch (e) {
      err.textContent = describe(e);
      err.hidden = false;
    } finally {
      submitBtn.disabled = false;
    }
  });
  dlg.addEventListener("close", () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  return dlg;
}

// confirm asks a yes-or-no question and runs action on yes; action's error is shown in
// the dialog. The yes button is red unless danger is false.
export function confirm(title, text, label, action, danger = true) {
  return dialog({ title, text, build: () => null, submit: action, submitLabel: label,
    danger, cls: "confirm" });
}

// banner shows (or, with "", hides) a line above every view: the controller cannot be
// reached, a rate limit, and the like.
export function banner(text) {
  const el = document.querySelector(".banner");
  if (!el) return;
  el.textContent = text;
  el.hidden = !text;
}

// Toasts -------------------------------------------------------------------------------

export function toast(text, tone = "") {
  let box = document.querySelector(".toasts");
  if (!box) {
    box = h("div.toasts", { role: "status", "aria-live": "polite" });
    document.body.append(box);
  }
  const t = h("div.toast", { class: tone }, text);
  // Three at most: a burst of actions keeps the newest.
  while (box.children.length >= 3) box.firstElementChild.remove();
  box.append(t);
  setTimeout(() => t.remove(), 5000);
}

// Forms --------------------------------------------------------------------------------

let fieldSeq = 0;

// field is a labelled control: field("Name", h("input", {name: "name"}), "hint").
export function field(label, control, hint) {
  const id = control.id || `f${++fieldSeq}`;
  control.id = id;
  return h("div.field", h("label", { for: id }, label), control,
    hint ? h("span.hint", hint) : null);
}

export function check(label, name, checked = false, value) {
  return h("label.check", h("input", { type: "checkbox", name, checked, value }), label);
}

export function select(name, options, value) {
  return h("select", { name },
    options.map(([v, label]) => h("option", { value: v, selected: v === value }, label)));
}

// zoneOptions are the IANA time zones the browser knows, as select options, with UTC and
// current among them.
export function zoneOptions(current) {
  let list = [];
  try {
    list = Intl.supportedValuesOf("timeZone");
  } catch {
    list = ["UTC"];
  }
  if (!list.includes("UTC")) list.unshift("UTC");
  if (current && !list.includes(current)) list.unshift(current);
  return list.map((z) => [z, z.replace(/_/g, " ")]);
}

// lines splits a textarea's value into its non-empty trimmed lines.
export function lines(text) {
  return String(text || "").split("\n").map((l) => l.trim()).filter(Boolean);
}

// Secrets ------------------------------------------------------------------------------

// secretBox shows a secret with a copy button; it is in the page only until the view
// goes, and never stored.
export function secretBox(value, testId) {
  const code = h("code", { "data-testid": testId }, value);
  return h("div.secret", code, copyButton(value));
}

export function copyButton(value) {
  const btn = h("button.btn.small", { type: "button", "aria-label": "Copy to clipboard" }, "Copy");
  btn.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(value);
      btn.textContent = "Copied";
    } catch {
      btn.textContent = "Select and copy";
    }
    setTimeout(() => { btn.textContent = "Copy"; }, 2000);
  });
  return btn;
}
