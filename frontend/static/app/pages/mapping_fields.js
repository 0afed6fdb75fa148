/**
 * The two code fields of a De:Para line, as pickers where the choices can be read: ERP
 * payment methods, segments and companies from the ERP, locations from Shopify. Where they
 * cannot (ERP not set up yet, carriers, card brands and networks: the app reads no list of the
 * ERP's codBandeira or codRede, nor of the shop's gateways or card brands), plain text fields.
 * Both kinds expose `.value`; the names read for the Shopify side name its codes in the tables (a
 * location by its name, not its gid). A code given to fill in goes on the side the API says it is
 * (`side`): a location line waits on the company (stock) or on the location (orders).
 */
import { api } from "../api.js";
import { h, select } from "../dom.js";
import { t } from "../i18n.js";

async function quietly(path) {
  try {
    return await api(path, { quiet: true });
  } catch (error) {
    return null;
  }
}

// The kinds whose ERP side is a pick among what /api/setup/erp-choices reads (the others are typed).
const ERP_PICKED = new Set(["payment_method", "segment_market", "location"]);

/** [{value, label}] per side for `kind`; null where free text is the right input. */
async function choicesFor(kind) {
  const erp = ERP_PICKED.has(kind) ? await quietly("/api/setup/erp-choices") : null;
  const side = { shopify: null, erp: null };
  if (kind === "location") {
    const found = await quietly("/api/setup/locations");
    if (found) side.shopify = found.locations.map((l) => ({ value: l.id, label: l.name }));
    if (erp) side.erp = erp.companies.map((c) => ({ value: String(c.nro_empresa), label: `${c.nro_empresa} — ${c.name}` }));
  } else if (kind === "payment_method" && erp) {
    side.erp = erp.payment_methods.map((p) => ({ value: String(p.nro_forma_pagto), label: `${p.nro_forma_pagto} — ${p.name}` }));
  } else if (kind === "segment_market") {
    // the ERP side is a (company, segment) pair, "<empresa>:<segmento>"; the Shopify side a market
    const found = await quietly("/api/setup/markets");
    if (found) side.shopify = found.markets.map((m) => ({ value: m.id, label: m.currency ? `${m.name} (${m.currency})` : m.name }));
    if (erp) {
      side.erp = erp.companies.flatMap((c) => erp.segments.map((s) => ({
        value: `${c.nro_empresa}:${s.nro_segmento}`,
        label: `${c.nro_empresa} — ${c.name} / ${s.nro_segmento} — ${s.description}`,
      })));
    }
  }
  return side;
}

/** A select keeping any value it is given (an existing line may point at an inactive code). */
function picker(label, options, initial, name) {
  const field = select({ label, name, placeholder: t("common.choose") }, options, null);
  let proto = Object.getPrototypeOf(field);
  let setter = null;
  while (proto && !(setter = Object.getOwnPropertyDescriptor(proto, "value"))) proto = Object.getPrototypeOf(proto);
  if (setter && setter.set) {
    Object.defineProperty(field, "value", {
      get: () => setter.get.call(field),
      set: (v) => {
        if (v && !field.querySelector(`s-option[value="${CSS.escape(String(v))}"]`)) {
          field.appendChild(h("s-option", { value: v }, String(v)));
        }
        setter.set.call(field, v);
      },
    });
  }
  if (initial) field.value = initial;
  return field;
}

/**
 * The two fields, `prefill` ({code, side}: a code a unit is waiting for) filled in on its own side:
 * "erp" for a company the stock flow waits on for its location, else "shopify". A company number
 * put in the location field made a line to a location Shopify does not have.
 */
export async function codeFields(kind, prefill) {
  const side = await choicesFor(kind);
  const { code = "", side: codeSide = "shopify" } = prefill || {};
  const make = (options, label, name, initial) => (options && options.length
    ? picker(label, options, initial, name)
    : h("s-text-field", { label, name, ".value": initial || "" }));
  return {
    shopify: make(side.shopify, t(`mappings.shopify_code.${kind}`), "shopify_code", codeSide === "erp" ? "" : code),
    erp: make(side.erp, t(`mappings.erp_code.${kind}`), "erp_code", codeSide === "erp" ? code : ""),
    // What a Shopify code is called there (a location's name by its gid); empty when not read.
    shopifyNames: new Map((side.shopify || []).map((o) => [o.value, o.label])),
  };
}

/** Fill in `code` on its side of the form ({shopify, erp} fields) and move to the other side. */
export function fillSide(fields, code, codeSide) {
  const [mine, other] = codeSide === "erp" ? [fields.erp, fields.shopify] : [fields.shopify, fields.erp];
  mine.value = code;
  other.focus();
}
