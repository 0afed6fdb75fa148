/**
 * A reconciliation report (jobs.reconcile: the reconcile message's response) in sections a person
 * reads, instead of its JSON: when it ran and since when it looked, the sections it could not
 * check, then orders (missing on either side, totals and statuses that differ...), stock differing
 * per location, and the catalog out of step with the ERP. Each list says how many it found and
 * shows the rows the report keeps (it keeps the first few of a long list). The report's own
 * explanations (`why`, `note`, `sent_again`, `fix`) come said in the page's language by the API
 * (shopify_app.reconcile_words, from the words kept beside each: `why_words`...), which are not
 * shown as columns. A cell reads as the page's language writes it (KINDS: an amount as money, a
 * quantity as a number, the ERP's status letter, a product's status and the ERP's total field by
 * name), and a total the ERP holds higher by design (a weighed item picked heavier) is listed
 * apart from the totals that differ, so each list's count is its rows'. The JSON stays below,
 * closed, for support.
 */
import { h, table } from "../dom.js";
import { fmtDate, fmtMoney, fmtNumber, label, t } from "../i18n.js";
import { busyButton, payload } from "../widgets.js";

const ORDER_LISTS = ["missing_in_ledger", "missing_in_erp", "missing_in_shopify", "totals_differ",
  "totals_differ_by_design", "status_differs", "cancellations_enqueued", "held_in_app", "unknown_in_erp", "of_erp_before",
  "not_readable_in_shopify", "not_checked"];
const CATALOG_LISTS = ["missing_in_shopify", "waiting_variant_quota", "held_not_kg", "orphan_bindings", "shopify_differs", "prices_differ", "list_prices_differ",
  "never_priced"];
// The columns a row may have, in the order they read; any other key follows under its own name.
const COLUMNS = ["order", "nro_pedvenda", "sku", "product", "variant", "market", "pair", "price_list", "total", "shopify",
  "tips", "gift_cards", "erp",
  "erp_basis", "shopify_compare_at", "erp_compare_at", "status", "shopify_cancelled", "invoices_message", "events",
  "fields", "why", "attention", "message", "fix"];
// What a list's columns hold (jobs.reconcile, jobs.reconcile_prices write them): the same key is an
// amount in one list, a quantity, the ERP's status letter or a product's status in another.
const TOTALS = { shopify: "money", tips: "money", gift_cards: "money", erp: "money", erp_basis: "erp_basis" };
const KINDS = {
  "orders.missing_in_ledger": { total: "money" },
  "orders.totals_differ": TOTALS,
  "orders.totals_differ_by_design": TOTALS,
  "orders.held_in_app": { status: "message_status" },
  "orders.status_differs": { erp: "erp_status" },
  "orders.unknown_in_erp": { events: "number" },
  "stock.differ": { erp: "number", shopify: "number" },
  "catalog.shopify_differs": { shopify: "product_status", erp: "product_status" },
  "catalog.prices_differ": { shopify: "money", erp: "money", shopify_compare_at: "money", erp_compare_at: "money" },
  "catalog.list_prices_differ": { shopify: "money", erp: "money", shopify_compare_at: "money", erp_compare_at: "money" },
};
const SAY = {
  money: (v) => (v === "none" ? t("recon.none") : amount(v, fmtMoney)),  // "none": that side shows no price
  number: (v) => amount(v, fmtNumber),
  erp_status: (v) => label("erp_status.", v),
  message_status: (v) => label("status.", v),
  product_status: (v) => label("product_status.", v),
  erp_basis: (v) => label("recon.erp_basis.", v),
};
const ADMIN = { "gid://shopify/Order/": "orders/", "gid://shopify/Product/": "products/" };
const WORDS = "_words";  // a text's words beside it (ledger.words.SUFFIX): the API said them already

/** A number (a decimal string as the report keeps it) in the page's language; anything else as it is. */
function amount(value, format) {
  return typeof value === "boolean" || Number.isNaN(Number(value)) ? value : format(value);
}

/** A row with the columns `kinds` names said as a person reads them (the table shows them as text). */
function said(row, kinds) {
  if (!row || typeof row !== "object" || !kinds) return row;
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k,
    k in kinds && v !== null && v !== undefined && v !== "" ? SAY[kinds[k]](v) : v]));
}

/** `part`'s lists of `section` with their columns said (KINDS). */
function saidLists(part, section) {
  return Object.fromEntries(Object.entries(part).map(([key, value]) => [key,
    Array.isArray(value) ? value.map((row) => said(row, KINDS[`${section}.${key}`])) : value]));
}

/** The orders with the totals the ERP holds higher by design (jobs.reconcile._heavier: a weighed
 * item picked heavier keeps Shopify's price) apart from those that differ: the report counts them
 * apart (`totals_differ_by_design_count`), and a list's count is its rows'. */
function byDesignApart(orders) {
  const rows = Array.isArray(orders.totals_differ) ? orders.totals_differ : [];
  const designed = (r) => Boolean(r && typeof r === "object" && r.by_design);
  return { ...orders, totals_differ: rows.filter((r) => !designed(r)),
    totals_differ_by_design: rows.filter(designed).map(({ by_design: _, ...r }) => r) };
}

