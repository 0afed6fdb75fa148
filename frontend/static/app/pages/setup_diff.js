/**
 * The catalog dry run: POST starts jobs.catalog_diff on the worker; the page polls its state
 * until done and shows what the first publish would create, change or leave alone. The
 * result's shape belongs to the job, so counts and lists are shown generically. Apart: the ERP
 * records it could not read, the packagings missing it would hold for a person rather than
 * retire (`held`), and those deleted in the ERP that only the daily full sweep retires, when it
 * runs and how many products that takes off sale. Store statuses in words, not Shopify's codes. Then
 * the store's prices a sync would send, a change beside what Shopify shows now (jobs.price_preview),
 * and each market's price list (jobs.price_list_preview), a change beside the list's price now.
 * The last result stays on the server until the next run: the section opens with it, its time and
 * who asked, and says it may be out of date.
 */
import { api } from "../api.js";
import { h, pollEvery, replace, table } from "../dom.js";
import { fmtDate, fmtMoney, fmtNumber, label, locale, t } from "../i18n.js";
import { banner, failureBanner, payload, technicalDetail } from "../widgets.js";

const POLL_MS = pollEvery(2000);
const SHOWN_ITEMS = 20;

// adopt / conflict: products to create that Shopify holds already without the ERP id (jobs.catalog_adopt)
const VERDICTS = ["create", "adopt", "conflict", "change", "archive", "waiting", "unchanged"];
const COUNTED = [...VERDICTS, "unreadable"];

/** A Shopify product status in words (DRAFT and ARCHIVED as the setting names them). */
function statusWord(status) {
  return status === "ACTIVE" ? t("diff.active") : label("setup.settings.inactive.", status);
}

/** The store status a product would have, and the one it has when that changes. */
function statusChange(item) {
  if (!item.status) return "—";
  const before = item.status_before && item.status_before !== item.status ? `${statusWord(item.status_before)} → ` : "";
  return before + statusWord(item.status);
}

/** A listed product's last column: the Shopify product(s) it meets, its reason, or its SKUs. */
function verdictDetail(verdict, item) {
  if (verdict === "adopt") return t("diff.adopt_of", { title: item.existing_title || item.shopify_id });
  if (verdict === "conflict") return t("diff.conflict_with", { products: (item.existing || []).join(", ") });
  return item.reason || (item.skus || []).join(", ") || "—";
}

/** What the first publish would do: counts per verdict, then a sample of each list. */
function describe(result) {
  if (!result || typeof result !== "object") return payload(result);
  const counts = result.counts || {};
  const lists = VERDICTS.filter((v) => Array.isArray(result[v]) && result[v].length);
  return h("div", { "data-testid": "catalog-diff-result" },
    result.generated_at ? h("s-paragraph", {}, t("diff.generated_at", { when: fmtDate(result.generated_at) })) : null,
    table([t("diff.what"), { label: t("diff.count"), format: "numeric" }],
      COUNTED.filter((v) => v in counts).map((v) => [label("diff.", v), fmtNumber(counts[v])])),
    lists.map((v) => h("details", {},
      h("summary", {}, `${label("diff.", v)} (${fmtNumber(result[v].length)})`),
      table([t("diff.product"), t("diff.title"), t("diff.status"), t("diff.skus_or_reason")],
        result[v].slice(0, SHOWN_ITEMS).map((item) => [String(item.seq_produto ?? "—"), item.title || "—",
          statusChange(item), verdictDetail(v, item)])))),
    unreadable(result.unreadable),
    held(result.held),
    fullSweep(result.full_sweep),
    pricesPart(result.prices),
    priceListsPart(result.price_lists));
}

const PRICE_COUNTS = ["first", "change", "kept_by_hand", "unchanged", "unreadable"];
const PRICE_LISTS = ["change", "kept_by_hand", "first"];

/** A price as the store would show it: the promotional price with the normal one struck through,
 * no price, or not for sale. `p`: {price, compare_at, for_sale} as decimal strings. */
function priceText(p) {
  if (!p) return "—";
  const text = !p.price ? t("diff.price.none")
    : p.compare_at ? t("diff.price.promo", { price: fmtMoney(p.price), normal: fmtMoney(p.compare_at) })
      : fmtMoney(p.price);
  return p.for_sale === false ? `${text} · ${t("diff.price.not_for_sale")}` : text;
}

/** A day the ERP gives ("2026-12-05") as the page's language writes it, with no time zone shift. */
function dayText(day) {
  const [y, m, d] = String(day).split("-").map(Number);
  return y && m && d ? new Intl.DateTimeFormat(locale(), { timeZone: "UTC" }).format(new Date(Date.UTC(y, m - 1, d)))
    : String(day);
}

/** The store's prices a sync would send (jobs.price_preview): how many are first ones, change, stay
 * as set by hand; then the rows, a change beside what Shopify shows now. Not previewed: why. */
