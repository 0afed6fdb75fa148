/**
 * Small shared pieces: status badges, a JSON payload block, a section with a loading state, a
 * list read page by page.
 */
import { failureParts } from "./api.js";
import { growingTable, h, replace } from "./dom.js";
import { fmtNumber, fmtShortDay, has, label, t } from "./i18n.js";

const TONES = {
  done: "success", failed: "critical", parked: "warning", retrying: "caution", pending: "info", skipped: "neutral",
};

/** A text that tells the reader to press a button: for a role the page hides that button from
 * (`can`: "operate" for Retry, Run now, Requeue), its `<key>_viewer` twin, which says whom to ask. */
export function roleText(ctx, key, vars, can = "operate") {
  return !ctx.can(can) && has(`${key}_viewer`) ? t(`${key}_viewer`, vars) : t(key, vars);
}

export function statusBadge(status) {
  return h("s-badge", { tone: TONES[status] || "neutral" }, label("status.", status));
}

/** A failed message's kind of error: a refusal of the app's own check (`stopped_by_app`: an
 * invalid CPF, an order shipping from two companies) is the integration's, not the target's. */
export function errorKind(m) {
  return m.stopped_by_app ? t("error_class.stopped_by_app") : label("error_class.", m.error_class);
}

/** What a reconciliation report found (`findings`: {finding: count}, ledger.drift), one line in
 * the merchant's words: "Divergências: totais de pedido diferentes 1, ...". */
export function driftLine(findings) {
  const found = Object.entries(findings || {}).map(([key, n]) => `${label("drift.", key)} ${fmtNumber(n)}`);
  return t("drift.found", { list: found.join(", ") });
}

/** What a message is about (the API's `subject`), in the merchant's words: "#1010 · ERP 7",
 * "Empresa 3", "ARROZ 5KG (produto 3)"; never a Shopify gid (`messageIds` keeps the raw ids for a tooltip). */
export function subjectText(m) {
  const s = m.subject || {};
  const erp = s.erp ? t("messages.subject.erp_order", { number: s.erp }) : null;
  switch (s.kind) {
    case "order": {
      const name = s.name || (s.shopify_number ? t("messages.subject.shopify_order", { number: s.shopify_number }) : null);
      return [name, erp].filter(Boolean).join(" · ") || m.unit_key;
    }
    case "company": return t("messages.subject.company", { number: s.erp });
    case "product":
      if (s.sku) return s.title ? t("messages.subject.sku_titled", { title: s.title, sku: s.sku })
        : t("messages.subject.sku", { sku: s.sku });
      return s.title ? t("messages.subject.product_titled", { title: s.title, number: s.erp })
        : t("messages.subject.product", { number: s.erp });
    case "report": return t("messages.subject.report", { day: fmtShortDay(s.name) });
    default: return s.name || m.unit_key;
  }
}

/** Where a message's Shopify thing opens: a link into Shopify's admin (App Bridge opens
 * shopify://admin/<path> in the admin around the app) with the gid under it, small and selectable
 * to copy; the gid alone, small, when the admin path is not known; null when there is no gid. */
export function shopifyLink(m) {
  if (!m.shopify_id) return null;
  const gid = h("div", { class: "mono muted", "data-testid": "shopify-gid" }, m.shopify_id);
  if (!m.shopify_admin_path) return gid;
  return h("s-stack", { gap: "none" },
    h("s-link", { href: `shopify://admin/${m.shopify_admin_path}`, target: "_top", "data-testid": "open-in-shopify" },
      t("detail.open_in_shopify")), gid);
}

/** The raw ids of a message, for a tooltip. */
export function messageIds(m) {
  return [m.shopify_id, m.erp_id, m.unit_key].filter(Boolean).join(" · ");
}

export function payload(value) {
  if (value === null || value === undefined) return h("s-text", { color: "subdued" }, t("common.none"));
  return h("pre", { class: "payload" }, JSON.stringify(value, null, 2));
}

export function banner(tone, heading, ...body) {
  return h("s-banner", { tone, heading }, ...body);
}

/** A technical detail (the API's or an outside system's own words), folded away under its
 * summary: there for support, not the sentence the merchant reads. */
export function technicalDetail(detail) {
  if (!detail) return null;
  return h("details", { class: "technical" }, h("summary", {}, t("error.technical_detail")),
    h("span", { class: "mono" }, String(detail)));
}

/** A failure's banner body in the page's language (api.js failureParts): its sentence, the invalid
 * fields it names, and its technical detail folded away. */
export function failureBody(error) {
  const { text, fields, detail } = failureParts(error);
  return [h("s-paragraph", {}, text), fields.length ? h("s-paragraph", {}, fields.join("; ")) : null,
    technicalDetail(detail)];
}

