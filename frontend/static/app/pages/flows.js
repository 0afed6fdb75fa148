/**
 * The flows dashboard: one row per flow (schedule, last/next run, watermark, 24 h counts,
 * progress, "run now") and two charts. Live without reloading: every few seconds the page asks
 * /api/flows/changes whether anything moved and re-reads the rows and charts only when it did.
 */
import { api, toast } from "../api.js";
import { h, replace, table } from "../dom.js";
import { fmtDate, fmtNumber, label, t } from "../i18n.js";
import { barList, hourChart } from "../chart.js";
import { href } from "../router.js";
import { banner } from "../widgets.js";

export const POLL_MS = 3000;

function watermark(flow) {
  const marks = flow.watermarks.filter((w) => w.last_changed_at);
  if (!marks.length) return "—";
  return marks.map((w) => `${w.scope ? `${w.scope}: ` : ""}${fmtDate(w.last_changed_at)}`).join(" · ");
}

function progress(flow) {
  if (flow.waiting) return h("s-badge", { tone: "neutral" }, t("flows.waiting_catalog"));
  if (!flow.running) return flow.schedule && flow.schedule.last_status ? label("run.", flow.schedule.last_status) : "—";
  const p = flow.progress || {};
  if (p.total) {
    return h("span", {}, h("progress", { max: p.total, value: p.done || 0, "aria-label": t("flows.progress_of", { flow: flow.label }) }),
      ` ${fmtNumber(p.done || 0)}/${fmtNumber(p.total)}`);
  }
  return h("s-badge", { tone: "info" }, t("flows.running"));
}

function counts(flow) {
  const c = flow.counts_24h;
  const link = (status, n, cls) => h("s-link", { href: href("messages", { flow: flow.name, status }), class: cls,
    "data-count": status }, fmtNumber(n));
  return h("span", { "data-testid": `counts-${flow.name}` },
    link("done", c.done, "count-done"), " / ", link("failed", c.failed, "count-failed"), " / ", link("parked", c.parked, "count-parked"));
}

function scheduleCell(ctx, flow) {
  if (flow.webhook_only || !flow.schedule) return h("s-text", { color: "subdued" }, t("flows.webhook_only"));
  if (!ctx.can("configure")) return h("span", { class: "mono" }, flow.schedule.cron || "—");
  const field = h("s-text-field", { label: t("flows.cron_of", { flow: flow.label }), ".value": flow.schedule.cron || "",
    labelAccessibilityVisibility: "exclusive",
    placeholder: "*/15 * * * *" });
  const save = async () => {
    await api(`/api/flows/${flow.name}/schedule`, { method: "PUT", body: { cron: field.value.trim() } });
    toast(t("common.saved"));
  };
  return h("div", {}, field, h("s-button", { variant: "tertiary", onclick: save }, t("flows.save_schedule")));
}

function rows(ctx, flows) {
  return table([t("flows.flow"), t("flows.schedule"), t("flows.last_run"), t("flows.next_run"), t("flows.watermark"),
    t("flows.counts"), t("flows.status"), ""],
  flows.map((f) => [
    h("div", {}, h("s-text", { type: "strong" }, f.label), h("div", { class: "muted" }, label("direction.", f.direction))),
    scheduleCell(ctx, f),
    fmtDate(f.schedule && f.schedule.last_run_at), fmtDate(f.schedule && f.schedule.next_run_at),
    watermark(f), counts(f), progress(f),
    ctx.can("operate") && !f.webhook_only ? h("s-button", { accessibilityLabel: t("flows.run_now_of", { flow: f.label }),
      disabled: f.running, onclick: async () => {
        const job = await api(`/api/flows/${f.name}/run`, { method: "POST" });
        toast(job.enqueued ? t("flows.enqueued") : t("flows.already_waiting"));
      } }, t("flows.run_now")) : "",
  ]), { "data-testid": "flows-table" });
}

function charts(metrics, flows) {
  const names = Object.fromEntries(flows.map((f) => [f.name, f.label]));
  const hour = new Intl.DateTimeFormat(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" });
  const bars = metrics.per_hour.map((p) => ({ label: hour.format(new Date(p.hour)), total: p.total, failed: p.failed }));
  const total = bars.reduce((n, b) => n + b.total, 0);
  return h("div", { class: "charts" },
    h("div", {}, h("s-heading", {}, t("flows.chart_per_hour", { hours: metrics.hours })),
      hourChart(bars, t("flows.chart_per_hour_summary", { total }), (b) => b.label),
      h("div", { class: "muted", "data-testid": "messages-total" }, t("flows.chart_total", { total: fmtNumber(total) }))),
    h("div", {}, h("s-heading", {}, t("flows.chart_failures")),
      metrics.per_flow.some((p) => p.failed)
        ? barList(metrics.per_flow.filter((p) => p.failed).map((p) => ({ label: names[p.flow] || p.flow, value: p.failed })),
          t("flows.chart_failures"))
        : h("s-text", { color: "subdued" }, t("flows.no_failures"))));
}

/** The flow's name from the page's catalogue (the API's label is a fallback). */
function named(flows) {
  return flows.map((f) => ({ ...f, label: label("flow.", f.name) || f.label }));
}

export async function render(ctx) {
  const tableBox = h("div", {});
  const chartBox = h("div", {});
  const updated = h("s-text", { color: "subdued", "data-testid": "updated-at" });
  let cursor = null;
  let running = [];
  let timer = null;
  let stopped = false;

  const reload = async () => {
    const [answer, metrics] = await Promise.all([api("/api/flows", { quiet: true }),
      api("/api/flows/metrics", { quiet: true, query: { hours: 24 } })]);
    const flows = named(answer.flows);
    const next = answer.cursor;
    cursor = next;
    running = flows.filter((f) => f.running).map((f) => f.name);
    replace(tableBox, rows(ctx, flows));
    replace(chartBox, charts(metrics, flows));
    replace(updated, t("flows.updated_at", { when: fmtDate(new Date().toISOString()) }));
  };
  const tick = async () => {
    if (stopped) return;
    try {
      const change = await api("/api/flows/changes", { quiet: true, query: { since: cursor, running: running.join(",") } });
      if (change.changed) await reload();
    } catch (error) {
      replace(updated, t("flows.poll_failed", { message: error.message }));
    }
    if (!stopped) timer = setTimeout(tick, POLL_MS);
  };
  try {
    await reload();
  } catch (error) {
    replace(tableBox, banner("critical", t("error.load_failed"), error.message));
  }
  timer = setTimeout(tick, POLL_MS);
  const element = h("s-page", { heading: t("flows.heading") },
    h("s-paragraph", {}, t("flows.intro"), " ", updated),
    h("s-section", { heading: t("flows.table_heading") }, tableBox),
    h("s-section", { heading: t("flows.charts_heading") }, chartBox));
  return { element, dispose: () => { stopped = true; clearTimeout(timer); } };
}
