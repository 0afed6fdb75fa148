/**
 * The catalog dry run: POST starts jobs.catalog_diff on the worker; the page polls its state
 * until done and shows what the first publish would create, change or leave alone. The
 * result's shape belongs to the job, so counts and lists are shown generically. Apart: the
 * packagings deleted in the ERP that only the daily full sweep retires, and when it runs.
 */
import { api } from "../api.js";
import { h, replace, table } from "../dom.js";
import { fmtDate, fmtNumber, label, t } from "../i18n.js";
import { banner, payload } from "../widgets.js";

const POLL_MS = 2000;
const SHOWN_ITEMS = 20;

const VERDICTS = ["create", "change", "archive", "waiting", "unchanged"];

/** What the first publish would do: counts per verdict, then a sample of each list. */
function describe(result) {
  if (!result || typeof result !== "object") return payload(result);
  const counts = result.counts || {};
  const lists = VERDICTS.filter((v) => Array.isArray(result[v]) && result[v].length);
  return h("div", { "data-testid": "catalog-diff-result" },
    result.generated_at ? h("s-paragraph", {}, t("diff.generated_at", { when: fmtDate(result.generated_at) })) : null,
    table([t("diff.what"), { label: t("diff.count"), format: "numeric" }],
      VERDICTS.filter((v) => v in counts).map((v) => [label("diff.", v), fmtNumber(counts[v])])),
    lists.map((v) => h("details", {},
      h("summary", {}, `${label("diff.", v)} (${fmtNumber(result[v].length)})`),
      table([t("diff.product"), t("diff.title"), t("diff.status"), t("diff.skus_or_reason")],
        result[v].slice(0, SHOWN_ITEMS).map((item) => [String(item.seq_produto ?? "—"), item.title || "—",
          item.status ? `${item.status_before ? `${item.status_before} → ` : ""}${item.status}` : "—",
          item.reason || (item.skus || []).join(", ") || "—"])))),
    fullSweep(result.full_sweep));
}

/** What only the daily full sweep does (jobs.catalog_full): a sync would not, so it says when. */
function fullSweep(sweep) {
  if (!sweep || !sweep.counts || !sweep.counts.retire) return null;
  const count = fmtNumber(sweep.counts.retire);
  return h("div", { "data-testid": "catalog-diff-full-sweep" },
    h("s-paragraph", {}, sweep.next_run_at ? t("diff.full_sweep_at", { count, when: fmtDate(sweep.next_run_at) })
      : t("diff.full_sweep_off", { count })),
    h("details", {}, h("summary", {}, `${t("diff.retire")} (${count})`),
      table([t("diff.product"), t("diff.title"), t("diff.status"), t("diff.skus")],
        (sweep.retire || []).slice(0, SHOWN_ITEMS).map((item) => [String(item.seq_produto), item.title || "—",
          `${item.status_before ? `${item.status_before} → ` : ""}${item.status}`, (item.retired || []).join(", ")]))));
}

export function catalogDiffSection(ctx, onDone) {
  const body = h("div", { "aria-live": "polite" });
  let timer = null;
  const poll = async (jobId) => {
    const state = await api(`/api/setup/catalog-diff/${encodeURIComponent(jobId)}`, { quiet: true })
      .catch((e) => ({ status: "failed", error: e.message }));
    if (state.status === "done") {
      replace(body, describe(state.result));
      onDone();
    }
    else if (state.status === "failed") replace(body, banner("critical", t("diff.failed"), state.error || ""));
    else {
      replace(body, h("s-stack", { direction: "inline", gap: "small" }, h("s-spinner", {}), t(`diff.${state.status}`)));
      timer = setTimeout(() => poll(jobId), POLL_MS);
    }
  };
  const start = async () => {
    const job = await api("/api/setup/catalog-diff", { method: "POST" });
    poll(job.job_id);
  };
  const section = h("s-section", { heading: t("diff.heading") },
    h("s-paragraph", {}, t("diff.help")), body,
    ctx.can("configure") ? h("s-button", { onclick: start }, t("diff.start")) : null);
  return { section, dispose: () => clearTimeout(timer) };
}
