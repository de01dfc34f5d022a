// Admin → License Manager: API keys (generate, list, revoke) and Scythe licenses
// (generate, list, validate, revoke).

import { api, describe, query } from "../api.js";
import { date, h, replace, timed } from "../dom.js";
import { badge, card, confirm, copyButton, dialog, empty, failure, field, loading, pager,
  secretBox, select, table, toast } from "../ui.js";

const TABS = [["keys", "API keys"], ["licenses", "Licenses"]];

export function render({ root, signal, query: q, setQuery }) {
  const tab = q.tab === "licenses" ? "licenses" : "keys";
  const body = h("div.stack");
  replace(root,
    h("div.page-head", h("div", h("div.crumb", "Admin"), h("h1", "License Manager"),
      h("p", "API keys for programs that use this controller, and the licenses you issue " +
        "for your own software."))),
    h("nav.tabs", { "aria-label": "License Manager" }, TABS.map(([k, label]) =>
      h("a", { href: `#/licenses?tab=${k}`, "aria-current": k === tab ? "page" : null,
        "data-tab": k }, label))),
    body);
  if (tab === "keys") renderKeys(body, signal);
  else renderLicenses(body, signal, q, setQuery);
}

// API keys ---------------------------------------------------------------------------------

function renderKeys(body, signal) {
  const list = h("div", loading());
  const result = h("div");
  const name = h("input#key-name", { name: "name", required: true, maxlength: 100,
    placeholder: "backup-scripts" });
  const form = h("form#key-form.card-body",
    h("div.row.three",
      field("Name", name, "What uses the key, so you know what revoking it stops."),
      field("Access", select("scope", [["full", "Full: read and change"],
        ["read", "Read only"]], "full")),
      field("Expires", select("expires", [["", "Never"], ["30", "In 30 days"],
        ["90", "In 90 days"], ["365", "In a year"]], ""))),
    h("button.btn.primary#generate-key", { type: "submit" }, "Generate API key"),
    result);
  const load = async () => {
    try {
      const reply = await api("/api/keys?limit=100", { signal });
      showKeys(list, reply.keys, load);
    } catch (e) {
      if (e.name !== "AbortError") replace(list, failure(e, load, "the API keys"));
    }
  };
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const el = form.elements;
    const req = { name: el.name.value.trim(), scopes: [el.scope.value] };
    if (el.expires.value) {
      req.expires_at = new Date(Date.now() + Number(el.expires.value) * 86400e3).toISOString();
    }
    try {
      const reply = await api("/api/keys", { method: "POST", body: req });
      replace(result, h("div.spacer"), h("div.callout.ok", h("b", `Key “${reply.api_key.name}” ` +
        "created. "), "Copy it now: it is shown only this once."),
      secretBox(reply.key, "new-api-key"),
      h("p.muted", "Use it as ", h("code", "Authorization: Bearer <key>"), " or with ",
        h("code", "GRIM_API_KEY"), " for the grim command."));
      form.reset();
      load();
    } catch (e) {
      replace(result, h("div.spacer"), h("p.form-error", { role: "alert" }, describe(e)));
    }
  });
  replace(body, card("Generate API key", null, form), card("API keys",
    "Keys are stored only as hashes; a revoked key stops working on its next request.", list));
  load();
}

function showKeys(box, keys, reload) {
  if (!keys.length) {
    replace(box, empty("No API keys", "Generate one above for scripts and integrations."));
    return;
  }
  replace(box, table([
    { label: "Name", cell: (k) => h("span.cell-main.clip", { title: k.name }, k.name) },
    { label: "Key", cell: (k) => h("code", `grim_${k.prefix}_…`) },
    { label: "Access", cell: (k) => h("div.chips", k.scopes.map((s) => h("span.chip", s))) },
    { label: "Created", class: "nowrap hide-sm", cell: (k) => timed(k.created_at) },
    { label: "Last used", class: "nowrap", cell: (k) => timed(k.last_used_at) },
    { label: "Expires", class: "nowrap hide-sm", cell: (k) => k.expires_at
      ? date(k.expires_at) : "never" },
    { label: "", class: "actions", cell: (k) => h("button.btn.small.danger", { type: "button",
      onclick: () => confirm(`Revoke “${k.name}”?`, "Programs that use it are refused from " +
        "their next request on.", "Revoke key", async () => {
        await api(`/api/keys/${encodeURIComponent(k.id)}`, { method: "DELETE" });
        toast(`Key “${k.name}” revoked.`);
        reload();
      }) }, "Revoke") },
  ], keys, (k) => ({ "data-key": k.name })));
}

// Licenses ---------------------------------------------------------------------------------

function renderLicenses(body, signal, q, setQuery) {
  const list = h("div", loading());
  const status = select("status", [["", "Any status"], ["active", "Active"],
    ["expired", "Expired"], ["revoked", "Revoked"]], q.status || "");
  status.addEventListener("change", () => setQuery({ ...q, status: status.value, offset: "" }));
  const offset = Number(q.offset) || 0;
  const load = async () => {
    try {
      const reply = await api("/api/licenses" + query({ status: q.status, limit: 20, offset }),
        { signal });
      showLicenses(list, reply, load, (o) => setQuery({ ...q, offset: o || "" }));
    } catch (e) {
      if (e.name !== "AbortError") replace(list, failure(e, load, "the licenses"));
    }
  };
  replace(body, h("div.stack",
    card("Licenses", "Signed with your account's Ed25519 key", h("div",
      h("div.card-head", h("div.toolbar", field("Status", status))), list),
    h("button.btn.primary#generate-license", { type: "button",
      onclick: () => generateLicense(load) }, "Generate license")),
    card("Validate a license", "Checks the signature, the product, the expiry and " +
      "revocation, as your software's call to POST /api/licenses/validate does",
    validateForm())));
  load();
}