function pricesPart(part) {
  if (!part || typeof part !== "object") return null;
  if (part.error) return banner("warning", t("diff.price.not_previewed"), technicalDetail(part.error));
  const counts = part.counts || {};
  return h("div", { "data-testid": "catalog-diff-prices" },
    h("s-heading", {}, t("diff.price.heading", { company: part.nro_empresa, segment: part.nro_segmento })),
    table([t("diff.what"), { label: t("diff.count"), format: "numeric" }],
      PRICE_COUNTS.filter((v) => counts[v]).map((v) => [label("diff.price.", v), fmtNumber(counts[v])])),
    PRICE_LISTS.filter((v) => Array.isArray(part[v]) && part[v].length).map((v) => h("details",
      { "data-testid": `catalog-diff-prices-${v}` },
      h("summary", {}, `${label("diff.price.", v)} (${fmtNumber(counts[v] ?? part[v].length)})`),
      table([t("diff.price.sku"), t("diff.product"), ...(v === "change" ? [t("diff.price.now")] : []),
        t("diff.price.price"), t("diff.price.until")],
      part[v].slice(0, SHOWN_ITEMS).map((r) => [r.sku, String(r.seq_produto), ...(v === "change" ? [priceText(r.before)] : []),
        priceText(r), r.promotion_until ? dayText(r.promotion_until) : "—"])))),
    part.before_unread ? h("s-paragraph", {}, h("s-text", { color: "subdued" }, t("diff.price.before_unread"))) : null);
}

const LIST_COUNTS = ["first", "change", "kept_by_hand", "no_price", "unchanged", "unreadable"];
const LIST_ROWS = ["change", "no_price", "kept_by_hand", "first"];

/** A market's price as its list would hold it: the promotional price with the normal one struck
 * through; no price in the ERP (the market shows the base price, a fixed one removed); `null`
 * before: no fixed price, the market at the base price. */
function listPriceText(p) {
  if (p === null) return t("diff.list.base_price");
  if (!p) return "—";
  if (!p.price) return p.removes_fixed ? t("diff.list.no_price_removed") : t("diff.list.no_price_base");
  return p.compare_at ? t("diff.price.promo", { price: fmtMoney(p.price), normal: fmtMoney(p.compare_at) })
    : fmtMoney(p.price);
}

/** One market's list: which list takes the prices, how many are first ones, change, stay as set by
 * hand or have no price in the ERP; then the rows, beside the list's price now where it was read. */
function priceListPart(one) {
  const market = one.market_name || one.market_id;
  const heading = h("s-heading", {}, t("diff.list.heading",
    { market, company: one.nro_empresa, segment: one.nro_segmento }));
  if (one.error) {
    return h("div", { "data-testid": "catalog-diff-list" }, heading,
      banner("warning", t("diff.list.pair_not_previewed"), technicalDetail(one.error)));
  }
  const counts = one.counts || {};
  return h("div", { "data-testid": "catalog-diff-list" }, heading,
    one.list === "bound" ? null : h("s-paragraph", {}, label("diff.list.how.", one.list)),
    table([t("diff.what"), { label: t("diff.count"), format: "numeric" }],
      LIST_COUNTS.filter((v) => counts[v]).map((v) => [label("diff.list.", v), fmtNumber(counts[v])])),
    LIST_ROWS.filter((v) => Array.isArray(one[v]) && one[v].length).map((v) => {
      const now = one[v].some((r) => "before" in r);
      return h("details", { "data-testid": `catalog-diff-list-${v}` },
        h("summary", {}, `${label("diff.list.", v)} (${fmtNumber(counts[v] ?? one[v].length)})`),
        table([t("diff.price.sku"), t("diff.product"), ...(now ? [t("diff.list.now")] : []),
          t("diff.price.price"), t("diff.price.until")],
        one[v].slice(0, SHOWN_ITEMS).map((r) => [r.sku, String(r.seq_produto),
          ...(now ? ["before" in r ? listPriceText(r.before) : "—"] : []),
          listPriceText(r), r.promotion_until ? dayText(r.promotion_until) : "—"])));
    }),
    one.before_unread ? h("s-paragraph", {}, h("s-text", { color: "subdued" }, t("diff.list.before_unread"))) : null);
}

/** The markets' price lists (their further company and segment), then the lists a sync empties,
 * their pair no longer mapped (the market falls back to the base prices). */
function priceListsPart(part) {
  if (!part || typeof part !== "object") return null;
  if (part.error) return banner("warning", t("diff.list.not_previewed"), technicalDetail(part.error));
  return h("div", { "data-testid": "catalog-diff-price-lists" },
    (part.lists || []).map(priceListPart),
    (part.retiring || []).map((gone) => h("s-paragraph", { "data-testid": "catalog-diff-list-retiring" },
      t("diff.list.retiring", { market: gone.market_name || gone.market_id, company: gone.nro_empresa,
        segment: gone.nro_segmento, count: fmtNumber(gone.fixed_prices) }))));
}

