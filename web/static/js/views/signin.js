// The sign-in page: email and password, posted to POST /api/auth/session. The
// controller answers with the session in an HttpOnly cookie this page never sees.

import { api, describe } from "../api.js";
import { h, replace } from "../dom.js";

export function renderSignIn(root, { message = "", onSignedIn }) {
  const email = h("input#email", { type: "email", name: "email", autocomplete: "username",
    required: true, autofocus: true });
  const password = h("input#password", { type: "password", name: "password",
    autocomplete: "current-password", required: true });
  const err = h("p.form-error#signin-error", { role: "alert", hidden: !message }, message);
  if (message && /signed out/.test(message)) err.className = "callout ok";
  const submit = h("button.btn.primary#signin-submit", { type: "submit" }, "Sign in");
  const form = h("form#signin", { novalidate: false },
    err,
    h("div.field", h("label", { for: "email" }, "Email"), email),
    h("div.field", h("label", { for: "password" }, "Password"), password),
    submit);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    submit.textContent = "Signing in…";
    try {
      const reply = await api("/api/auth/session", { method: "POST", quiet401: true,
        body: { email: email.value.trim(), password: password.value } });
      password.value = "";
      onSignedIn(reply);
    } catch (e) {
      err.className = "form-error";
      err.textContent = e.status === 401 ? "The email or the password is wrong." : describe(e);
      err.hidden = false;
      password.select();
    } finally {
      submit.disabled = false;
      submit.textContent = "Sign in";
    }
  });
  replace(root, h("div.signin",
    h("main.card",
      h("div.logo", h("img", { src: "img/logo.svg", alt: "" }),
        h("div", h("b", "Grim Reaper"), h("div.muted", "Fleet backup"))),
      h("h1", "Sign in"),
      h("p.lead", "Use the email and password of your account."),
      form,
      h("p.foot", "Your session is kept in a secure cookie and ends when you sign out."))));
  (message ? password : email).focus();
}
