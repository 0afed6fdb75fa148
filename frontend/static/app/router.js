/**
 * Six pages under /app/<name>, switched without reloading. Shopify's query parameters (shop,
 * host, locale, ...) are kept on every URL. Links are <s-link href="/app/...">: clicks on them,
 * App Bridge's `shopify:navigate` event and the browser's back/forward all land in `go()`.
 * A page module exports `render(ctx)` returning {element, dispose?}; dispose stops its polling.
 */
import { h, replace } from "./dom.js";
import { t } from "./i18n.js";

// Query keys that belong to one page (filters, prefills); the rest are Shopify's and stay.
const PAGE_KEYS = ["flow", "status", "q", "stuck", "updated_since", "kind", "code", "side", "slot_day"];

export const PAGES = ["setup", "mappings", "flows", "messages", "orders", "audit"];
const loaders = {
  setup: () => import("./pages/setup.js"),
  mappings: () => import("./pages/mappings.js"),
  flows: () => import("./pages/flows.js"),
  messages: () => import("./pages/messages.js"),
  orders: () => import("./pages/orders.js"),
  audit: () => import("./pages/audit.js"),
};

let current = null;
let context = null;
// Bumped by every go() and stop(): a render that finishes after a later navigation (a slow
// page's data still loading when the user clicked elsewhere) is dropped, not shown over it.
let generation = 0;

/** The page name and its sub-path for a pathname: /app/messages/42 -> ["messages", "42"]. */
export function parse(pathname) {
  const parts = pathname.replace(/^\/+/, "").split("/").filter(Boolean);
  if (parts[0] === "app") parts.shift();
  const name = PAGES.includes(parts[0]) ? parts[0] : null;
  return [name, name ? parts.slice(1).join("/") : ""];
}

/** An /app URL keeping Shopify's parameters; `extra` adds or replaces some. */
export function href(path, extra) {
  const params = new URLSearchParams(window.location.search);
  for (const key of PAGE_KEYS) params.delete(key);
  for (const [key, value] of Object.entries(extra || {})) {
    if (value === null || value === undefined || value === "") params.delete(key);
    else params.set(key, value);
  }
  const query = params.toString();
  return `/app/${path}${query ? `?${query}` : ""}`;
}

/** The current URL's values of these page keys: a list's filters, carried to an item's page so its
 * Back link returns to the list as it was filtered (null where unset: href leaves those out). */
export function kept(keys) {
  const params = new URLSearchParams(window.location.search);
  return Object.fromEntries(keys.map((key) => [key, params.get(key)]));
}

export function navigate(url, { replaceState = false } = {}) {
  if (replaceState) window.history.replaceState({}, "", url);
  else window.history.pushState({}, "", url);
  return go();
}

async function go() {
  const mine = ++generation;
  const [parsed, sub] = parse(window.location.pathname);
  const name = parsed || context.home;
  if (!parsed) window.history.replaceState({}, "", href(name));
  if (current && current.dispose) current.dispose();
  current = null;
  for (const link of document.querySelectorAll("#app-nav s-link")) {
    if (link.dataset.page === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const root = document.getElementById("app");
  const module = await loaders[name]();
  if (mine !== generation) return;
  const view = await module.render({ ...context, sub, query: new URLSearchParams(window.location.search) });
  if (mine !== generation) {
    if (view.dispose) view.dispose();
    return;
  }
  current = view;
  replace(root, view.element);
}

/** Stop the page shown (its polling): the page is being replaced by something else. */
export function stop() {
  generation += 1;
  if (current && current.dispose) current.dispose();
  current = null;
}

function linkFromEvent(event) {
  for (const node of event.composedPath()) {
    if (!(node instanceof Element)) continue;
    const tag = node.localName;
    if ((tag === "s-link" || tag === "a") && node.getAttribute("href")) return node.getAttribute("href");
  }
  return null;
}

export function start(ctx) {
  context = ctx;
  const nav = document.getElementById("app-nav");
  replace(nav, h("s-link", { href: href(ctx.home), rel: "home" }, t("app.title")),
    PAGES.map((name) => h("s-link", { href: href(name), "data-page": name }, t(`nav.${name}`))));
  document.addEventListener("click", (event) => {
    const target = linkFromEvent(event);
    if (!target || !target.startsWith("/app") || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    navigate(target);
  });
  document.addEventListener("shopify:navigate", (event) => {
    const target = event.target && event.target.getAttribute && event.target.getAttribute("href");
    if (target && target.startsWith("/app")) navigate(target);
  });
  window.addEventListener("popstate", () => go());
  return go();
}
