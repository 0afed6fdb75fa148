/**
 * Audit and roles: who changed what and when (settings, mappings, retries, replays, roles),
 * and the role of each staff member. Only admins see the role controls (owners alone may grant
 * admin or owner); the API refuses the same changes to anyone else regardless. Below admin the
 * API masks personal data in before/after; admins download a customer's data export from its row.
 * Each event reads in words (pages/audit_words.js): who, which thing, and what changed.
 */
import { api, download, toast } from "../api.js";
import { h, replace, select, table } from "../dom.js";
import { fmtDate, label, t } from "../i18n.js";
import { busyButton, failureBanner, pagedList } from "../widgets.js";
import { actorCell, changeLines, targetCell } from "./audit_words.js";

const ROLES = ["owner", "admin", "operator", "viewer"];


/** Shopify gives the app no staff names (the ID token carries the user id only): the name is
 * what someone typed when granting the role; none yet is said so, with how to add it. */
function staffName(r) {
  if (r.name) return r.name;
  return h("s-stack", { gap: "none" }, h("s-text", { color: "subdued" }, t("audit.name_unknown")),
    h("s-text", { color: "subdued" }, h("small", {}, t("audit.name_unknown_hint"))));
}

function grantable(ctx) {
  return ROLES.filter((r) => ctx.can("grant_admin") || r === "operator" || r === "viewer");
}

function rolesSection(ctx) {
  const box = h("div", { "data-testid": "roles" });
  const load = async () => {
    const { roles, default_role: fallback } = await api("/api/roles");
    const editable = ctx.can("configure");
    const rows = roles.map((r) => {
      const mayChange = editable && (ctx.can("grant_admin") || !["owner", "admin"].includes(r.role));
      if (!mayChange) return [staffName(r), h("span", { class: "mono" }, r.user_id), label("role.", r.role), fmtDate(r.updated_at), ""];
      const picker = select({ label: t("roles.role_of", { name: r.name || r.user_id }), labelAccessibilityVisibility: "exclusive", name: "role" },
        grantable(ctx).map((v) => ({ value: v, label: label("role.", v) })), r.role, { fit: true });
      // The row is its Save's form: a refused field shows on the row's own input (its role) or
      // in the toast, never on the add-role box's inputs of the same name.
      const row = h("s-table-row", {}, [staffName(r), h("span", { class: "mono" }, r.user_id), picker, fmtDate(r.updated_at),
        h("s-stack", { direction: "inline", gap: "small" },
          busyButton({}, t("common.save"), async () => {
            await api(`/api/roles/${encodeURIComponent(r.user_id)}`, { method: "PUT", body: { role: picker.value, name: r.name }, form: row });
            toast(t("common.saved")); await load();
          }),
          busyButton({ tone: "critical", variant: "tertiary" }, t("roles.remove"), async () => {
            if (!window.confirm(t("roles.confirm_remove", { name: r.name || r.user_id }))) return;
            await api(`/api/roles/${encodeURIComponent(r.user_id)}`, { method: "DELETE", form: row });
            toast(t("roles.removed")); await load();
          }))].map((c) => h("s-table-cell", {}, c)));
      return row;
    });
    const add = [];
    if (editable) {
      const user = h("s-text-field", { label: t("roles.user_id"), details: t("roles.user_id_help"), name: "user_id" });
      const name = h("s-text-field", { label: t("roles.name"), name: "name" });
      const role = select({ label: t("roles.role"), name: "role" }, grantable(ctx).map((v) => ({ value: v, label: label("role.", v) })), "viewer", { fit: true });
      const form = h("div", { "data-testid": "add-role" });  // the add-role box: its refusals' fields
      add.push(form);
      form.append(h("s-heading", {}, t("roles.add")), h("s-grid", {}, user, name, role),
        h("s-button", { onclick: async () => {
          const id = (user.value || "").trim();
          if (!id) {  // PUT /api/roles/ is no endpoint: say what is missing, send nothing
            user.setAttribute("error", t("roles.user_id_required"));
            return;
          }
          user.removeAttribute("error");
          const body = { role: role.value };
          if (name.value.trim()) body.name = name.value.trim();
          await api(`/api/roles/${encodeURIComponent(id)}`, { method: "PUT", body, form });
          toast(t("common.saved")); load();
        } }, t("roles.grant")));
    }
    replace(box, h("s-paragraph", {}, t("roles.default", { role: label("role.", fallback) }), " ",
      t("roles.you", { role: label("role.", ctx.role) })),
    table([t("roles.name"), t("roles.user_id"), t("roles.role"), t("common.updated_at"), ""], rows), add);
  };
  load().catch((e) => replace(box, failureBanner(e)));
  return h("s-section", { heading: t("roles.heading") }, box);
}

/** A customer data request's record keeps ids only; admins download the export to send the customer. */
function changesCell(ctx, e) {
  if (e.action !== "customer.data_exported" || !ctx.can("configure")) return changeLines(e);
  return h("s-stack", { direction: "inline", gap: "small" }, changeLines(e),
    h("s-button", { variant: "tertiary", onclick: () => download(`/api/audit/${e.id}/export`, `customer-data-${e.id}.json`) },
      t("audit.download_export")));
}

function auditSection(ctx) {
  const box = h("div", { "data-testid": "audit" });
  const more = h("div", {});
  // Read page by page as the other lists are (widgets.pagedList): one click on Load more, one page.
  const load = pagedList({
    results: box, more,
    headers: [t("audit.when"), t("audit.actor"), t("audit.action"), t("audit.target"), t("audit.changes")],
    fetchPage: (beforeId) => api("/api/audit", { query: { before_id: beforeId } }),
    items: (page) => page.events,
    rows: (events) => events.map((e) => [fmtDate(e.created_at), actorCell(e), label("action.", e.action), targetCell(e),
      changesCell(ctx, e)]),
    empty: () => h("s-text", { color: "subdued" }, t("audit.none")),
  });
  load().catch((e) => replace(box, failureBanner(e)));
  return h("s-section", { heading: t("audit.heading") }, box, more);
}

export async function render(ctx) {
  return { element: h("s-page", { heading: t("nav.audit") }, rolesSection(ctx), auditSection(ctx)) };
}
