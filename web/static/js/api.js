// The REST client of the dashboard. The session lives in the HttpOnly cookie the
// controller set at sign-in, which this code cannot read; what it holds is the session's
// CSRF token, in memory only, which it sends with every request that changes state.

let csrfToken = "";
const listeners = new Set();

// ApiError is a refused or failed request: the contract's envelope, unpacked.
export class ApiError extends Error {
  constructor(status, code, message, details = {}, retryAfter = 0) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
    this.retryAfter = retryAfter;
  }

  // notAvailable is true when the controller has no such route (its 404 for an unknown
  // route, not for an unknown id): a feature this controller does not serve.
  get notAvailable() {
    return this.status === 404 && this.message === "no such route";
  }
}

// setCsrf keeps the session's CSRF token for the requests that follow.
export function setCsrf(token) {
  csrfToken = token || "";
}

// onSignedOut calls fn when a request answers 401: the session has ended.
export function onSignedOut(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

// api sends a request to the controller and returns the decoded reply, or throws
// ApiError. body, when given, is sent as JSON.
export async function api(path, { method = "GET", body, signal, quiet401 = false } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && method !== "HEAD" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  let res;
  try {
    res = await fetch(path, {
      method, headers, signal, credentials: "same-origin", cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, "NETWORK", "The controller cannot be reached. Check the connection.");
  }
  const data = await readJSON(res);
  if (res.ok) return data;
  const err = data && data.error ? data.error : {};
  const retry = Number(res.headers.get("Retry-After")) || 0;
  const e = new ApiError(res.status, err.code || "HTTP_" + res.status,
    err.message || res.statusText || "request failed", err.details, retry);
  if (res.status === 401 && !quiet401) for (const fn of listeners) fn(e);
  throw e;
}

async function readJSON(res) {
  const text = await res.text();
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}

// query builds a query string from the set values of params.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? "?" + s : "";
}

// describe turns an error into a sentence for people.
export function describe(e) {
  if (!(e instanceof ApiError)) return String(e && e.message ? e.message : e);
  if (e.status === 429) {
    return `Too many requests for this account's plan; retrying in ${e.retryAfter || 60} s.`;
  }
  const field = e.details && e.details.field ? ` (${e.details.field})` : "";
  return e.message.charAt(0).toUpperCase() + e.message.slice(1) + field;
}