function showLicenses(box, reply, reload, go) {
  if (!reply.licenses.length) {
    replace(box, empty("No licenses", "Generate a license for a customer of your software."));
    return;
  }
  replace(box, table([
    { label: "Customer", cell: (l) => h("div",
      h("span.cell-main.clip", { title: l.customer_name }, l.customer_name),
      h("span.cell-sub.clip", { title: l.customer_email }, [l.customer_email, l.company_name]
        .filter(Boolean).join(" · "))) },
    { label: "Product", cell: (l) => h("span.clip", { title: l.product_id }, l.product_id) },
    { label: "Type", class: "hide-sm", cell: (l) => l.license_type },
    { label: "Status", cell: (l) => badge(l.status) },
    { label: "Seats", class: "num hide-sm", cell: (l) => `${l.seats_used} / ${l.max_users}` },
    { label: "Expires", class: "nowrap hide-sm", cell: (l) => l.expiry_date
      ? date(l.expiry_date) : "never" },
    { label: "", class: "actions", cell: (l) => [copyButton(l.key),
      l.status === "revoked" ? null : h("button.btn.small.danger", { type: "button",
        onclick: () => confirm(`Revoke the license of ${l.customer_name}?`,
          "Validation answers “revoked” for its key from now on.", "Revoke license",
          async () => {
            await api(`/api/licenses/${encodeURIComponent(l.id)}/revoke`, { method: "POST" });
            toast("License revoked.");
            reload();
          }) }, "Revoke")] },
  ], reply.licenses, (l) => ({ "data-license": l.id })), pager(reply, go));
}

function generateLicense(reload) {
  dialog({
    title: "Generate license", submitLabel: "Generate", wide: true,
    build: () => h("div",
      h("div.row",
        field("Product", h("input", { name: "product_id", required: true, maxlength: 128,
          placeholder: "prod_123" })),
        field("Type", select("license_type", [["perpetual", "Perpetual"],
          ["subscription", "Subscription (needs an expiry)"], ["trial", "Trial (30 days)"]],
        "perpetual"))),
      h("div.row",
        field("Customer name", h("input", { name: "customer_name", required: true })),
        field("Customer email", h("input", { name: "customer_email", type: "email",
          required: true }))),
      h("div.row",
        field("Company", h("input", { name: "company_name" })),
        field("Seats", h("input", { name: "max_users", type: "number", min: 1, value: 1 }),
          "Machines that may hold an activation at once.")),
      h("div.row",
        field("Features", h("input", { name: "features", placeholder: "feature1, feature2" }),
          "Comma-separated."),
        field("Expires", h("input", { name: "expiry_date", type: "date" }),
          "Valid through that day (UTC)."))),
    submit: async (form) => {
      const el = form.elements;
      const req = { product_id: el.product_id.value.trim(), license_type: el.license_type.value,
        customer_name: el.customer_name.value.trim(),
        customer_email: el.customer_email.value.trim(),
        company_name: el.company_name.value.trim(), max_users: Number(el.max_users.value) || 1,
        features: el.features.value.split(",").map((f) => f.trim()).filter(Boolean) };
      if (el.expiry_date.value) req.expiry_date = el.expiry_date.value;
      const reply = await api("/api/licenses/generate", { method: "POST", body: req });
      reload();
      dialog({ title: "License generated", text: `For ${reply.license.customer_name}, ` +
        `product ${reply.license.product_id}.`, build: () => h("div",
        h("p", "The license key:"), secretBox(reply.license.key, "new-license-key"),
        h("p.muted", "Give it to the customer; it is also in the list.")) });
    },
  });
}

function validateForm() {
  const out = h("div");
  const form = h("form#validate-form.card-body",
    field("License key", h("textarea", { name: "license_key", required: true, rows: 4,
      placeholder: "scy1.…" })),
    field("Product (optional)", h("input", { name: "product_id" })),
    h("button.btn", { type: "submit" }, "Validate"), out);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const el = form.elements;
    const req = { license_key: el.license_key.value.trim() };
    if (el.product_id.value.trim()) req.product_id = el.product_id.value.trim();
    try {
      const r = await api("/api/licenses/validate", { method: "POST", body: req });
      const l = r.license;
      replace(out, h("div.spacer"), r.valid
        ? h("div.callout.ok#validate-result", h("b", "Valid. "), `${l.license_type} license ` +
          `of ${l.customer_name} for ${l.product_id}, ${l.seats_used} of ${l.max_users} seats.`)
        : h("div.callout.bad#validate-result", h("b", "Not valid: "),
          (r.reason || "unknown").replace(/_/g, " ") + "."));
    } catch (e) {
      replace(out, h("div.spacer"), h("p.form-error", { role: "alert" }, describe(e)));
    }
  });
  return form;
}
