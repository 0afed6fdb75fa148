/**
 * Messages: search the trace by flow, status and any external id (SKU, order name,
 * NROPEDVENDA, NF-e key); /app/messages/<id> shows one message in full (message_detail.js).
 * Filters live in the URL so a link from the dashboard opens the right list. Two come only from the
 * dashboard's counts and have no control of their own: `stuck` (interrupted units only) and
 * `updated_since` (changed since then: the done count's last 24 hours); each shows as a chip that
 * clears it.
 */
import { api, toast } from "../api.js";
import { h, replace, select } from "../dom.js";
import { fmtDate, label, t } from "../i18n.js";
import { href, kept, navigate } from "../router.js";
import { busyButton, driftLine, errorKind, failureBanner, messageIds, pagedList, roleText, statusBadge, subjectText } from "../widgets.js";
import { LIST_FILTERS, renderDetail } from "./message_detail.js";

export const FLOWS = ["products", "skus", "prices", "stock", "orders", "order_edits", "invoices", "cancellations", "reconcile"];
const STATUSES = ["pending", "done", "failed", "parked", "retrying", "skipped"];

/** The failure in the merchant's words; the target's own words only when it refused. A unit left
 * pending whose job was lost (`stuck`) says so: plain "pending" reads as work under way. */
function errorCell(ctx, m) {
  if (m.stuck) return h("s-text", { tone: "caution", "data-testid": "stuck" }, roleText(ctx, "messages.stuck"));
  // Done with drift found (a reconciliation report): what it found, in the caution tone.
  if (m.findings) return h("s-text", { tone: "caution", "data-testid": "findings" }, driftLine(m.findings));
  // Skipped (why in the page's language: `reason`), or pending on purpose (waiting for payment): in the subdued tone.
  const why = m.reason || m.error_text;
  if (!m.error_class) return ["skipped", "pending"].includes(m.status) && why ? h("s-text", { color: "subdued" }, why) : "—";
  // Why, in the page's language (`failure_reason`: its words, else the English error_text): a refusal,
  // a missing De:Para, a retry's cause (the ERP down, Shopify's daily variant limit); a bug's raw
  // exception stays in the tooltip and on the message's page.
  const said = m.failure_reason || m.error_text;
  return h("div", { title: m.error_text || "" }, h("s-text", { tone: "critical", "data-testid": "error-kind" }, errorKind(m)),
    m.error_class !== "bug" && said ? h("div", { class: "muted", "data-testid": "failure-reason" }, said) : null);
}

function resultRows(ctx, messages) {
  return messages.map((m) => h("s-table-row", { "data-message-id": m.id },
    h("s-table-cell", {}, h("s-link", { href: href(`messages/${m.id}`, kept(LIST_FILTERS)) }, `#${m.id}`)),
    h("s-table-cell", {}, label("flow.", m.flow)),
    h("s-table-cell", {}, statusBadge(m.status)),
    h("s-table-cell", {}, h("div", { title: messageIds(m), "data-testid": "message-subject" }, subjectText(m))),
    h("s-table-cell", {}, errorCell(ctx, m)),
    h("s-table-cell", {}, String(m.attempts)),
    h("s-table-cell", {}, fmtDate(m.updated_at))));
}

/** The filters the dashboard's links set that the toolbar has no control for, each as a chip with a
 * button clearing it (the other filters kept). */
function linkFilters(q, keep) {
  const active = [
    q.get("stuck") === "true" ? ["stuck", t("messages.filter_stuck")] : null,
    q.get("updated_since") ? ["updated_since", t("messages.filter_since", { when: fmtDate(q.get("updated_since")) })] : null,
  ].filter(Boolean);
  if (!active.length) return null;
  return h("div", { class: "filter-chips", "data-testid": "active-filters" }, active.map(([key, text]) =>
    h("span", { class: "filter-chip", "data-testid": `filter-${key}` }, h("s-badge", { tone: "info" }, text),
      h("s-button", { variant: "tertiary", accessibilityLabel: t("messages.filter_clear_of", { filter: text }),
        onclick: () => navigate(href("messages", { ...keep(), [key]: null })) }, t("messages.filter_clear")))));
}

export async function render(ctx) {
  if (ctx.sub) return renderDetail(ctx, ctx.sub);
  const q = ctx.query;
  // what the URL filters by (the toolbar's own filters as they were applied: an unsaved edit is not
  // taken), the same keys a message's page carries back (LIST_FILTERS)
  const applied = () => Object.fromEntries(LIST_FILTERS.map((key) => [key, q.get(key)]));
  const flow = select({ label: t("messages.flow"), placeholder: t("common.all") },
    FLOWS.map((f) => ({ value: f, label: label("flow.", f) })), q.get("flow") || "");
  const status = select({ label: t("messages.status"), placeholder: t("common.all") },
    STATUSES.map((s) => ({ value: s, label: label("status.", s) })), q.get("status") || "");
  const text = h("s-search-field", { label: t("messages.search"), placeholder: t("messages.search_placeholder"),
    ".value": q.get("q") || "" });
  const results = h("div", { "data-testid": "messages-results" });
  const more = h("div", {});
  const actions = h("div", {});

  const load = pagedList({
    results, more,
    headers: ["#", t("messages.flow"), t("messages.status"), t("messages.subject"), t("messages.error"),
      t("messages.attempts"), t("common.updated_at")],
    fetchPage: (beforeId) => api("/api/messages",
      { query: { ...applied(), before_id: beforeId } }),
    items: (page) => page.messages,
    rows: (list) => resultRows(ctx, list),
    empty: () => h("s-text", { color: "subdued" }, t("messages.none")),
  });
  const search = () => navigate(href("messages",
    { ...applied(), flow: flow.value, status: status.value, q: text.value.trim() }));
  text.addEventListener("keydown", (e) => { if (e.key === "Enter") search(); });

  if (ctx.can("operate") && q.get("flow")) {
    replace(actions, busyButton({ tone: "critical" }, t("messages.retry_failed_of", { flow: label("flow.", q.get("flow")) }),
      async () => {
        const result = await api("/api/messages/retry-failed", { method: "POST", query: { flow: q.get("flow") } });
        toast(result.remaining
          ? `${t("messages.retried_many", { count: result.enqueued })}. ${t("messages.retried_more", { count: result.remaining })}`
          : t("messages.retried_many", { count: result.enqueued }));
        await load();
      }),
    h("div", { class: "muted" }, t("messages.retry_failed_hint")));
  }
  load().catch((e) => replace(results, failureBanner(e)));
  const element = h("s-page", { heading: t("messages.heading") },
    h("s-section", {},
      h("div", { class: "toolbar", role: "search" }, text, flow, status,
        h("s-button", { variant: "primary", onclick: search }, t("messages.search_button"))),
      linkFilters(q, applied), actions),
    h("s-section", {}, results, more));
  return { element };
}