/** An order's invoices message on its row: its status and what it says. */
function messageCell(value) {
  const status = label("status.", value.status);
  return value.why ? h("span", { class: "order-note" }, `${status}: ${value.why}`) : status;
}

/** An object without the words beside its texts. */
function shown(value) {
  return Object.fromEntries(Object.entries(value).filter(([k]) => !k.endsWith(WORDS)));
}

/** Whether a stored message response is a reconciliation report this module reads. */
export function isReport(value) {
  return Boolean(value && typeof value === "object" && value.summary && typeof value.summary === "object");
}

/** A Shopify gid as the merchant reads it: its number, linked into the admin where that is known. */
function gidCell(gid, text) {
  const value = String(gid);
  const prefix = Object.keys(ADMIN).find((p) => value.startsWith(p));
  const number = value.slice(value.lastIndexOf("/") + 1);
  const shown = text || number;
  if (!prefix) return h("span", { title: value }, shown);
  return h("s-link", { href: `shopify://admin/${ADMIN[prefix]}${number}`, target: "_top", title: value }, shown);
}

function cell(key, value, row) {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "boolean") return t(value ? "common.yes" : "common.no");
  if (key === "order") return gidCell(value, row.name);
  if (Array.isArray(value)) return value.join(", ");
  if (typeof value === "string" && value.startsWith("gid://shopify/")) return gidCell(value);
  if (key === "invoices_message" && typeof value === "object") return messageCell(value);
  if (typeof value === "object") return h("span", { class: "mono" }, JSON.stringify(shown(value)));
  if (key === "why" || key === "attention" || key === "fix") return h("span", { class: "order-note" }, String(value));
  return String(value);
}

/** Rows as the report keeps them (objects; a bare gid or SKU becomes {order} / {sku}) in a table. */
function rowsTable(rows, bare) {
  const objects = rows.map((r) => (r && typeof r === "object" ? shown(r) : { [bare]: r }));
  const keys = new Set(objects.flatMap((r) => Object.keys(r)));
  keys.delete("name");  // shown as the order's own text
  const known = COLUMNS.filter((k) => keys.has(k));
  const columns = [...known, ...[...keys].filter((k) => !COLUMNS.includes(k))];
  return table(columns.map((k) => label("recon.col.", k)), objects.map((r) => columns.map((k) => cell(k, r[k], r))));
}

/** One finding: its title with how many, the rows kept (and that there are more when cut). */
function finding(part, section, key, bare) {
  const rows = Array.isArray(part[key]) ? part[key] : [];
  const count = typeof part[`${key}_count`] === "number" ? part[`${key}_count`] : rows.length;
  if (!count) return null;
  return h("details", { "data-testid": `recon-${section}-${key}` },
    h("summary", {}, `${t(`recon.${section}.${key}`)}: ${fmtNumber(count)}`),
    rows.length < count ? h("s-paragraph", {}, h("s-text", { color: "subdued" },
      t("recon.showing", { shown: fmtNumber(rows.length), count: fmtNumber(count) }))) : null,
    rows.length ? rowsTable(rows, bare) : null);
}

function notChecked(part, name) {
  return part && part.error ? h("s-banner", { tone: "warning", heading: t("recon.not_checked", { section: t(`recon.section.${name}`) }) },
    h("s-paragraph", {}, h("span", { class: "mono" }, String(part.error)))) : null;
}

function ordersSection(orders) {
  if (!orders || orders.error) return notChecked(orders, "orders");
  const lists = saidLists(byDesignApart(orders), "orders");
  const found = ORDER_LISTS.map((k) => finding(lists, "orders", k, "order")).filter(Boolean);
  const notes = [
    orders.in_flight_count ? t("recon.orders.in_flight", { count: fmtNumber(orders.in_flight_count) }) : null,
    orders.placed_before_install_count
      ? t("recon.orders.before_install", { count: fmtNumber(orders.placed_before_install_count) }) : null,
    orders.open_in_erp_count > orders.open_in_erp_read
      ? t("recon.orders.open_in_erp_turn", { read: fmtNumber(orders.open_in_erp_read), count: fmtNumber(orders.open_in_erp_count) }) : null,
    orders.not_checked_orders_dropped
      ? t("recon.orders.not_looked_up_again", { count: fmtNumber(orders.not_checked_orders_dropped) }) : null,
  ].filter(Boolean);
  return h("div", { "data-testid": "recon-orders" }, h("s-heading", {}, t("recon.section.orders")),
    typeof orders.checked === "number" ? h("s-paragraph", {}, t("recon.orders.checked", { count: fmtNumber(orders.checked) })) : null,
    found.length ? found : h("s-paragraph", {}, t("recon.in_step")),
    notes.map((n) => h("s-paragraph", {}, h("s-text", { color: "subdued" }, n))));
}

