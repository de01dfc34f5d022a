// The dashboard's entry point: the session, the shell (navigation, top bar) and the
// router that shows one view at a time from the address's fragment (#/backups?page=2).

import { api, onSignedOut, setCsrf } from "./api.js";
import { h, initials, replace } from "./dom.js";
import { icon } from "./icons.js";
import { banner } from "./ui.js";
import { renderSignIn } from "./views/signin.js";
import * as overview from "./views/overview.js";
import * as backups from "./views/backups.js";
import * as backup from "./views/backup.js";
import * as restores from "./views/restores.js";
import * as restore from "./views/restore.js";
import * as policies from "./views/policies.js";
import * as policy from "./views/policy.js";
import * as agents from "./views/agents.js";
import * as storage from "./views/storage.js";
import * as licenses from "./views/licenses.js";
import * as webhooks from "./views/webhooks.js";
import * as users from "./views/users.js";
import * as profile from "./views/profile.js";

const app = document.getElementById("app");

// Routes: the first part of the fragment names the view; a second part is its id.
const VIEWS = {
  overview: { view: overview, title: "Overview", nav: "overview" },
  backups: { view: backups, detail: backup, title: "Backups", nav: "backups" },
  restores: { view: restores, detail: restore, title: "Restores", nav: "restores" },
  policies: { view: policies, detail: policy, title: "Policies", nav: "policies" },
  agents: { view: agents, title: "Agents", nav: "agents" },
  storage: { view: storage, title: "Storage", nav: "storage" },
  webhooks: { view: webhooks, title: "Webhooks", nav: "webhooks" },
  licenses: { view: licenses, title: "License Manager", nav: "licenses" },
  users: { view: users, title: "Users and plans", nav: "users", admin: true },
  profile: { view: profile, title: "Profile", nav: "profile" },
};

const NAV = [
  ["overview", "Overview"], ["backups", "Backups"], ["restores", "Restores"],
  ["policies", "Policies"], ["agents", "Agents"], ["storage", "Storage"],
  ["webhooks", "Webhooks"],
];
const ADMIN_NAV = [["licenses", "License Manager"], ["users", "Users and plans", true]];

const state = { user: null, session: null, current: null, shell: null };

// boot asks the controller whether the cookie holds a live session, and shows the
// dashboard or the sign-in accordingly.
async function boot() {
  onSignedOut(() => {
    if (state.user) signedOut("Your session has ended. Sign in again to continue.");
  });
  try {
    const reply = await api("/api/auth/session", { quiet401: true });
    signedIn(reply);
  } catch (e) {
    showSignIn(e.status === 401 ? "" : "The controller cannot be reached right now.");
  }
}

function showSignIn(message) {
  stopView();
  state.user = null;
  state.shell = null;
  setCsrf("");
  document.title = "Sign in · Grim Reaper";
  renderSignIn(app, { message, onSignedIn: signedIn });
}

function signedIn(reply) {
  state.user = reply.user;
  state.session = reply.session;
  setCsrf(reply.session.csrf_token);
  buildShell();
  route();
}

function signedOut(message) {
  showSignIn(message);
}

async function signOut() {
  try {
    await api("/api/auth/logout", { method: "POST" });
  } finally {
    signedOut("You have signed out.");
  }
}

// Shell ------------------------------------------------------------------------------------

function buildShell() {
  const u = state.user;
  const isAdmin = u.role === "admin";
  const link = ([name, label, adminOnly]) => (adminOnly && !isAdmin ? null
    : h("a", { href: "#/" + name, "data-nav": name }, icon(name), label));
  const content = h("main.content#main", { tabindex: "-1" });
  const banner = h("div.banner", { role: "status", hidden: true });
  const shell = h("div.shell",
    h("aside.sidebar#sidebar", { "aria-label": "Main" },
      h("div.brand", h("img", { src: "img/logo.svg", alt: "" }),
        h("div", "Grim Reaper", h("small", "Fleet backup"))),
      h("nav.nav", { "aria-label": "Sections" }, NAV.map(link),
        h("div.nav-section", "Admin"), ADMIN_NAV.map(link)),
      h("div.side-foot",
        h("a.who", { href: "#/profile", "data-nav": "profile", title: "Profile" },
          h("span.avatar", initials(u.name, u.email)),
          h("span.who-text", h("b.clip", u.name || u.email),
            h("span.clip", u.name ? u.email : u.plan + " plan"))),
        h("button.btn.small#signout", { type: "button", onclick: signOut }, "Sign out"))),
    h("div.main",
      h("header.topbar",
        h("button.btn.small#menu", { type: "button", "aria-label": "Menu",
          "aria-controls": "sidebar", "aria-expanded": "false", onclick: toggleNav },
        icon("menu")),
        h("img", { src: "img/logo.svg", alt: "" }), h("b", "Grim Reaper")),
      banner, content));
  replace(app, h("a.skip-link", { href: "#main", onclick: skipToMain }, "Skip to content"),
    shell);
  // On a phone the menu is a drawer over the page: a tap beside it or Escape closes it.
  shell.querySelector(".main").addEventListener("click", (ev) => {
    if (shell.classList.contains("nav-open") && !ev.target.closest("#menu")) toggleNav();
  });
  shell.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && shell.classList.contains("nav-open")) toggleNav();
  });
  state.shell = { shell, content, banner };
}

function skipToMain(ev) {
  ev.preventDefault();
  state.shell.content.focus();
}

function toggleNav() {
  const open = state.shell.shell.classList.toggle("nav-open");
  document.getElementById("menu").setAttribute("aria-expanded", String(open));
}

// Router -----------------------------------------------------------------------------------

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, qs = ""] = raw.split("?");
  const [name = "overview", id = ""] = path.split("/").map(decodeURIComponent);
  return { name: name || "overview", id, query: Object.fromEntries(new URLSearchParams(qs)) };
}

function stopView() {
  if (state.current) state.current.abort();
  state.current = null;
}

function route() {
  if (!state.user) return;
  const { name, id, query } = parseHash();
  const entry = VIEWS[name] || VIEWS.overview;
  const view = id && entry.detail ? entry.detail : entry.view;
  stopView();
  const ctl = new AbortController();
  state.current = ctl;
  state.shell.shell.classList.remove("nav-open");
  for (const a of document.querySelectorAll("[data-nav]")) {
    if (a.dataset.nav === entry.nav) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.title = `${entry.title} · Grim Reaper`;
  banner("");
  const root = state.shell.content;
  root.replaceChildren();
  root.dataset.view = view === entry.view ? name : name + "-detail";
  view.render({
    root, id, query, signal: ctl.signal, user: state.user, session: state.session,
    setQuery: (q) => setQuery(name, id, q),
    setUser: (u) => {
      state.user = { ...state.user, ...u };
      const name = document.querySelector(".who-text b");
      if (name) name.textContent = state.user.name || state.user.email;
    },
  });
  root.focus({ preventScroll: true });
}

// setQuery changes the fragment's query without adding to the history.
function setQuery(name, id, q) {
  const qs = new URLSearchParams(Object.entries(q).filter(([, v]) => v !== "" && v != null));
  const path = "#/" + [name, id].filter(Boolean).map(encodeURIComponent).join("/");
  const next = path + (qs.toString() ? "?" + qs : "");
  if (next !== location.hash) {
    history.replaceState(null, "", next);
    route();
  }
}

window.addEventListener("hashchange", route);
boot();
