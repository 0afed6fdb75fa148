/** Small shared pieces: status badges, a JSON payload block, a section with a loading state. */
import { h, replace } from "./dom.js";
import { label, t } from "./i18n.js";

const TONES = {
  done: "success", failed: "critical", parked: "warning", retrying: "caution", pending: "info", skipped: "neutral",
};

export function statusBadge(status) {
  return h("s-badge", { tone: TONES[status] || "neutral" }, label("status.", status));
}

export function payload(value) {
  if (value === null || value === undefined) return h("s-text", { color: "subdued" }, t("common.none"));
  return h("pre", { class: "payload" }, JSON.stringify(value, null, 2));
}

export function banner(tone, heading, ...body) {
  return h("s-banner", { tone, heading }, ...body);
}

/** A section whose body comes from `load()`; errors become a critical banner in place. */
export function loadingSection(heading, load, attrs) {
  const body = h("div", {}, h("s-spinner", { accessibilityLabel: t("app.loading") }));
  const section = h("s-section", { heading, ...(attrs || {}) }, body);
  const refresh = async () => {
    try {
      replace(body, await load());
    } catch (error) {
      replace(body, banner("critical", t("error.load_failed"), error.message));
    }
  };
  refresh();
  return { section, refresh };
}

/** Read a field's value as an integer, or null when empty. */
export function intValue(field) {
  const text = String(field.value || "").trim();
  return text === "" ? null : Number.parseInt(text, 10);
}

/** The toast after a save: how many parked messages it resumed, when any did. */
export function savedToast(resumed) {
  window.shopify.toast.show(resumed ? t("common.saved_resumed", { count: resumed }) : t("common.saved"));
}
