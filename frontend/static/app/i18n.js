/**
 * Every visible string goes through `t(key, vars)`. The catalogue is chosen from Shopify's
 * `locale` query parameter (pt-BR by default: the merchants are Brazilian; en for English).
 */
let catalogue = {};
let current = "pt-BR";
let shopZone;

export function pickLocale(value) {
  const tag = String(value || "").replace("_", "-").toLowerCase();
  return tag.split("-")[0] === "en" ? "en" : "pt-BR";
}

export async function loadLocale(value) {
  current = pickLocale(value);
  const response = await fetch(`/i18n/${current}.json`);
  catalogue = await response.json();
  document.documentElement.lang = current;
  return current;
}

export function locale() {
  return current;
}

/** The string for `key`, with `{name}` placeholders filled from `vars`; the key itself if missing. */
export function t(key, vars) {
  let text = Object.prototype.hasOwnProperty.call(catalogue, key) ? catalogue[key] : key;
  if (vars) text = text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
  return text;
}

/** Whether the catalogue has `key`. */
export function has(key) {
  return Object.prototype.hasOwnProperty.call(catalogue, key);
}

/** `t(prefix + value)` when the catalogue knows it, else the raw value (codes from the API). */
export function label(prefix, value) {
  if (value === null || value === undefined || value === "") return "—";
  const key = prefix + value;
  return Object.prototype.hasOwnProperty.call(catalogue, key) ? catalogue[key] : String(value);
}

/**
 * Dates show in the shop's time zone (Shopify's shop.ianaTimezone, which /auth/session answers),
 * not the browser's: a merchant in Brazil reading the page from a laptop set to another zone
 * sees the store's time. An unknown or missing zone leaves the browser's.
 */
export function setTimeZone(zone) {
  try {
    shopZone = zone ? new Intl.DateTimeFormat("en", { timeZone: zone }).resolvedOptions().timeZone : undefined;
  } catch (error) {
    shopZone = undefined; // RangeError: a zone this browser does not know
  }
  return shopZone;
}

export function timeZone() {
  return shopZone;
}

export function fmtDate(value) {
  if (!value) return "—";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return new Intl.DateTimeFormat(current, { dateStyle: "short", timeStyle: "medium", timeZone: shopZone }).format(date);
}

/** An ISO day (2026-12-05) written out in the page's language ("sábado, 5 de dezembro de 2026"). */
export function fmtDay(iso) {
  const [year, month, day] = String(iso || "").split("-").map(Number);
  if (!year || !month || !day) return iso ? String(iso) : "—";
  return new Intl.DateTimeFormat(current, { dateStyle: "full", timeZone: "UTC" }).format(Date.UTC(year, month - 1, day));
}

/** An ISO day (2026-12-05) as the page's language writes it short ("05/12/2026"), no zone shift. */
export function fmtShortDay(iso) {
  const [year, month, day] = String(iso || "").split("-").map(Number);
  if (!year || !month || !day) return iso ? String(iso) : "—";
  return new Intl.DateTimeFormat(current, { timeZone: "UTC" }).format(Date.UTC(year, month - 1, day));
}

/** The ISO day it is in the shop's time zone, `plus` days on (1: tomorrow), as the API takes it. */
export function shopDay(plus = 0) {
  const at = new Date(Date.now() + plus * 86400000);
  return new Intl.DateTimeFormat("en-CA", { timeZone: shopZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(at);
}

export function fmtNumber(value) {
  if (value === null || value === undefined || value === "") return "—";
  return new Intl.NumberFormat(current).format(Number(value));
}

export function fmtMoney(value, currency) {
  if (value === null || value === undefined || value === "") return "—";
  return new Intl.NumberFormat(current, { style: "currency", currency: currency || "BRL" }).format(Number(value));
}
