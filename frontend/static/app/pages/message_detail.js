/**
 * One message: what happened in the merchant's words, the target system's own message, what
 * to do (with a link to the missing De:Para line when a mapping is missing), the payloads (PII
 * masked unless the viewer may see it), attempts, and retry / replay. A failure a person settled
 * outside the app (entered in the ERP by hand, fixed in Shopify) is closed with "mark as handled"
 * and a required note; a message closed so shows who closed it, when, why and what it was.
 */
import { api, toast } from "../api.js";
import { h, pollEvery, replace, table } from "../dom.js";
import { fmtDate, has, label, t } from "../i18n.js";
import { href, kept, navigate } from "../router.js";
import { banner, busyButton, errorKind, failureBanner, handledNoteForm, payload, shopifyLink, statusBadge, subjectText } from "../widgets.js";
import { isReport, reconcileReport } from "./reconcile_report.js";

// The Messages list's filters in the URL, carried to a message's page and back by its Back link.
export const LIST_FILTERS = ["flow", "status", "q", "stuck", "updated_since"];

/** "What Shopify said:" — one phrase per system (Portuguese contracts "de a Shopify" to "da Shopify");
 * with no system (an unexpected error: the app's own exception), "Technical message:". */
function systemSaid(system) {
  const own = `detail.system_said.${system}`;
  if (!system) return t("detail.system_said.none"); // an unexpected error (a bug): no system answered
  return has(own) ? t(own) : t("detail.system_said", { system: label("system.", system) });
}

function explanation(m) {
  const e = m.explanation;
  if (!e) return null;
  // Pending with an explanation: waiting on purpose (an order not paid yet), nothing wrong; or
  // interrupted (its job lost), which a Retry redoes. Retrying: tried again by itself, nothing to
  // do yet (the list's badge is yellow too); only a failure is critical.
  const waits = ["parked", "retrying"].includes(m.status) || m.stuck;
  const tone = waits ? "warning" : ["done", "pending"].includes(m.status) ? "info" : "critical";
  return banner(tone, e.title,
    h("s-paragraph", {}, e.what_happened),
    e.system_message ? h("s-paragraph", {}, h("s-text", { type: "strong" },
      systemSaid(e.system)), " ", h("span", { class: "mono" },
      e.system_message), e.code ? h("span", { class: "muted" }, ` (${e.code})`) : null) : null,
    h("s-paragraph", {}, h("s-text", { type: "strong" }, t("detail.what_to_do")), " ", e.what_to_do),
    e.mapping ? h("s-link", { href: href("mappings", { kind: e.mapping.kind, code: e.mapping.code, side: e.mapping.side }) },
      t(e.mapping.side === "erp" ? "detail.map_company" : "detail.create_mapping", { code: e.mapping.code })) : null);
}

/** Why a unit was skipped (a duplicate delivery, nothing left to send), in the page's language (`reason`;
 * the job's words as stored for a message older than that); one closed as handled says so in its own
 * banner instead. */
function skippedBanner(m) {
  const why = m.reason || m.error_text;
  if (m.status !== "skipped" || m.handled || !why) return null;
  return h("s-banner", { tone: "info", "data-testid": "skipped-reason" }, h("s-paragraph", {},
    h("s-text", { type: "strong" }, t("detail.skipped")), " ", why));
}

function handledBanner(m) {
  const c = m.handled;
  if (!c) return null;
  return banner("info", t("detail.handled.title"),
    h("s-paragraph", { "data-testid": "handled-note" }, t("detail.handled.by", { by: c.by || "—", at: fmtDate(c.at), note: c.note || "" })),
    c.error_text ? h("s-paragraph", {}, t("detail.handled.was", { status: label("status.", c.status), error: "" }),
      h("span", { class: "mono" }, c.error_text)) : null);
}

/** The note field and its button: closing asks how it was handled, and says what closing does. */
function handledForm(m, done) {
  // A price closed so stays as set in Shopify for as long as the ERP means the same (jobs.prices).
  const help = m.flow === "prices" ? "detail.handled.note_help_prices" : "detail.handled.note_help";
  const save = async (text) => {
    await api(`/api/messages/${m.id}/handled`, { method: "POST", body: { note: text } });
    toast(t("detail.handled.done"));
    done();
  };
  return handledNoteForm({ details: t(help), fieldId: "handled-note-field", formId: "mark-handled", save });
}

// Until a message is final the page re-reads it, so a retried or resumed unit is seen landing.
const UNSETTLED = ["pending", "retrying", "parked"];
const POLL_MS = pollEvery(3000);
// After a Retry or Replay the message reads as before until its job starts (a busy queue): the
// page keeps re-reading it until it moves (updated_at or attempts), for this long at most.
const AWAIT_MOVE_MS = 120000;

const load = (id) => api(`/api/messages/${encodeURIComponent(id)}`,
  { quiet: true, query: { locale: document.documentElement.lang } });

/** The view drawn again (the message moved: a run parked it again), keeping a handled note being
 * typed: the page re-reads every 3 s, and a redraw wiped the half-written note. */
function redraw(root, element) {
  const typed = root.querySelector("[data-testid=handled-note-field]");
  const text = typed ? typed.value : "";
  replace(root, element);
  const field = root.querySelector("[data-testid=handled-note-field]");
  if (field && text) field.value = text;
}

