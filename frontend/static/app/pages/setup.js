/**
 * Setup: the guided first run. Steps in order: ERP connection (test before saving), the store's
 * ERP company + segment, ERP companies <-> Shopify locations (and the companies without one that
 * this store does not sell), sales channel and rules, the catalog dry run before the first
 * publish, and (optional) the team's alert e-mails. Viewers see the values with every control disabled.
 */
import { api, refusalText, toast } from "../api.js";
import { h, replace, select, table } from "../dom.js";
import { label, t } from "../i18n.js";
import { banner, busyButton, failureBanner, intValue, loadingSection, savedToast, uncheckedWarning } from "../widgets.js";
import { alertsSection } from "./setup_alerts.js";
import { catalogDiffSection } from "./setup_diff.js";

const STEPS = ["erp_connection", "store_link", "location_mappings", "sales_channel", "payment_methods", "catalog_diff"];

function stepsBar() {
  const bar = h("div", { class: "steps", "data-testid": "setup-steps" });
  const refresh = async () => {
    const status = await api("/api/setup/status", { quiet: true }).catch(() => null);
    if (!status) return;
    const done = Object.fromEntries(status.steps.map((s) => [s.key, s.done]));
    replace(bar, STEPS.map((key, i) => h("s-badge", { tone: done[key] ? "success" : "neutral", "data-step": key },
      `${i + 1}. ${t(`setup.step.${key}`)}${done[key] ? " ✓" : ""}`)));
  };
  refresh();
  return { bar, refresh };
}

function erpSection(ctx, changed) {
  const locked = !ctx.can("configure");
  const result = h("div", { "data-testid": "erp-test-result" });
  return loadingSection(t("setup.erp.heading"), async () => {
    const conn = await api("/api/setup/erp-connection");
    const url = h("s-text-field", { label: t("setup.erp.base_url"), name: "base_url", disabled: locked,
      ".value": conn.base_url || "" });
    // The example address is one unbroken word wider than a phone: in the field's `details` it sat in
    // Polaris' shadow DOM, out of the page's CSS, and widened the page; here it breaks (.url-text).
    const urlHelp = h("div", { class: "field-help url-text", "data-testid": "base-url-help" }, t("setup.erp.base_url_help"));
    const user = h("s-text-field", { label: t("setup.erp.username"), name: "username", disabled: locked,
      ".value": conn.username || "" });
    const password = h("s-password-field", { label: t("setup.erp.password"), name: "password", disabled: locked,
      details: conn.password_set ? t("setup.erp.password_kept") : t("setup.erp.password_required") });
    const values = () => {
      const body = { base_url: url.value.trim(), username: user.value.trim() };
      if (password.value) body.password = password.value;
      return body;
    };
    const test = async () => {
      replace(result, h("s-spinner", { accessibilityLabel: t("app.loading") }));
      // A failed test answers ok false with a code (or is refused: the error); said alike.
      const outcome = await api("/api/setup/erp-connection/test", { method: "POST", body: values() })
        .catch((error) => ({ ok: false, error }));
      replace(result, outcome.ok
        ? banner("success", t("setup.erp.test_ok"), t("setup.erp.test_companies", { count: (outcome.companies || []).length }))
        : failureBanner(outcome.error || { code: outcome.code, message: outcome.message, body: { error: outcome } },
          t("setup.erp.test_failed")));
    };
    const save = async () => {
      const saved = await api("/api/setup/erp-connection", { method: "PUT", body: values() });
      password.value = "";
      password.setAttribute("details", t("setup.erp.password_kept"));
      savedToast(saved.resumed);
      changed();
    };
    return h("div", {}, url, urlHelp, user, password, result,
      locked ? null : h("s-stack", { direction: "inline", gap: "small" },
        h("s-button", { onclick: test }, t("setup.erp.test")),
        busyButton({ variant: "primary" }, t("common.save"), save)));
  });
}

/** The banner when the ERP's choices cannot be read: not set up yet, or why in the page's words
 * (the ERP's own answer a technical detail). */
function choicesProblem(error) {
  if (error.code === "erp_not_configured") return banner("info", t("setup.needs_erp"), t("setup.needs_erp_help"));
  return failureBanner(error, t("setup.erp_unreadable"), "warning");
}

