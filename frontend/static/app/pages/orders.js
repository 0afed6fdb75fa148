/**
 * Orders: each Shopify order beside its ERP order (NROPEDVENDA), the status on both sides,
 * amounts, the fiscal document's key (an NF-e, or an NFC-e: model 65; marked when the ERP cancelled
 * it with the order) and every flow's note for a person (one per flow: an edit NOT applied
 * and an invoice's capture warning both show), newest first, 50 at a time with "Load more"
 * (`pagedList`, as on the Messages page); /app/orders/<id> adds the edit ledger (cuts,
 * substitutions, weights) and the messages that moved it. An order not in the ERP (its import
 * refused or handled outside the app) that the merchant entered in the ERP by hand is linked to
 * that ERP order from its detail ("Link to ERP order"), so the ERP's NF-e, capture and fulfilment
 * reach it. The API may ask to confirm a total far from the Shopify order's ("Link anyway"), or
 * refuse the number (another customer's or store's order, a poll running now) in its own words; a
 * hand link is undone with "Unlink" while none of its ERP events changed the order. A note whose
 * message is parked or failed (an import refused, a payment lost once in the ERP) links to that
 * message for an operator: its “Mark as handled” closes the note too. A note no message stands
 * behind (an invoice's capture warning, lines Shopify could not take) is closed by an operator on
 * the note itself: “Mark as handled” there asks how, and clears that note only. A day's delivery
 * and pickup slots (`slot_day`: picked in the day field, or Today / Tomorrow) are listed in the
 * order they are picked: by the slot's start, those with no time last (`next_after` pages on).
 */
import { api, toast } from "../api.js";
import { h, replace, select, table } from "../dom.js";
import { fmtDate, fmtDay, fmtMoney, fmtNumber, has, label, shopDay, t } from "../i18n.js";
import { href, kept, navigate } from "../router.js";
import { banner, failureBanner, failureBody, handledNoteForm, pagedList, statusBadge } from "../widgets.js";

const FILTERS = ["needs_attention", "not_in_erp", "in_erp", "invoiced", "cancelled"];
// The list's filters in the URL, carried to an order's page and back by its Back link.
const LIST_FILTERS = ["q", "status", "slot_day"];

/** Every note for a person on the order, one per flow (a cancellation's first). */
function notes(o) {
  return o.attention_notes || [];
}

/** Which flow wrote the note, in the page's language ("Pedidos", "Faturamento (NF-e) (evento do
 * ERP nº 12)"); the note's words follow as the API says them (`text`: in the page's language when
 * the flow kept its words, else as the flow wrote them). */
function noteSlot(n) {
  const flow = label("flow.", n.flow);
  if (n.event !== null && n.event !== undefined) return t("orders.note_event", { flow, event: n.event });
  if (n.topic) return has(`orders.note_topic.${n.topic}`) ? t(`orders.note_topic.${n.topic}`, { flow }) : `${flow} (${n.topic})`;
  return flow;
}

/** One note: its flow named, then its words, in text that wraps (a badge never does). `closing`
 * (`{ order, done }`, for someone who may close it): the note's message (`message_id`: parked or
 * failed in its slot), whose “Mark as handled” closes the note too, linked; else, a note of a flow
 * (`label`), its own “Mark as handled” (`noteHandled`). */
function noteLine(n, tag = "div", closing = null) {
  const words = n.text !== undefined ? n.text : n.note;
  let close = [];
  if (closing && n.message_id) {
    close = [" ", h("s-link", { href: href(`messages/${n.message_id}`), "data-testid": "note-mark-handled" }, t("orders.note_mark_handled"))];
  } else if (closing && n.label) {
    close = [" ", noteHandled(closing.order, n, closing.done)];
  }
  return h(tag, { class: "order-note" }, n.flow ? h("s-text", { type: "strong" }, `${noteSlot(n)}: `) : null, words, ...close);
}

/** “Mark as handled…” on a note no message stands behind: opens a required note field; POST
 * .../notes/handled clears that note only (audited), then the order is read again. A refusal (the
 * note gone meanwhile, a message behind it now) is toasted in the page's words. */
function noteHandled(o, n, done) {
  const box = h("span", { "data-testid": "note-handled" });
  const save = async (text) => {
    try {
      await api(`/api/orders/${o.id}/notes/handled`, { method: "POST", body: { label: n.label, note: text } });
    } catch (error) {
      return; // toasted by api()
    }
    toast(t("orders.note_handled.done"));
    done();
  };
  const open = () => replace(box, handledNoteForm({ details: t("orders.note_handled.help"),
    fieldId: "note-handled-field", formId: "note-handled-form", save }));
  return replace(box, h("s-button", { variant: "tertiary", onclick: open, "data-testid": "note-mark-handled" },
    t("orders.note_mark_handled")));
}