/** The ERP records the run could not read (a sync sets them aside the same way, each named). */
function unreadable(records) {
  if (!Array.isArray(records) || !records.length) return null;
  return h("details", { "data-testid": "catalog-diff-unreadable" },
    h("summary", {}, `${t("diff.unreadable")} (${fmtNumber(records.length)})`),
    table([t("diff.record"), t("diff.problem")],
      records.slice(0, SHOWN_ITEMS).map((r) => [String(r.record ?? "—"), r.problem || "—"])));
}

/** The packagings the ERP no longer lists that a sync would hold for a person, and why. */
function held(part) {
  if (!part || !part.count) return null;
  return h("div", { "data-testid": "catalog-diff-held" },
    h("s-paragraph", {}, t("diff.held", { count: fmtNumber(part.count), why: part.why || "—" })),
    (part.skus || []).length ? h("details", {}, h("summary", {}, `${t("diff.held_skus")} (${fmtNumber(part.count)})`),
      h("s-paragraph", {}, part.skus.join(", "))) : null);
}

/** What only the daily full sweep does (jobs.catalog_full): a sync would not, so it says when. */
function fullSweep(sweep) {
  if (!sweep || !sweep.counts || !sweep.counts.retire) return null;
  const count = fmtNumber(sweep.counts.retire);
  return h("div", { "data-testid": "catalog-diff-full-sweep" },
    h("s-paragraph", {}, sweep.next_run_at ? t("diff.full_sweep_at", { count, when: fmtDate(sweep.next_run_at) })
      : t("diff.full_sweep_off", { count })),
    sweep.counts.archive ? h("s-paragraph", {}, t("diff.full_sweep_archive", { count: fmtNumber(sweep.counts.archive) }))
      : null,
    h("details", {}, h("summary", {}, `${t("diff.retire")} (${count})`),
      table([t("diff.product"), t("diff.title"), t("diff.status"), t("diff.skus")],
        (sweep.retire || []).slice(0, SHOWN_ITEMS).map((item) => [String(item.seq_produto), item.title || "—",
          statusChange(item), (item.retired || []).join(", ")]))));
}

/** Who asked for a dry run: the name the roles table holds, else the staff member's Shopify id. */
function whoRan(ranBy) {
  if (!ranBy) return t("diff.last_by_unknown");
  return ranBy.name || t("diff.last_by_user", { id: ranBy.user_id });
}

/** The last dry run kept by the server (GET /api/setup/catalog-diff/last): when it ran, who asked,
 * that the catalog may have changed since (what to do about it, by role), then its result. */
function lastRun(ctx, last) {
  const again = ctx.can("configure") ? t("diff.last_stale") : t("diff.last_stale_viewer");
  return h("div", { "data-testid": "catalog-diff-last" },
    banner("info", t("diff.last_heading", { when: fmtDate(last.ran_at), who: whoRan(last.ran_by) }),
      h("s-paragraph", {}, again)),
    describe(last.result));
}

export function catalogDiffSection(ctx, onDone) {
  const body = h("div", { "aria-live": "polite" });
  let timer = null;
  let disposed = false;
  let started = false; // a run asked for here: the last run's answer, if later, does not replace it
  const poll = async (jobId) => {
    if (disposed) return;
    const state = await api(`/api/setup/catalog-diff/${encodeURIComponent(jobId)}`, { quiet: true })
      .catch((failure) => ({ status: "failed", failure }));
    if (disposed) return;
    if (state.status === "done") {
      replace(body, describe(state.result));
      onDone();
    }
    // Unreadable: why in the page's words; the run's own failure (its exception's last line) a
    // technical detail under the heading.
    else if (state.failure) replace(body, failureBanner(state.failure, t("diff.failed")));
    else if (state.status === "failed") replace(body, banner("critical", t("diff.failed"), technicalDetail(state.error)));
    else {
      replace(body, h("s-stack", { direction: "inline", gap: "small" }, h("s-spinner", {}), t(`diff.${state.status}`)));
      timer = setTimeout(() => poll(jobId), POLL_MS);
    }
  };
  const start = async () => {
    started = true;
    clearTimeout(timer);
    const job = await api("/api/setup/catalog-diff", { method: "POST" });
    poll(job.job_id);
  };
  // A reload, or another page and back, shows the last result again (the server keeps it), and
  // picks up a run still going rather than asking for another.
  const showLast = async () => {
    const { last, running } = await api("/api/setup/catalog-diff/last", { quiet: true });
    if (disposed || started) return;
    if (running) poll(running);
    else if (last) replace(body, lastRun(ctx, last));
  };
  showLast().catch(() => {});  // nothing kept to show: the section reads as before any run
  const section = h("s-section", { heading: t("diff.heading") },
    h("s-paragraph", {}, t("diff.help")), body,
    ctx.can("configure") ? h("s-button", { onclick: start }, t("diff.start")) : null);
  return { section, dispose: () => { disposed = true; clearTimeout(timer); } };
}
