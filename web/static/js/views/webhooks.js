// Webhooks: endpoints with their status (disabled ones can be enabled again), new ones
// with their secret shown once, a test delivery and its result, each endpoint's delivery
// log with every attempt's status code and time, and delete.

import { api, describe } from "../api.js";
import { h, replace, shortID, timed } from "../dom.js";
import { poll } from "../poll.js";
import { badge, banner, card, check, confirm, dialog, empty, failure, field, loading,
  secretBox, table, toast } from "../ui.js";

const EVENTS = ["backup.started", "backup.completed", "backup.failed", "restore.started",
  "restore.completed", "restore.failed", "system.alert"];
const DEFAULT_EVENTS = ["backup.completed", "backup.failed", "restore.failed", "system.alert"];

export function render({ root, signal, query: q }) {
  const list = h("div", loading());
  const logBox = h("div");
  const state = { hooks: [], selected: q.id || "", result: null, stopLog: null };
  const create = h("button.btn.primary#new-webhook", { type: "button", disabled: true,
    onclick: () => createWebhook(() => p.now()) }, "New webhook");
  replace(root,
    h("div.page-head",
      h("div", h("h1", "Webhooks"), h("p", "Signed HTTP notifications of backup, restore " +
        "and system events, retried until your endpoint answers.")),
      h("div.actions", create)),
    card("Endpoints", "Each delivery carries X-Grim-Signature: t=<unix time>,v1=<hex " +
      "HMAC-SHA256 of \"<t>.<body>\" keyed with the secret>", list),
    logBox);

  // select shows a webhook's delivery log below the list, keeping the address in step
  // without drawing the page again (which would lose a test's result).
  const select = (id, result = null) => {
    state.selected = id;
    state.result = result;
    history.replaceState(null, "", "#/webhooks?id=" + encodeURIComponent(id));
    for (const tr of list.querySelectorAll("tr[data-webhook]")) {
      tr.classList.toggle("selected", tr.dataset.webhook === id);
    }
    const hook = state.hooks.find((w) => w.id === id);
    if (state.stopLog) state.stopLog();
    state.stopLog = hook ? showLog(logBox, hook, result, signal) : null;
    if (hook) logBox.scrollIntoView({ block: "nearest" });
  };
  const actions = { select, reload: () => p.now() };
  const p = poll(async () => {
    const reply = await api("/api/webhooks?limit=100", { signal });
    banner("");
    create.disabled = false;
    state.hooks = reply.webhooks;
    // The log shown is the chosen webhook's, else the newest one's.
    const hook = state.hooks.find((w) => w.id === state.selected) || state.hooks[0];
    showWebhooks(list, state.hooks, hook ? hook.id : "", actions);
    if (state.stopLog && (!hook || hook.id !== state.selected)) {
      state.stopLog();
      state.stopLog = null;
    }
    state.selected = hook ? hook.id : "";
    if (!hook) replace(logBox);
    else if (!state.stopLog) state.stopLog = showLog(logBox, hook, state.result, signal);
    return 30000;
  }, {
    signal,
    onError: (e) => {
      if (list.querySelector("table")) banner("Live updates paused: " + describe(e));
      else replace(list, failure(e, () => p.now(), "webhooks"));
    },
  });
}

function showWebhooks(box, hooks, selected, { select, reload }) {
  if (!hooks.length) {
    replace(box, empty("No webhooks", "Add an endpoint to hear about backups as they end.",
      h("button.btn.primary", { type: "button", onclick: () => createWebhook(reload) },
        "New webhook")));
    return;
  }
  replace(box, table([
    { label: "Endpoint", cell: (w) => h("div",
      h("a.cell-main.clip.wide", { href: "#/webhooks?id=" + encodeURIComponent(w.id),
        title: `${w.url}: its deliveries`, onclick: (ev) => {
          ev.preventDefault();
          select(w.id);
        } }, w.url),
      w.description ? h("div.cell-sub.clip.wide", { title: w.description }, w.description)
        : null) },
    { label: "Events", class: "hide-sm", cell: (w) => h("div.chips", w.events
      .map((e) => h("span.chip", e))) },
    { label: "Status", cell: hookStatus },
    { label: "Created", class: "nowrap hide-sm", cell: (w) => timed(w.created_at) },
    { label: "", class: "actions", cell: (w) => [
      h("button.btn.small", { type: "button", "data-action": "test",
        onclick: (ev) => sendTest(w, ev.currentTarget, select, reload) }, "Send test"),
      w.status === "disabled" ? h("button.btn.small.primary", { type: "button",
        "data-action": "enable", onclick: () => enable(w, reload) }, "Enable") : null,
      h("button.btn.small.danger", { type: "button", "data-action": "delete",
        onclick: () => remove(w, reload) }, "Delete")] },
  ], hooks, (w) => ({ "data-webhook": w.id, "data-status": w.status,
    class: w.id === selected ? "selected" : null })));
}