function stockSection(stock, fixStock) {
  const locations = stock && Array.isArray(stock.locations) ? stock.locations : [];
  // one company's read failing leaves the others compared: the banner, then every company's row
  if (!stock || (stock.error && !locations.length)) return notChecked(stock, "stock");
  return h("div", { "data-testid": "recon-stock" }, h("s-heading", {}, t("recon.section.stock")),
    notChecked(stock, "stock"),
    locations.length ? locations.map((l) => [location(l, fixStock), l.unreadable_note  // records set aside (said by the API)
      ? h("s-paragraph", {}, h("s-text", { color: "subdued" }, String(l.unreadable_note))) : null])
      : h("s-paragraph", {}, t("recon.stock.none")));
}

/** One location's stock: closed, in step, or the SKUs that differ, with the button asking the
 * ERP's figure for those listed (`fixStock(company)`, for operators; null otherwise). */
function location(l, fixStock) {
  const company = l.nro_empresa;
  if (l.error) return h("s-paragraph", { "data-testid": `recon-stock-failed-${company}` },
    t("recon.stock.not_read", { company }), " ", h("span", { class: "mono" }, String(l.error)));
  if (l.closed || l.note) return h("s-paragraph", {}, t("recon.stock.closed", { company }));
  const counted = { company, checked: fmtNumber(l.checked || 0), bound: fmtNumber(l.bound_with_stock || 0) };
  const count = typeof l.differ_count === "number" ? l.differ_count : (l.differ || []).length;
  if (!count) return h("s-paragraph", {}, t("recon.stock.same", counted));
  const rows = (l.differ || []).map((r) => said(r, KINDS["stock.differ"]));
  return h("details", { "data-testid": `recon-stock-${company}` },
    h("summary", {}, t("recon.stock.differ", { ...counted, count: fmtNumber(count) })),
    rows.length < count ? h("s-paragraph", {}, h("s-text", { color: "subdued" },
      t("recon.showing", { shown: fmtNumber(rows.length), count: fmtNumber(count) }))) : null,
    rows.length ? rowsTable(rows, "sku") : null,
    fixStock && rows.length ? h("div", { "data-testid": `recon-stock-fix-${company}` },
      h("s-paragraph", {}, h("s-text", { color: "subdued" }, t("recon.stock.fix_help"))),
      busyButton({}, t("recon.stock.fix", { count: fmtNumber(rows.length) }), () => fixStock(company))) : null);
}

function catalogSection(catalog) {
  if (!catalog || catalog.error) return notChecked(catalog, "catalog");
  const lists = saidLists(catalog, "catalog");
  const found = CATALOG_LISTS.map((k) => finding(lists, "catalog", k, "sku")).filter(Boolean);
  // the list stops at 50: its count is the report's own
  const sentCount = typeof catalog.sent_again_count === "number" ? catalog.sent_again_count
    : (Array.isArray(catalog.sent_again) ? catalog.sent_again.length : 0);
  const sentAgain = sentCount ? h("s-paragraph", {}, t("recon.catalog.sent_again", { count: fmtNumber(sentCount) })) : null;
  return h("div", { "data-testid": "recon-catalog" }, h("s-heading", {}, t("recon.section.catalog")),
    typeof catalog.shopify_checked === "number"
      ? h("s-paragraph", {}, t("recon.catalog.checked", { count: fmtNumber(catalog.shopify_checked) })) : null,
    found.length ? found : h("s-paragraph", {}, t("recon.in_step")), sentAgain,
    // why some could not be listed: SKUs never priced, bindings gone from the ERP, records unread (said by the API)
    ["never_priced_note", "orphan_bindings_note", "skus_unread_note"].filter((k) => catalog[k])
      .map((k) => h("s-paragraph", {}, h("s-text", { color: "subdued" }, String(catalog[k])))));
}

/** The report in sections, its JSON closed below. `findings`: the drift the API counted in it
 * (ledger.drift, the message's `findings`), empty when it found none; `fixStock(company)`: asks the
 * ERP's figure for the levels listed differing at a company (operators; absent otherwise);
 * `earlier`: the message is not done (a run again that failed, or is still running or retrying):
 * the report is an earlier attempt's, said so, and never read as "nothing out of place" (the API
 * counts findings of a done report only). */
export function reconcileReport(report, findings, { fixStock = null, earlier = false } = {}) {
  const errors = Array.isArray(report.summary.errors) ? report.summary.errors : [];
  const drift = Object.keys(findings || {}).length > 0;
  return h("s-section", { heading: t("recon.heading"), "data-testid": "reconcile-report" },
    earlier ? h("s-banner", { tone: "warning", "data-testid": "recon-earlier" }, t("recon.earlier")) : null,
    report.generated_at ? h("s-paragraph", {}, t("recon.generated", { when: fmtDate(report.generated_at),
      since: report.since ? fmtDate(report.since) : "—" })) : null,
    errors.length ? h("s-paragraph", {}, t("recon.incomplete")) : null,
    !earlier && !drift && !errors.length
      ? h("s-paragraph", { "data-testid": "recon-nothing" }, t("recon.nothing")) : null,
    ordersSection(report.orders), stockSection(report.stock, fixStock), catalogSection(report.catalog),
    h("details", { "data-testid": "recon-json" }, h("summary", {}, t("recon.json")), payload(report)));
}
