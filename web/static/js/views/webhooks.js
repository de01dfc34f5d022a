// Webhooks: create, test and delete endpoints, and each one's delivery log.
// TODO: written against the contract's routes (POST/GET/DELETE /api/webhooks) and the
// assumed POST /api/webhooks/{id}/test and GET /api/webhooks/{id}/deliveries, before the
// controller served any of them; a controller without them shows "not available".

import { api, describe } from "../api.js";
import { h, replace, timed } from "../dom.js";
import { badge, card, check, confirm, dialog, empty, failure, field, loading, secretBox, table,
  toast } from "../ui.js";

const EVENTS = ["backup.started", "backup.completed", "backup.failed", "restore.started",
  "restore.completed", "restore.failed", "system.alert"];

export function render({ root, signal, query: q, setQuery }) {
  const list = h("div", loading());
  const log = h("div");
  const create = h("button.btn.primary#new-webhook", { type: "button", disabled: true,
    onclick: () => createWebhook(load) }, "New webhook");
  replace(root,
    h("div.page-head",
      h("div", h("h1", "Webhooks"), h("p", "Signed HTTP notifications of backup, restore " +
        "and system events, retried until your endpoint answers.")),
      h("div.actions", create)),
    card("Endpoints", "Each delivery carries X-Grim-Signature: HMAC-SHA256 of the body " +
      "with the webhook's secret", list),
    log);
  const load = async () => {
    try {
      const reply = await api("/api/webhooks?limit=100", { signal });
      create.disabled = false;
      showWebhooks(list, reply.webhooks || [], load, (id) => setQuery({ id }));
      if (q.id) showLog(log, q.id, signal);
    } catch (e) {
      if (e.name !== "AbortError") replace(list, failure(e, load, "webhooks"));
    }
  };
  load();
}

function showWebhooks(box, hooks, reload, select) {
  if (!hooks.length) {
    replace(box, empty("No webhooks", "Add an endpoint to hear about backups as they end.",
      h("button.btn.primary", { type: "button", onclick: () => createWebhook(reload) },
        "New webhook")));
    return;
  }
  replace(box, table([
    { label: "Endpoint", cell: (w) => h("div", h("span.cell-main.clip.wide", { title: w.url },
      w.url), w.description ? h("span.cell-sub.clip.wide", w.description) : null) },
    { label: "Events", class: "hide-sm", cell: (w) => h("div.chips", (w.events || [])
      .map((e) => h("span.chip", e))) },
    { label: "Status", cell: (w) => badge(w.active === false ? "disabled" : "active") },
    { label: "Created", class: "nowrap hide-sm", cell: (w) => timed(w.created_at) },
    { label: "", class: "actions", cell: (w) => [
      h("button.btn.small", { type: "button", onclick: () => select(w.id) }, "Deliveries"),
      h("button.btn.small", { type: "button", onclick: () => test(w) }, "Send test"),
      h("button.btn.small.danger", { type: "button", onclick: () => remove(w, reload) },
        "Delete")] },
  ], hooks, (w) => ({ "data-webhook": w.id })));
}

async function test(w) {
  try {
    await api(`/api/webhooks/${encodeURIComponent(w.id)}/test`, { method: "POST" });
    toast("Test delivery sent; see its result in the deliveries.");
  } catch (e) {
    toast("Test not sent: " + describe(e), "bad");
  }
}

function remove(w, reload) {
  confirm("Delete this webhook?", `Deliveries to ${w.url} stop at once.`, "Delete webhook",
    async () => {
      await api(`/api/webhooks/${encodeURIComponent(w.id)}`, { method: "DELETE" });
      toast("Webhook deleted.");
      reload();
    });
}

function createWebhook(reload) {
  dialog({
    title: "New webhook", submitLabel: "Create webhook", wide: true,
    build: () => h("div",
      field("URL", h("input", { name: "url", type: "url", required: true,
        placeholder: "https://your-app.example.com/webhook" })),
      h("fieldset", h("legend", "Events"), h("div.row", EVENTS.map((e) =>
        check(e, "event", e.endsWith("completed") || e.endsWith("failed"))))),
      field("Secret", h("input", { name: "secret", autocomplete: "off", minlength: 16,
        placeholder: "leave empty to have one made" }), "Signs every delivery."),
      field("Description", h("input", { name: "description", maxlength: 200 }))),
    submit: async (form) => {
      const el = form.elements;
      const events = [...form.querySelectorAll("input[name=event]")].map((c, i) =>
        c.checked ? EVENTS[i] : null).filter(Boolean);
      const req = { url: el.url.value.trim(), events, description: el.description.value.trim() };
      if (el.secret.value) req.secret = el.secret.value;
      const reply = await api("/api/webhooks", { method: "POST", body: req });
      reload();
      const secret = reply.secret || (reply.webhook && reply.webhook.secret);
      if (secret && !req.secret) {
        dialog({ title: "Webhook created", build: () => h("div",
          h("p", "Its signing secret, shown once:"), secretBox(secret, "webhook-secret")) });
      } else {
        toast("Webhook created.");
      }
    },
  });
}

async function showLog(box, id, signal) {
  const body = h("div", loading());
  replace(box, card("Deliveries", "Newest first; a failed delivery is retried with growing " +
    "delays", body));
  try {
    const reply = await api(`/api/webhooks/${encodeURIComponent(id)}/deliveries?limit=50`,
      { signal });
    const rows = reply.deliveries || [];
    replace(body, rows.length ? table([
      { label: "Event", cell: (d) => h("span.chip", d.event) },
      { label: "Result", cell: (d) => badge(d.status === "delivered" || (d.response_status >= 200
        && d.response_status < 300) ? "completed" : d.status || "failed",
      d.response_status ? `HTTP ${d.response_status}` : d.status || "pending") },
      { label: "Attempts", class: "num", cell: (d) => d.attempts ?? "—" },
      { label: "Sent", class: "nowrap", cell: (d) => timed(d.last_attempt_at || d.created_at) },
      { label: "Next try", class: "nowrap hide-sm", cell: (d) => d.next_attempt_at
        ? timed(d.next_attempt_at) : "—" },
    ], rows) : empty("No deliveries yet", "Send a test to see one here."));
  } catch (e) {
    if (e.name !== "AbortError") replace(body, failure(e, null, "the delivery log"));
  }
}
