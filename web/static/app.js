// A first operator view: system status and agents, read from the REST API. The page signs
// in with email and password (a short-lived access token and a rotating refresh token) or
// takes an API key; either is held in memory only (never in localStorage).
"use strict";
let token = "";        // the API key or the access token
let refreshToken = ""; // empty when signed in with an API key

async function readReply(res) {
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ? body.error.message : res.statusText);
  return body;
}

async function signIn() {
  const key = document.getElementById("key").value.trim();
  if (key) { token = key; return; }
  const res = await fetch("/api/auth/login", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email: document.getElementById("email").value.trim(),
      password: document.getElementById("password").value }),
  });
  const body = await readReply(res);
  token = body.access_token; refreshToken = body.refresh_token;
}

// renew trades the refresh token for a new pair; each refresh token works once.
async function renew() {
  const res = await fetch("/oauth/refresh", {
    method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ refresh_token: refreshToken }),
  });
  refreshToken = "";
  const body = await readReply(res);
  token = body.access_token; refreshToken = body.refresh_token;
}

async function api(path, method = "GET", payload = undefined) {
  const send = () => {
    const headers = { Authorization: "Bearer " + token };
    if (payload !== undefined) headers["Content-Type"] = "application/json";
    return fetch(path, { method, headers,
      body: payload === undefined ? undefined : JSON.stringify(payload) });
  };
  let res = await send();
  if (res.status === 401 && refreshToken) {
    await renew();
    res = await send();
  }
  return readReply(res);
}

function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  row.appendChild(td);
}

async function refresh() {
  try {
    const st = await api("/api/status");
    document.getElementById("version").textContent = "v" + st.version;
    const dl = document.getElementById("components");
    dl.replaceChildren();
    for (const [name, state] of Object.entries(st.components)) {
      const dt = document.createElement("dt"); dt.textContent = name;
      const dd = document.createElement("dd"); dd.textContent = state;
      dl.append(dt, dd);
    }
    const list = await api("/api/agents?limit=100");
    const tbody = document.getElementById("agents");
    tbody.replaceChildren();
    for (const a of list.agents) {
      const tr = document.createElement("tr");
      cell(tr, a.name); cell(tr, a.status, a.status); cell(tr, a.transport || "-");
      cell(tr, a.version || "-"); cell(tr, a.last_seen || "never");
      cell(tr, a.rtt_ms != null ? a.rtt_ms.toFixed(1) + " ms" : "-");
      tbody.appendChild(tr);
    }
    document.getElementById("empty").hidden = list.agents.length > 0;
    document.getElementById("status").hidden = false;
    document.getElementById("error").hidden = true;
  } catch (e) {
    const p = document.getElementById("error");
    p.textContent = e.message; p.hidden = false;
  }
}

// addHost makes a one-time join token and shows the line that installs the agent from
// this controller and enrols it. The line holds the token; it is shown, never stored.
async function addHost() {
  const out = document.getElementById("install");
  try {
    const t = await api("/api/agents/tokens", "POST", {});
    out.textContent = t.install_command;
    document.getElementById("install-note").textContent =
      "Run this as root on the new host. It works once, until " + t.expires_at + ".";
    document.getElementById("add-host-result").hidden = false;
  } catch (e) {
    const p = document.getElementById("error");
    p.textContent = e.message; p.hidden = false;
  }
}

document.getElementById("add-host").addEventListener("click", addHost);

document.getElementById("signin").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    await signIn();
  } catch (e) {
    const p = document.getElementById("error");
    p.textContent = e.message; p.hidden = false;
    return;
  }
  document.getElementById("password").value = "";
  document.getElementById("signin").hidden = true;
  refresh();
  setInterval(refresh, 5000);
});