async function erpChoices() {
  try {
    return { choices: await api("/api/setup/erp-choices", { quiet: true }) };
  } catch (error) {
    return { error };
  }
}

function storeLinkSection(ctx, onSaved) {
  const locked = !ctx.can("configure");
  return loadingSection(t("setup.link.heading"), async () => {
    const [link, { choices, error }] = await Promise.all([api("/api/setup/store-link"), erpChoices()]);
    if (error) return choicesProblem(error);
    const company = select({ label: t("setup.link.company"), placeholder: t("common.choose"), disabled: locked },
      choices.companies.map((c) => ({ value: c.nro_empresa, label: `${c.nro_empresa} — ${c.name}${c.city ? ` (${c.city}/${c.uf || ""})` : ""}` })),
      link.nro_empresa);
    const segment = select({ label: t("setup.link.segment"), placeholder: t("common.choose"), disabled: locked },
      choices.segments.map((s) => ({ value: s.nro_segmento, label: `${s.nro_segmento} — ${s.description}` })),
      link.nro_segmento);
    const save = async () => {
      const saved = await api("/api/setup/store-link", { method: "PUT",
        body: { nro_empresa: intValue(company), nro_segmento: intValue(segment) } });
      savedToast(saved.resumed);
      onSaved();
    };
    return h("div", {}, h("s-paragraph", {}, t("setup.link.help")), company, segment,
      locked ? null : busyButton({ variant: "primary" }, t("common.save"), save));
  });
}

/**
 * The active ERP companies no location is mapped to, each with a "not sold in this store" box
 * (ignored_companies): the stock flow refuses such a company by a parked message unless it is
 * ticked. A company mapped to a location is synced whatever the list says, so `value(mapped)`
 * leaves the mapped ones out; companies not shown (inactive now) keep their saved choice.
 */
function notSoldField(saved, companies, mappedCompanies, locked) {
  const unmapped = companies.filter((c) => c.active && !mappedCompanies.has(c.nro_empresa));
  const shown = new Set(unmapped.map((c) => c.nro_empresa));
  const boxes = unmapped.map((c) => ({ c, box: h("s-checkbox", {
    label: t("setup.locations.not_sold", { company: `${c.nro_empresa} — ${c.name}` }), disabled: locked,
    "data-company": c.nro_empresa, ".checked": saved.includes(c.nro_empresa) }) }));
  const element = unmapped.length ? h("div", { "data-testid": "not-sold-companies" },
    h("s-heading", {}, t("setup.locations.unmapped_heading")),
    h("s-paragraph", {}, t("setup.locations.unmapped_help")), boxes.map((b) => b.box)) : null;
  const value = (mapped) => [...new Set(saved.filter((c) => !shown.has(c))
    .concat(boxes.filter((b) => b.box.checked).map((b) => b.c.nro_empresa)))]
    .filter((c) => !mapped.has(c)).sort((a, b) => a - b);
  return { element, value };
}

/**
 * The companies <-> locations table, saved as a whole set with the `version` the page was shown:
 * a set another admin changed meanwhile (here or on the De:Para page) is refused (409
 * `location_mappings_changed`) rather than replaced, and the section says so, with a button to
 * reload it (the other admin's lines would otherwise be deleted by this page's older set).
 */