function attention(o) {
  const flagged = notes(o);
  if (flagged.length) {
    return h("div", { "data-testid": "order-notes", class: "order-notes" },
      h("s-badge", { tone: "warning" }, t("orders.needs_attention")), flagged.map((n) => noteLine(n)));
  }
  if (o.cancelled_at || o.erp_status === "C") return h("s-badge", { tone: "neutral" }, t("orders.cancelled"));
  if (o.nfe_key) return h("s-badge", { tone: "success" }, t("orders.invoiced"));
  return o.nro_pedvenda ? h("s-badge", { tone: "success" }, t("orders.in_erp")) : h("s-badge", { tone: "caution" }, t("orders.not_in_erp"));
}

/** The fiscal document's name by its model (the API reads it from the key when not recorded):
 * 65 is an NFC-e, the consumer receipt; anything else an NF-e. */
function docName(o) {
  return o.nfe_model === "65" ? "NFC-e" : "NF-e";
}

/** The key, named by its model, marked when the ERP cancelled it with the order (the key stays). */
function keyCell(o) {
  if (!o.nfe_key) return "—";
  return h("div", { "data-testid": "nfe-key" },
    h("s-text", { color: "subdued" }, docName(o)), " ", h("span", { class: "mono" }, o.nfe_key),
    o.nfe_cancelled ? h("div", {}, h("s-badge", { tone: "critical" }, t("orders.nfe_cancelled", { model: docName(o) }))) : null);
}

/** The order's name, and under it the delivery or pickup slot the customer chose, when one. */
function nameCell(o) {
  const name = h("s-link", { href: href(`orders/${o.id}`, kept(LIST_FILTERS)) }, o.shopify_order_name || o.shopify_order_id);
  if (!o.delivery_slot) return name;
  return h("div", {}, name, h("div", { "data-testid": "delivery-slot" },
    h("s-text", { color: "subdued" }, t("orders.delivery_slot", { slot: o.delivery_slot }))));
}

function row(o) {
  return [nameCell(o),
    o.nro_pedvenda ? String(o.nro_pedvenda) : "—", o.nro_empresa ? String(o.nro_empresa) : "—",
    label("shopify_status.", o.shopify_status), label("erp_status.", o.erp_status),
    fmtMoney(o.total, o.currency), fmtMoney(o.captured_amount, o.currency),
    keyCell(o), attention(o)];
}

/** The columns; `o` (one order's detail) names its key's column by its model, the list both.
 * The money column is `captured_amount`: what Shopify took for the order (sales at checkout and
 * captures, refunds not taken off: jobs.invoices, jobs.orders), Shopify's "Paid by customer",
 * its help on the header saying so and how it differs from the authorised amount. */
const HEADERS = (o) => [t("orders.shopify"), t("orders.erp"), t("orders.company"), t("orders.shopify_status"),
  t("orders.erp_status"), t("orders.total"),
  { label: h("span", { title: t("orders.paid_help"), "data-testid": "paid-header" }, t("orders.paid"), " ⓘ") },
  t("orders.nfe_key", { model: o && o.nfe_key ? docName(o) : "NF-e / NFC-e" }), t("orders.state")];

/** "NFC-e nº 1 série 1", and "(NFC-e cancelada)" when the ERP cancelled it. */
function fiscalDocument(o) {
  const named = t("orders.nfe", { model: docName(o), number: o.nfe_number, series: o.nfe_series || "" });
  return o.nfe_cancelled ? `${named} (${t("orders.nfe_cancelled", { model: docName(o) })})` : named;
}

/** Answers of the link that a person reads in place (the API's `words` said in the page's language):
 * another customer's or store's order, a poll of the ERP's events running now (try again in a moment). */
const LINK_REFUSALS = ["erp_order_taken", "erp_order_refused", "events_polling"];

/** The ERP order number typed by hand, checked and linked by the API; then the detail again. A
 * total far from the Shopify order's (409 erp_total_differs) shows both totals and "Link anyway",
 * which sends the same number with `confirm_total: true`; another buyer's CPF/CNPJ on the ERP
 * order (409 erp_order_mismatch) the API's words and "Link anyway" with `confirm_buyer: true`
 * (each confirmation kept for the next answer, and audited by the API). */