// hookStatus is the webhook's badge and what its last deliveries did.
function hookStatus(w) {
  if (w.status === "disabled") {
    return h("div", badge("disabled"), h("div.cell-sub.reason",
      w.disabled_reason || "every delivery failed for long"));
  }
  let sub = "no deliveries yet";
  if (w.failing_since) sub = ["failing since ", timed(w.failing_since)];
  else if (w.last_success_at) sub = ["delivered ", timed(w.last_success_at)];
  return h("div", badge(w.failing_since ? "failing" : "active"), h("div.cell-sub.reason", sub));
}

// sendTest sends a test delivery and shows its result above the webhook's log; the list
// is read again for the status the attempt left.
async function sendTest(w, btn, select, reload) {
  btn.disabled = true;
  btn.textContent = "Sending…";
  try {
    const { delivery } = await api(`/api/webhooks/${encodeURIComponent(w.id)}/test`,
      { method: "POST" });
    select(w.id, delivery);
    reload();
  } catch (e) {
    toast("Test not sent: " + describe(e), "bad");
  } finally {
    btn.disabled = false;
    btn.textContent = "Send test";
  }
}

function enable(w, reload) {
  confirm("Enable this webhook?", `Events are sent to ${w.url} again from now on; what ` +
    "happened while it was disabled is not sent.", "Enable webhook", async () => {
    await api(`/api/webhooks/${encodeURIComponent(w.id)}/enable`, { method: "POST" });
    toast("Webhook enabled.");
    reload();
  }, false);
}

function remove(w, reload) {
  confirm("Delete this webhook?", `Nothing more is sent to ${w.url}, and its delivery log ` +
    "is deleted with it.", "Delete webhook", async () => {
    await api(`/api/webhooks/${encodeURIComponent(w.id)}`, { method: "DELETE" });
    toast("Webhook deleted.");
    reload();
  });
}

function createWebhook(reload) {
  dialog({
    title: "New webhook", submitLabel: "Create webhook", wide: true, cls: "new-webhook",
    build: () => h("div",
      field("URL", h("input#webhook-url", { name: "url", type: "url", required: true,
        maxlength: 2048, placeholder: "https://your-app.example.com/webhook" }),
      "http:// or https://. The controller refuses private and loopback addresses unless " +
        "it runs with --allow-private-webhooks."),
      h("fieldset", h("legend", "Events"), h("div.checks", EVENTS.map((e) =>
        check(e, "event", DEFAULT_EVENTS.includes(e), e)))),
      field("Secret", h("input", { name: "secret", autocomplete: "off", maxlength: 256,
        spellcheck: "false", placeholder: "leave empty to have one made" }),
      "The key of every delivery's HMAC signature. A secret made for you is shown once."),
      field("Description", h("input", { name: "description", maxlength: 500,
        placeholder: "what listens there" }))),
    submit: async (form) => {
      const el = form.elements;
      const events = [...form.querySelectorAll("input[name=event]:checked")]
        .map((c) => c.value);
      if (!events.length) throw new Error("Choose at least one event.");
      const req = { url: el.url.value.trim(), events, description: el.description.value.trim() };
      if (el.secret.value) req.secret = el.secret.value;
      const reply = await api("/api/webhooks", { method: "POST", body: req });
      reload();
      if (req.secret) {
        toast("Webhook created; deliveries are signed with your secret.");
        return;
      }
      dialog({ title: "Webhook created", text: `Deliveries to ${reply.webhook.url} are ` +
        "signed with this secret.", build: () => h("div",
        h("div.callout.warn", "Copy it now: it is shown only this once."),
        secretBox(reply.secret, "webhook-secret")) });
    },
  });
}

