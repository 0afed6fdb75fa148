/**
 * De:Para: one table per kind (payment method, carrier, segment <-> market, company <->
 * location, card brand, card network). The codes parked units are waiting for come first, each
 * one click from a prefilled form (the code on its own side: a company waiting for its location in
 * the company field); saving a line resumes the units waiting for it. CSV export and import.
 */
import { api, download, fieldText, toast } from "../api.js";
import { h, replace, table } from "../dom.js";
import { fmtDate, fmtNumber, t } from "../i18n.js";
import { navigate, href } from "../router.js";
import { banner, busyButton, failureBanner, savedToast, uncheckedWarning } from "../widgets.js";
import { codeFields, fillSide } from "./mapping_fields.js";

export const KINDS = ["payment_method", "carrier", "segment_market", "location", "card_brand", "card_network"];

/** A CSV file's text: UTF-8 when it is (its BOM dropped), else Windows-1252, what Excel in
 * Portuguese saves as "CSV". Read as UTF-8, such a file's "Cartão" became "Cart\uFFFDo", a name no
 * order has (the API refuses a line holding U+FFFD, in case a file is read wrong anyway). */
export async function csvText(file) {
  const bytes = await file.arrayBuffer();
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (e) {
    return new TextDecoder("windows-1252").decode(bytes);
  }
}

function kindPicker(kind) {
  return h("s-stack", { direction: "inline", gap: "small", role: "group", "aria-label": t("mappings.kind") },
    KINDS.map((k) => h("s-button", { variant: k === kind ? "primary" : "secondary", "aria-pressed": String(k === kind),
      onclick: () => navigate(href("mappings", { kind: k })) }, t(`mappings.kind.${k}`))));
}

export async function render(ctx) {
  const kind = KINDS.includes(ctx.query.get("kind")) ? ctx.query.get("kind") : KINDS[0];
  const editable = ctx.can("configure");
  const unmappedBox = h("div", { "data-testid": "unmapped" });
  const listBox = h("div", { "data-testid": "mappings-table" });
  const importBox = h("div", {});
  const uncheckedBox = h("div", { "data-testid": "location-unchecked" });

  const fields = await codeFields(kind, { code: ctx.query.get("code") || "", side: ctx.query.get("side") || "shopify" });
  const { shopify: shopifyCode, erp: erpCode, shopifyNames } = fields;
  // A Shopify code by its name there (a location's), the code itself a muted detail; the code
  // alone when Shopify's name for it is unknown (not read, or a location gone).
  const shopifyName = (code) => shopifyNames.get(code) || "";
  const shopifyCell = (code) => (shopifyName(code)
    ? h("div", { "data-testid": "shopify-name" }, shopifyName(code),
      h("div", {}, h("s-text", { color: "subdued" }, h("span", { class: "mono" }, code))))
    : h("span", { class: "mono" }, code));
  const labelField = h("s-text-field", { label: t("mappings.label"), name: "label" });
  let editing = null; // the line the form edits ({id, updated_at}), null for a new one

  const load = async () => {
    const [{ mappings }, { codes }] = await Promise.all([
      api("/api/mappings", { query: { kind } }), api("/api/mappings/unmapped", { query: { kind } })]);
    replace(unmappedBox, codes.length
      ? table([t("mappings.unmapped_code"), { label: t("mappings.waiting"), format: "numeric" }, ""],
        codes.map((c) => [c.side === "erp" ? h("span", { class: "mono" }, c.code) : shopifyCell(c.code), fmtNumber(c.waiting),
          editable ? h("s-button", { variant: "tertiary", onclick: () => { editing = null; fillSide(fields, c.code, c.side); } },
            t("mappings.map_this")) : ""]))
      : h("s-text", { color: "subdued" }, t("mappings.none_unmapped")));
    replace(listBox, mappings.length
      ? table([t(`mappings.shopify_code.${kind}`), t(`mappings.erp_code.${kind}`), t("mappings.label"), t("common.updated_at"), ""],
        mappings.map((m) => [shopifyCell(m.shopify_code), h("span", { class: "mono" }, m.erp_code),
          m.label || "—", fmtDate(m.updated_at),
          editable ? h("s-stack", { direction: "inline", gap: "small" },
            h("s-button", { variant: "tertiary", onclick: () => {
              // the line as shown: a save refused (409) if someone saved or deleted it since
              editing = { id: m.id, updated_at: m.updated_at };
              shopifyCode.value = m.shopify_code; erpCode.value = m.erp_code; labelField.value = m.label || ""; } },
            t("common.edit")),
            h("s-button", { variant: "tertiary", tone: "critical",
              accessibilityLabel: t("mappings.delete_one", { code: shopifyName(m.shopify_code) || m.shopify_code }),
              onclick: async () => {
                if (!window.confirm(t("mappings.confirm_delete", { code: shopifyName(m.shopify_code) || m.shopify_code }))) return;
                await api(`/api/mappings/${m.id}`, { method: "DELETE", query: { kind } });
                toast(t("mappings.deleted"));
                load();
              } }, t("common.delete"))) : ""]))
      : h("s-text", { color: "subdued" }, t("mappings.empty")));
  };

  const save = async () => {
    const body = { kind, shopify_code: String(shopifyCode.value).trim(), erp_code: String(erpCode.value).trim(),
      ...(editing || {}) };
    if (labelField.value.trim()) body.label = labelField.value.trim();
    const result = await api("/api/mappings", { method: "PUT", body });
    savedToast(result.resumed);
    replace(uncheckedBox, uncheckedWarning(result));
    editing = null;
    shopifyCode.value = ""; erpCode.value = ""; labelField.value = "";
    load();
  };

  const fileInput = h("input", { type: "file", accept: ".csv,text/csv", id: "csv-file" });
  const importCsv = async () => {
    const file = fileInput.files[0];
    if (!file) return;
    const result = await api("/api/mappings/import", { method: "POST", body: { kind, csv: await csvText(file) } });
    replace(importBox, banner(result.errors.length ? "warning" : "success",
      t("mappings.imported", { created: result.created, updated: result.updated, resumed: result.resumed }),
      result.errors.map((e) => h("div", {}, t("mappings.import_error", { line: e.line, message: fieldText(e.message) })))),
    uncheckedWarning(result));
    load();
  };

  load().catch((e) => replace(listBox, failureBanner(e)));
  const element = h("s-page", { heading: t("mappings.heading") },
    h("s-paragraph", {}, t("mappings.intro")), kindPicker(kind),
    h("s-box", { padding: "base" }),
    h("s-section", { heading: t("mappings.unmapped_heading") }, h("s-paragraph", {}, t("mappings.unmapped_help")), unmappedBox),
    editable ? h("s-section", { heading: t("mappings.form_heading") },
      h("s-grid", {}, shopifyCode, erpCode, labelField), uncheckedBox,
      busyButton({ variant: "primary" }, t("common.save"), save)) : null,
    h("s-section", { heading: t(`mappings.kind.${kind}`) }, listBox),
    h("s-section", { heading: t("mappings.csv_heading") },
      h("s-stack", { direction: "inline", gap: "small" },
        h("s-button", { onclick: () => download(`/api/mappings/export.csv?kind=${kind}`, `depara-${kind}.csv`) },
          t("mappings.export")),
        editable ? [h("label", { for: "csv-file" }, t("mappings.import_file")), fileInput,
          busyButton({}, t("mappings.import"), importCsv)] : null),
      importBox));
  return { element };
}