function linkForm(o, done) {
  const number = h("s-number-field", { label: t("orders.link.number"), min: "1", step: "1", "data-testid": "erp-order-number" });
  const answer = h("div", { "data-testid": "link-erp-answer" });
  const send = async (nro, confirmed = {}) => {
    const body = { nro_pedvenda: nro, ...confirmed };
    try {
      await api(`/api/orders/${o.id}/erp-order`, { method: "POST", body, quiet: true });
    } catch (error) {
      replace(answer, refusal(error, nro, confirmed));
      return;
    }
    toast(t("orders.link.done", { nro }));
    done();
  };
  const refusal = (error, nro, confirmed) => {
    const extra = (error.body && error.body.error) || {};
    if (error.code === "erp_order_mismatch") {
      return banner("warning", t("orders.link.buyer_differs"), [
        failureBody(error),
        h("s-button", { onclick: () => send(nro, { ...confirmed, confirm_buyer: true }) }, t("orders.link.anyway"))]);
    }
    if (error.code === "erp_total_differs") {
      return banner("warning", t("orders.link.total_differs"), [
        h("s-paragraph", {}, t("orders.link.totals", {
          erp: fmtMoney(extra.erp_total, o.currency), shopify: fmtMoney(extra.shopify_total, o.currency) })),
        failureBody(error),
        h("s-button", { onclick: () => send(nro, { ...confirmed, confirm_total: true }) }, t("orders.link.anyway"))]);
    }
    if (error.code === "events_polling") return failureBanner(error, t("orders.link.polling"), "info");
    if (LINK_REFUSALS.includes(error.code)) return failureBanner(error, t("orders.link.refused"));
    return failureBanner(error, t("orders.link.failed"));
  };
  const submit = async () => {
    const nro = Number(number.value);
    if (!Number.isInteger(nro) || nro < 1) {
      number.setAttribute("error", t("orders.link.number_required"));
      return;
    }
    number.removeAttribute("error");
    replace(answer);
    await send(nro);
  };
  return h("s-section", { heading: t("orders.link.heading"), "data-testid": "link-erp-order" },
    h("s-paragraph", {}, t("orders.link.help")), number, answer,
    h("s-button", { variant: "primary", onclick: submit }, t("orders.link.submit")));
}

/** Undo a number linked by hand by mistake (DELETE .../erp-order), after a confirm; refused
 * (409 erp_order_applied) once one of its events changed the order: the API says which. */
function unlinkForm(o, done) {
  const answer = h("div", { "data-testid": "unlink-erp-answer" });
  const submit = async () => {
    if (!window.confirm(t("orders.unlink.confirm", { nro: o.nro_pedvenda }))) return;
    replace(answer);
    try {
      await api(`/api/orders/${o.id}/erp-order`, { method: "DELETE", quiet: true });
    } catch (error) {
      const heading = error.code === "erp_order_applied" ? t("orders.unlink.applied") : t("orders.unlink.failed");
      replace(answer, failureBanner(error, heading, error.code === "events_polling" ? "info" : "critical"));
      return;
    }
    toast(t("orders.unlink.done", { nro: o.nro_pedvenda }));
    done();
  };
  return h("s-section", { heading: t("orders.unlink.heading"), "data-testid": "unlink-erp-order" },
    h("s-paragraph", {}, t("orders.unlink.help", { nro: o.nro_pedvenda })), answer,
    h("s-button", { tone: "critical", onclick: submit }, t("orders.unlink.submit")));
}

