/**
 * The audit page's cells in words: who (the staff member's name, else "User 1002", or "System"),
 * which thing (a De:Para line, the settings, a message...) and what changed ("field: before →
 * after", one line per changed field). Every label comes from the catalogue (audit.*); a code
 * the catalogue does not know yet is shown as it is rather than hidden. Secrets arrive as "***"
 * from the API (ledger.audit.scrub) and stay hidden here.
 */
import { h } from "../dom.js";
import { fmtNumber, label, t } from "../i18n.js";

const SECRET = "***";
const MAX_VALUE = 160;
const KNOWN_ACTORS = ["system", "shopify", "merchant"];
// Fields whose values are codes the catalogue names (prefix of their label keys).
const VALUE_LABELS = {
  role: "role.",
  default_role: "role.",
  payment_confirmation: "setup.settings.payment.",
  risk_hold: "setup.settings.risk.",
  inactive_sku_status: "setup.settings.inactive.",
  status: "audit.status.", // a shop's (active...) and a message's (failed, done...)
  erp_status: "erp_status.", // an order hand-linked: the ERP order's situation (L: Liberado...)
  recommendation: "audit.recommendation.", // Shopify's fraud analysis, on a risk accepted by a person
  flow: "flow.",
  code: "setup.alerts.code.", // a test alert e-mail's failure (alerts.test_sent)
  error_class: "error_class.",
};

function has(key) {
  return t(key) !== key;
}

/** "Maria Souza", "System", or "User 1002" with a hint that the name is not known. */
export function actorCell(e) {
  if (e.actor_name) return e.actor_name;
  if (KNOWN_ACTORS.includes(e.actor)) return t(`audit.actor.${e.actor}`);
  return h("span", { title: t("audit.name_unknown_hint") }, t("audit.actor.user", { id: e.actor }));
}

/** The audited thing in words: "Mapping · Payment methods: Pix", "Settings", "Message #12". */
export function targetCell(e) {
  const target = e.target;
  if (!target) return "—";
  if (target.endsWith(".myshopify.com")) return t("audit.target.shop", { domain: target });
  if (has(`audit.target.${target}`)) return t(`audit.target.${target}`);
  const at = target.indexOf(":");
  if (at < 0) return target;
  const kind = target.slice(0, at);
  const rest = target.slice(at + 1);
  if (kind === "mapping") {
    const cut = rest.indexOf(":");
    const mappingKind = label("mappings.kind.", cut < 0 ? rest : rest.slice(0, cut));
    return cut < 0 ? t("audit.target.mapping", { kind: mappingKind })
      : t("audit.target.mapping_code", { kind: mappingKind, code: rest.slice(cut + 1) });
  }
  if (kind === "user") return e.target_name || t("audit.actor.user", { id: rest });
  if (kind === "flow" || kind === "schedule") return t(`audit.target.${kind}`, { flow: label("flow.", rest) });
  if (["message", "job", "order", "customer"].includes(kind)) return t(`audit.target.${kind}`, { id: rest });
  return target;
}

function fieldName(key) {
  if (has(`audit.field.${key}`)) return t(`audit.field.${key}`);
  if (has(`setup.settings.${key}`)) return t(`setup.settings.${key}`);
  return String(key).replaceAll("_", " ");
}

function short(text) {
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
}

/** One value in words: yes/no, numbers in the page's locale, lists joined, codes labelled. */
function valueText(key, value) {
  if (value === null || value === undefined || value === "") return "—";
  if (value === SECRET) return t("audit.value.secret");
  if (typeof value === "boolean") return t(value ? "audit.value.yes" : "audit.value.no");
  if (typeof value === "number") return key.endsWith("_id") || key.startsWith("nro_") ? String(value) : fmtNumber(value);
  if (Array.isArray(value)) {
    if (!value.length) return t("audit.value.none");
    return value.map((item) => valueText(key, item)).join("; ");
  }
  if (typeof value === "object") {
    if ("nro_empresa" in value && "location_name" in value) {
      return t("audit.value.location_link", { company: value.nro_empresa, location: value.location_name || "—" });
    }
    return Object.entries(value).map(([k, v]) => `${fieldName(k)}: ${valueText(k, v)}`).join(", ");
  }
  const prefix = VALUE_LABELS[key];
  if (prefix) return label(prefix, value);
  const text = String(value);
  return /\s/.test(text) ? text : text.replaceAll(",", ", "); // "read_orders,write_orders" wraps
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** What changed, one line per field: "Fiscal operation code: — → 207"; a new record lists its
 * fields ("ERP code: 5"), a removed one what it held ("Role: Viewer → —"). */
export function changeLines(e) {
  const before = e.before && typeof e.before === "object" ? e.before : null;
  const after = e.after && typeof e.after === "object" ? e.after : null;
  if (!before && !after) return "—";
  const keys = [...new Set([...Object.keys(before || {}), ...Object.keys(after || {})])];
  const lines = [];
  for (const key of keys) {
    const was = before ? before[key] : undefined;
    const now = after ? after[key] : undefined;
    if (before && after && same(was, now) && was !== SECRET) continue;
    if (!before && (now === null || now === undefined || now === "")) continue; // nothing set
    const field = fieldName(key);
    let text;
    if (!before) text = `${field}: ${valueText(key, now)}`;
    else if (now === SECRET) text = `${field}: ${t("audit.value.secret_changed")}`;
    else text = `${field}: ${valueText(key, was)} → ${after ? valueText(key, now) : "—"}`;
    lines.push(h("div", { title: text.length > MAX_VALUE ? text : null }, short(text)));
  }
  return lines.length ? h("div", { class: "audit-changes", style: "overflow-wrap: anywhere" }, lines) : t("audit.value.unchanged");
}