export async function renderDetail(ctx, id) {
  const root = h("div", {});
  let timer = null;
  let stopped = false;
  let shown = null;
  let awaited = null; // after a Retry/Replay: what the page showed at the click, and until when to wait
  const moved = (m) => m.updated_at !== awaited.updated_at || m.attempts !== awaited.attempts;
  const tick = async () => {
    try {
      const m = await load(id);
      if (!shown || m.status !== shown.status || m.updated_at !== shown.updated_at) redraw(root, view(ctx, m, watch));
      shown = m;
      if (awaited && (moved(m) || Date.now() > awaited.until)) awaited = null; // then: its status, as ever
      if (!stopped && (awaited || UNSETTLED.includes(m.status))) timer = setTimeout(tick, POLL_MS);
    } catch (error) {
      if (!shown) replace(root, h("s-page", { heading: t("detail.heading", { id }) }, failureBanner(error)));
      else if (!stopped) timer = setTimeout(tick, POLL_MS);
    }
  };
  // After a retry or replay the message moves again: follow it until it moves, then until it settles.
  const watch = () => {
    clearTimeout(timer);
    if (stopped) return;
    if (shown) awaited = { updated_at: shown.updated_at, attempts: shown.attempts, until: Date.now() + AWAIT_MOVE_MS };
    timer = setTimeout(tick, POLL_MS);
  };
  await tick();
  return { element: root, dispose: () => { stopped = true; clearTimeout(timer); } };
}

/** An order's message pending on purpose for its fraud risk (error_detail {"waiting": "risk"}). */
function heldForRisk(m) {
  return m.flow === "orders" && m.status === "pending" && m.error_detail && m.error_detail.waiting === "risk";
}

function view(ctx, m, watch) {
  const act = (path, done) => async () => {
    const job = await api(`/api/messages/${m.id}/${path}`, { method: "POST" });
    toast(job.enqueued ? done : t("flows.already_waiting"));
    watch();
  };
  const buttons = ctx.can("operate") ? h("s-stack", { direction: "inline", gap: "small" },
    m.can_retry ? busyButton({ variant: "primary" }, t("detail.retry"), act("retry", t("detail.retried"))) : null,
    m.can_replay ? busyButton({}, t("detail.replay"), act("replay", t("detail.replayed"))) : null,
    // an order held for its fraud risk (jobs.order_risk): sent after a person's review, audited
    heldForRisk(m) ? busyButton({ "data-testid": "risk-accept" }, t("detail.risk_accept"), async () => {
      // the ERP picks and delivers it: not to be taken back, so never on a misclick
      if (!window.confirm(t("detail.risk_accept_confirm"))) return;
      await act("risk-accept", t("detail.risk_accepted"))();
    }) : null) : null;
  const closing = ctx.can("operate") && m.can_mark_handled ? handledForm(m, watch) : null;
  // What the merchant reads: the thing by its name (order #1002, the product's title), its place
  // in Shopify as a link; the app's own ids (unit of work, job, the raw gid) are for support, apart.
  const facts = [
    [t("messages.subject"), h("span", { "data-testid": "detail-subject" }, subjectText(m))],
    m.shopify_id ? [t("detail.in_shopify"), shopifyLink(m)] : null,
    [t("messages.flow"), label("flow.", m.flow)], [t("messages.status"), statusBadge(m.status)],
    [t("detail.direction"), label("direction.", m.direction)],
    [t("messages.attempts"), String(m.attempts)], [t("detail.error_class"), errorKind(m)],
    [t("detail.created_at"), fmtDate(m.created_at)], [t("common.updated_at"), fmtDate(m.updated_at)],
    [t("detail.finished_at"), fmtDate(m.finished_at)],
  ].filter(Boolean);
  const technical = h("details", { "data-testid": "technical-details" },
    h("summary", {}, t("detail.technical")),
    h("s-paragraph", {}, h("s-text", { color: "subdued" }, t("detail.technical_help"))),
    table([t("detail.field"), t("detail.value")], [
      [t("detail.unit"), h("span", { class: "mono" }, m.unit_key)],
      [t("detail.shopify_id"), h("span", { class: "mono" }, m.shopify_id || "—")],
      [t("detail.erp_id"), h("span", { class: "mono" }, m.erp_id || "—")],
      [t("detail.job"), h("span", { class: "mono" }, m.job_id || "—")],
    ]));
  // A reconciliation report reads in sections (pages/reconcile_report.js), not as its JSON. An
  // operator may ask the ERP's figure for the levels it lists differing at a company: the fix is a
  // stock message of its own (jobs.stock_fix), opened here to watch it settle.
  const report = m.flow === "reconcile" && isReport(m.response_payload);
  const fixStock = report && ctx.can("operate") ? async (company) => {
    const asked = await api(`/api/messages/${m.id}/stock-fix`, { method: "POST", body: { nro_empresa: company } });
    toast(asked.enqueued ? t("recon.stock.fix_asked", { count: asked.skus.length }) : t("flows.already_waiting"));
    navigate(href(`messages/${asked.message_id}`, kept(LIST_FILTERS)));
  } : null;
  return h("s-page", { heading: t("detail.heading", { id: m.id }) },
    h("s-link", { href: href("messages", kept(LIST_FILTERS)), slot: "primary-action" }, t("detail.back")),
    handledBanner(m), skippedBanner(m), explanation(m),
    h("s-section", { heading: t("detail.summary") }, table([t("detail.field"), t("detail.value")], facts), buttons, closing,
      technical),
    report ? reconcileReport(m.response_payload, m.findings, { fixStock, earlier: m.status !== "done" }) : null,
    h("s-section", { heading: t("detail.payloads") },
      m.pii_masked ? h("s-paragraph", {}, h("s-badge", { tone: "info" }, t("detail.masked"))) : null,
      h("s-heading", {}, t("detail.request")), payload(m.request_payload),
      h("s-heading", {}, t("detail.response")),
      report ? h("s-paragraph", {}, t("recon.see_above")) : payload(m.response_payload),
      m.error_detail ? [h("s-heading", {}, t("detail.error_detail")), payload(m.error_detail)] : null));
}