// showLog shows hook's delivery log in box, following it while deliveries are pending,
// with a test delivery's result above it; it returns the function that stops it.
function showLog(box, hook, result, signal) {
  const body = h("div", loading());
  replace(box, h("section.card#deliveries", { "data-webhook": hook.id },
    h("div.card-head", h("div.head-text",
      h("h2", "Deliveries"), h("p.clip.wide", { title: hook.url }, hook.url))),
    result ? testResult(result) : null, body));
  const p = poll(async () => {
    const reply = await api(`/api/webhooks/${encodeURIComponent(hook.id)}/deliveries?limit=50`,
      { signal });
    showDeliveries(body, reply.deliveries);
    return nextLook(reply.deliveries);
  }, {
    signal,
    onError: (e) => {
      if (!body.querySelector("table")) {
        replace(body, failure(e, () => p.now(), "the delivery log"));
      }
    },
  });
  return p.stop;
}

// nextLook is when to read the log again: soon after the next pending attempt is due
// (3 s at the soonest), else in 20 s.
function nextLook(deliveries) {
  const due = deliveries.filter((d) => d.status === "pending")
    .map((d) => (d.next_attempt_at ? new Date(d.next_attempt_at) - Date.now() : 0) + 1500);
  return Math.max(3000, Math.min(20000, ...due));
}

// testResult says how a test delivery's first attempt went.
function testResult(d) {
  const how = [d.status_code ? `HTTP ${d.status_code}` : d.error || "no reply",
    `${d.duration_ms} ms`].join(" in ");
  if (d.status === "succeeded") {
    return h("div.callout.ok.flush#test-result", { "data-status": d.status },
      h("b", "Test delivered. "), `Your endpoint answered ${how}.`);
  }
  return h("div.callout.bad.flush#test-result", { "data-status": d.status },
    h("b", "Test not delivered. "), `The endpoint answered ${how}` +
    (d.next_attempt_at ? "; it is retried like any delivery." : "."));
}

function showDeliveries(box, rows) {
  if (!rows.length) {
    replace(box, empty("No deliveries yet", "Events this webhook listens to appear here " +
      "as they are sent; Send test makes one now."));
    return;
  }
  replace(box, table([
    { label: "Event", cell: (d) => h("div", h("span.chip", d.event),
      h("div.cell-sub.mono", { title: d.id }, shortID(d.id))) },
    { label: "Result", cell: (d) => h("div", badge(d.status),
      h("div.cell-sub.clip", { title: d.error || "" }, d.status_code
        ? `HTTP ${d.status_code}` : d.error || (d.status === "pending" ? "not tried yet" : "—"))) },
    { label: "Attempts", cell: attempts },
    { label: "Time", class: "num hide-sm", cell: (d) => d.attempts ? `${d.duration_ms} ms` : "—" },
    { label: "Created", class: "nowrap", cell: (d) => timed(d.created_at) },
    { label: "Next try", class: "nowrap hide-sm", cell: (d) => d.next_attempt_at
      ? timed(d.next_attempt_at) : d.completed_at ? h("span.muted", "done") : "—" },
  ], rows, (d) => ({ "data-delivery": d.id, "data-event": d.event, "data-status": d.status })));
}

// attempts is the count of a delivery's attempts, opening to each one's status code,
// time and error.
function attempts(d) {
  if (!d.attempt_log.length) return h("span.muted", "0");
  return h("details.attempts",
    h("summary", `${d.attempts} ${d.attempts === 1 ? "attempt" : "attempts"}`),
    h("ol", d.attempt_log.map((a) => h("li",
      h("span", a.status_code ? `HTTP ${a.status_code}` : "no reply"),
      h("span.muted", ` · ${a.duration_ms} ms · `), timed(a.started_at),
      a.error ? h("div.cell-sub.wrap-any", a.error) : null))));
}
