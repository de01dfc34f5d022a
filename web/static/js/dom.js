// Building elements and formatting values. Every text reaches the page through
// textContent or attributes, never through HTML strings, so nothing a server or a user
// wrote can become markup (the page's Trusted Types policy forbids HTML strings anyway).

const SVG_NS = "http://www.w3.org/2000/svg";

// h makes an element: h("a.btn.primary", {href: "#/x"}, "text", child, ...). Attributes
// named on* take functions as event listeners; class, dataset and boolean attributes are
// handled; null, undefined and false children are skipped; arrays are flattened.
export function h(spec, attrs, ...children) {
  return build(document.createElement(tagOf(spec)), spec, attrs, children);
}

// s makes an SVG element the same way.
export function s(spec, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tagOf(spec)), spec, attrs, children);
}

function tagOf(spec) {
  return spec.split(/[.#]/)[0] || "div";
}

function build(el, spec, attrs, children) {
  for (const m of spec.matchAll(/([.#])([^.#]+)/g)) {
    if (m[1] === ".") el.classList.add(m[2]);
    else el.id = m[2];
  }
  if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) setAttr(el, k, v);
  append(el, children);
  return el;
}

function setAttr(el, k, v) {
  if (v === null || v === undefined || v === false) return;
  if (k.startsWith("on") && typeof v === "function") {
    el.addEventListener(k.slice(2), v);
  } else if (k === "class") {
    for (const c of String(v).split(/\s+/).filter(Boolean)) el.classList.add(c);
  } else if (k === "dataset") {
    Object.assign(el.dataset, v);
  } else if (k === "value" && "value" in el) {
    el.value = v;
  } else if (k === "checked" || k === "selected") {
    el[k] = Boolean(v);
  } else {
    el.setAttribute(k, v === true ? "" : String(v));
  }
}

// append adds children (nodes, strings, numbers, arrays of them) to el.
export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// replace empties el and appends children.
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

// Formatting ----------------------------------------------------------------------------

const UNITS = ["B", "KB", "MB", "GB", "TB", "PB"];

// bytes formats a byte count in decimal units: 1.5 GB.
export function bytes(n) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return "—";
  let v = Number(n);
  let i = 0;
  while (Math.abs(v) >= 1000 && i < UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  const digits = i === 0 || v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${v.toFixed(digits)} ${UNITS[i]}`;
}

// gb formats a number of gigabytes as bytes do.
export function gb(n) {
  return n === null || n === undefined ? "—" : bytes(Number(n) * 1e9);
}

export function number(n) {
  return n === null || n === undefined ? "—" : Number(n).toLocaleString("en-US");
}

// count says how many of a thing: count(1, "pack") is "1 pack", count(3, "pack") "3 packs".
export function count(n, word, plural = word + "s") {
  return `${number(n)} ${Number(n) === 1 ? word : plural}`;
}

const dateFmt = new Intl.DateTimeFormat("en-GB", {
  year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
});
// The analytics count by UTC day, so their days are labelled in UTC, not the browser's zone.
const utcDayFmt = new Intl.DateTimeFormat("en-GB", { month: "short", day: "numeric",
  timeZone: "UTC" });

// date formats an RFC 3339 time for people, "—" when there is none.
export function date(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "—" : dateFmt.format(d);
}

// utcDay labels the UTC day of a time (a Date or an RFC 3339 string): "4 Dec".
export function utcDay(t) {
  const d = t instanceof Date ? t : new Date(t);
  return Number.isNaN(d.getTime()) ? "—" : utcDayFmt.format(d);
}

// utcDays are the last n UTC days up to the one of now, oldest first, as "2026-12-04".
export function utcDays(n, now = Date.now()) {
  const today = new Date(now);
  const out = [];
  for (let i = n - 1; i >= 0; i--) {
    out.push(new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(),
      today.getUTCDate() - i)).toISOString().slice(0, 10));
  }
  return out;
}

// percent formats a fraction: 0.634 → "63%"; "—" when there is none.
export function percent(f) {
  return f === null || f === undefined ? "—" : `${Math.round(Number(f) * 100)}%`;
}

// ago says how long ago iso was: "just now", "5 min ago", "3 h ago", "2 d ago".
export function ago(iso, now = Date.now()) {
  if (!iso) return "never";
  const secs = Math.round((now - new Date(iso).getTime()) / 1000);
  if (secs < 0) return "in " + span(-secs);
  if (secs < 10) return "just now";
  return span(secs) + " ago";
}

function span(secs) {
  if (secs < 60) return `${secs} s`;
  if (secs < 3600) return `${Math.floor(secs / 60)} min`;
  if (secs < 86400) return `${Math.floor(secs / 3600)} h`;
  return `${Math.floor(secs / 86400)} d`;
}

// duration formats seconds: 850 ms, 42 s, 3 min 20 s, 2 h 5 min.
export function duration(secs) {
  if (secs === null || secs === undefined) return "—";
  const v = Number(secs);
  if (v < 1) return `${Math.round(v * 1000)} ms`;
  if (v < 60) return `${v.toFixed(v < 10 ? 1 : 0)} s`;
  const m = Math.floor(v / 60);
  if (m < 60) return `${m} min ${Math.round(v % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

// timed is a <time> element showing text with the exact time as its tooltip.
export function timed(iso, text = ago(iso)) {
  if (!iso) return h("span.muted", text);
  return h("time", { datetime: iso, title: date(iso) }, text);
}

// shortID shows the distinctive tail of an id: backup_3x7qk2m4v5n6 → …4v5n6b7c.
export function shortID(id) {
  if (!id) return "—";
  const [kind, rest] = id.includes("_") ? id.split(/_(.*)/s) : ["", id];
  return rest && rest.length > 10 ? `${kind}_${rest.slice(0, 8)}` : id;
}

// initials of a name or an email, for the avatar.
export function initials(name, email) {
  const src = (name || email || "?").trim();
  const parts = src.split(/[\s@._-]+/).filter(Boolean);
  return ((parts[0] || "?")[0] + (parts[1] ? parts[1][0] : "")).toUpperCase();
}