async function detail(ctx, id, reload) {
  const o = await api(`/api/orders/${encodeURIComponent(id)}`);
  const linkable = ctx.can("operate") && !o.nro_pedvenda && !o.cancelled_at;
  const unlinkable = ctx.can("operate") && o.nro_pedvenda && o.erp_linked_by_hand;
  return h("s-page", { heading: t("orders.detail_heading", { name: o.shopify_order_name || o.id }) },
    h("s-link", { href: href("orders", kept(LIST_FILTERS)), slot: "primary-action" }, t("detail.back")),
    notes(o).length ? banner("warning", t("orders.needs_attention"),
      notes(o).map((n) => noteLine(n, "s-paragraph", ctx.can("operate") ? { order: o, done: reload } : null))) : null,
    linkable ? linkForm(o, reload) : null,
    unlinkable ? unlinkForm(o, reload) : null,
    h("s-section", { heading: t("orders.summary") }, table(HEADERS(o), [row(o)]),
      h("s-paragraph", { "data-testid": "order-summary-line" },
        t("orders.authorized", { amount: fmtMoney(o.authorized_amount, o.currency) }),
        o.nfe_number ? ` · ${fiscalDocument(o)}` : "",
        o.erp_linked_by_hand ? ` · ${t("orders.linked_by_hand")}` : ""),
      h("s-paragraph", { "data-testid": "order-money-help" }, h("s-text", { color: "subdued" }, t("orders.money_help")))),
    h("s-section", { heading: t("orders.changes") }, o.changes.length
      ? table([t("orders.change_kind"), "SKU", t("orders.qty_before"), t("orders.qty_after"), t("orders.substitute"),
        t("orders.reason"), t("orders.applied"), t("detail.created_at")],
      o.changes.map((c) => [label("change.", c.kind), h("span", { class: "mono" }, c.sku || "—"), fmtNumber(c.qty_before),
        fmtNumber(c.qty_after), c.substitute_sku || "—", c.reason || "—",
        c.applied ? t("common.yes") : t("common.no"), fmtDate(c.created_at)]))
      : h("s-text", { color: "subdued" }, t("orders.no_changes"))),
    h("s-section", { heading: t("orders.messages") }, o.messages.length
      ? table(["#", t("messages.flow"), t("messages.status"), t("messages.error"), t("common.updated_at")],
        o.messages.map((m) => [h("s-link", { href: href(`messages/${m.id}`) }, `#${m.id}`), label("flow.", m.flow),
          statusBadge(m.status), m.reason || m.failure_reason || m.error_text || "—", fmtDate(m.updated_at)]))
      : h("s-text", { color: "subdued" }, t("messages.none"))));
}

export async function render(ctx) {
  if (ctx.sub) {
    const root = h("div", {});
    const show = async () => replace(root, await detail(ctx, ctx.sub, () => show().catch(() => {})));
    try {
      await show();
      return { element: root };
    } catch (error) {
      return { element: h("s-page", { heading: t("orders.heading") }, failureBanner(error)) };
    }
  }
  const q = ctx.query;
  const text = h("s-search-field", { label: t("orders.search"), placeholder: t("orders.search_placeholder"), ".value": q.get("q") || "" });
  const status = select({ label: t("orders.filter"), placeholder: t("common.all") },
    FILTERS.map((f) => ({ value: f, label: t(`orders.filter.${f}`) })), q.get("status") || "");
  const slotDay = q.get("slot_day") || "";
  const day = h("s-date-field", { label: t("orders.slot_day"), ".value": slotDay, "data-testid": "orders-slot-day" });
  const results = h("div", { "data-testid": "orders-results" });
  const more = h("div", {});
  const search = (on = day.value) => navigate(href("orders", { q: text.value.trim(), status: status.value, slot_day: on }));
  text.addEventListener("keydown", (e) => { if (e.key === "Enter") search(); });
  day.addEventListener("change", () => search());
  const load = pagedList({
    results, more, headers: HEADERS(),
    fetchPage: (cursor) => api("/api/orders", { query: {
      q: q.get("q"), status: q.get("status"), slot_day: slotDay || undefined,
      ...(slotDay ? { after: cursor } : { before_id: cursor }),
    } }),
    cursorOf: (page) => (slotDay ? page.next_after : page.next_before_id),
    items: (page) => page.orders,
    rows: (orders) => orders.map(row),
    empty: () => h("s-text", { color: "subdued" }, slotDay ? t("orders.none_on_day") : t("orders.none")),
  });
  load().catch((e) => replace(results, failureBanner(e)));
  // A day's list says which day and in what order; "All days" goes back to the newest first
  const dayLine = slotDay ? h("s-paragraph", { "data-testid": "orders-day-line" },
    t("orders.slot_day_view", { day: fmtDay(slotDay) }), " ",
    h("s-link", { href: href("orders", { q: q.get("q"), status: q.get("status") }) }, t("orders.all_days"))) : null;
  const element = h("s-page", { heading: t("orders.heading") },
    h("s-section", {}, h("div", { class: "toolbar", role: "search" }, text, status, day,
      h("s-button", { variant: "primary", onclick: () => search() }, t("messages.search_button")),
      h("span", { class: "quick-days" },
        h("s-button", { onclick: () => search(shopDay(0)) }, t("orders.today")),
        h("s-button", { onclick: () => search(shopDay(1)) }, t("orders.tomorrow"))))),
    h("s-section", {}, dayLine, results, more));
  return { element };
}
