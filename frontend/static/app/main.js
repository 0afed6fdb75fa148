/**
 * Boot: pick the language, open the session (POST /auth/session with the ID token: installs the
 * shop by token exchange when needed and answers the caller's role), then start the router.
 */
import { api } from "./api.js";
import { h, replace } from "./dom.js";
import { loadLocale, t } from "./i18n.js";
import { start } from "./router.js";

const RANK = { viewer: 0, operator: 1, admin: 2, owner: 3 };

async function boot() {
  const params = new URLSearchParams(window.location.search);
  await loadLocale(params.get("locale") || (window.shopify && window.shopify.config.locale));
  document.title = t("app.title");
  const root = document.getElementById("app");
  replace(root, h("s-page", { heading: t("app.title") }, h("s-spinner", { accessibilityLabel: t("app.loading") })));
  let session;
  try {
    session = await api("/auth/session", { method: "POST", quiet: true });
  } catch (error) {
    replace(root, h("s-page", { heading: t("app.title") },
      h("s-banner", { tone: "critical", heading: t("app.session_failed") }, error.message)));
    return;
  }
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

boot();