function locationsSection(ctx, onSaved) {
  const locked = !ctx.can("configure");
  const unchecked = h("div", { "data-testid": "location-unchecked" });  // outlives the refresh
  const section = loadingSection(t("setup.locations.heading"), async () => {
    const [{ locations }, { mappings, version }, { choices, error }, settings] = await Promise.all([
      api("/api/setup/locations"), api("/api/setup/location-mappings"), erpChoices(), api("/api/setup/settings")]);
    if (error) return choicesProblem(error);
    const stale = h("div", { "data-testid": "location-mappings-stale" });
    const saved = settings.ignored_companies || [];
    const notSold = notSoldField(saved, choices.companies, new Set(mappings.map((m) => m.nro_empresa)), locked);
    const byLocation = Object.fromEntries(mappings.map((m) => [m.location_id, m.nro_empresa]));
    const options = [{ value: "", label: t("setup.locations.unlinked") }].concat(
      choices.companies.map((c) => ({ value: c.nro_empresa, label: `${c.nro_empresa} — ${c.name}` })));
    const pickers = locations.map((loc) => ({
      loc, field: select({ label: t("setup.locations.company_for", { name: loc.name }), disabled: locked,
        labelAccessibilityVisibility: "exclusive" },
        options, byLocation[loc.id] ?? ""),
    }));
    const save = async () => {
      const chosen = pickers.filter((p) => p.field.value);
      const body = { version, mappings: chosen.map((p) => ({
        nro_empresa: intValue(p.field), location_id: p.loc.id, location_name: p.loc.name })) };
      // Each picker named by its line of this save: a company refused (twice, not in the ERP's list)
      // shows the API's words on its own picker (api.js showFields).
      for (const p of pickers) p.field.removeAttribute("name");
      chosen.forEach((p, i) => p.field.setAttribute("name", `mappings[${i}].nro_empresa`));
      let done;
      try {
        done = await api("/api/setup/location-mappings", { method: "PUT", body });
      } catch (failed) {
        if (failed.code !== "location_mappings_changed") throw failed;
        replace(stale, banner("warning", t("setup.locations.stale"), h("s-paragraph", {}, refusalText(failed)),
          h("s-button", { onclick: () => section.refresh() }, t("setup.locations.reload"))));
        return;
      }
      replace(unchecked, uncheckedWarning(done));
      let resumed = done.resumed;
      const ignored = notSold.value(new Set(body.mappings.map((m) => m.nro_empresa)));
      if (ignored.join() !== saved.join()) {
        resumed += (await api("/api/setup/settings", { method: "PUT", body: { ignored_companies: ignored } })).resumed;
      }
      savedToast(resumed);
      onSaved();
      section.refresh();  // the companies left without a location are those of the new mappings
    };
    return h("div", {}, h("s-paragraph", {}, t("setup.locations.help")), stale,
      table([t("setup.locations.location"), t("setup.locations.city"), t("setup.locations.company")],
        pickers.map((p) => [p.loc.name, [p.loc.city, p.loc.province_code].filter(Boolean).join("/") || "—", p.field])),
      notSold.element,
      locked ? null : h("s-box", { padding: "base" }, busyButton({ variant: "primary" }, t("common.save"), save)));
  });
  section.section.append(unchecked);
  return section;
}

/**
 * The sales channels products the app creates are published to (publish_to). Unset, they go to
 * the Online Store, marked as the default; `value()` is undefined until a box is changed, so
 * saving the other rules never pins the default into a list.
 */
function channelsField(saved, channels, locked) {
  if (channels.error) {
    return { element: failureBanner(channels.error, t("setup.settings.channels_unreadable"), "warning"), value: () => undefined };
  }
  const listed = new Set(channels.list.map((p) => p.id));
  const gone = (saved || []).filter((id) => !listed.has(id)).map((id) => ({ id, gone: true }));
  let touched = false;
  const boxes = channels.list.concat(gone).map((p) => ({ p, box: h("s-checkbox", {
    label: p.gone ? t("setup.settings.channel_gone", { id: p.id })
      : `${p.title || p.id}${saved === null && p.online_store ? ` (${t("setup.settings.channel_default")})` : ""}`,
    disabled: locked, "data-publication": p.id,
    ".checked": saved === null ? Boolean(p.online_store) : saved.includes(p.id),
    onchange: () => { touched = true; } }) }));
  const element = h("div", { "data-testid": "sales-channels" },
    h("s-heading", {}, t("setup.settings.channels_heading")),
    h("s-paragraph", {}, t("setup.settings.channels_help")), boxes.map((b) => b.box));
  return { element, value: () => (touched ? boxes.filter((b) => b.box.checked).map((b) => b.p.id) : undefined) };
}

