/**
 * Setup > Alert e-mails: the team's addresses and the language of the e-mail that tells them what
 * needs a person (jobs/alerts.py: every few minutes at most, each item once), a test e-mail sent at
 * once, and how the last alert went (sent, or the mail server's refusal: the next one sends it again).
 * Without a mail server configured for the app (SMTP_URL) the section says so before anything else.
 */
import { api, toast } from "../api.js";
import { h, replace, select } from "../dom.js";
import { fmtDate, t } from "../i18n.js";
import { banner, busyButton, failureBanner, loadingSection, technicalDetail } from "../widgets.js";

const LOCALES = ["pt-BR", "en"];

/** The addresses typed in the field, separated by commas, semicolons or spaces. */
function typedAddresses(field) {
  return String(field.value || "").split(/[\s,;]+/).map((a) => a.trim()).filter(Boolean);
}

/** How the last alert went, or nothing before the first. One of no item went to nobody: what an alert
 * the mail server did not take held was settled before the next could send it (jobs/alerts.py). */
function lastAttempt(last) {
  if (!last) return h("s-paragraph", { "data-testid": "alerts-last" }, t("setup.alerts.none_yet"));
  if (last.ok && !last.items) {
    return h("s-paragraph", { "data-testid": "alerts-last" }, t("setup.alerts.last_settled", { at: fmtDate(last.at) }));
  }
  if (last.ok) {
    return h("s-paragraph", { "data-testid": "alerts-last" }, t("setup.alerts.last_ok",
      { at: fmtDate(last.at), count: last.items, to: last.to.join(", ") }));
  }
  return h("div", { "data-testid": "alerts-last" }, banner("warning", t("setup.alerts.last_failed", { at: fmtDate(last.at) }),
    h("s-paragraph", {}, t("setup.alerts.last_failed_help", { count: last.items })), technicalDetail(last.error)));
}

export function alertsSection(ctx) {
  const locked = !ctx.can("configure");
  const result = h("div", { "data-testid": "alerts-test-result" });
  return loadingSection(t("setup.alerts.heading"), async () => {
    const [state, settings] = await Promise.all([api("/api/setup/alerts"), api("/api/setup/settings")]);
    const emails = h("s-text-field", { label: t("setup.alerts.emails"), name: "alert_emails", disabled: locked,
      details: t("setup.alerts.emails_help"), ".value": settings.alert_emails.join(", ") });
    const language = select({ label: t("setup.alerts.locale"), name: "alert_locale", disabled: locked },
      LOCALES.map((v) => ({ value: v, label: t(`setup.alerts.locale.${v}`) })), settings.alert_locale, { fit: true });
    const test = async () => {
      replace(result, h("s-spinner", { accessibilityLabel: t("app.loading") }));
      const outcome = await api("/api/setup/alerts/test", { method: "POST", body: { emails: typedAddresses(emails) } })
        .catch((error) => ({ ok: false, error }));
      if (outcome.ok) {
        replace(result, banner("success", t("setup.alerts.test_ok", { to: outcome.to.join(", ") })));
      } else if (outcome.error) {
        replace(result, failureBanner(outcome.error, t("setup.alerts.test_failed")));
      } else {
        replace(result, banner("critical", t("setup.alerts.test_failed"),
          h("s-paragraph", {}, t(`setup.alerts.code.${outcome.code}`)), technicalDetail(outcome.message)));
      }
    };
    const save = async () => {
      const body = {};
      const typed = typedAddresses(emails);
      if (typed.join() !== settings.alert_emails.join()) body.alert_emails = typed;
      if (language.value !== settings.alert_locale) body.alert_locale = language.value;
      if (Object.keys(body).length) {
        const saved = await api("/api/setup/settings", { method: "PUT", body });
        settings.alert_emails = saved.alert_emails;  // as stored: trimmed, without repeats
        settings.alert_locale = saved.alert_locale;
        emails.value = saved.alert_emails.join(", ");
      }
      toast(t("common.saved"));
    };
    return h("div", {},
      state.configured ? null : banner("warning", t("setup.alerts.not_configured"),
        h("s-paragraph", {}, t("setup.alerts.not_configured_help"))),
      h("s-paragraph", {}, t("setup.alerts.help", { minutes: state.every_minutes })),
      state.sender ? h("s-paragraph", {}, t("setup.alerts.sender", { sender: state.sender })) : null,
      emails, language, lastAttempt(state.last), result,
      locked ? null : h("s-stack", { direction: "inline", gap: "small" },
        state.configured ? h("s-button", { onclick: test, "data-testid": "alerts-test" }, t("setup.alerts.test")) : null,
        busyButton({ variant: "primary" }, t("common.save"), save)));
  }, { "data-testid": "alerts-section" });
}