/** A banner saying why something failed (`heading`: what failed; a load by default). */
export function failureBanner(error, heading = t("error.load_failed"), tone = "critical") {
  return banner(tone, heading, failureBody(error));
}

/** A section whose body comes from `load()`; errors become a critical banner in place. */
export function loadingSection(heading, load, attrs) {
  const body = h("div", {}, h("s-spinner", { accessibilityLabel: t("app.loading") }));
  const section = h("s-section", { heading, ...(attrs || {}) }, body);
  const refresh = async () => {
    try {
      replace(body, await load());
    } catch (error) {
      replace(body, failureBanner(error));
    }
  };
  refresh();
  return { section, refresh };
}

/**
 * A list the API answers page by page (`next_before_id`, newest first), as the Messages and
 * Orders pages show it: `load()` draws the first page in `results` (a table under `headers`, or
 * `empty()` when there is nothing) and, while there are older rows, a "Load more" button in
 * `more` that appends the next page. `fetchPage(cursor)` reads a page, `items(page)` is its
 * list, `rows(list)` its table rows (cell lists or s-table-row nodes); `cursorOf(page)` the next
 * page's cursor (`next_before_id`; a day's orders page on with `next_after`). A page showing only the
 * first answer hid every row past it (order 51 and older were out of reach). A first page asked for
 * again (after a bulk retry) drops the answers of pages asked for before it.
 */
export function pagedList({ results, more, headers, fetchPage, items, rows, empty, cursorOf = (page) => page.next_before_id }) {
  let grown = null;
  const next = (cursor) => h("s-button", { onclick: async () => {
    replace(more);  // one click, one page: a second click must not append the same rows again
    try {
      await load(cursor);
    } catch (error) {
      replace(more, next(cursor));  // the API's toast said why; the button stays to try again
    }
  } }, t("common.load_more"));
  let drawn = 0;  // bumped by each first page: an older page still loading is not appended to it
  const load = async (cursor) => {
    const mine = cursor ? drawn : ++drawn;
    const page = await fetchPage(cursor);
    if (mine !== drawn) return;
    const found = items(page);
    if (!cursor) {
      grown = found.length ? growingTable(headers) : null;
      replace(results, grown ? grown.element : empty());
    }
    if (grown) grown.add(rows(found));
    const following = cursorOf(page);
    replace(more, following ? next(following) : null);
  };
  return load;
}

/** “Mark as handled”'s form, on a message and on an order's note no message stands behind: a
 * required note field (`details`: what closing does) and its button; `save(text)` runs with the
 * note trimmed, an empty one stopped on the field. `fieldId`, `formId`: the test ids of each page. */
export function handledNoteForm({ details, fieldId, formId, save }) {
  const note = h("s-text-field", { label: t("detail.handled.note"), details, maxLength: "500", "data-testid": fieldId });
  const submit = async () => {
    const text = (note.value || "").trim();
    if (!text) {
      note.setAttribute("error", t("detail.handled.note_required"));
      return;
    }
    note.removeAttribute("error");
    await save(text);
  };
  return h("s-stack", { gap: "small", "data-testid": formId }, note,
    busyButton({ tone: "critical" }, t("detail.handled.mark"), submit));
}

/** Read a field's value as an integer, or null when empty. Anything but digits goes as typed, for
 * the API to refuse on the field: parseInt read "5.000" (five thousand, as pt-BR writes it) as 5. */
export function intValue(field) {
  const text = String(field.value ?? "").trim();
  if (text === "") return null;
  return /^\d+$/.test(text) ? Number(text) : text;
}

/** The toast after a save: how many parked messages it resumed, when any did. */
/** A location line saved while Shopify could not be read (`location_checked: false`): saved on
 * its shape alone, never found among the store's locations; a person checks it. Else nothing. */
export function uncheckedWarning(answer) {
  if (!answer || answer.location_checked !== false) return null;
  return banner("warning", t("mappings.location_unchecked.heading"), h("s-paragraph", {}, t("mappings.location_unchecked")));
}

export function savedToast(resumed) {
  window.shopify.toast.show(resumed ? t("common.saved_resumed", { count: resumed }) : t("common.saved"));
}

/**
 * A button whose action runs one at a time: disabled, with its spinner, from the click until the
 * action's requests are answered, so Save double-clicked sends one save, not two racing ones (and an
 * action, Retry or Mark as handled, one request, not a second answered "changed meanwhile"). Its
 * `disabled` prop is what it returns to.
 */
export function busyButton(props, label, action) {
  let running = false;
  const button = h("s-button", { ...props, onclick: async () => {
    if (running) return;
    running = true;
    button.disabled = true;
    button.loading = true;
    try {
      await action();
    } finally {
      running = false;
      button.disabled = Boolean(props.disabled);
      button.loading = false;
    }
  } }, label);
  return button;
}