function settingsSection(ctx, onSaved) {
  const locked = !ctx.can("configure");
  return loadingSection(t("setup.settings.heading"), async () => {
    const [s, channels] = await Promise.all([api("/api/setup/settings"),
      api("/api/setup/publications", { quiet: true }).then((r) => ({ list: r.publications }), (error) => ({ error }))]);
    const publishTo = channelsField(s.publish_to, channels, locked);
    // Each input named by its setting: a refused one shows the API's words on itself (api.js showFields).
    const canal = h("s-number-field", { label: t("setup.settings.seq_canal_venda"), name: "seq_canal_venda", disabled: locked,
      details: t("setup.settings.seq_canal_venda_help"), ".value": s.seq_canal_venda ?? "" });
    const oper = h("s-number-field", { label: t("setup.settings.cod_geral_oper"), name: "cod_geral_oper", disabled: locked,
      details: t("setup.settings.cod_geral_oper_help"), ".value": s.cod_geral_oper ?? "" });
    // The order header's representative and sale table: optional, so emptied means null (sent when
    // changed); what is no number goes as typed, for the API to refuse on the field (not as null).
    const optional = ["nro_representante", "nro_tab_venda"].map((key) => [key, h("s-number-field", {
      label: t(`setup.settings.${key}`), name: key, disabled: locked, details: t(`setup.settings.${key}_help`),
      ".value": s[key] ?? "" })]);
    const optionalValue = (field) => {
      const typed = String(field.value ?? "").trim();
      return typed === "" ? null : Number.isFinite(Number(typed)) ? Number(typed) : typed;
    };
    // marketplace_sources: typed separated by commas, sent only when changed (none saved: []).
    const sources = h("s-text-field", { label: t("setup.settings.marketplace_sources"), name: "marketplace_sources", disabled: locked,
      details: t("setup.settings.marketplace_sources_help"), ".value": (s.marketplace_sources || []).join(", ") });
    // pay_on_delivery_gateways: manual payment methods collected at delivery, typed as sources are.
    const onDelivery = h("s-text-field", { label: t("setup.settings.pay_on_delivery_gateways"), name: "pay_on_delivery_gateways", disabled: locked,
      details: t("setup.settings.pay_on_delivery_gateways_help"),
      ".value": (s.pay_on_delivery_gateways || []).join(", ") });
    // delivery_slot_attributes: the order attributes a delivery-date app writes the slot in, typed as sources are.
    const slots = h("s-text-field", { label: t("setup.settings.delivery_slot_attributes"), name: "delivery_slot_attributes", disabled: locked,
      details: t("setup.settings.delivery_slot_attributes_help"),
      ".value": (s.delivery_slot_attributes || []).join(", ") });
    const inactive = select({ label: t("setup.settings.inactive_sku_status"), name: "inactive_sku_status", disabled: locked },
      ["DRAFT", "ARCHIVED"].map((v) => ({ value: v, label: t(`setup.settings.inactive.${v}`) })), s.inactive_sku_status);
    const payment = select({ label: t("setup.settings.payment_confirmation"), name: "payment_confirmation", disabled: locked },
      ["paid", "authorized"].map((v) => ({ value: v, label: t(`setup.settings.payment.${v}`) })), s.payment_confirmation);
    const risk = select({ label: t("setup.settings.risk_hold"), name: "risk_hold", disabled: locked, details: t("setup.settings.risk_hold_help") },
      ["cancel", "investigate", "off"].map((v) => ({ value: v, label: t(`setup.settings.risk.${v}`) })), s.risk_hold);
    const appWait = h("s-number-field", { label: t("setup.settings.risk_app_wait_minutes"), name: "risk_app_wait_minutes", disabled: locked,
      details: t("setup.settings.risk_app_wait_minutes_help"), ".value": s.risk_app_wait_minutes ?? 0 });
    const bulk = h("s-number-field", { label: t("setup.settings.bulk_threshold"), name: "bulk_threshold", disabled: locked,
      details: t("setup.settings.bulk_threshold_help"), ".value": s.bulk_threshold ?? "" });
    const role = select({ label: t("setup.settings.default_role"), name: "default_role", disabled: locked },
      ["viewer", "operator"].map((v) => ({ value: v, label: t(`role.${v}`) })), s.default_role, { fit: true });
    const yesNo = (key) => select({ label: t(`setup.settings.${key}`), name: key, disabled: locked },
      ["true", "false"].map((v) => ({ value: v, label: t(`common.${v === "true" ? "yes" : "no"}`) })), String(s[key]));
    const cancel = ["cancel_refund", "cancel_restock", "cancel_notify_customer"].map((key) => [key, yesNo(key)]);
    const invoice = [["fulfillment_notify_customer", yesNo("fulfillment_notify_customer")],
      ["card_payment_data", yesNo("card_payment_data")]];
    const save = async () => {
      const body = { inactive_sku_status: inactive.value, payment_confirmation: payment.value, risk_hold: risk.value,
        default_role: role.value };
      for (const [key, field] of [...cancel, ...invoice]) body[key] = field.value === "true";
      // required: emptied where a value is saved, it goes as null, for the API to refuse on the field
      // (not left out and told "Saved")
      for (const [key, field] of [["seq_canal_venda", canal], ["cod_geral_oper", oper], ["bulk_threshold", bulk]]) {
        if (intValue(field) !== null || s[key] != null) body[key] = intValue(field);
      }
      for (const [key, field] of optional) if (optionalValue(field) !== (s[key] ?? null)) body[key] = optionalValue(field);
      const wait = String(appWait.value ?? "").trim();  // 0 is a value here (intValue reads it as empty)
      if (wait !== "") body.risk_app_wait_minutes = Number.isFinite(Number(wait)) ? Number(wait) : wait;
      if (publishTo.value() !== undefined) body.publish_to = publishTo.value();
      const listed = sources.value.split(",").map((name) => name.trim()).filter(Boolean);
      if (listed.join() !== (s.marketplace_sources || []).join()) body.marketplace_sources = listed;
      const methods = onDelivery.value.split(",").map((name) => name.trim()).filter(Boolean);
      if (methods.join() !== (s.pay_on_delivery_gateways || []).join()) body.pay_on_delivery_gateways = methods;
      const attributes = slots.value.split(",").map((name) => name.trim()).filter(Boolean);
      if (attributes.join() !== (s.delivery_slot_attributes || []).join()) body.delivery_slot_attributes = attributes;
      // Only what this person changed from what the page loaded: a page opened before another
      // admin's save must not put back, unseen, the values that save replaced.
      const changed = Object.fromEntries(Object.entries(body)
        .filter(([key, value]) => JSON.stringify(value) !== JSON.stringify(s[key] ?? null)));
      if (!Object.keys(changed).length) { toast(t("common.saved")); return; }
      const saved = await api("/api/setup/settings", { method: "PUT", body: changed, form });
      for (const [key, value] of Object.entries(saved)) if (key !== "resumed") s[key] = value;
      s.marketplace_sources = saved.marketplace_sources;  // as stored: trimmed, without repeats
      sources.value = s.marketplace_sources.join(", ");
      s.pay_on_delivery_gateways = saved.pay_on_delivery_gateways;
      onDelivery.value = s.pay_on_delivery_gateways.join(", ");
      s.delivery_slot_attributes = saved.delivery_slot_attributes;
      slots.value = s.delivery_slot_attributes.join(", ");
      toast(t("common.saved"));
      onSaved();
    };
    const header = h("s-grid", {}, canal, oper, ...optional.map(([, field]) => field));
    const form = h("div", {}, header, sources, inactive, payment, risk, appWait, onDelivery, slots, bulk, role, publishTo.element,
      h("s-heading", {}, t("setup.settings.cancel_heading")), ...cancel.map(([, field]) => field),
      h("s-heading", {}, t("setup.settings.invoice_heading")), ...invoice.map(([, field]) => field),
      locked ? null : busyButton({ variant: "primary" }, t("common.save"), save));
    return form;
  });
}

export async function render(ctx) {
  const steps = stepsBar();
  const link = storeLinkSection(ctx, steps.refresh);
  const locations = locationsSection(ctx, steps.refresh);
  // A new ERP connection changes the companies and segments the next two steps offer.
  const erp = erpSection(ctx, () => { steps.refresh(); link.refresh(); locations.refresh(); });
  const settings = settingsSection(ctx, steps.refresh);
  const diff = catalogDiffSection(ctx, steps.refresh);
  const alerts = alertsSection(ctx);
  const element = h("s-page", { heading: t("setup.heading") },
    h("s-paragraph", {}, t("setup.intro")), steps.bar,
    ctx.can("configure") ? null : banner("info", t("setup.read_only", { role: label("role.", ctx.role) })),
    erp.section, link.section, locations.section, settings.section, diff.section, alerts.section);
  return { element, dispose: diff.dispose };
}
