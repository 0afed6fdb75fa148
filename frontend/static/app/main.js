/**
 * Boot: pick the language, open the session (POST /auth/session with the ID token: installs the
 * shop by token exchange when needed and answers the caller's role), then start the router.
 * A session that cannot be opened (at boot, or when api.js renews it later and the shop turns
 * out parked) replaces the page with why; when Shopify's grant lacks scopes the app requires,
 * with a button that asks Shopify for them again (the API's `reauthorize` path, at top level).
 */
import { api, ApiError, refusalText } from "./api.js";
import { h, replace } from "./dom.js";
import { loadLocale, setTimeZone, t } from "./i18n.js";
import { start, stop } from "./router.js";

const RANK = { viewer: 0, operator: 1, admin: 2, owner: 3 };

async function boot() {
  const params = new URLSearchParams(window.location.search);
  await loadLocale(params.get("locale") || (window.shopify && window.shopify.config.locale));
  document.title = t("app.title");
  const root = document.getElementById("app");
  replace(root, h("s-page", { heading: t("app.title") }, h("s-spinner", { accessibilityLabel: t("app.loading") })));
  window.addEventListener("app:session-failed", (event) => sessionFailed(root, event.detail));
  // A refusal api.js already told in a toast needs no catch in each button's handler.
  window.addEventListener("unhandledrejection", (event) => {
    if (event.reason instanceof ApiError && event.reason.shown) event.preventDefault();
  });
  let session;
  try {
    session = await api("/auth/session", { method: "POST", quiet: true });
  } catch (error) {
    sessionFailed(root, (error.body && error.body.error) || { code: error.code, message: error.message });
    return;
  }
  setTimeZone(session.timezone);
  const role = session.role;
  const rank = RANK[role] ?? -1;
  let permissions = { read: true, operate: rank >= 1, configure: rank >= 2, grant_admin: rank >= 3 };
  try {
    permissions = (await api("/api/me", { quiet: true })).permissions || permissions;
  } catch (error) {
    // /api/me only refines what the role already says; the API enforces every action anyway.
  }
  const ctx = {
    shop: session.shop,
    userId: session.user_id,
    role,
    /** What the page offers: read, operate (retry/replay/run), configure, grant_admin. */
    can: (what) => Boolean(permissions[what]),
    home: "setup",
  };
  document.body.dataset.role = role;
  await start(ctx);
}

/** Why the session could not be opened, in the page's language: a grant lacking scopes names
 * them (the same words for a first install and for scopes removed later), any other refusal
 * has its code's catalogue text (the API's English message only for a code it does not know). */
function failureText(error) {
  const missing = Array.isArray(error.missing_scopes) ? error.missing_scopes : [];
  if (error.code === "needs_reauth" && missing.length) {
    return t("app.missing_scopes", { scopes: missing.join(", ") });
  }
  return refusalText({ code: error.code, message: error.message, body: { error } });
}

/** Show why the session could not be opened (`error`: the API's error body) instead of the page. */
function sessionFailed(root, error) {
  stop();
  const ask = error.reauthorize
    ? h("s-button", {
      variant: "primary",
      onclick: () => window.open(new URL(error.reauthorize, window.location.origin).href, "_top"),
    }, t("app.approve_scopes"))
    : null;
  replace(root, h("s-page", { heading: t("app.title") },
    h("s-banner", { tone: "critical", heading: t("app.session_failed") },
      h("s-paragraph", {}, failureText(error)), ask)));
}

boot();
